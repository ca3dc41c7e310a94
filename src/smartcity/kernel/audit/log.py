"""The tamper-evident audit log: a SHA-256 hash chain plus a head row.

Each entry's hash covers its own fields and the previous entry's hash, so editing,
removing or moving an entry breaks the chain from that point. ``audit_head`` holds the
last seq and hash and is updated in the same transaction as each append, so cutting
entries off the end is detected too.

What this does not prevent: someone with write access to the database who rewrites
the whole chain and the head consistently. Against that, publish the head
(:func:`read_head`) somewhere they cannot reach (a signed report, another system) and
compare later.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import orjson
from sqlalchemy import Connection, Row, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from smartcity.kernel.audit.tables import (
    ACTION_LENGTH,
    ACTOR_LENGTH,
    SUBJECT_LENGTH,
    audit_entry,
    audit_head,
)
from smartcity.kernel.clock import Clock
from smartcity.kernel.storage import Store

GENESIS_HASH = "0" * 64
_HEAD_ID = 1
# How far (in seqs) verify looks for the place a moved entry came from.
_REORDER_WINDOW = 16

ProgressCallback = Callable[[int, int], None]
"""Called with (entries checked so far, entries the head says there are)."""


class AuditIntegrityError(Exception):
    """The audit log is damaged so that no entry can be appended safely."""


@dataclass(frozen=True)
class AuditEntry:
    """One entry of the log."""

    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    details: Mapping[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class AuditHead:
    """The last entry's seq and hash, as the head row records them."""

    seq: int
    hash: str


class ProblemKind(StrEnum):
    """What verification found wrong at a seq."""

    EDITED = "edited"
    REMOVED = "removed"
    REORDERED = "reordered"
    HEAD_MISMATCH = "head_mismatch"


@dataclass(frozen=True)
class Problem:
    """One finding of :func:`verify`."""

    seq: int
    kind: ProblemKind
    detail: str


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of :func:`verify`.

    ``problems`` keeps the first ``max_problems`` findings; ``problem_count`` counts all.
    """

    ok: bool
    checked: int
    head_seq: int
    problems: tuple[Problem, ...]
    problem_count: int

    @property
    def truncated(self) -> bool:
        """Whether more problems were found than ``problems`` lists."""
        return self.problem_count > len(self.problems)


# -- canonical encoding ------------------------------------------------------------


def canonical_details(details: Mapping[str, Any]) -> str:
    """The canonical JSON text of ``details``: orjson, keys sorted at every level."""
    if not isinstance(details, Mapping):
        raise TypeError(f"audit details must be a mapping, got {type(details).__name__}")
    try:
        return orjson.dumps(dict(details), option=orjson.OPT_SORT_KEYS).decode()
    except orjson.JSONEncodeError as exc:
        raise TypeError(f"audit details are not JSON-serialisable: {exc}") from exc


def canonical_time(at: datetime) -> str:
    """``at`` as UTC ISO 8601 with microseconds, e.g. ``2026-11-21T09:00:00.000000Z``.

    SQLite hands timestamps back without a zone; they were written in UTC.
    """
    naive_utc = at if at.tzinfo is None else at.astimezone(UTC).replace(tzinfo=None)
    return naive_utc.isoformat(timespec="microseconds") + "Z"


def entry_hash(
    *,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    subject: str,
    details_json: str,
    prev_hash: str,
) -> str:
    """Hex SHA-256 of the JSON array ``[seq, at, actor, action, subject, details, prev_hash]``.

    ``details`` enters as its canonical JSON text, ``at`` as :func:`canonical_time`.
    Anyone can recompute it from a database dump without this code.
    """
    encoded = orjson.dumps(
        [seq, canonical_time(at), actor, action, subject, details_json, prev_hash]
    )
    return hashlib.sha256(encoded).hexdigest()


# -- writing -----------------------------------------------------------------------


def append(
    conn: Connection,
    clock: Clock,
    *,
    actor: str,
    action: str,
    subject: str,
    details: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append an entry inside the caller's transaction.

    Call it in the same ``store.begin()`` block as the change it records, so both commit
    or neither does. Appenders take turns on the head row (``SELECT ... FOR UPDATE`` on
    PostgreSQL; SQLite transactions are ``BEGIN IMMEDIATE`` and so already serialised).
    Raises ``ValueError`` for empty or over-long names, ``TypeError`` for details that
    are not a JSON object, :class:`AuditIntegrityError` if the head row is gone while
    entries remain.
    """
    _check_name("actor", actor, ACTOR_LENGTH)
    _check_name("action", action, ACTION_LENGTH)
    _check_name("subject", subject, SUBJECT_LENGTH)
    details_json = canonical_details(details if details is not None else {})
    head = _lock_head(conn)
    # Read the clock only once we hold the head, so times never run backwards along seq.
    now = clock.now()
    if now.tzinfo is None:
        raise ValueError("the clock returned a naive datetime; clocks must be UTC-aware")
    at = now.astimezone(UTC)
    seq = head.seq + 1
    digest = entry_hash(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        subject=subject,
        details_json=details_json,
        prev_hash=head.hash,
    )
    conn.execute(
        audit_entry.insert().values(
            seq=seq,
            at=at,
            actor=actor,
            action=action,
            subject=subject,
            details=details_json,
            prev_hash=head.hash,
            hash=digest,
        )
    )
    conn.execute(update(audit_head).where(audit_head.c.id == _HEAD_ID).values(seq=seq, hash=digest))
    return AuditEntry(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        subject=subject,
        details=orjson.loads(details_json),
        prev_hash=head.hash,
        hash=digest,
    )


def record(
    store: Store,
    clock: Clock,
    *,
    actor: str,
    action: str,
    subject: str,
    details: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append an entry in a transaction of its own (for events with no other write)."""
    with store.begin() as conn:
        return append(conn, clock, actor=actor, action=action, subject=subject, details=details)


def _check_name(field: str, value: str, limit: int) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"audit {field} must be a non-empty string")
    if len(value) > limit:
        raise ValueError(f"audit {field} is longer than {limit} characters")


def _lock_head(conn: Connection) -> AuditHead:
    locked = select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == _HEAD_ID)
    locked = locked.with_for_update()
    row = conn.execute(locked).first()
    if row is None:
        # A fresh (or truncated) log has no head yet. Concurrent first appenders may
        # race to create it: one insert wins, the others wait for it on the row lock.
        insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        conn.execute(
            insert(audit_head)
            .values(id=_HEAD_ID, seq=0, hash=GENESIS_HASH)
            .on_conflict_do_nothing(index_elements=["id"])
        )
        row = conn.execute(locked).first()
        if row is None:
            raise AuditIntegrityError("could not create the audit head row")
        # A head at the start while entries exist means the head was deleted: appending
        # would fork the chain, so refuse (the transaction rolls back the new head too).
        if int(row.seq) == 0 and conn.execute(select(audit_entry.c.seq).limit(1)).first():
            raise AuditIntegrityError(
                "audit_head is missing while audit entries exist; "
                "run `smartcity audit verify` and restore the head"
            )
    return AuditHead(seq=int(row.seq), hash=str(row.hash))


# -- reading -----------------------------------------------------------------------


def read_head(conn: Connection) -> AuditHead | None:
    """The head row (last seq and hash), or ``None`` if nothing was ever appended."""
    row = conn.execute(
        select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == _HEAD_ID)
    ).first()
    return None if row is None else AuditHead(seq=int(row.seq), hash=str(row.hash))


def history(
    conn: Connection, subject: str, *, limit: int = 100, before_seq: int | None = None
) -> list[AuditEntry]:
    """Entries about ``subject``, newest first; page with ``before_seq``."""
    query = select(audit_entry).where(audit_entry.c.subject == subject)
    if before_seq is not None:
        query = query.where(audit_entry.c.seq < before_seq)
    rows = conn.execute(query.order_by(audit_entry.c.seq.desc()).limit(limit)).all()
    return [_entry(row) for row in rows]


def _entry(row: Row[Any]) -> AuditEntry:
    at: datetime = row.at
    return AuditEntry(
        seq=int(row.seq),
        at=at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC),
        actor=row.actor,
        action=row.action,
        subject=row.subject,
        details=orjson.loads(row.details),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


# -- verification ------------------------------------------------------------------


def verify(
    store: Store,
    progress_callback: ProgressCallback | None = None,
    *,
    chunk_size: int = 5000,
    max_problems: int = 1000,
) -> VerifyReport:
    """Check the whole chain and the head; report every break found.

    Entries are read in seq order in chunks of ``chunk_size``, each in its own short
    transaction, so memory stays constant and appenders are never held up for long.
    Entries appended while verifying are outside the head read at the start and are
    left for the next run.
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be positive")
    with store.connect() as conn:
        # One statement, so head and the last seq come from the same snapshot.
        head_row = conn.execute(
            select(
                select(audit_head.c.seq)
                .where(audit_head.c.id == _HEAD_ID)
                .scalar_subquery()
                .label("head_seq"),
                select(audit_head.c.hash)
                .where(audit_head.c.id == _HEAD_ID)
                .scalar_subquery()
                .label("head_hash"),
                select(func.max(audit_entry.c.seq)).scalar_subquery().label("max_seq"),
            )
        ).one()
    head_seq: int | None = None if head_row.head_seq is None else int(head_row.head_seq)
    head_hash: str | None = head_row.head_hash
    max_seq = 0 if head_row.max_seq is None else int(head_row.max_seq)
    # Without a head, still check every entry there is.
    upper = head_seq if head_seq is not None else max_seq
    checker = _ChainChecker(max_problems)
    for chunk in _chunks(store, upper, chunk_size):
        for row in chunk:
            checker.check(row)
        if progress_callback is not None:
            progress_callback(checker.checked, upper)
    checker.check_head(head_seq, head_hash, max_seq)
    return VerifyReport(
        ok=checker.count == 0,
        checked=checker.checked,
        head_seq=head_seq or 0,
        problems=tuple(checker.problems),
        problem_count=checker.count,
    )


def _chunks(store: Store, upper: int, size: int) -> Iterator[list[Row[Any]]]:
    after = 0
    columns = [
        audit_entry.c.seq,
        audit_entry.c.at,
        audit_entry.c.actor,
        audit_entry.c.action,
        audit_entry.c.subject,
        audit_entry.c.details,
        audit_entry.c.prev_hash,
        audit_entry.c.hash,
    ]
    while after < upper:
        with store.connect() as conn:
            rows = list(
                conn.execute(
                    select(*columns)
                    .where(audit_entry.c.seq > after, audit_entry.c.seq <= upper)
                    .order_by(audit_entry.c.seq)
                    .limit(size)
                ).all()
            )
        if not rows:
            return
        yield rows
        after = int(rows[-1].seq)


class _ChainChecker:
    """Walks entries in seq order keeping only the previous one: constant memory."""

    def __init__(self, max_problems: int) -> None:
        self.max_problems = max_problems
        self.problems: list[Problem] = []
        self.count = 0
        self.checked = 0
        self.expected = 1
        self.prev_hash = GENESIS_HASH  # stored hash of the previous entry
        self.prev_flagged = False
        self.last_seq = 0
        self.last_hash: str | None = None

    def add(self, seq: int, kind: ProblemKind, detail: str) -> None:
        self.count += 1
        if len(self.problems) < self.max_problems:
            self.problems.append(Problem(seq=seq, kind=kind, detail=detail))

    def check(self, row: Row[Any]) -> None:
        self.checked += 1
        seq = int(row.seq)
        gap = seq > self.expected
        if gap:
            missing = seq - self.expected
            self.add(
                self.expected,
                ProblemKind.REMOVED,
                f"{missing} entr{'y' if missing == 1 else 'ies'} missing: "
                f"seq {self.expected}..{seq - 1}",
            )
        flagged = False
        if self._hash_at(row, seq) != row.hash:
            flagged = True
            original = self._original_seq(row, seq)
            if original is not None:
                self.add(seq, ProblemKind.REORDERED, f"entry was appended as seq {original}")
            else:
                self.add(seq, ProblemKind.EDITED, "content does not match its hash")
        elif row.prev_hash != self.prev_hash and not gap and not self.prev_flagged:
            # Both entries match their own hashes but do not link: one of them was
            # rewritten together with a freshly computed hash.
            if seq == 1:
                self.add(seq, ProblemKind.EDITED, "first entry does not start the chain")
            else:
                self.add(
                    seq - 1,
                    ProblemKind.EDITED,
                    f"rewritten with a recomputed hash; seq {seq} no longer links to it",
                )
        self.prev_hash = row.hash
        self.prev_flagged = flagged
        self.expected = seq + 1
        self.last_seq = seq
        self.last_hash = row.hash

    def check_head(self, head_seq: int | None, head_hash: str | None, max_seq: int) -> None:
        if head_seq is None:
            if max_seq:
                self.add(max_seq, ProblemKind.HEAD_MISMATCH, "the audit_head row is missing")
            return
        if self.last_seq < head_seq:
            self.add(
                self.last_seq + 1,
                ProblemKind.HEAD_MISMATCH,
                f"head is at seq {head_seq} but the log ends at seq {self.last_seq}: "
                "entries were removed from the end",
            )
        elif self.last_hash is not None and self.last_hash != head_hash:
            self.add(
                head_seq, ProblemKind.HEAD_MISMATCH, "the last entry's hash differs from the head"
            )
        if max_seq > head_seq:
            self.add(
                head_seq + 1,
                ProblemKind.HEAD_MISMATCH,
                f"entries seq {head_seq + 1}..{max_seq} lie beyond the head",
            )

    def _original_seq(self, row: Row[Any], seq: int) -> int | None:
        # Past the report limit, only counting matters; skip the extra hashing.
        if len(self.problems) >= self.max_problems:
            return None
        for delta in range(1, _REORDER_WINDOW + 1):
            for candidate in (seq - delta, seq + delta):
                if candidate >= 1 and self._hash_at(row, candidate) == row.hash:
                    return candidate
        return None

    @staticmethod
    def _hash_at(row: Row[Any], seq: int) -> str:
        return entry_hash(
            seq=seq,
            at=row.at,
            actor=row.actor,
            action=row.action,
            subject=row.subject,
            details_json=row.details,
            prev_hash=row.prev_hash,
        )


# -- presentation ------------------------------------------------------------------

_KIND_LABELS: dict[str, dict[ProblemKind, str]] = {
    "zh_CN": {
        ProblemKind.EDITED: "被篡改",
        ProblemKind.REMOVED: "被删除",
        ProblemKind.REORDERED: "顺序被调换",
        ProblemKind.HEAD_MISMATCH: "链头不符",
    },
    "en": {
        ProblemKind.EDITED: "edited",
        ProblemKind.REMOVED: "removed",
        ProblemKind.REORDERED: "reordered",
        ProblemKind.HEAD_MISMATCH: "head mismatch",
    },
}


def format_report(report: VerifyReport, locale: str = "zh_CN", *, limit: int = 50) -> str:
    """The report as plain text for people, in ``zh_CN`` or ``en``; at most ``limit`` lines
    of problems. The ``detail`` of each problem is technical English in both locales."""
    labels = _KIND_LABELS.get(locale)
    if labels is None:
        raise ValueError(f"unsupported locale {locale!r}: use zh_CN or en")
    zh = locale == "zh_CN"
    if report.ok:
        if zh:
            return f"审计链完好：已校验 {report.checked:,} 条记录。"
        return f"Audit chain intact: {report.checked:,} entries checked."
    if zh:
        lines = [
            f"审计链被篡改：已校验 {report.checked:,} 条记录，"
            f"发现 {report.problem_count:,} 处问题。"
        ]
    else:
        lines = [
            f"Audit chain broken: {report.checked:,} entries checked, "
            f"{report.problem_count:,} problem(s) found."
        ]
    for problem in report.problems[:limit]:
        if zh:
            lines.append(f"  序号 {problem.seq}：{labels[problem.kind]}（{problem.detail}）")
        else:
            lines.append(f"  seq {problem.seq}: {labels[problem.kind]} ({problem.detail})")
    hidden = report.problem_count - min(limit, len(report.problems))
    if hidden > 0:
        lines.append(f"  ……另有 {hidden:,} 处未列出" if zh else f"  ... and {hidden:,} more")
    return "\n".join(lines)
