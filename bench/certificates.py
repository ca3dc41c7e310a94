"""Benchmark: certificate issuance and signature verification, database work included.

    uv run python bench/certificates.py                     # SQLite in a temporary dir
    uv run python bench/certificates.py --database-url postgresql://...  # an EMPTY database

Each issuance is what the real path does: parse and check the holder's CSR, look the
holder up in the registry, sign, supersede, write, commit (one transaction each). Each
verification parses the CMS signature, checks digest and signature, the chain and the
certificate's record and revocation status (one connection each). The holders' own work
(key generation, CSR, signing) happens before the clock starts. Raw baselines in the same
run: the bare ECDSA operations from ``cryptography`` without parsing or database.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import orjson
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from smartcity.kernel.clock import FixedClock
from smartcity.kernel.identity.certificates import (
    HolderKind,
    SigningIdentity,
    find_holder,
    issue_from_csr,
    issue_with_generated_key,
    open_authority,
    sign_challenge,
    sign_document,
    validation,
    verify_challenge_signature,
    verify_document_signature,
)
from smartcity.kernel.identity.citizen_id import make_citizen_id
from smartcity.kernel.identity.tables import identity_citizen
from smartcity.kernel.storage import Store, open_store

RESULTS = Path(__file__).resolve().parent / "results" / "certificates.json"
TODAY = date(2026, 11, 21)
DOCUMENT = ("增值税纳税申报表 VAT return 2026-10\n" * 40).encode()


def _register(store: Store, count: int) -> list[str]:
    # Birth date and sequence together keep the IDs distinct (999 sequences per day).
    births = [date(1960 + i // 999 // 28, 1, 1 + i // 999 % 28) for i in range(count)]
    ids = [make_citizen_id("440106", births[i], i % 999 + 1).text for i in range(count)]
    rows = [
        {
            "national_id": national_id,
            "name": f"居民{i}",
            "gender": "M" if int(national_id[16]) % 2 else "F",
            "birth_date": births[i],
            "community_code": "440106001002",
            "grid_code": "440106001002003",
            "district_code": "440106",
        }
        for i, national_id in enumerate(ids)
    ]
    with store.begin() as conn:
        store.bulk_insert(conn, identity_citizen, rows)
    return ids


def _csr(key: ec.EllipticCurvePrivateKey) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "holder")])
    request = x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256())
    return request.public_bytes(serialization.Encoding.PEM)


def run(store: Store, holders: int, verifications: int) -> dict[str, float | int | str]:
    clock = FixedClock(datetime(2026, 11, 21, 9, 0, tzinfo=UTC))
    authority = open_authority(store, b"bench passphrase", clock)
    ids = _register(store, holders)
    keys = [ec.generate_private_key(ec.SECP256R1()) for _ in ids]
    csrs = [_csr(key) for key in keys]
    figures: dict[str, float | int | str] = {"backend": store.dialect, "holders": holders}

    certificates: list[x509.Certificate] = []
    started = time.perf_counter()
    for national_id, csr in zip(ids, csrs, strict=True):
        with store.begin() as conn:
            holder = find_holder(conn, HolderKind.CITIZEN, national_id, today=TODAY)
            certificates.append(
                issue_from_csr(conn, authority, holder, csr, now=clock.now()).certificate
            )
    figures["issuance_per_s"] = round(holders / (time.perf_counter() - started), 1)

    # Second certificates: the same path plus superseding (revoking) the first.
    second = ids[: holders // 2]
    started = time.perf_counter()
    for national_id, csr in zip(second, csrs, strict=False):
        with store.begin() as conn:
            holder = find_holder(conn, HolderKind.CITIZEN, national_id, today=TODAY)
            issue_from_csr(conn, authority, holder, csr, now=clock.now())
    figures["reissue_supersede_per_s"] = round(len(second) / (time.perf_counter() - started), 1)

    generated = ids[-50:]
    started = time.perf_counter()
    for national_id in generated:
        with store.begin() as conn:
            holder = find_holder(conn, HolderKind.CITIZEN, national_id, today=TODAY)
            issue_with_generated_key(conn, authority, holder, "bench-password", now=clock.now())
    figures["pkcs12_issuance_per_s"] = round(len(generated) / (time.perf_counter() - started), 1)

    # Raw baseline: building and signing a certificate, no CSR, no registry, no database.
    template = certificates[0]
    started = time.perf_counter()
    for key in keys[:500]:
        (
            x509.CertificateBuilder()
            .subject_name(template.subject)
            .issuer_name(template.issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(template.not_valid_before_utc)
            .not_valid_after(template.not_valid_after_utc)
            .sign(authority.issuing_key, hashes.SHA256())
        )
    figures["baseline_certificate_sign_only_per_s"] = round(
        min(500, len(keys)) / (time.perf_counter() - started), 1
    )

    # Verification: documents signed with still-active certificates (neither superseded
    # by the re-issue above nor by the PKCS#12 issue).
    active = list(range(holders // 2, holders - 50))
    signatures = []
    for i in range(verifications):
        index = active[i % len(active)]
        identity = SigningIdentity(
            key=keys[index], certificate=certificates[index], chain=(authority.issuing,)
        )
        signatures.append(sign_document(DOCUMENT, identity))
    # Raw baseline in the same run: the record read on every verification (status
    # cache off), as before the cache.
    cache_seconds = validation.STATUS_CACHE_SECONDS
    validation.STATUS_CACHE_SECONDS = 0.0
    started = time.perf_counter()
    for signature in signatures:
        with store.connect() as conn:
            verify_document_signature(conn, authority, DOCUMENT, signature, now=clock.now())
    figures["signature_verification_uncached_per_s"] = round(
        verifications / (time.perf_counter() - started), 1
    )
    validation.STATUS_CACHE_SECONDS = cache_seconds
    started = time.perf_counter()
    for signature in signatures:
        with store.connect() as conn:
            verify_document_signature(conn, authority, DOCUMENT, signature, now=clock.now())
    figures["signature_verification_per_s"] = round(
        verifications / (time.perf_counter() - started), 1
    )

    # The same with the per-process chain cache emptied each time: a holder seen first.
    sample = signatures[:1000]
    started = time.perf_counter()
    for signature in sample:
        authority.chain_verified.clear()
        with store.connect() as conn:
            verify_document_signature(conn, authority, DOCUMENT, signature, now=clock.now())
    figures["signature_verification_cold_per_s"] = round(
        len(sample) / (time.perf_counter() - started), 1
    )

    # A batch (e.g. a day's receipts) checked on one connection.
    started = time.perf_counter()
    with store.connect() as conn:
        for signature in signatures:
            verify_document_signature(conn, authority, DOCUMENT, signature, now=clock.now())
    figures["signature_verification_batch_per_s"] = round(
        verifications / (time.perf_counter() - started), 1
    )

    challenge = b"server-nonce-" + bytes(19)
    pems = [
        (
            certificates[active[i % len(active)]].public_bytes(serialization.Encoding.PEM),
            sign_challenge(keys[active[i % len(active)]], challenge),
        )
        for i in range(verifications)
    ]
    started = time.perf_counter()
    for pem, signed in pems:
        with store.connect() as conn:
            verify_challenge_signature(conn, authority, pem, challenge, signed, now=clock.now())
    figures["challenge_verification_per_s"] = round(
        verifications / (time.perf_counter() - started), 1
    )

    # Raw baseline: one bare ECDSA P-256 verification per signature.
    public = keys[0].public_key()
    raw = keys[0].sign(DOCUMENT, ec.ECDSA(hashes.SHA256()))
    started = time.perf_counter()
    for _ in range(verifications):
        public.verify(raw, DOCUMENT, ec.ECDSA(hashes.SHA256()))
    figures["baseline_ecdsa_verify_only_per_s"] = round(
        verifications / (time.perf_counter() - started), 1
    )
    figures["note"] = "measured under load (shared 2-core machine)"
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default="", help="an empty database (default: temp)")
    parser.add_argument("--holders", type=int, default=1000)
    parser.add_argument("--verifications", type=int, default=5000)
    args = parser.parse_args()
    if args.holders < 200:
        parser.error("--holders must be at least 200")
    with tempfile.TemporaryDirectory() as directory:
        url = args.database_url or f"sqlite:///{Path(directory) / 'bench.db'}"
        store = open_store(url)
        try:
            store.migrate()
            figures = run(store, args.holders, args.verifications)
        finally:
            store.close()
    text = orjson.dumps(figures, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
    name = RESULTS if store.dialect == "sqlite" else RESULTS.with_name("certificates_postgres.json")
    name.parent.mkdir(parents=True, exist_ok=True)
    name.write_bytes(text)
    print(text.decode())


if __name__ == "__main__":
    main()
