"""What other apps may call of the citizen page.

An app adds a section to every citizen's page by registering it in its ``setup``
(declare ``depends_on=("portal", ...)`` so the portal is set up first)::

    from smartcity.apps.portal.api import MyPageSection, register_section

    def setup(platform):
        register_section(platform, MyPageSection(
            "card", "我的市民卡", "My citizen card", my_card_section, order=50))

``my_card_section(platform, principal)`` answers a JSON-able mapping for the signed-in
citizen; raising a domain error (NotFound, say) reports the section as unavailable with
that reason. Interests are read with :func:`interests_of` (or straight from
``portal_profile.interests``, comma-separated codes, by ``person_id`` =
``identity_citizen.id``).
"""

from __future__ import annotations

from sqlalchemy import Connection

from smartcity.apps.portal import storage
from smartcity.apps.portal.interests import INTERESTS, Interest
from smartcity.apps.portal.runtime import PortalRuntime
from smartcity.apps.portal.sections import EXPECTED_SECTIONS, MyPageSection, SectionProvider
from smartcity.kernel.platform import Platform

__all__ = [
    "EXPECTED_SECTIONS",
    "INTERESTS",
    "Interest",
    "MyPageSection",
    "SectionProvider",
    "interests_of",
    "register_section",
]


def register_section(platform: Platform, section: MyPageSection) -> None:
    """Show ``section`` on every citizen's page (ConfigurationError if the name is taken)."""
    platform.state("portal", PortalRuntime).sections.register(section)


def interests_of(conn: Connection, person_id: int) -> list[str]:
    """The interest codes a registry person picked (empty when they have no profile)."""
    return storage.interests_of(storage.profile_row(conn, person_id))
