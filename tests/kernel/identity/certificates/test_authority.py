"""The root and issuing CAs: created once, keys encrypted at rest, passphrase handling."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select

from smartcity.kernel.clock import FixedClock
from smartcity.kernel.config import Settings
from smartcity.kernel.errors import ConfigurationError
from smartcity.kernel.identity.certificates import (
    CertificateAuthority,
    open_authority,
    resolve_ca_passphrase,
)
from smartcity.kernel.identity.certificates.tables import certificate_authority
from smartcity.kernel.storage import Store

from .conftest import PASSPHRASE


def test_chain_is_root_then_issuing(authority: CertificateAuthority) -> None:
    root, issuing = authority.root, authority.issuing
    assert root.subject == root.issuer
    issuing.verify_directly_issued_by(root)
    root.verify_directly_issued_by(root)
    for cert, depth in ((root, 1), (issuing, 0)):
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints)
        assert constraints.critical and constraints.value.ca
        assert constraints.value.path_length == depth
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        assert usage.key_cert_sign and usage.crl_sign
    chain = x509.load_pem_x509_certificates(authority.chain_pem())
    assert chain == [issuing, root]


def test_created_once(store: Store, clock: FixedClock, authority: CertificateAuthority) -> None:
    again = open_authority(store, PASSPHRASE, clock)
    assert again.root == authority.root and again.issuing == authority.issuing


def test_keys_are_stored_encrypted(store: Store, authority: CertificateAuthority) -> None:
    with store.connect() as conn:
        rows = conn.execute(select(certificate_authority)).all()
    assert {row.name for row in rows} == {"root", "issuing"}
    plain = authority.issuing_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    secret = authority.issuing_key.private_numbers().private_value.to_bytes(32, "big")
    for row in rows:
        assert row.encrypted_key_pem.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
        with pytest.raises(TypeError):  # a password is required
            serialization.load_pem_private_key(row.encrypted_key_pem.encode(), None)
        stored = row.encrypted_key_pem.encode()
        assert plain not in stored and secret not in stored
    # Nor anywhere in the database file (SQLite).
    if store.dialect == "sqlite":
        database = store.engine.url.database
        assert database is not None
        assert secret not in Path(database).read_bytes()


def test_wrong_passphrase_is_a_configuration_error(
    store: Store, clock: FixedClock, authority: CertificateAuthority
) -> None:
    with pytest.raises(ConfigurationError, match="passphrase"):
        open_authority(store, b"not the passphrase", clock)


def test_passphrase_setting_wins(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, ca_passphrase="from the environment")
    assert resolve_ca_passphrase(settings) == b"from the environment"
    assert not (tmp_path / "ca-passphrase").exists()


def test_generated_passphrase_file_is_private_and_stable(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    first = resolve_ca_passphrase(settings)
    path = tmp_path / "data" / "ca-passphrase"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 32
    assert resolve_ca_passphrase(settings) == first


def test_readable_passphrase_file_refused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    resolve_ca_passphrase(settings)
    (tmp_path / "ca-passphrase").chmod(0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        resolve_ca_passphrase(settings)


def test_postgres_needs_the_setting(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url="postgresql://u@localhost/db")
    with pytest.raises(ConfigurationError, match="SMARTCITY_CA_PASSPHRASE"):
        resolve_ca_passphrase(settings)


def test_settings_read_passphrase_and_fee() -> None:
    settings = Settings.from_env(
        {"SMARTCITY_CA_PASSPHRASE": "s3cret", "SMARTCITY_CERTIFICATE_FEE_FEN": "500"}
    )
    assert settings.ca_passphrase == "s3cret" and settings.certificate_fee_fen == 500
    assert "s3cret" not in repr(settings)
    with pytest.raises(ConfigurationError):
        Settings.from_env({"SMARTCITY_CERTIFICATE_FEE_FEN": "-1"})
