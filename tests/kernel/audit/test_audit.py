"""The audit log on both backends: appends chain, tampering is found."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import delete, func, select, text, update

from smartcity.kernel import audit
from smartcity.kernel.audit import GENESIS_HASH, ProblemKind, VerifyReport
from smartcity.kernel.audit.tables import audit_entry, audit_head
from smartcity.kernel.clock import FixedClock
from smartcity.kernel.storage import Store
from smartcity.kernel.storage.schema import load_tables
from smartcity.kernel.storage.tables import platform_meta


def _fill(store: Store, clock: FixedClock, count: int) -> None:
    for i in range(count):
        clock.advance(timedelta(seconds=1))
        audit.record(
            store,
            clock,
            actor=f"staff:{i % 7}",
            action="hotline.ticket_closed",
            subject=f"ticket:T-{i}",
            details={"n": i, "reason": "已答复 answered", "nested": {"b": 2, "a": 1}},
        )


def _kinds(report: VerifyReport) -> list[tuple[int, ProblemKind]]:
    return [(p.seq, p.kind) for p in report.problems]


# PostGIS geometry columns of other tables are unknown to the reflector; not ours.
@pytest.mark.filterwarnings("ignore:Did not recognize type 'geometry'")
def test_audit_tables_match_their_migration(store: Store) -> None:
    with store.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = [d for d in compare_metadata(context, load_tables()) if "audit_" in repr(d)]
    assert diffs == []


def test_append_chains_entries_and_moves_the_head(store: Store, clock: FixedClock) -> None:
    first = audit.record(store, clock, actor="a", action="x.done", subject="s:1")
    second = audit.record(
        store, clock, actor="a", action="x.done", subject="s:1", details={"k": [1, 2]}
    )
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    assert second.details == {"k": [1, 2]}
    with store.connect() as conn:
        assert audit.read_head(conn) == audit.AuditHead(seq=2, hash=second.hash)
        stored = conn.execute(select(audit_entry.c.details).where(audit_entry.c.seq == 2))
        assert stored.scalar_one() == '{"k":[1,2]}'
        assert [e.seq for e in audit.history(conn, "s:1")] == [2, 1]
        assert audit.history(conn, "s:1")[0] == second


def test_details_are_canonical_with_sorted_keys() -> None:
    text_ = audit.canonical_details({"b": 1, "a": {"d": 2, "c": 3}})
    assert text_ == '{"a":{"c":3,"d":2},"b":1}'
    with pytest.raises(TypeError):
        audit.canonical_details({"x": object()})


def test_hash_is_reproducible_from_the_documented_encoding(store: Store, clock: FixedClock) -> None:
    import hashlib

    import orjson

    entry = audit.record(store, clock, actor="a", action="x.done", subject="s", details={"z": 1})
    encoded = orjson.dumps(
        [1, "2026-11-21T09:00:00.000000Z", "a", "x.done", "s", '{"z":1}', GENESIS_HASH]
    )
    assert entry.hash == hashlib.sha256(encoded).hexdigest()


def test_bad_names_are_rejected(store: Store, clock: FixedClock) -> None:
    with pytest.raises(ValueError, match="actor"):
        audit.record(store, clock, actor=" ", action="x.done", subject="s")
    with pytest.raises(ValueError, match="subject"):
        audit.record(store, clock, actor="a", action="x.done", subject="s" * 301)
    with pytest.raises(TypeError, match="mapping"):
        audit.record(store, clock, actor="a", action="x.done", subject="s", details=[1])  # type: ignore[arg-type]


def test_entry_commits_or_rolls_back_with_the_audited_change(
    store: Store, clock: FixedClock
) -> None:
    with pytest.raises(RuntimeError), store.begin() as conn:
        conn.execute(platform_meta.insert().values(key="k", value="v", updated_at=clock.now()))
        audit.append(conn, clock, actor="a", action="meta.set", subject="meta:k")
        raise RuntimeError("the change failed")
    with store.connect() as conn:
        assert conn.execute(select(func.count()).select_from(audit_entry)).scalar_one() == 0
        assert audit.read_head(conn) is None
    assert audit.verify(store).ok


def test_empty_log_verifies(store: Store) -> None:
    report = audit.verify(store)
    assert report.ok and report.checked == 0 and report.problems == ()


def test_hundred_entries_verify_with_progress(store: Store, clock: FixedClock) -> None:
    _fill(store, clock, 100)
    seen: list[tuple[int, int]] = []
    report = audit.verify(store, lambda done, total: seen.append((done, total)), chunk_size=30)
    assert report.ok, report.problems
    assert report.checked == 100 and report.head_seq == 100
    assert seen == [(30, 100), (60, 100), (90, 100), (100, 100)]


def test_edited_details_are_reported_at_that_seq(store: Store, clock: FixedClock) -> None:
    _fill(store, clock, 100)
    with store.begin() as conn:
        conn.execute(text("UPDATE audit_entry SET details = :d WHERE seq = 42"), {"d": '{"n":999}'})
    report = audit.verify(store, chunk_size=17)
    assert not report.ok
    assert _kinds(report) == [(42, ProblemKind.EDITED)]


def test_edited_timestamp_or_actor_is_reported(store: Store, clock: FixedClock) -> None:
    _fill(store, clock, 20)
    with store.begin() as conn:
        conn.execute(update(audit_entry).where(audit_entry.c.seq == 3).values(actor="nobody"))
        conn.execute(
            update(audit_entry)
            .where(audit_entry.c.seq == 9)
            .values(at=clock.now() - timedelta(days=1))
        )
    assert _kinds(audit.verify(store)) == [(3, ProblemKind.EDITED), (9, ProblemKind.EDITED)]


def test_rewritten_entry_with_recomputed_hash_is_reported(store: Store, clock: FixedClock) -> None:
    _fill(store, clock, 10)
    with store.connect() as conn:
        row = conn.execute(select(audit_entry).where(audit_entry.c.seq == 5)).one()
    forged = audit.entry_hash(
        seq=5,
        at=row.at,
        actor=row.actor,
        action=row.action,
        subject=row.subject,
        details_json='{"n":0}',
        prev_hash=row.prev_hash,
    )
    with store.begin() as conn:
        conn.execute(
            update(audit_entry).where(audit_entry.c.seq == 5).values(details='{"n":0}', hash=forged)
        )
    assert _kinds(audit.verify(store)) == [(5, ProblemKind.EDITED)]


def test_removed_middle_entry_is_reported(store: Store, clock: FixedClock) -> None:
    _fill(store, clock, 100)
    with store.begin() as conn:
        conn.execute(delete(audit_entry).where(audit_entry.c.seq == 50))
    report = audit.verify(store, chunk_size=25)
    assert _kinds(report) == [(50, ProblemKind.REMOVED)]
    assert report.checked == 99


def test_removed_last_entry_is_a_head_mismatch(store: Store, clock: FixedClock) -> None:
    _fill(store, clock, 100)
    with store.begin() as conn:
        conn.execute(delete(audit_entry).where(audit_entry.c.seq == 100))
    assert _kinds(audit.verify(store)) == [(100, ProblemKind.HEAD_MISMATCH)]


def test_rewritten_last_entry_is_a_head_mismatch(store: Store, clock: FixedClock) -> None:
    _fill(store, clock, 5)
    with store.connect() as conn:
        row = conn.execute(select(audit_entry).where(audit_entry.c.seq == 5)).one()
    forged = audit.entry_hash(
        seq=5,
        at=row.at,
        actor="someone-else",
        action=row.action,
        subject=row.subject,
        details_json=row.details,
        prev_hash=row.prev_hash,
    )
    with store.begin() as conn:
        conn.execute(
            update(audit_entry)
            .where(audit_entry.c.seq == 5)
            .values(actor="someone-else", hash=forged)
        )
    assert _kinds(audit.verify(store)) == [(5, ProblemKind.HEAD_MISMATCH)]


def test_swapped_entries_are_reported_reordered(store: Store, clock: FixedClock) -> None:
    _fill(store, clock, 10)
    with store.begin() as conn:
        conn.execute(update(audit_entry).where(audit_entry.c.seq == 4).values(seq=-4))
        conn.execute(update(audit_entry).where(audit_entry.c.seq == 6).values(seq=4))
        conn.execute(update(audit_entry).where(audit_entry.c.seq == -4).values(seq=6))
    report = audit.verify(store)
    assert _kinds(report) == [(4, ProblemKind.REORDERED), (6, ProblemKind.REORDERED)]
    assert "seq 6" in report.problems[0].detail


def test_deleted_head_is_reported_and_blocks_appends(store: Store, clock: FixedClock) -> None:
    _fill(store, clock, 3)
    with store.begin() as conn:
        conn.execute(delete(audit_head))
    assert _kinds(audit.verify(store)) == [(3, ProblemKind.HEAD_MISMATCH)]
    with pytest.raises(audit.AuditIntegrityError):
        audit.record(store, clock, actor="a", action="x.done", subject="s")


def test_entries_beyond_the_head_are_reported(store: Store, clock: FixedClock) -> None:
    _fill(store, clock, 3)
    with store.begin() as conn:
        conn.execute(update(audit_head).values(seq=2))
    kinds = _kinds(audit.verify(store))
    assert (3, ProblemKind.HEAD_MISMATCH) in kinds


def test_problem_list_is_capped_but_counted(store: Store, clock: FixedClock) -> None:
    _fill(store, clock, 30)
    with store.begin() as conn:
        conn.execute(update(audit_entry).values(details='{"gone":true}'))
    report = audit.verify(store, max_problems=5)
    assert len(report.problems) == 5 and report.problem_count == 30 and report.truncated


def test_concurrent_appends_form_one_valid_chain(store: Store, clock: FixedClock) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def worker(n: int) -> None:
        try:
            start.wait()
            for i in range(25):
                audit.record(store, clock, actor=f"worker:{n}", action="x.done", subject=f"s:{i}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    report = audit.verify(store)
    assert report.ok, report.problems
    assert report.checked == 100
    with store.connect() as conn:
        seqs = conn.execute(select(audit_entry.c.seq).order_by(audit_entry.c.seq)).scalars()
        assert list(seqs) == list(range(1, 101))


def test_report_formats_in_both_languages(store: Store, clock: FixedClock) -> None:
    _fill(store, clock, 3)
    assert "3" in audit.format_report(audit.verify(store), "en")
    assert audit.format_report(audit.verify(store)).startswith("审计链完好")
    with store.begin() as conn:
        conn.execute(delete(audit_entry).where(audit_entry.c.seq == 2))
    report = audit.verify(store)
    zh = audit.format_report(report, "zh_CN")
    en = audit.format_report(report, "en")
    assert "被删除" in zh and "序号 2" in zh
    assert "seq 2: removed" in en
    with pytest.raises(ValueError):
        audit.format_report(report, "fr")
