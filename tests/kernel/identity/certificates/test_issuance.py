"""Issuing certificates: both holder kinds, CSR and PKCS#12, one active per holder, fees."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from smartcity.kernel.clock import FixedClock
from smartcity.kernel.errors import InvalidInput, NotFound
from smartcity.kernel.identity.certificates import (
    CertificateAuthority,
    Holder,
    HolderKind,
    certificate_fee_fen,
    certificate_status,
    find_holder,
    issue_from_csr,
    issue_with_generated_key,
    load_csr,
)
from smartcity.kernel.identity.certificates.issuance import DOCUMENT_SIGNING
from smartcity.kernel.identity.certificates.tables import certificate_holder
from smartcity.kernel.storage import Store

from .conftest import CITIZEN_ID, TODAY, USCC, make_csr


def test_citizen_certificate_from_csr(
    store: Store, authority: CertificateAuthority, citizen: Holder, clock: FixedClock
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    with store.begin() as conn:
        issued = issue_from_csr(
            conn, authority, citizen, make_csr(key, "someone else"), now=clock.now()
        )
    cert = issued.certificate
    # The subject comes from the registry, never from the CSR.
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "陈小明"
    assert cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == CITIZEN_ID
    assert cert.public_key() == key.public_key()
    assert cert.issuer == authority.issuing.subject
    cert.verify_directly_issued_by(authority.issuing)
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == timedelta(days=730)
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and not usage.key_cert_sign
    purposes = list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    assert ExtendedKeyUsageOID.CLIENT_AUTH in purposes
    assert DOCUMENT_SIGNING in purposes
    assert 0 < cert.serial_number < 2**128
    assert issued.serial == f"{cert.serial_number:032x}"
    assert issued.fee_fen == 0
    with store.connect() as conn:
        assert certificate_status(conn, issued.serial, now=clock.now()).status == "good"


def test_enterprise_certificate_carries_the_uscc(
    store: Store, authority: CertificateAuthority, enterprise: Holder, clock: FixedClock
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    with store.begin() as conn:
        issued = issue_from_csr(conn, authority, enterprise, make_csr(key), now=clock.now())
    subject = issued.certificate.subject
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER)[0].value == USCC
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == enterprise.name


def test_generated_key_comes_back_as_pkcs12(
    store: Store, authority: CertificateAuthority, citizen: Holder, clock: FixedClock
) -> None:
    with store.begin() as conn:
        issued, bundle = issue_with_generated_key(
            conn, authority, citizen, "holder-chosen", now=clock.now()
        )
    with pytest.raises(ValueError):
        pkcs12.load_key_and_certificates(bundle, b"wrong password")
    key, cert, chain = pkcs12.load_key_and_certificates(bundle, b"holder-chosen")
    assert cert == issued.certificate
    assert key is not None and key.public_key() == cert.public_key()
    assert authority.issuing in chain and authority.root in chain


def test_short_pkcs12_password_refused(
    store: Store, authority: CertificateAuthority, citizen: Holder, clock: FixedClock
) -> None:
    with store.begin() as conn, pytest.raises(InvalidInput, match="at least 8"):
        issue_with_generated_key(conn, authority, citizen, "short", now=clock.now())


def test_second_certificate_supersedes_and_costs_the_fee(
    store: Store, authority: CertificateAuthority, citizen: Holder, clock: FixedClock
) -> None:
    charged: list[int] = []
    serials: list[str] = []

    def charge(_conn: object, holder: Holder, fee: int, serial: str) -> None:
        assert holder == citizen
        charged.append(fee)
        serials.append(serial)

    with store.connect() as conn:
        assert certificate_fee_fen(conn, citizen) == 0
    key = ec.generate_private_key(ec.SECP256R1())
    with store.begin() as conn:
        first = issue_from_csr(conn, authority, citizen, make_csr(key), now=clock.now())
    with store.connect() as conn:
        assert certificate_fee_fen(conn, citizen, reissue_fee_fen=1500) == 1500
    clock.advance(timedelta(days=3))
    with store.begin() as conn:
        second = issue_from_csr(
            conn,
            authority,
            citizen,
            make_csr(key),
            now=clock.now(),
            reissue_fee_fen=1500,
            charge=charge,
        )
    assert first.fee_fen == 0 and second.fee_fen == 1500
    assert charged == [1500]
    assert serials == [second.serial]  # the fee is keyed to the new certificate
    assert second.superseded_serial == first.serial
    with store.connect() as conn:
        old = certificate_status(conn, first.serial, now=clock.now())
        new = certificate_status(conn, second.serial, now=clock.now())
        holder_row = conn.execute(select(certificate_holder)).one()
    assert (old.status, old.reason, old.revoked_at) == ("revoked", "superseded", clock.now())
    assert new.status == "good"
    assert holder_row.active_serial == second.serial and holder_row.issued_count == 2


def test_failed_charge_leaves_the_old_certificate_active(
    store: Store, authority: CertificateAuthority, citizen: Holder, clock: FixedClock
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    with store.begin() as conn:
        first = issue_from_csr(conn, authority, citizen, make_csr(key), now=clock.now())

    def refuse(_conn: object, _holder: Holder, _fee: int, _serial: str) -> None:
        raise InvalidInput("insufficient funds")

    with pytest.raises(InvalidInput), store.begin() as conn:
        issue_from_csr(conn, authority, citizen, make_csr(key), now=clock.now(), charge=refuse)
    with store.connect() as conn:
        assert certificate_status(conn, first.serial, now=clock.now()).status == "good"
        assert certificate_fee_fen(conn, citizen) > 0


@pytest.mark.parametrize(
    "csr",
    [
        b"not a csr",
        b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
    ],
)
def test_malformed_csr_refused(
    store: Store, authority: CertificateAuthority, citizen: Holder, clock: FixedClock, csr: bytes
) -> None:
    with store.begin() as conn, pytest.raises(InvalidInput) as caught:
        issue_from_csr(conn, authority, citizen, csr, now=clock.now())
    assert caught.value.details["part"] == "csr"


def test_rsa_csr_refused(
    store: Store, authority: CertificateAuthority, citizen: Holder, clock: FixedClock
) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([]))
        .sign(key, hashes.SHA256())
        .public_bytes(serialization.Encoding.DER)
    )
    with store.begin() as conn, pytest.raises(InvalidInput, match="P-256"):
        issue_from_csr(conn, authority, citizen, csr, now=clock.now())


def test_unregistered_or_invalid_holders_refused(store: Store) -> None:
    with store.connect() as conn:
        with pytest.raises(NotFound):
            find_holder(conn, HolderKind.CITIZEN, CITIZEN_ID, today=TODAY)
        with pytest.raises(InvalidInput):
            find_holder(conn, HolderKind.CITIZEN, CITIZEN_ID[:-1] + "0", today=TODAY)
        with pytest.raises(InvalidInput):
            find_holder(conn, HolderKind.ENTERPRISE, USCC[:-1] + "0", today=TODAY)


@settings(max_examples=100)
@given(data=st.data())
def test_damaged_csrs_are_invalid_input_never_a_crash(data: st.DataObject) -> None:
    csr = bytearray(_DER_CSR)
    position = int(data.draw(st.integers(0, 9999), label="where") / 10_000 * len(csr))
    csr[position] ^= data.draw(st.integers(1, 255), label="mask")
    try:
        load_csr(bytes(csr))
    except InvalidInput:
        return


_DER_CSR = (
    x509.CertificateSigningRequestBuilder()
    .subject_name(x509.Name([]))
    .sign(ec.generate_private_key(ec.SECP256R1()), hashes.SHA256())
    .public_bytes(serialization.Encoding.DER)
)
