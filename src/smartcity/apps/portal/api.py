"""What other apps may call of the citizen page.

An app adds a section to every citizen's page by registering it in its ``setup``
(declare ``depends_on=("portal", ...)`` so the portal is set up first)::

    from smartcity.apps.portal.api import MyPageSection, register_section

    def setup(platform):
        register_section(platform, MyPageSection(
            "card", "我的市民卡", "My citizen card", my_card_section, order=50))

``my_card_section(platform, principal)`` answers a JSON-able mapping for the signed-in
citizen; raising a domain error (NotFound, say) reports the section as unavailable with
that reason. Interests are read with :func:`interests_of`; a query over registry persons
filters on them with :func:`interest_condition`, and :func:`notices_refused` tells who
turned off matched notices.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson
from sqlalchemy import ColumnElement, Connection, exists, literal, or_, select

from smartcity.apps.portal import storage
from smartcity.apps.portal.interests import INTERESTS, Interest
from smartcity.apps.portal.runtime import PortalRuntime
from smartcity.apps.portal.sections import EXPECTED_SECTIONS, MyPageSection, SectionProvider
from smartcity.apps.portal.tables import portal_profile
from smartcity.kernel.platform import Platform

__all__ = [
    "EXPECTED_SECTIONS",
    "INTERESTS",
    "Interest",
    "MyPageSection",
    "SectionProvider",
    "interest_condition",
    "interests_of",
    "notices_refused",
    "register_section",
]


def register_section(platform: Platform, section: MyPageSection) -> None:
    """Show ``section`` on every citizen's page (ConfigurationError if the name is taken)."""
    platform.state("portal", PortalRuntime).sections.register(section)


def interests_of(conn: Connection, person_id: int) -> list[str]:
    """The interest codes a registry person picked (empty when they have no profile)."""
    return storage.interests_of(storage.profile_row(conn, person_id))


def interest_condition(person_id: ColumnElement[int], codes: Sequence[str]) -> ColumnElement[bool]:
    """SQL: the registry person ``person_id`` picked any of ``codes`` among their interests.

    For a query over persons (``identity_citizen.c.id``, say); whole codes only, no
    prefix matches. A person without a profile picked nothing.
    """
    # ",a,b," LIKE "%,a,%"
    padded = literal(",") + portal_profile.c.interests + literal(",")
    return exists(
        select(literal(1))
        .select_from(portal_profile)
        .where(
            portal_profile.c.person_id == person_id,
            or_(*(padded.like(f"%,{code},%") for code in codes)),
        )
    )


def notices_refused(conn: Connection, persons: Sequence[int]) -> set[int]:
    """Those of ``persons`` who turned off matched notices ("receive notices") on their page."""
    if not persons:
        return set()
    rows = conn.execute(
        select(portal_profile.c.person_id, portal_profile.c.contact).where(
            portal_profile.c.person_id.in_(list(persons))
        )
    )
    found: set[int] = set()
    for person, contact in rows:
        try:
            choice = orjson.loads(contact or "{}")
        except orjson.JSONDecodeError:
            continue  # an unreadable choice is no refusal
        if isinstance(choice, dict) and choice.get("receive_notices") is False:
            found.add(int(person))
    return found
