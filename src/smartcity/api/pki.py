"""Public PKI routes: the CA chain, the CRL and certificate status. No authentication.

Issuing and revoking over HTTP need an authenticated caller and come with the identity
routes; these are the read-only answers any relying party needs to trust a signature.
"""

from __future__ import annotations

import base64
import threading
from typing import Annotated
from urllib.parse import unquote

from cryptography.hazmat.primitives import serialization
from fastapi import APIRouter, Depends, Path, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from smartcity.api.dependencies import get_platform, platform_of
from smartcity.api.responses import JsonResponse
from smartcity.kernel.identity.certificates import (
    CertificateAuthority,
    answer_ocsp,
    build_crl,
    certificate_status,
    open_authority,
    resolve_ca_passphrase,
)
from smartcity.kernel.platform import Platform

router = APIRouter(prefix="/pki", tags=["pki"])

PEM_CHAIN = "application/x-pem-file"
CRL_DER = "application/pkix-crl"
OCSP_REQUEST = "application/ocsp-request"
OCSP_RESPONSE = "application/ocsp-response"

_creating = threading.Lock()


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


PlatformDependency = Annotated[Platform, Depends(get_platform)]


@router.get(
    "/ca.pem",
    summary="CA 证书链 The CA chain: issuing CA then root (PEM)",
    response_class=Response,
    responses={200: {"content": {PEM_CHAIN: {}}}},
)
def ca_chain(request: Request) -> Response:
    """Trust the root (last) to verify the platform's certificates and signatures."""
    return Response(authority_of(request).chain_pem(), media_type=PEM_CHAIN)


@router.get(
    "/root.pem",
    summary="根证书 The root CA certificate alone (PEM), for openssl -CAfile",
    response_class=Response,
    responses={200: {"content": {PEM_CHAIN: {}}}},
)
def root_certificate(request: Request) -> Response:
    return Response(authority_of(request).root_pem(), media_type=PEM_CHAIN)


def _crl(request: Request, encoding: serialization.Encoding) -> bytes:
    authority = authority_of(request)
    platform = platform_of(request)
    with platform.store.connect() as conn:
        crl = build_crl(conn, authority, now=platform.clock.now())
    return crl.public_bytes(encoding)


@router.get(
    "/crl",
    summary="证书吊销列表 The CRL (DER), signed by the issuing CA",
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
    response_class=Response,
    responses={200: {"content": {PEM_CHAIN: {}}}},
)
def crl_pem(request: Request) -> Response:
    return Response(
        _crl(request, serialization.Encoding.PEM),
        media_type=PEM_CHAIN,
        headers={"Cache-Control": "public, max-age=300"},
    )


@router.get(
    "/certificates/{serial}",
    summary="证书状态 Certificate status: good, revoked or unknown",
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
        "requestBody": {
            "required": True,
            # Any body is read as a DER request; octet-stream is listed for generic clients.
            "content": {
                OCSP_REQUEST: {"schema": {"type": "string", "format": "binary"}},
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def ocsp_post(request: Request) -> Response:
    """Answers every request with an OCSP response (errors too, as OCSP status codes)."""
    body = await request.body()
    return await run_in_threadpool(_ocsp, request, body)


@router.get(
    "/ocsp/{encoded:path}",
    summary="OCSP 在线状态 OCSP responder, GET with the base64 request in the path",
    response_class=Response,
    responses={200: {"content": {OCSP_RESPONSE: {}}}},
)
def ocsp_get(request: Request, encoded: str) -> Response:
    try:
        body = base64.b64decode(unquote(encoded), validate=True)
    except ValueError:
        body = b""  # answered as malformedRequest
    return _ocsp(request, body)
