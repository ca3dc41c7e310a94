"""The demo notices reach the demo accounts docs/apps/targeting.md says they reach."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from smartcity.api import create_app
from smartcity.apps import installed_apps
from smartcity.kernel.clock import FixedClock
from smartcity.kernel.config import Settings
from smartcity.kernel.platform import Platform
from smartcity.kernel.storage import Store
from smartcity.sim.accounts import DEMO_AGENT, DEMO_CITIZEN, DEMO_PASSWORD


def _token(client: TestClient, username: str) -> dict[str, str]:
    answer = client.post(
        "/auth/token",
        data={"grant_type": "password", "username": username, "password": DEMO_PASSWORD},
    )
    assert answer.status_code == 200, answer.text
    return {"authorization": f"Bearer {answer.json()['access_token']}"}


def test_demo_notices_find_the_demo_citizen_and_not_the_agent(
    store: Store, tmp_path: Path, clock: FixedClock
) -> None:
    from smartcity.sim.city import seed_city
    from smartcity.sim.profiles import TINY
    from smartcity.sim.progress import SilentProgress

    seed_city(store, profile=TINY, seed=3, progress=SilentProgress(), clock=clock)
    platform = Platform.open(
        Settings(data_dir=tmp_path, ca_passphrase="targeting demo"),
        apps=installed_apps(),
        store=store,
        clock=clock,
        migrate=False,
    )
    for app in platform.apps:
        if app.seed_demo is not None:
            app.seed_demo(platform, 3)
    for app in platform.apps:  # a second run adds nothing
        if app.name == "targeting" and app.seed_demo is not None:
            app.seed_demo(platform, 3)
    with TestClient(create_app(platform)) as client:
        citizen = client.get("/api/targeting/mine?lang=en", headers=_token(client, DEMO_CITIZEN))
        agent = client.get("/api/targeting/mine?lang=en", headers=_token(client, DEMO_AGENT))
        assert citizen.status_code == agent.status_code == 200, citizen.text
        assert sorted(n["title"] for n in citizen.json()) == [
            "Electricity bill reminder",
            "R&D subsidy for software enterprises",
            "Water outage tomorrow",
        ]
        assert [n["title"] for n in agent.json()] == ["Water outage tomorrow"]
        admin = _token(client, "GZ-BGT-9001")
        notices = client.get("/api/targeting/notices", headers=admin).json()
        assert len(notices) == 4
        assert all(n["status"] == "published" for n in notices)
