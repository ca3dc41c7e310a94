"""Tamper-evident, append-only audit log.

Record who did what to which subject in the same transaction as the change itself::

    with store.begin() as conn:
        ...  # the change
        audit.append(conn, clock, actor="staff:42", action="hotline.ticket_closed",
                     subject="ticket:T-1", details={"reason": "answered"})

``verify(store)`` walks the hash chain and reports edited, removed or reordered entries
and a head that does not match (``smartcity audit verify`` on the command line).
"""

from smartcity.kernel.audit.log import (
    GENESIS_HASH,
    AuditEntry,
    AuditHead,
    AuditIntegrityError,
    Problem,
    ProblemKind,
    ProgressCallback,
    VerifyReport,
    append,
    canonical_details,
    canonical_time,
    entry_hash,
    format_report,
    history,
    read_head,
    record,
    verify,
)

__all__ = [
    "GENESIS_HASH",
    "AuditEntry",
    "AuditHead",
    "AuditIntegrityError",
    "Problem",
    "ProblemKind",
    "ProgressCallback",
    "VerifyReport",
    "append",
    "canonical_details",
    "canonical_time",
    "entry_hash",
    "format_report",
    "history",
    "read_head",
    "record",
    "verify",
]
