"""Who may do what in the payment app: the one place its routes ask.

Payers are citizens and enterprises (an enterprise's agents act under its USCC); bills
are issued by the biller's own department, by its staff or its systems (machine
clients); reconciliation is for staff supervisors and administrators.
"""

from __future__ import annotations

from smartcity.apps.payment.models import BillerView, Payer, PayerKind
from smartcity.kernel.errors import PermissionDenied
from smartcity.kernel.identity.principal import AccountKind, Principal

RECONCILING_ROLES = frozenset({"supervisor", "administrator"})


def payer_of(principal: Principal) -> Payer:
    """The payer a signed-in citizen or enterprise is."""
    if principal.kind == AccountKind.CITIZEN:
        return Payer(PayerKind.CITIZEN, principal.subject, principal.account_id)
    if principal.kind == AccountKind.ENTERPRISE:
        return Payer(PayerKind.ENTERPRISE, principal.subject, principal.account_id)
    raise PermissionDenied("only citizens and enterprises pay bills", kind=principal.kind.value)


def check_issuer(principal: Principal, biller: BillerView) -> None:
    """Bills of a biller are issued by its department's staff or systems only."""
    if principal.kind not in (AccountKind.STAFF, AccountKind.MACHINE):
        raise PermissionDenied("bills are issued by billers' staff or systems")
    if principal.department_code != biller.department_code:
        raise PermissionDenied(
            f"biller {biller.code} belongs to department {biller.department_code}",
            biller=biller.code,
        )


def check_reconciler(principal: Principal) -> None:
    """Reconciliation and settlement: staff supervisors and administrators."""
    if principal.kind != AccountKind.STAFF or not (principal.roles & RECONCILING_ROLES):
        raise PermissionDenied("reconciliation is for staff supervisors and administrators")
