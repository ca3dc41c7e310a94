"""市民主页 The citizen page (一页): a real-name personal page for every citizen.

After sign-in a citizen sees what concerns them: profile, bills with a pay button,
inbox, applications, complaints, the citizen card and personal document storage;
notices find the people they concern; scenario journeys gather what a life event needs
across departments; and citizens comment on policy drafts. See docs/apps/portal.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from smartcity.kernel.app import App

if TYPE_CHECKING:
    from smartcity.kernel.platform import Platform


def setup(platform: Platform) -> None:
    """Nothing to prepare yet: the page reads the kernel and the other apps on demand."""
    return None


APP = App(
    name="portal",
    setup=setup,
    depends_on=("payment",),
    routes_module="smartcity.apps.portal.routes",
)
