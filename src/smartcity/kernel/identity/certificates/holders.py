"""Who a certificate is issued to, and what its subject says.

Holders are real-name: a citizen from the population registry (GB 11643 citizen ID) or an
enterprise from the legal-person registry (GB 32100 USCC). The subject follows Chinese
practice (name plus ID number) in standard attributes, so any X.509 tool shows them:

* citizen:    ``C=CN, CN=<name>, serialNumber=<citizen ID>``
* enterprise: ``C=CN, O=<name>, CN=<name>, organizationIdentifier=<USCC>``

The name always comes from the registry, never from a CSR's subject.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from cryptography import x509
from cryptography.x509.oid import NameOID
from sqlalchemy import Connection, select

from smartcity.kernel.errors import InvalidInput, NotFound
from smartcity.kernel.identity.citizen_id import parse_citizen_id
from smartcity.kernel.identity.tables import identity_citizen, identity_enterprise
from smartcity.kernel.identity.uscc import parse_uscc


class HolderKind(StrEnum):
    CITIZEN = "citizen"
    ENTERPRISE = "enterprise"


@dataclass(frozen=True)
class Holder:
    """A certificate holder: its kind, registry identifier and registered name."""

    kind: HolderKind
    identifier: str
    name: str


def normalise_identifier(kind: HolderKind, identifier: str, *, today: date) -> str:
    """The validated, normalised citizen ID or USCC (raises :class:`InvalidInput`)."""
    if kind is HolderKind.CITIZEN:
        return parse_citizen_id(identifier, today=today).text
    return parse_uscc(identifier).text


def find_holder(conn: Connection, kind: HolderKind, identifier: str, *, today: date) -> Holder:
    """The registered holder with this citizen ID or USCC; :class:`NotFound` if none."""
    normalised = normalise_identifier(kind, identifier, today=today)
    if kind is HolderKind.CITIZEN:
        row = conn.execute(
            select(identity_citizen.c.name).where(identity_citizen.c.national_id == normalised)
        ).first()
    else:
        row = conn.execute(
            select(identity_enterprise.c.name).where(identity_enterprise.c.uscc == normalised)
        ).first()
    if row is None:
        raise NotFound(f"no registered {kind.value} {normalised}", holder=normalised)
    return Holder(kind=kind, identifier=normalised, name=row.name)


def subject_name(holder: Holder) -> x509.Name:
    """The X.509 subject for ``holder`` (see the module docstring)."""
    if holder.kind is HolderKind.CITIZEN:
        attributes = [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.COMMON_NAME, holder.name),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, holder.identifier),
        ]
    else:
        attributes = [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, holder.name),
            x509.NameAttribute(NameOID.COMMON_NAME, holder.name),
            x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, holder.identifier),
        ]
    return x509.Name(attributes)


def holder_of(certificate: x509.Certificate) -> Holder:
    """The holder a certificate of ours names (raises :class:`InvalidInput` otherwise)."""
    subject = certificate.subject

    def first(oid: x509.ObjectIdentifier) -> str | None:
        found = subject.get_attributes_for_oid(oid)
        return str(found[0].value) if found else None

    name = first(NameOID.COMMON_NAME) or ""
    uscc = first(NameOID.ORGANIZATION_IDENTIFIER)
    if uscc is not None:
        return Holder(kind=HolderKind.ENTERPRISE, identifier=uscc, name=name)
    national_id = first(NameOID.SERIAL_NUMBER)
    if national_id is not None:
        return Holder(kind=HolderKind.CITIZEN, identifier=national_id, name=name)
    raise InvalidInput("the certificate subject names no citizen ID or USCC", part="subject")
