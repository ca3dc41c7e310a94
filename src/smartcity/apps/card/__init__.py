"""市民卡 Citizen card (one card: social security, medical insurance, transit, e-wallet ...).

Cards are issued to people of the registry with at least eight linked functions; their
purses are ledger accounts topped up from the citizen's platform wallet. Gates, buses
and shops authorise taps online (``POST /api/card/taps``) or upload offline batches; a
loss report freezes the card at once and puts it on the deny list terminals download;
a reissue moves the balances to a new card. See docs/apps/card.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from smartcity.kernel.app import App

if TYPE_CHECKING:
    from smartcity.apps.card.batcher import TapBatcher
    from smartcity.kernel.platform import Platform


def setup(platform: Platform) -> TapBatcher:
    """Open the fare revenue accounts (idempotent); live taps are grouped by a batcher."""
    from smartcity.apps.card import postings
    from smartcity.apps.card.batcher import TapBatcher
    from smartcity.apps.card.sections import register_my_page_section

    with platform.store.begin() as conn:
        postings.open_card_accounts(conn, [], platform.clock.now())
    register_my_page_section(platform)
    return TapBatcher(platform)


def _seed_demo(platform: Platform, seed: int) -> None:
    from smartcity.apps.card.sim import seed_demo

    seed_demo(platform, seed)


APP = App(
    name="card",
    setup=setup,
    depends_on=("portal",),
    table_modules=("smartcity.apps.card.tables",),
    routes_module="smartcity.apps.card.routes",
    seed_demo=_seed_demo,
)
