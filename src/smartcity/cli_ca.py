"""``smartcity ca``: the certificate authority from the command line.

init, issue, revoke, inspect, crl, sign and verify. Every command works on the database
of ``--database-url`` (default: the settings) and the CA passphrase of the settings
(``SMARTCITY_CA_PASSPHRASE`` or the generated ``ca-passphrase`` file).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from rich.console import Console
from sqlalchemy import select

from smartcity.cli_common import DatabaseOption, open_settings_store
from smartcity.kernel.clock import RealClock
from smartcity.kernel.config import Settings
from smartcity.kernel.errors import ConfigurationError, DomainError
from smartcity.kernel.identity.certificates import (
    CertificateAuthority,
    CertificateRejected,
    HolderKind,
    build_crl,
    certificate_status,
    find_holder,
    holder_of,
    issue_from_csr,
    issue_with_generated_key,
    load_certificate,
    load_signing_identity,
    open_authority,
    parse_reason,
    parse_serial,
    resolve_ca_passphrase,
    revoke_certificate,
    sign_document,
    verify_document_signature,
)
from smartcity.kernel.identity.certificates.tables import certificate
from smartcity.kernel.storage import Store

ca_app = typer.Typer(help="证书机构 Certificate authority", no_args_is_help=True)
console = Console()


@dataclasses.dataclass
class _Session:
    settings: Settings
    store: Store
    _authority: CertificateAuthority | None = None

    @property
    def authority(self) -> CertificateAuthority:
        """The CA, opened on first use (signing with a full PKCS#12 chain needs none)."""
        if self._authority is None:
            passphrase = resolve_ca_passphrase(self.settings)
            self._authority = open_authority(self.store, passphrase, RealClock())
        return self._authority


@contextmanager
def _session(database_url: str | None) -> Iterator[_Session]:
    settings, store = open_settings_store(database_url)
    try:
        store.migrate()
        yield _Session(settings=settings, store=store)
    except CertificateRejected as exc:
        console.print(f"[red]拒绝 rejected ({exc.check.value}):[/red] {exc.reason}")
        raise typer.Exit(1) from exc
    except (DomainError, ConfigurationError) as exc:
        reason = exc.reason if isinstance(exc, DomainError) else str(exc)
        console.print(f"[red]错误 error:[/red] {reason}")
        raise typer.Exit(2) from exc
    finally:
        store.close()


def _fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()


def _describe(cert: x509.Certificate) -> None:
    console.print(f"subject   {cert.subject.rfc4514_string()}")
    console.print(f"issuer    {cert.issuer.rfc4514_string()}")
    console.print(f"serial    {cert.serial_number:032x}")
    console.print(f"valid     {cert.not_valid_before_utc:%Y-%m-%d %H:%M} → ", end="")
    console.print(f"{cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC")
    console.print(f"sha256    {_fingerprint(cert)}")


@ca_app.command("init")
def init(
    root_out: Annotated[
        Path | None, typer.Option("--root-out", help="also write the root certificate here")
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """创建根 CA 与签发 CA Create the root and issuing CAs (if absent) and show them."""
    with _session(database_url) as session:
        console.print("[green]证书机构就绪 CA ready[/green]")
        _describe(session.authority.root)
        console.print(f"issuing   {session.authority.issuing.subject.rfc4514_string()}")
        if root_out is not None:
            root_out.write_bytes(session.authority.root_pem())
            console.print(f"root certificate written to {root_out}")


@ca_app.command("issue")
def issue(
    uscc: Annotated[str | None, typer.Option(help="enterprise: unified social credit code")] = None,
    national_id: Annotated[str | None, typer.Option(help="citizen: national ID")] = None,
    csr: Annotated[Path | None, typer.Option(help="the holder's CSR (PEM or DER)")] = None,
    out: Annotated[
        Path | None, typer.Option(help="output: certificate PEM, or PKCS#12 without --csr")
    ] = None,
    password: Annotated[
        str | None,
        typer.Option(help="PKCS#12 password when the key is generated (asked if absent)"),
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """签发证书 Issue a certificate; the holder's previous one is superseded."""
    if (uscc is None) == (national_id is None):
        console.print("[red]错误 error:[/red] give exactly one of --uscc or --national-id")
        raise typer.Exit(2)
    kind = HolderKind.ENTERPRISE if uscc is not None else HolderKind.CITIZEN
    identifier = uscc or national_id or ""
    if csr is None and password is None:
        password = typer.prompt("PKCS#12 password", hide_input=True, confirmation_prompt=True)
    with _session(database_url) as session:
        now = RealClock().now()
        fee = session.settings.certificate_fee_fen
        with session.store.begin() as conn:
            holder = find_holder(conn, kind, identifier, today=date.today())
            if csr is not None:
                issued = issue_from_csr(
                    conn,
                    session.authority,
                    holder,
                    csr.read_bytes(),
                    now=now,
                    reissue_fee_fen=fee,
                )
                target = out or Path(f"{holder.identifier}.pem")
                payload = issued.pem()
            else:
                issued, payload = issue_with_generated_key(
                    conn, session.authority, holder, password or "", now=now, reissue_fee_fen=fee
                )
                target = out or Path(f"{holder.identifier}.p12")
        target.write_bytes(payload)
        console.print(f"[green]已签发 issued[/green] {issued.serial} → {target}")
        console.print(f"holder    {holder.name} ({holder.identifier})")
        if issued.superseded_serial:
            console.print(f"superseded {issued.superseded_serial}")
        console.print(f"fee       {issued.fee_fen} fen")


@ca_app.command("revoke")
def revoke(
    serial: Annotated[str, typer.Argument(help="serial number (hex)")],
    reason: Annotated[str, typer.Option(help="RFC 5280 reason, e.g. keyCompromise")],
    database_url: DatabaseOption = None,
) -> None:
    """吊销证书 Revoke a certificate."""
    with _session(database_url) as session:
        chosen = parse_reason(reason)
        with session.store.begin() as conn:
            revoke_certificate(conn, serial, chosen, now=RealClock().now())
        console.print(f"[green]已吊销 revoked[/green] {parse_serial(serial)} ({chosen.value})")


@ca_app.command("inspect")
def inspect(
    what: Annotated[str, typer.Argument(help="a serial number or a certificate file")],
    database_url: DatabaseOption = None,
) -> None:
    """查看证书 Show a certificate and its status."""
    with _session(database_url) as session:
        path = Path(what)
        cert: x509.Certificate | None = None
        if path.is_file():
            cert = load_certificate(path.read_bytes())
            serial = f"{cert.serial_number:032x}"
        else:
            serial = parse_serial(what)
        with session.store.connect() as conn:
            if cert is None:
                der = conn.execute(
                    select(certificate.c.certificate_der).where(certificate.c.serial == serial)
                ).scalar()
                if der is not None:
                    cert = load_certificate(bytes(der))
            found = certificate_status(conn, serial, now=RealClock().now())
        if cert is not None:
            _describe(cert)
            try:
                holder = holder_of(cert)
                console.print(f"holder    {holder.kind.value} {holder.identifier}")
            except DomainError:
                pass
        console.print(f"status    {found.status}" + (f" ({found.reason})" if found.reason else ""))
        if found.expired:
            console.print("expired")


@ca_app.command("crl")
def crl(
    out: Annotated[Path, typer.Option(help="where to write the CRL")],
    pem: Annotated[bool, typer.Option(help="PEM instead of DER")] = False,
    database_url: DatabaseOption = None,
) -> None:
    """生成吊销列表 Write the current CRL."""
    with _session(database_url) as session:
        with session.store.connect() as conn:
            revocations = build_crl(conn, session.authority, now=RealClock().now())
        encoding = serialization.Encoding.PEM if pem else serialization.Encoding.DER
        out.write_bytes(revocations.public_bytes(encoding))
        console.print(f"[green]CRL[/green] {len(revocations)} revoked → {out}")


@ca_app.command("sign")
def sign(
    file: Annotated[Path, typer.Argument(help="the document to sign")],
    key: Annotated[Path, typer.Option(help="PKCS#12 bundle, or a PEM/DER private key")],
    cert: Annotated[Path | None, typer.Option(help="certificate (with a plain key)")] = None,
    password: Annotated[str | None, typer.Option(help="password of the key or bundle")] = None,
    out: Annotated[Path | None, typer.Option(help="signature file (default FILE.p7s)")] = None,
    database_url: DatabaseOption = None,
) -> None:
    """签名文件 Write a detached CMS signature (DER) over FILE."""
    with _session(database_url) as session:
        identity = load_signing_identity(
            key.read_bytes(),
            password=password,
            certificate_data=cert.read_bytes() if cert is not None else None,
        )
        signature = sign_document(
            file.read_bytes(), identity, chain=identity.chain or (session.authority.issuing,)
        )
        target = out or file.with_name(file.name + ".p7s")
        target.write_bytes(signature)
        console.print(f"[green]已签名 signed[/green] {file} → {target}")
        console.print(
            "verify: openssl cms -verify -binary -inform DER "
            f"-in {target} -content {file} -CAfile root.pem -purpose any -out /dev/null"
        )


@ca_app.command("verify")
def verify(
    file: Annotated[Path, typer.Argument(help="the signed document")],
    signature: Annotated[Path, typer.Argument(help="its detached signature (.p7s)")],
    database_url: DatabaseOption = None,
) -> None:
    """验证签名 Verify a detached signature: chain, validity, revocation; exit 1 if bad."""
    with _session(database_url) as session, session.store.connect() as conn:
        verified = verify_document_signature(
            conn,
            session.authority,
            file.read_bytes(),
            signature.read_bytes(),
            now=RealClock().now(),
        )
        console.print(f"[green]签名有效 signature valid[/green]: {verified.serial}")
        console.print(
            f"signer    {verified.holder.name} ({verified.holder.kind.value} "
            f"{verified.holder.identifier})"
        )
