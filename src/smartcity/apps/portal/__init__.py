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
    from smartcity.apps.portal.runtime import PortalRuntime
    from smartcity.kernel.platform import Platform


def setup(platform: Platform) -> PortalRuntime:
    """Read the settings and register the page's own sections (bills, wallet, inbox, documents)."""
    from smartcity.apps.portal.documents import ContentStore
    from smartcity.apps.portal.runtime import PortalRuntime, PortalSettings
    from smartcity.apps.portal.summary import register_own_sections

    content = ContentStore(platform.settings.data_dir / "portal" / "documents")
    runtime = PortalRuntime(settings=PortalSettings.from_env(), content=content)
    register_own_sections(runtime.sections)
    return runtime


def _seed_demo(platform: Platform, seed: int) -> None:
    from smartcity.apps.portal.sim import seed_demo

    seed_demo(platform, seed)


APP = App(
    name="portal",
    setup=setup,
    depends_on=("payment",),
    table_modules=("smartcity.apps.portal.tables",),
    routes_module="smartcity.apps.portal.routes",
    seed_demo=_seed_demo,
)
