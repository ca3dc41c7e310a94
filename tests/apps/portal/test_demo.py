"""The demo data the citizen page adds to a seeded city, seen through the API."""

from __future__ import annotations

import random
from pathlib import Path

from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from smartcity.api import create_app
from smartcity.apps import installed_apps
from smartcity.apps.portal import APP
from smartcity.apps.portal.interests import BY_CODE, MAX_INTERESTS
from smartcity.apps.portal.sim import BY_OCCUPATION, GENERAL, interests_for
from smartcity.apps.portal.tables import portal_profile
from smartcity.kernel.config import Settings
from smartcity.kernel.platform import Platform
from smartcity.kernel.storage import Store
from smartcity.sim.accounts import DEMO_CITIZEN, DEMO_PASSWORD

OCCUPATIONS = [None, "保安", *BY_OCCUPATION]


def test_demo_city_has_profiles_documents_and_consultations(store: Store, tmp_path: Path) -> None:
    from smartcity.sim.city import seed_city
    from smartcity.sim.profiles import TINY
    from smartcity.sim.progress import SilentProgress

    seed_city(store, profile=TINY, seed=3, progress=SilentProgress())
    platform = Platform.open(
        Settings(data_dir=tmp_path, ca_passphrase="portal demo"),
        apps=installed_apps(),
        store=store,
        migrate=False,
    )
    assert APP.seed_demo is not None
    APP.seed_demo(platform, 3)
    with store.connect() as conn:
        rows = conn.execute(select(portal_profile.c.interests)).scalars().all()
    assert len(rows) > 1
    assert all(code in BY_CODE for text in rows for code in text.split(",") if text)
    APP.seed_demo(platform, 3)  # again: nothing twice
    with store.connect() as conn:
        assert conn.execute(select(func.count()).select_from(portal_profile)).scalar() == len(rows)

    with TestClient(create_app(platform)) as client:
        token = client.post(
            "/auth/token",
            data={"grant_type": "password", "username": DEMO_CITIZEN, "password": DEMO_PASSWORD},
        ).json()["access_token"]
        headers = {"authorization": f"Bearer {token}"}
        profile = client.get("/api/portal/profile", headers=headers).json()
        assert [i["code"] for i in profile["interests"]] == [
            "childcare",
            "health",
            "sport",
            "technology",
        ]
        assert profile["community"]["name"] is not None
        documents = client.get("/api/portal/documents", headers=headers).json()
        assert documents["count"] == 2
        baby = client.get("/api/portal/journeys/having-a-baby", headers=headers).json()
        assert baby["steps"][0]["documents"][0]["in_storage"] is True
        drafts = client.get("/api/portal/drafts").json()
        assert len(drafts) == 2
        assert all(draft["status"] == "open" for draft in drafts)
        assert sum(draft["comments"] for draft in drafts) == 3
        assert len(client.get("/api/portal/suggestions").json()) == 1
        page = client.get("/api/portal/me", headers=headers)
        assert page.status_code == 200, page.text


@given(st.integers(min_value=0, max_value=2**32), st.integers(0, 110), st.sampled_from(OCCUPATIONS))
def test_derived_interests_are_valid_profiles(seed: int, age: int, occupation: str | None) -> None:
    codes = interests_for(random.Random(seed), age, occupation)
    assert codes == sorted(set(codes))
    assert 1 <= len(codes) <= MAX_INTERESTS
    assert all(code in BY_CODE for code in codes)
    if occupation == "软件工程师" and age < 60:
        assert set(codes) <= {"technology", "childcare", *GENERAL}
