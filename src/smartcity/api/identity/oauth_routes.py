"""The OAuth 2.0 token endpoint (RFC 6749) and token revocation (RFC 7009).

Requests are ``application/x-www-form-urlencoded``; errors are answered in the RFC 6749
form (``error``, ``error_description``) rather than as problem documents, because OAuth
client libraries read that form. Grants: ``password`` (with ``totp`` when the account has
a second factor, and ``enterprise`` for an agent acting for an enterprise),
``refresh_token``, ``client_credentials`` (client id and secret in the body or as HTTP
Basic) and ``urn:smartcity:params:oauth:grant-type:certificate`` (a challenge from
``POST /auth/certificate/challenge`` signed with a platform certificate's key).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, unquote

import orjson
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from smartcity.api.dependencies import platform_of
from smartcity.api.identity.services import identity_services
from smartcity.api.permissions import public
from smartcity.api.pki import authority_of
from smartcity.kernel.errors import DomainError
from smartcity.kernel.identity.certificate_signin import (
    CERTIFICATE_GRANT,
    sign_in_with_certificate,
)
from smartcity.kernel.identity.challenges import issue_challenge
from smartcity.kernel.identity.clients import sign_in_client
from smartcity.kernel.identity.oauth import (
    AccountLocked,
    InvalidClient,
    InvalidRequest,
    OAuthError,
    UnsupportedGrantType,
)
from smartcity.kernel.identity.sessions import TokenPair, refresh_session, revoke_refresh_token
from smartcity.kernel.identity.signin import sign_in_with_password

router = APIRouter(tags=["identity"])

FORM = "application/x-www-form-urlencoded"
MAX_FORM_BYTES = 8192
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _form_schema(properties: dict[str, str], required: list[str]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {
                FORM: {
                    "schema": {
                        "type": "object",
                        "properties": {
                            name: {"type": "string", "description": text}
                            for name, text in properties.items()
                        },
                        "required": required,
                    }
                }
            },
        }
    }


async def read_form(request: Request) -> dict[str, str]:
    """The form parameters; InvalidRequest for another media type or a repeated name."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != FORM:
        raise InvalidRequest(f"send the parameters as {FORM}")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise InvalidRequest(f"the form is larger than {MAX_FORM_BYTES} bytes")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        raise InvalidRequest("the form is not UTF-8 URL-encoded text") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise InvalidRequest(f"parameter {name!r} is given more than once")
        if "\x00" in value:
            raise InvalidRequest(f"parameter {name!r} contains a NUL character")
        form[name] = value
    return form


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        raise InvalidClient("client authentication must use HTTP Basic or the form body")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidClient("the Basic credentials are not base64 of 'id:secret'") from None
    client_id, separator, secret = decoded.partition(":")
    if not separator:
        raise InvalidClient("the Basic credentials are not base64 of 'id:secret'")
    # RFC 6749 section 2.3.1: both parts are form-urlencoded before base64.
    return unquote(client_id), unquote(secret)


def oauth_error_response(error: DomainError) -> Response:
    """An RFC 6749 section 5.2 error answer for ``error``."""
    if isinstance(error, OAuthError):
        code, status = error.error, error.status
    else:
        code, status = "invalid_request", 400
    body: dict[str, Any] = {"error": code, "error_description": error.reason}
    headers = dict(_NO_STORE)
    for name in ("retry_at", "totp_required", "check"):
        if name in error.details:
            body[name] = error.details[name]
    if isinstance(error, AccountLocked):
        retry_at = datetime.fromisoformat(str(error.details["retry_at"]).replace("Z", "+00:00"))
        headers["Retry-After"] = retry_at.strftime("%a, %d %b %Y %H:%M:%S GMT")
    if isinstance(error, InvalidClient):
        headers["WWW-Authenticate"] = 'Basic realm="smartcity"'
    return Response(orjson.dumps(body), status, headers, media_type="application/json")


def _token_response(pair: TokenPair) -> Response:
    body: dict[str, Any] = {
        "access_token": pair.access_token,
        "token_type": pair.token_type,
        "expires_in": pair.expires_in,
        "scope": pair.scope,
    }
    if pair.refresh_token is not None:
        body["refresh_token"] = pair.refresh_token
    return Response(orjson.dumps(body), 200, dict(_NO_STORE), media_type="application/json")


def _required(form: dict[str, str], name: str) -> str:
    value = form.get(name)
    if not value:
        raise InvalidRequest(f"parameter {name!r} is required")
    return value


def _base64_parameter(form: dict[str, str], name: str) -> bytes:
    text = "".join(_required(form, name).split())
    try:
        # Standard or URL-safe alphabet, padding optional: what openssl and browsers make.
        return base64.urlsafe_b64decode(
            text.replace("+", "-").replace("/", "_") + "=" * (-len(text) % 4)
        )
    except (binascii.Error, ValueError):
        raise InvalidRequest(f"parameter {name!r} is not base64") from None


def _certificate_parameter(text: str) -> bytes:
    if text.lstrip().startswith("-----"):
        return text.encode()
    return _base64_parameter({"certificate": text}, "certificate")


TOKEN_FORM = _form_schema(
    {
        "grant_type": "password | refresh_token | client_credentials | " + CERTIFICATE_GRANT,
        "username": "password grant: national ID, USCC or employee number",
        "password": "password grant",
        "totp": "password grant: the 6-digit code when the account has a second factor",
        "enterprise": "password grant: USCC of the enterprise an agent acts for",
        "refresh_token": "refresh_token grant",
        "client_id": "client_credentials grant (or HTTP Basic)",
        "client_secret": "client_credentials grant (or HTTP Basic)",
        "scope": "client_credentials grant: narrow the token to some scopes",
        "certificate": "certificate grant: the certificate, PEM or base64 of DER",
        "challenge_id": "certificate grant: the id from /auth/certificate/challenge",
        "challenge": "certificate grant: the challenge text, exactly as received",
        "signature": "certificate grant: base64 of the DER ECDSA-SHA256 signature",
    },
    ["grant_type"],
)


@router.post(
    "/token",
    summary="OAuth 2.0 token endpoint (RFC 6749)",
    openapi_extra={**public("sign-in itself"), **TOKEN_FORM},
    response_model=None,
)
async def token(request: Request) -> Response:
    platform = platform_of(request)
    try:
        form = await read_form(request)
        grant_type = _required(form, "grant_type")
        services = identity_services(request)
        work: Callable[[], TokenPair]
        if grant_type == "password":
            username, password = _required(form, "username"), _required(form, "password")

            def work() -> TokenPair:
                return sign_in_with_password(
                    platform.store,
                    platform.clock,
                    platform.tokens,
                    services.hasher,
                    services.cipher,
                    username=username,
                    password=password,
                    totp_code=form.get("totp") or None,
                    enterprise=form.get("enterprise") or None,
                )
        elif grant_type == "refresh_token":
            refresh_token = _required(form, "refresh_token")

            def work() -> TokenPair:
                return refresh_session(
                    platform.store, platform.clock, platform.tokens, refresh_token
                )
        elif grant_type == "client_credentials":
            basic = _basic_credentials(request)
            client_id, client_secret = basic or (
                form.get("client_id", ""),
                form.get("client_secret", ""),
            )
            if not client_id or not client_secret:
                raise InvalidClient("send client_id and client_secret (form or HTTP Basic)")

            def work() -> TokenPair:
                return sign_in_client(
                    platform.store,
                    platform.clock,
                    platform.tokens,
                    client_id=client_id,
                    client_secret=client_secret,
                    scope=form.get("scope") or None,
                )
        elif grant_type == CERTIFICATE_GRANT:
            certificate_data = _certificate_parameter(_required(form, "certificate"))
            challenge_id = _required(form, "challenge_id")
            challenge = _required(form, "challenge")
            signature = _base64_parameter(form, "signature")
            authority = authority_of(request)

            def work() -> TokenPair:
                return sign_in_with_certificate(
                    platform.store,
                    platform.clock,
                    platform.tokens,
                    authority,
                    certificate_data=certificate_data,
                    challenge_id=challenge_id,
                    challenge=challenge,
                    signature=signature,
                )
        else:
            raise UnsupportedGrantType(
                f"grant_type {grant_type!r} is not supported "
                f"(password, refresh_token, client_credentials, {CERTIFICATE_GRANT})"
            )
        pair = await run_in_threadpool(work)
    except DomainError as error:
        return oauth_error_response(error)
    return _token_response(pair)


@router.post(
    "/revoke",
    summary="Revoke a refresh token and its family (RFC 7009)",
    openapi_extra={
        **public("revocation needs only the token itself (RFC 7009)"),
        **_form_schema(
            {"token": "the refresh token", "token_type_hint": "refresh_token | access_token"},
            ["token"],
        ),
    },
    response_model=None,
)
async def revoke(request: Request) -> Response:
    platform = platform_of(request)
    try:
        form = await read_form(request)
        token_value = _required(form, "token")
        # token_type_hint is only a lookup hint (RFC 7009 section 2.1): one lookup serves all.
    except DomainError as error:
        return oauth_error_response(error)
    # Access tokens are checked without the database and expire within minutes; RFC 7009
    # lets a server answer 200 for a token it does not revoke.
    await run_in_threadpool(revoke_refresh_token, platform.store, platform.clock, token_value)
    return Response(status_code=200, headers=dict(_NO_STORE))


@router.post(
    "/certificate/challenge",
    summary="Certificate sign-in, step 1: a single-use challenge to sign",
    openapi_extra=public("sign-in itself; a challenge reveals nothing and expires in minutes"),
    response_model=None,
)
async def certificate_challenge(request: Request) -> Response:
    """Sign ``challenge`` (its UTF-8 bytes, ECDSA-SHA256) and send it to ``/auth/token``."""
    platform = platform_of(request)
    issued = await run_in_threadpool(issue_challenge, platform.store, platform.clock)
    body = issued.as_json(platform.clock.now())
    return Response(orjson.dumps(body), 201, dict(_NO_STORE), media_type="application/json")
