"""``smartcity ca``: init, issue (CSR and PKCS#12), sign, verify, revoke, inspect, crl."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from typer.testing import CliRunner

from smartcity.cli import app
from smartcity.kernel.identity import (
    make_citizen_id,
    make_uscc,
    register_citizen,
    register_enterprise,
)
from smartcity.kernel.storage import open_store

runner = CliRunner()
NATIONAL_ID = make_citizen_id("440106", date(1985, 3, 14), 123).text
USCC = make_uscc("9", "1", "440106", "MA5D8K2L").text


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SMARTCITY_CA_PASSPHRASE", raising=False)
    url = f"sqlite:///{tmp_path / 'city.db'}"
    store = open_store(url)
    store.migrate()
    register_citizen(
        store,
        national_id=NATIONAL_ID,
        name="陈小明",
        community_code="440106001002",
        grid_code="440106001002003",
    )
    register_enterprise(
        store,
        uscc=USCC,
        name="广州华盛科技有限公司",
        legal_representative=NATIONAL_ID,
        industry="软件",
        registered_at=date(2015, 1, 1),
    )
    store.close()
    return url


def _run(*args: str) -> str:
    result = runner.invoke(app, ["ca", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_ca_round_trip(url: str, tmp_path: Path) -> None:
    database = ("--database-url", url)
    _run("init", "--root-out", "root.pem", *database)
    assert (tmp_path / "ca-passphrase").stat().st_mode & 0o077 == 0

    _run("issue", "--national-id", NATIONAL_ID, "--password", "holderpass", *database)
    assert (tmp_path / f"{NATIONAL_ID}.p12").exists()

    key = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "ent.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([]))
        .sign(key, hashes.SHA256())
        .public_bytes(serialization.Encoding.PEM)
    )
    (tmp_path / "ent.csr").write_bytes(csr)
    issued = _run("issue", "--uscc", USCC, "--csr", "ent.csr", "--out", "ent.pem", *database)
    assert "fee       0 fen" in issued
    serial = (
        f"{x509.load_pem_x509_certificate((tmp_path / 'ent.pem').read_bytes()).serial_number:032x}"
    )

    (tmp_path / "filing.txt").write_text("企业所得税申报 2026Q3\n")
    _run("sign", "filing.txt", "--key", f"{NATIONAL_ID}.p12", "--password", "holderpass", *database)
    verified = _run("verify", "filing.txt", "filing.txt.p7s", *database)
    assert "signature valid" in verified and NATIONAL_ID in verified
    _run("sign", "filing.txt", "--key", "ent.key", "--cert", "ent.pem", "--out", "e.p7s", *database)
    if shutil.which("openssl"):
        check = subprocess.run(
            ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", "e.p7s",
             "-content", "filing.txt", "-CAfile", "root.pem", "-purpose", "any",
             "-out", "/dev/null"],
            cwd=tmp_path, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert check.returncode == 0, check.stderr

    assert "status    good" in _run("inspect", "ent.pem", *database)
    _run("revoke", serial, "--reason", "keyCompromise", *database)
    inspected = _run("inspect", serial, *database)
    assert "revoked (keyCompromise)" in inspected and USCC in inspected
    refused = runner.invoke(app, ["ca", "verify", "filing.txt", "e.p7s", *database])
    assert refused.exit_code == 1 and "revoked" in refused.output

    _run("crl", "--out", "crl.der", *database)
    crl = x509.load_der_x509_crl((tmp_path / "crl.der").read_bytes())
    assert crl.get_revoked_certificate_by_serial_number(int(serial, 16)) is not None


def test_issue_needs_exactly_one_holder(url: str) -> None:
    result = runner.invoke(app, ["ca", "issue", "--password", "x" * 8, "--database-url", url])
    assert result.exit_code == 2 and "exactly one" in result.output
    unknown = runner.invoke(
        app,
        ["ca", "issue", "--national-id", NATIONAL_ID[:-1] + "0", "--password", "x" * 8,
         "--database-url", url],
    )  # fmt: skip
    assert unknown.exit_code == 2
