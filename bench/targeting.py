"""Benchmark: matching audience rules against the population, and delivering a notice.

1. ``match_50k_ms``: each rule below counted against the demo city (50,000 residents,
   ``smartcity seed --profile demo``, SQLite file), median of 3, with two raw baselines
   from the same run: a plain ``count(*)`` of the registry (the floor of any full scan)
   and numpy over a column snapshot of the same registry (load time reported apart, as a
   snapshot must be refreshed whenever the registry changes).
2. ``deliver_50k_ms``: publishing a notice to every resident, all 50,000 of them with an
   account (inbox messages through ``notify_many`` in batches of 2,000, delivery rows,
   the job record), against the raw baseline of one ``notify_many`` of the same size.
3. ``match_1m_ms``: the same rules against a synthetic 1,000,000-row registry (households
   of three, 400 communities); ``match_city_ms_extrapolated`` scales it linearly to the
   18.8 million residents of the ``city`` profile.

    uv run python bench/targeting.py [--synthetic 1000000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from sqlalchemy import func, select, text, update

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
from smartcity.apps import installed_apps
from smartcity.apps.targeting import actions
from smartcity.apps.targeting.matching import count_matching
from smartcity.apps.targeting.models import NoticeRequest
from smartcity.apps.targeting.rules import Rule, parse_rule
from smartcity.apps.targeting.tables import targeting_notice
from smartcity.kernel.clock import FixedClock
from smartcity.kernel.config import Settings
from smartcity.kernel.identity.account_tables import identity_account
from smartcity.kernel.identity.principal import AccountKind, Principal
from smartcity.kernel.identity.tables import identity_citizen
from smartcity.kernel.notify import notify_many
from smartcity.kernel.platform import Platform
from smartcity.kernel.storage import Store, open_store

RESULTS = Path(__file__).resolve().parent / "results" / "targeting.json"
NOW = datetime(2026, 11, 21, 1, 0, tzinfo=UTC)
ON = date(2026, 11, 21)
STAFF = Principal(1, AccountKind.STAFF, "bench", "GZ-WJW", frozenset({"administrator"}))
OCCUPATIONS = ("teacher", "doctor", "nurse", "driver", "engineer", "worker", "clerk")

RULES: dict[str, Any] = {
    # vaccination reminder: adults living with a child aged 0-6 (a household self-join)
    "parents": {
        "kind": "all",
        "rules": [{"kind": "age", "min": 18}, {"kind": "child_age", "min": 0, "max": 6}],
    },
    # one district, working age, some occupations
    "district_age_occupation": {
        "kind": "all",
        "rules": [
            {"kind": "area", "codes": ["440106"]},
            {"kind": "age", "min": 25, "max": 45},
            {"kind": "not", "rule": {"kind": "occupation", "values": ["driver", "worker"]}},
        ],
    },
    # a household's child reaching a vaccination age within 30 days, or women aged 60+
    "vaccination_or_elderly_women": {
        "kind": "any",
        "rules": [
            {"kind": "vaccination_due", "within_days": 30},
            {
                "kind": "all",
                "rules": [{"kind": "gender", "gender": "F"}, {"kind": "age", "min": 60}],
            },
        ],
    },
}


def timed(function: Callable[[], object], repeat: int = 3) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def measure_matching(store: Store, prefix: str) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    with store.connect() as conn:
        population = conn.execute(select(func.count()).select_from(identity_citizen)).scalar_one()
        figures[f"{prefix}_citizens"] = population
        baseline, _ = timed(
            lambda: conn.execute(
                select(func.count()).where(identity_citizen.c.occupation != "x")
            ).scalar_one()
        )
        figures[f"{prefix}_baseline_full_scan_ms"] = round(baseline, 1)
        worst = 0.0
        for name, value in RULES.items():
            rule: Rule = parse_rule(value)
            elapsed, matched = timed(lambda rule=rule: count_matching(conn, rule, ON))  # type: ignore[misc]
            figures[f"{prefix}_{name}_ms"] = round(elapsed, 1)
            figures[f"{prefix}_{name}_matched"] = matched
            worst = max(worst, elapsed)
        figures[f"{prefix}_ms"] = round(worst, 1)
        # numpy over a column snapshot, for the rule without joins
        started = time.perf_counter()
        rows = conn.execute(
            select(
                identity_citizen.c.district_code,
                identity_citizen.c.birth_date,
                identity_citizen.c.occupation,
            )
        ).all()
        district = np.array([r[0] for r in rows])
        born = np.array([r[1] for r in rows], dtype="datetime64[D]")
        occupation = np.array([r[2] or "" for r in rows])
        load_ms = (time.perf_counter() - started) * 1000

        def numpy_rule() -> int:
            latest = np.datetime64(date(ON.year - 25, ON.month, ON.day))
            earliest = np.datetime64(date(ON.year - 46, ON.month, ON.day) + timedelta(days=1))
            mask = (district == "440106") & (born <= latest) & (born >= earliest)
            mask &= ~np.isin(occupation, ["driver", "worker"])
            return int(mask.sum())

        numpy_ms, numpy_matched = timed(numpy_rule)
        figures[f"{prefix}_numpy_snapshot_load_ms"] = round(load_ms, 1)
        figures[f"{prefix}_numpy_district_age_occupation_ms"] = round(numpy_ms, 1)
        figures[f"{prefix}_numpy_district_age_occupation_matched"] = numpy_matched
    return figures


def give_everyone_an_account(store: Store) -> int:
    with store.connect() as conn:
        ids = conn.execute(select(identity_citizen.c.id)).scalars().all()
        have = set(
            conn.execute(
                select(identity_account.c.citizen_id).where(
                    identity_account.c.citizen_id.is_not(None)
                )
            ).scalars()
        )
    rows = [
        {
            "kind": "citizen",
            "username": f"bench-{person}",
            "display_name": "bench",
            "citizen_id": person,
            "secret_hash": "x",
            "totp_enabled": False,
            "failed_logins": 0,
            "created_at": NOW,
            "created_by": "bench",
        }
        for person in ids
        if person not in have
    ]
    with store.begin() as conn:
        store.bulk_insert(conn, identity_account, rows)
    return len(ids)


def measure_delivery(platform: Platform) -> dict[str, Any]:
    store = platform.store
    accounts = give_everyone_an_account(store)
    request = NoticeRequest.model_validate(
        {
            "title_zh": "台风橙色预警",
            "title_en": "Typhoon orange warning",
            "body_zh": "预计今晚有暴雨和大风，请减少外出。",
            "body_en": "Heavy rain and strong wind tonight: please stay indoors.",
            "category": "alert",
            "audience": {"kind": "age", "min": 0},
        }
    )
    created = actions.create_notice(platform, STAFF, request)
    started = time.perf_counter()
    actions.publish_notice(platform, STAFF, created.id)
    deliver_ms = (time.perf_counter() - started) * 1000
    with store.connect() as conn:
        row = conn.execute(
            select(targeting_notice.c.matched, targeting_notice.c.delivered).where(
                targeting_notice.c.id == created.id
            )
        ).one()
        account_ids = (
            conn.execute(select(identity_account.c.id).where(identity_account.c.kind == "citizen"))
            .scalars()
            .all()
        )
    started = time.perf_counter()
    with store.begin() as conn:
        notify_many(
            conn,
            account_ids,
            "message",
            {"title": "baseline", "body": "baseline"},
            "notice",
            NOW,
            bulk_insert=store.bulk_insert,
        )
    baseline_ms = (time.perf_counter() - started) * 1000
    with store.begin() as conn:  # leave the city as it was apart from the notice
        conn.execute(update(targeting_notice).values(status="published"))
    return {
        "deliver_accounts": accounts,
        "deliver_matched": row.matched,
        "deliver_delivered": row.delivered,
        "deliver_50k_ms": round(deliver_ms, 1),
        "deliver_per_s": round(row.delivered / (deliver_ms / 1000)),
        "deliver_baseline_notify_many_ms": round(baseline_ms, 1),
    }


def synthetic_registry(path: Path, size: int, seed: int = 7) -> Store:
    store = open_store(f"sqlite:///{path}")
    store.migrate()
    rng = np.random.default_rng(seed)
    communities = [
        f"4401{d:02d}{s:03d}{c:03d}" for d in range(1, 11) for s in range(1, 9) for c in range(1, 6)
    ]
    community = rng.integers(0, len(communities), size)
    days = rng.integers(0, 96 * 365, size)
    start = date(1930, 1, 1)
    occupation = rng.integers(0, len(OCCUPATIONS) + 1, size)
    gender = rng.integers(0, 2, size)
    chunk = 100_000
    for first in range(0, size, chunk):
        rows = []
        for i in range(first, min(size, first + chunk)):
            code = communities[int(community[i // 3 * 3])]  # a household shares its home
            rows.append(
                {
                    "id": i + 1,
                    "national_id": f"{i + 1:018d}",
                    "name": "x",
                    "gender": "MF"[int(gender[i])],
                    "birth_date": start + timedelta(days=int(days[i])),
                    "phone": None,
                    "community_code": code,
                    "grid_code": code + "001",
                    "district_code": code[:6],
                    "occupation": (*OCCUPATIONS, None)[int(occupation[i])],
                    "household_id": i // 3 + 1,
                }
            )
        with store.begin() as conn:
            store.bulk_insert(conn, identity_citizen, rows)
    with store.begin() as conn:
        conn.execute(text("ANALYZE"))
    return store


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--synthetic", type=int, default=1_000_000)
    arguments = parser.parse_args()
    from smartcity.sim.city import seed_city
    from smartcity.sim.profiles import DEMO
    from smartcity.sim.progress import SilentProgress

    figures: dict[str, Any] = {"date": ON.isoformat(), "backend": "sqlite"}
    with tempfile.TemporaryDirectory() as directory:
        clock = FixedClock(NOW)
        store = open_store(f"sqlite:///{Path(directory) / 'demo.db'}")
        store.migrate([m for app in installed_apps() for m in app.table_modules])
        seed_city(store, profile=DEMO, seed=1, progress=SilentProgress(), clock=clock)
        figures.update(measure_matching(store, "match_50k"))
        platform = Platform.open(
            Settings(data_dir=Path(directory), ca_passphrase="bench targeting"),
            apps=installed_apps(),
            store=store,
            clock=clock,
            migrate=False,
        )
        figures.update(measure_delivery(platform))
        store.close()
        if arguments.synthetic:
            started = time.perf_counter()
            big = synthetic_registry(Path(directory) / "big.db", arguments.synthetic)
            figures["synthetic_build_s"] = round(time.perf_counter() - started, 1)
            found = measure_matching(big, "match_1m")
            figures.update(found)
            scale = 18_800_000 / arguments.synthetic
            figures["match_city_ms_extrapolated"] = round(found["match_1m_ms"] * scale)
            big.close()
    print(orjson.dumps(figures, option=orjson.OPT_INDENT_2).decode())
    RESULTS.write_bytes(orjson.dumps(figures, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))


if __name__ == "__main__":
    main()
