"""PKI routes: the public answers of the CA, and certificates for signed-in holders.

Public (no session): the CA chain, the CRL (cached, :mod:`crl_cache`), certificate status
and OCSP, the answers any relying party needs to trust a signature. Signed in: a citizen
or an enterprise requests its certificate (CSR, or a generated key returned once as
PKCS#12), lists its certificates and revokes them; staff holding ``certificate.revoke``
revoke anyone's. The re-issue fee is charged through the ledger in the issuing
transaction.
"""

from __future__ import annotations

import base64
import threading
from typing import Annotated
from urllib.parse import unquote

from cryptography.hazmat.primitives import serialization
from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from smartcity.api.dependencies import get_platform, platform_of
from smartcity.api.permissions import public, requires_any
from smartcity.api.responses import JsonResponse
from smartcity.kernel.errors import InvalidInput
from smartcity.kernel.identity.certificate_actions import (
    list_certificates,
    next_fee_fen,
    request_certificate,
    revoke_as,
)
from smartcity.kernel.identity.certificates import (
    CertificateAuthority,
    answer_ocsp,
    certificate_status,
    open_authority,
    parse_reason,
    resolve_ca_passphrase,
)
from smartcity.kernel.identity.certificates.crl_cache import CrlCache
from smartcity.kernel.identity.permissions import Permission
from smartcity.kernel.identity.principal import Principal
from smartcity.kernel.platform import Platform

router = APIRouter(prefix="/pki", tags=["pki"])

PEM_CHAIN = "application/x-pem-file"
CRL_DER = "application/pkix-crl"
OCSP_REQUEST = "application/ocsp-request"
OCSP_RESPONSE = "application/ocsp-response"

_creating = threading.Lock()
_NO_STORE = {"Cache-Control": "no-store"}


def authority_of(request: Request) -> CertificateAuthority:
    """The platform's CA, loaded (or created on first use) once per application.

    Decrypting the issuing key takes a key derivation, so the loaded CA is kept on the
    application state; routes that issue or verify use this too.
    """
    state = request.app.state
    cached = getattr(state, "certificate_authority", None)
    if isinstance(cached, CertificateAuthority):
        return cached
    with _creating:
        cached = getattr(state, "certificate_authority", None)
        if isinstance(cached, CertificateAuthority):
            return cached
        platform = platform_of(request)
        authority = open_authority(
            platform.store, resolve_ca_passphrase(platform.settings), platform.clock
        )
        state.certificate_authority = authority
        return authority


def crl_cache_of(request: Request) -> CrlCache:
    """The application's CRL cache, created with the CA on first use."""
    state = request.app.state
    cached = getattr(state, "crl_cache", None)
    if isinstance(cached, CrlCache):
        return cached
    authority = authority_of(request)
    with _creating:
        cached = getattr(state, "crl_cache", None)
        if not isinstance(cached, CrlCache):
            platform = platform_of(request)
            cached = CrlCache(platform.store, platform.clock, authority)
            state.crl_cache = cached
        return cached


PlatformDependency = Annotated[Platform, Depends(get_platform)]
# Citizens act for themselves, enterprises (and their agents) with enterprise.act.
HOLDER = requires_any(Permission.ACCOUNT_SELF, Permission.ENTERPRISE_ACT)
# The holder revokes their own; supervisors and administrators anyone's.
REVOKER = requires_any(
    Permission.ACCOUNT_SELF, Permission.ENTERPRISE_ACT, Permission.CERTIFICATE_REVOKE
)
HolderPrincipal = Annotated[Principal, Depends(HOLDER)]
Revoker = Annotated[Principal, Depends(REVOKER)]


@router.get(
    "/ca.pem",
    summary="CA 证书链 The CA chain: issuing CA then root (PEM)",
    openapi_extra=public("relying parties check certificates without a session"),
    response_class=Response,
    responses={200: {"content": {PEM_CHAIN: {}}}},
)
def ca_chain(request: Request) -> Response:
    """Trust the root (last) to verify the platform's certificates and signatures."""
    return Response(authority_of(request).chain_pem(), media_type=PEM_CHAIN)


@router.get(
    "/root.pem",
    summary="根证书 The root CA certificate alone (PEM), for openssl -CAfile",
    openapi_extra=public("relying parties check certificates without a session"),
    response_class=Response,
    responses={200: {"content": {PEM_CHAIN: {}}}},
)
def root_certificate(request: Request) -> Response:
    return Response(authority_of(request).root_pem(), media_type=PEM_CHAIN)


def _crl(request: Request, encoding: serialization.Encoding) -> bytes:
    cached = crl_cache_of(request).current()
    return cached.der if encoding is serialization.Encoding.DER else cached.pem


@router.get(
    "/crl",
    summary="证书吊销列表 The CRL (DER), signed by the issuing CA",
    openapi_extra=public("relying parties check certificates without a session"),
    response_class=Response,
    responses={200: {"content": {CRL_DER: {}}}},
)
def crl_der(request: Request) -> Response:
    return Response(
        _crl(request, serialization.Encoding.DER),
        media_type=CRL_DER,
        headers={"Cache-Control": "public, max-age=300"},
    )


@router.get(
    "/crl.pem",
    summary="证书吊销列表 The CRL (PEM)",
    openapi_extra=public("relying parties check certificates without a session"),
    response_class=Response,
    responses={200: {"content": {PEM_CHAIN: {}}}},
)
def crl_pem(request: Request) -> Response:
    return Response(
        _crl(request, serialization.Encoding.PEM),
        media_type=PEM_CHAIN,
        headers={"Cache-Control": "public, max-age=300"},
    )


class CertificateRequest(BaseModel):
    """A CSR (PEM), or ``generate: true`` with the password protecting the PKCS#12."""

    model_config = ConfigDict(extra="forbid")

    csr: str | None = Field(default=None, max_length=16_384, description="PEM CSR")
    generate: bool = Field(
        default=False, description="generate the key on the platform; returned once"
    )
    password: str | None = Field(
        default=None, max_length=256, description="protects the PKCS#12 (8+ characters)"
    )


class RevocationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(
        default="unspecified",
        max_length=40,
        description="RFC 5280 reason: unspecified, keyCompromise, affiliationChanged, "
        "superseded, cessationOfOperation, privilegeWithdrawn",
    )


def _reissue_fee_fen(request: Request) -> int:
    return platform_of(request).settings.certificate_fee_fen  # SMARTCITY_CERTIFICATE_FEE_FEN


@router.post(
    "/certificates",
    status_code=201,
    summary="申领证书 Get one's certificate (CSR, or a generated key as PKCS#12, once)",
    openapi_extra=HOLDER.openapi,
    response_class=JsonResponse,
)
def issue(body: CertificateRequest, request: Request, principal: HolderPrincipal) -> Response:
    """The first certificate is free; a later one supersedes it and costs the fee."""
    platform = platform_of(request)
    if body.generate == (body.csr is not None):
        raise InvalidInput("send either a CSR or generate=true with a password", part="body")
    issued, bundle = request_certificate(
        platform.store,
        platform.clock,
        authority_of(request),
        principal,
        csr=body.csr.encode() if body.csr is not None else None,
        password=(body.password or "") if body.generate else None,
        reissue_fee_fen=_reissue_fee_fen(request),
    )
    if issued.superseded_serial is not None:
        crl_cache_of(request).invalidate()  # the superseded certificate joined the CRL
    answer: dict[str, object] = {
        "serial": issued.serial,
        "certificate": issued.pem().decode(),
        "chain": authority_of(request).chain_pem().decode(),
        "notBefore": issued.certificate.not_valid_before_utc.isoformat(),
        "notAfter": issued.certificate.not_valid_after_utc.isoformat(),
        "feeFen": issued.fee_fen,
        "supersededSerial": issued.superseded_serial,
    }
    if bundle is not None:
        answer["pkcs12"] = base64.b64encode(bundle).decode()
    return JsonResponse(answer, status_code=201, headers=_NO_STORE)


@router.get(
    "/certificates/mine",
    summary="我的证书 The caller's certificates and what the next one costs",
    openapi_extra=HOLDER.openapi,
    response_class=JsonResponse,
)
def mine(request: Request, principal: HolderPrincipal) -> Response:
    platform = platform_of(request)
    now = platform.clock.now()
    records = list_certificates(platform.store, principal, now=now)
    fee = next_fee_fen(
        platform.store, principal, now=now, reissue_fee_fen=_reissue_fee_fen(request)
    )
    return JsonResponse(
        {"certificates": [r.as_json() for r in records], "nextFeeFen": fee},
        headers=_NO_STORE,
    )


@router.post(
    "/certificates/{serial}/revoke",
    summary="吊销证书 Revoke a certificate (its holder, or staff with certificate.revoke)",
    openapi_extra=REVOKER.openapi,
    response_class=JsonResponse,
)
def revoke(
    request: Request,
    principal: Revoker,
    serial: Annotated[str, Path(description="serial number in hex", max_length=64)],
    body: RevocationRequest | None = None,
) -> Response:
    platform = platform_of(request)
    reason = parse_reason(body.reason if body is not None else "unspecified")
    revoked = revoke_as(platform.store, platform.clock, principal, serial, reason)
    crl_cache_of(request).invalidate()
    with platform.store.connect() as conn:
        found = certificate_status(conn, revoked, now=platform.clock.now())
    return JsonResponse(found.as_json())


@router.get(
    "/certificates/{serial}",
    summary="证书状态 Certificate status: good, revoked or unknown",
    openapi_extra=public("relying parties check certificates without a session"),
    response_class=JsonResponse,
)
def status(
    platform: PlatformDependency,
    serial: Annotated[
        str,
        Path(description="serial number in hex (colons allowed)", max_length=64),
    ],
) -> Response:
    """Status, reason and dates; never the subject, so no personal data."""
    with platform.store.connect() as conn:
        found = certificate_status(conn, serial, now=platform.clock.now())
    return JsonResponse(found.as_json())


def _ocsp(request: Request, body: bytes) -> Response:
    authority = authority_of(request)
    platform = platform_of(request)
    with platform.store.connect() as conn:
        answer = answer_ocsp(conn, authority, body, now=platform.clock.now())
    return Response(answer, media_type=OCSP_RESPONSE)


@router.post(
    "/ocsp",
    summary="OCSP 在线状态 OCSP responder (RFC 6960), POST a DER request",
    response_class=Response,
    responses={200: {"content": {OCSP_RESPONSE: {}}}},
    openapi_extra={
        **public("relying parties check certificates without a session"),
        "requestBody": {
            "required": True,
            # Any body is read as a DER request; octet-stream is listed for generic clients.
            "content": {
                OCSP_REQUEST: {"schema": {"type": "string", "format": "binary"}},
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            },
        },
    },
)
async def ocsp_post(request: Request) -> Response:
    """Answers every request with an OCSP response (errors too, as OCSP status codes)."""
    body = await request.body()
    return await run_in_threadpool(_ocsp, request, body)


@router.get(
    "/ocsp/{encoded:path}",
    summary="OCSP 在线状态 OCSP responder, GET with the base64 request in the path",
    openapi_extra=public("relying parties check certificates without a session"),
    response_class=Response,
    responses={200: {"content": {OCSP_RESPONSE: {}}}},
)
def ocsp_get(request: Request, encoded: str) -> Response:
    try:
        body = base64.b64decode(unquote(encoded), validate=True)
    except ValueError:
        body = b""  # answered as malformedRequest
    return _ocsp(request, body)
