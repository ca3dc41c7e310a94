"""Parameters of an NGSI-LD temporal query (ETSI GS CIM 009 clauses 4.11 and 6.18/6.19).

Everything a caller sends is checked here and refused with :class:`BadRequestData`
and a reason, so the reading code only ever sees a well-formed query.

Boundaries (clause 4.11 names the relations but leaves the end points to the reader):
``before`` keeps instants strictly before ``timeAt``; ``after`` keeps instants at or
after ``timeAt``; ``between`` keeps ``timeAt <= t < endTimeAt``. So ``before`` and
``after`` split the time line without overlap or gap, and consecutive ``between``
windows (and aggregation periods) never count an instance twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, get_args

from smartcity.kernel.context.errors import BadRequestData
from smartcity.kernel.context.paging import check_page

Timerel = Literal["before", "after", "between"]
TimeProperty = Literal["observedAt", "createdAt", "modifiedAt"]
AggregationMethod = Literal[
    "totalCount", "distinctCount", "sum", "avg", "min", "max", "stddev", "sumsq"
]

TIMERELS: tuple[str, ...] = get_args(Timerel)
TIME_PROPERTIES: tuple[str, ...] = get_args(TimeProperty)
AGGREGATION_METHODS: tuple[str, ...] = get_args(AggregationMethod)

DEFAULT_LIMIT = 20
MAX_LIMIT = 1000

# P[n]Y[n]M[n]W[n]DT[n]H[n]M[n]S; each part optional, at least one present.
DURATION = re.compile(
    r"P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?"
)


def parse_datetime(text: str, name: str) -> datetime:
    """An ISO 8601 date-time (``2026-11-21T09:00:00Z``); one without offset is UTC."""
    candidate = text.strip()
    if "T" not in candidate:
        raise BadRequestData(f"{name} {text!r} is not an ISO 8601 date-time (no 'T' part)")
    try:
        parsed = datetime.fromisoformat(candidate)
    except ValueError:
        raise BadRequestData(f"{name} {text!r} is not an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_duration(text: str) -> timedelta:
    """An ISO 8601 duration without years and months (``PT1H``, ``P1D``, ``P1W``).

    Years and months have no fixed length; periods must be fixed so the database can
    bucket by plain arithmetic, hence ``P1M`` is refused with a reason.
    """
    match = DURATION.fullmatch(text.strip())
    if match is None or text.strip() in ("P", "PT") or text.strip().endswith("T"):
        raise BadRequestData(
            f"aggrPeriodDuration {text!r} is not an ISO 8601 duration such as PT1H or P1D"
        )
    parts = match.groupdict()
    if parts["years"] or parts["months"]:
        raise BadRequestData(
            f"aggrPeriodDuration {text!r}: years and months have no fixed length and are "
            "not supported; use days or weeks (P30D, P1W)"
        )
    return timedelta(
        weeks=int(parts["weeks"] or 0),
        days=int(parts["days"] or 0),
        hours=int(parts["hours"] or 0),
        minutes=int(parts["minutes"] or 0),
        seconds=float(parts["seconds"] or 0),
    )


def parse_aggregation_methods(text: str | None) -> tuple[AggregationMethod, ...]:
    """``totalCount,avg`` -> the methods, in the order given, each once."""
    if text is None or not text.strip():
        raise BadRequestData(
            "options=aggregatedValues needs aggrMethods, one or more of "
            + ", ".join(AGGREGATION_METHODS)
        )
    methods: list[AggregationMethod] = []
    for raw in text.split(","):
        method = raw.strip()
        if method not in AGGREGATION_METHODS:
            raise BadRequestData(
                f"unknown aggregation method {method!r}; use " + ", ".join(AGGREGATION_METHODS)
            )
        if method not in methods:
            methods.append(method)  # type: ignore[arg-type]  # checked just above
    return tuple(methods)


def parse_positive_int(text: str | None, name: str, *, minimum: int = 1) -> int | None:
    """An integer parameter of at least ``minimum``, or None when absent."""
    if text is None:
        return None
    try:
        number = int(text)
    except ValueError:
        raise BadRequestData(f"{name} {text!r} is not an integer") from None
    if number < minimum:
        raise BadRequestData(f"{name} must be at least {minimum}, not {number}")
    return number


@dataclass(frozen=True)
class TimeWindow:
    """Which instants a temporal query keeps, on which time property."""

    timerel: Timerel | None = None
    time_at: datetime | None = None
    end_time_at: datetime | None = None
    timeproperty: TimeProperty = "observedAt"

    @property
    def start(self) -> datetime | None:
        """The first instant kept, if bounded below."""
        return self.time_at if self.timerel in ("after", "between") else None

    @property
    def end(self) -> datetime | None:
        """The first instant no longer kept, if bounded above."""
        if self.timerel == "before":
            return self.time_at
        return self.end_time_at if self.timerel == "between" else None


def parse_time_window(
    timerel: str | None,
    time_at: str | None,
    end_time_at: str | None,
    timeproperty: str | None,
) -> TimeWindow:
    """Check the timerel/timeAt/endTimeAt/timeproperty parameters together."""
    prop = timeproperty or "observedAt"
    if prop not in TIME_PROPERTIES:
        raise BadRequestData(f"timeproperty {prop!r} is not one of " + ", ".join(TIME_PROPERTIES))
    if timerel is None:
        if time_at is not None or end_time_at is not None:
            raise BadRequestData("timeAt and endTimeAt need timerel (before, after or between)")
        return TimeWindow(timeproperty=prop)  # type: ignore[arg-type]  # checked above
    if timerel not in TIMERELS:
        raise BadRequestData(f"timerel {timerel!r} is not one of before, after, between")
    if time_at is None:
        raise BadRequestData(f"timerel={timerel} needs timeAt")
    start = parse_datetime(time_at, "timeAt")
    end: datetime | None = None
    if timerel == "between":
        if end_time_at is None:
            raise BadRequestData("timerel=between needs endTimeAt")
        end = parse_datetime(end_time_at, "endTimeAt")
        if end <= start:
            raise BadRequestData("endTimeAt must be later than timeAt")
    elif end_time_at is not None:
        raise BadRequestData(f"endTimeAt is only allowed with timerel=between, not {timerel}")
    return TimeWindow(
        timerel=timerel,  # type: ignore[arg-type]  # checked above
        time_at=start,
        end_time_at=end,
        timeproperty=prop,  # type: ignore[arg-type]
    )


@dataclass(frozen=True)
class TemporalQuery:
    """Which entities and attribute instances a temporal query selects.

    Names (``types``, ``attrs``) are expanded IRIs. ``last_n`` keeps the latest N
    instances of each attribute (per datasetId), still listed oldest first.
    """

    window: TimeWindow = TimeWindow()
    types: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    id_pattern: str | None = None
    attrs: tuple[str, ...] = ()
    last_n: int | None = None
    limit: int = DEFAULT_LIMIT
    offset: int = 0

    def __post_init__(self) -> None:
        check_page(self.limit, self.offset, max_limit=MAX_LIMIT)
        if self.last_n is not None and self.last_n < 1:
            raise BadRequestData(f"lastN must be at least 1, not {self.last_n}")
        if self.id_pattern is not None:
            try:
                re.compile(self.id_pattern)
            except re.error as exc:
                raise BadRequestData(f"idPattern {self.id_pattern!r} is not valid: {exc}") from None


@dataclass(frozen=True)
class Aggregation:
    """What an aggregated temporal query computes: methods over periods.

    ``period`` None (or ``PT0S``) means one period spanning the whole time window.
    """

    methods: tuple[AggregationMethod, ...]
    period: timedelta | None = None


def parse_aggregation(methods: str | None, period: str | None) -> Aggregation:
    """Check aggrMethods and aggrPeriodDuration together."""
    parsed_methods = parse_aggregation_methods(methods)
    duration = parse_duration(period) if period is not None else None
    if duration is not None and duration <= timedelta(0):
        duration = None  # the standard reads PT0S as "the whole time range"
    if duration is not None and duration < timedelta(milliseconds=1):
        raise BadRequestData("aggrPeriodDuration must be at least one millisecond")
    return Aggregation(methods=parsed_methods, period=duration)
