"""The catalogue of permissions and who holds them.

A route declares the permissions it needs beside itself (``api/permissions.py``); this
module says which principals hold each one, from the access token alone: the account kind,
the staff roles, or, for machine clients, the scopes an administrator granted.

Staff act within their own department (:func:`check_department`); administrators of the
city's General Office (``GZ-BGT``, 市府办) are city-level and act across departments.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from smartcity.kernel.errors import PermissionDenied
from smartcity.kernel.identity.principal import AccountKind, Principal
from smartcity.kernel.identity.roles import Role

# The department whose administrators manage the whole city.
CITY_DEPARTMENT = "GZ-BGT"
# Role of a session in which a citizen acts for an enterprise as its authorised agent.
AGENT_ROLE = "agent"


class Permission(StrEnum):
    """What a route may require. The value appears in OpenAPI and as a client scope."""

    ACCOUNT_SELF = "account.self"
    ENTERPRISE_REGISTER = "enterprise.register"
    ENTERPRISE_AGENTS = "enterprise.agents"
    ENTERPRISE_ACT = "enterprise.act"
    STAFF_ACCOUNTS = "staff.accounts"
    CLIENTS_MANAGE = "clients.manage"
    AUDIT_READ = "audit.read"
    CASE_DISPATCH = "case.dispatch"
    CASE_HANDLE = "case.handle"
    CASE_INSPECT = "case.inspect"
    CASE_SUPERVISE = "case.supervise"
    CONTEXT_WRITE = "context.write"
    NOTIFY_SEND = "notify.send"
    NOTIFY_OUTBOX = "notify.outbox"
    PAYMENT_PAY = "payment.pay"
    PAYMENT_BILL = "payment.bill"
    PAYMENT_RECONCILE = "payment.reconcile"
    CERTIFICATE_REVOKE = "certificate.revoke"
    CITIZEN_PAGE = "citizen.page"
    CONSULTATION_MANAGE = "consultation.manage"
    NOTICE_PUBLISH = "notice.publish"
    CARD_HOLD = "card.hold"
    CARD_MANAGE = "card.manage"
    CARD_TERMINAL = "card.terminal"


_PEOPLE = frozenset({AccountKind.CITIZEN, AccountKind.ENTERPRISE, AccountKind.STAFF})
_STAFF = frozenset({AccountKind.STAFF})


@dataclass(frozen=True, slots=True)
class Grant:
    """Who holds a permission."""

    description: str
    kinds: frozenset[AccountKind]
    # For staff: any of these roles (empty: every staff member of an allowed kind).
    roles: frozenset[Role] = frozenset()
    # May an administrator grant it to a machine client as a scope?
    machines: bool = False
    # Do an enterprise's authorised agents hold it when acting for the enterprise?
    agents: bool = True


CATALOGUE: dict[Permission, Grant] = {
    Permission.ACCOUNT_SELF: Grant("see and manage one's own account", _PEOPLE),
    Permission.ENTERPRISE_REGISTER: Grant(
        "register an enterprise account as its legal representative",
        frozenset({AccountKind.CITIZEN}),
    ),
    Permission.ENTERPRISE_AGENTS: Grant(
        "authorise and withdraw the enterprise's agents",
        frozenset({AccountKind.ENTERPRISE}),
        agents=False,
    ),
    Permission.ENTERPRISE_ACT: Grant(
        "act for an enterprise (filings, payments)", frozenset({AccountKind.ENTERPRISE})
    ),
    Permission.STAFF_ACCOUNTS: Grant(
        "create staff accounts in one's department", _STAFF, frozenset({Role.ADMINISTRATOR})
    ),
    Permission.CLIENTS_MANAGE: Grant(
        "create machine clients (devices, department systems)",
        _STAFF,
        frozenset({Role.ADMINISTRATOR}),
    ),
    Permission.AUDIT_READ: Grant(
        "read the audit log", _STAFF, frozenset({Role.SUPERVISOR, Role.ADMINISTRATOR})
    ),
    Permission.CASE_DISPATCH: Grant(
        "route cases to departments", _STAFF, frozenset({Role.DISPATCHER}), machines=True
    ),
    Permission.CASE_HANDLE: Grant(
        "handle cases and applications", _STAFF, frozenset({Role.OFFICER}), machines=True
    ),
    Permission.CASE_INSPECT: Grant(
        "report and verify cases on the street", _STAFF, frozenset({Role.INSPECTOR})
    ),
    Permission.CASE_SUPERVISE: Grant(
        "approve, escalate and watch deadlines", _STAFF, frozenset({Role.SUPERVISOR})
    ),
    Permission.CONTEXT_WRITE: Grant(
        "write entities of the information library",
        _STAFF,
        frozenset({Role.OFFICER, Role.ADMINISTRATOR}),
        machines=True,
    ),
    Permission.NOTIFY_SEND: Grant(
        "send inbox messages, SMS and e-mail to accounts",
        _STAFF,
        frozenset({Role.DISPATCHER, Role.OFFICER, Role.SUPERVISOR, Role.ADMINISTRATOR}),
        machines=True,
    ),
    Permission.NOTIFY_OUTBOX: Grant(
        "read the SMS and e-mail outbox (addresses included)",
        _STAFF,
        frozenset({Role.SUPERVISOR, Role.ADMINISTRATOR}),
    ),
    Permission.PAYMENT_PAY: Grant(
        "pay bills, keep a wallet and get e-receipts",
        frozenset({AccountKind.CITIZEN, AccountKind.ENTERPRISE}),
    ),
    Permission.PAYMENT_BILL: Grant(
        "issue bills for one's department (a biller)",
        _STAFF,
        frozenset({Role.OFFICER, Role.ADMINISTRATOR}),
        machines=True,
    ),
    Permission.PAYMENT_RECONCILE: Grant(
        "settle and reconcile the billers' payments",
        _STAFF,
        frozenset({Role.SUPERVISOR, Role.ADMINISTRATOR}),
    ),
    Permission.CERTIFICATE_REVOKE: Grant(
        "revoke any holder's certificate (lost key, withdrawn privilege)",
        _STAFF,
        frozenset({Role.SUPERVISOR, Role.ADMINISTRATOR}),
    ),
    Permission.CITIZEN_PAGE: Grant(
        "use one's citizen page (profile, documents, journeys, comments, suggestions)",
        frozenset({AccountKind.CITIZEN}),
    ),
    Permission.CONSULTATION_MANAGE: Grant(
        "publish policy drafts for comment and reply to citizens for one's department",
        _STAFF,
        frozenset({Role.OFFICER, Role.SUPERVISOR, Role.ADMINISTRATOR}),
    ),
    Permission.NOTICE_PUBLISH: Grant(
        "author and publish targeted notices for one's department, record area events",
        _STAFF,
        frozenset({Role.OFFICER, Role.SUPERVISOR, Role.ADMINISTRATOR}),
        machines=True,
    ),
    Permission.CARD_HOLD: Grant(
        "keep a citizen card: top up, report it lost, see its movements",
        frozenset({AccountKind.CITIZEN}),
    ),
    Permission.CARD_MANAGE: Grant(
        "issue, freeze and reissue citizen cards (card service centre)",
        _STAFF,
        frozenset({Role.OFFICER, Role.ADMINISTRATOR}),
        machines=True,
    ),
    Permission.CARD_TERMINAL: Grant(
        "authorise card taps and download the deny list (gates, buses, shops; "
        "administrators test terminals)",
        _STAFF,
        frozenset({Role.ADMINISTRATOR}),
        machines=True,
    ),
}


def holds(principal: Principal, permission: Permission) -> bool:
    """True when ``principal`` holds ``permission``."""
    grant = CATALOGUE[permission]
    if principal.kind is AccountKind.MACHINE:
        return grant.machines and permission.value in principal.scopes
    if principal.kind not in grant.kinds:
        return False
    if principal.kind is AccountKind.ENTERPRISE and AGENT_ROLE in principal.roles:
        return grant.agents
    if principal.kind is AccountKind.STAFF and grant.roles:
        return any(role in principal.roles for role in grant.roles)
    return True


def check_permission(principal: Principal, permission: Permission) -> None:
    """PermissionDenied (403) naming what is missing unless ``principal`` holds it."""
    if holds(principal, permission):
        return
    grant = CATALOGUE[permission]
    if principal.kind is AccountKind.MACHINE:
        reason = f"this client was not granted the scope {permission.value!r}"
    elif grant.roles and principal.kind is AccountKind.STAFF:
        roles = ", ".join(sorted(grant.roles))
        reason = f"this needs one of the roles {roles} ({grant.description})"
    elif principal.kind is AccountKind.ENTERPRISE and AGENT_ROLE in principal.roles:
        reason = f"an agent may not {grant.description}; the enterprise itself must"
    else:
        kinds = ", ".join(sorted(kind.value for kind in grant.kinds))
        reason = f"only {kinds} accounts may {grant.description}"
    raise PermissionDenied(reason, permission=permission.value)


def is_city_administrator(principal: Principal) -> bool:
    """True for administrators of the city's General Office, who act across departments."""
    return (
        principal.kind is AccountKind.STAFF
        and principal.department_code == CITY_DEPARTMENT
        and Role.ADMINISTRATOR.value in principal.roles
    )


def check_department(principal: Principal, department_code: str) -> None:
    """PermissionDenied unless ``principal`` may act in ``department_code``."""
    if principal.department_code == department_code or is_city_administrator(principal):
        return
    raise PermissionDenied(
        f"staff of {principal.department_code or 'no department'} may not act in "
        f"department {department_code}",
        department=department_code,
    )


def actor_of(principal: Principal) -> str:
    """How the audit log names the caller, e.g. ``account:12``."""
    return f"account:{principal.account_id}"
