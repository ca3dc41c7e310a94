"""The demo accounts of a seeded city sign in with their published password."""

from __future__ import annotations

from smartcity.kernel.clock import FixedClock
from smartcity.kernel.identity.passwords import DEFAULT_HASHER
from smartcity.kernel.identity.principal import AccountKind
from smartcity.kernel.identity.signin import sign_in_with_password
from smartcity.kernel.identity.tokens import TokenSigner
from smartcity.kernel.identity.totp import TotpCipher
from smartcity.kernel.storage import Store
from smartcity.sim.accounts import DEMO_AGENT, DEMO_PASSWORD, DEMO_STAFF, DEMO_USCC
from smartcity.sim.city import seed_city
from smartcity.sim.profiles import TINY
from smartcity.sim.progress import SilentProgress

SIGNER = TokenSigner(b"d" * 32)


def test_demo_accounts_sign_in(store: Store, clock: FixedClock) -> None:
    seed_city(store, profile=TINY, seed=7, progress=SilentProgress(), clock=clock)

    def sign_in(username: str, enterprise: str | None = None) -> object:
        pair = sign_in_with_password(
            store,
            clock,
            SIGNER,
            DEFAULT_HASHER,
            TotpCipher(b"t" * 32),
            username=username,
            password=DEMO_PASSWORD,
            enterprise=enterprise,
        )
        return pair.principal

    agent = sign_in(DEMO_AGENT, enterprise=DEMO_USCC)
    assert agent.kind is AccountKind.ENTERPRISE and agent.subject == DEMO_USCC  # type: ignore[attr-defined]
    city_admin, *_ = DEMO_STAFF
    admin = sign_in(city_admin[0])
    assert admin.roles == {"administrator"} and admin.department_code == "GZ-BGT"  # type: ignore[attr-defined]
