"""Where the matcher reads facts owned by other apps: the one place to adjust at merge.

The citizen page (apps/portal) keeps each person's interests in ``portal_profile``
(``person_id``, ``interests`` as comma-separated codes); the payment app keeps bills in
``payment_bill``. Both are read here as plain SQL tables, never through the other app's
Python modules (apps meet through their ``api.py``), and a table not (yet) migrated simply
matches nobody, so the engine works before the portal's profile lands.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import (
    ColumnElement,
    Connection,
    Date,
    Integer,
    String,
    and_,
    column,
    exists,
    false,
    inspect,
    literal,
    or_,
    select,
    table,
)

from smartcity.kernel.identity.tables import identity_citizen

portal_profile = table(
    "portal_profile",
    column("person_id", Integer),
    column("interests", String),
)

payment_bill = table(
    "payment_bill",
    column("biller_code", String),
    column("payer_kind", String),
    column("payer_identifier", String),
    column("due_date", Date),
    column("status", String),
)

# The payment app's states of a bill still to be paid.
UNPAID = ("open", "pending")


class Sources:
    """Which of the other apps' tables exist in this database (looked up once)."""

    def __init__(self, conn: Connection) -> None:
        names = set(inspect(conn).get_table_names())
        self.has_profiles = "portal_profile" in names
        self.has_bills = "payment_bill" in names


def interests_of(sources: Sources, codes: Sequence[str]) -> ColumnElement[bool]:
    """The current citizen declared any of ``codes`` among their interests."""
    if not sources.has_profiles:
        return false()
    # ",a,b," LIKE "%,a,%": whole codes only, no prefix matches.
    padded = literal(",") + portal_profile.c.interests + literal(",")
    return exists(
        select(literal(1))
        .select_from(portal_profile)
        .where(
            portal_profile.c.person_id == identity_citizen.c.id,
            or_(*(padded.like(f"%,{code},%") for code in codes)),
        )
    )


def bill_due_of(
    sources: Sources, first: date, last: date, billers: Sequence[str]
) -> ColumnElement[bool]:
    """The current citizen has an unpaid bill due between ``first`` and ``last``."""
    if not sources.has_bills:
        return false()
    conditions = [
        payment_bill.c.payer_kind == "citizen",
        payment_bill.c.payer_identifier == identity_citizen.c.national_id,
        payment_bill.c.status.in_(UNPAID),
        payment_bill.c.due_date.between(first, last),
    ]
    if billers:
        conditions.append(payment_bill.c.biller_code.in_(list(billers)))
    return exists(select(literal(1)).select_from(payment_bill).where(and_(*conditions)))
