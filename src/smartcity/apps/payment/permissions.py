"""Who may do what in the payment app: the permissions its routes declare, and the
data-dependent checks that go with them.

Payers (``payment.pay``) are citizens and enterprises; an enterprise's authorised agents
pay under its USCC. Bills are issued (``payment.bill``) by officers and administrators
of the biller's own department or by that department's systems (machine clients
granted the scope); city-level administrators may act for any department.
Reconciliation and settlement (``payment.reconcile``) are for staff supervisors and
administrators.
"""

from __future__ import annotations

from smartcity.api.permissions import requires
from smartcity.apps.payment.models import BillerView, Payer, PayerKind
from smartcity.kernel.errors import PermissionDenied
from smartcity.kernel.identity.permissions import Permission, check_department
from smartcity.kernel.identity.principal import AccountKind, Principal

PAY = requires(Permission.PAYMENT_PAY)
ISSUE = requires(Permission.PAYMENT_BILL)
RECONCILE = requires(Permission.PAYMENT_RECONCILE)


def payer_of(principal: Principal) -> Payer:
    """The payer a signed-in citizen or enterprise (or its agent) is."""
    if principal.kind == AccountKind.CITIZEN:
        return Payer(PayerKind.CITIZEN, principal.subject, principal.account_id)
    if principal.kind == AccountKind.ENTERPRISE:
        return Payer(PayerKind.ENTERPRISE, principal.subject, principal.account_id)
    raise PermissionDenied("only citizens and enterprises pay bills", kind=principal.kind.value)


def check_issuer(principal: Principal, biller: BillerView) -> None:
    """Bills of a biller are issued within its department only."""
    check_department(principal, biller.department_code)
