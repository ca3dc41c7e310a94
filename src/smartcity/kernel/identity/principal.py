"""Who is calling: the principal an access token names.

Every authenticated request carries one. It is built from the token alone (no database
round trip), so it holds what permission checks need: the account, its kind, the real-name
subject, the department and roles of staff, and the scopes of machine clients.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class AccountKind(StrEnum):
    """The four kinds of accounts on the platform."""

    CITIZEN = "citizen"  # bound to a registry person (national ID) after a real-name check
    ENTERPRISE = "enterprise"  # a legal person (USCC) or an agent acting for one
    STAFF = "staff"  # a government officer in one department, with roles
    MACHINE = "machine"  # a device or a department system holding an API key


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller of one request."""

    account_id: int
    kind: AccountKind
    # The real-name subject: a national ID, a USCC, an employee number or a client id.
    subject: str
    department_code: str | None = None
    roles: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()
    # How the session began: "password", "totp", "certificate", "client_credentials", ...
    method: str = "password"

    def has_role(self, role: str) -> bool:
        """True when the principal holds ``role`` (staff roles such as ``dispatcher``)."""
        return role in self.roles

    def has_scope(self, scope: str) -> bool:
        """True when the principal's token carries ``scope``."""
        return scope in self.scopes
