"""UltraLight 2.0, the compact text format of FIWARE's IoT agents.

A payload is one or more measure groups separated by ``#``; a group is ``|``-separated
fields: ``key|value`` pairs, optionally preceded by one timestamp field (ISO 8601) that
says when the group was observed::

    t|21.5|h|40
    2026-11-21T09:00:00Z|t|21.5#2026-11-21T09:01:00Z|t|21.7

Values stay text here; the IoT agent types them with the device's mapping. Commands
(``device@command|...``) are not part of ingestion and are refused like any bad text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from smartcity.kernel.context.errors import BadRequestData

GROUP_SEPARATOR = "#"
FIELD_SEPARATOR = "|"


class UltraLightSyntaxError(BadRequestData):
    """The text is not a valid UltraLight 2.0 measure payload."""


@dataclass(frozen=True)
class MeasureGroup:
    """Measures observed together: object id → raw text value, and when (if the device said)."""

    measures: Mapping[str, str]
    observed_at: datetime | None = field(default=None)


def parse_ultralight(payload: str) -> list[MeasureGroup]:
    """Parse an UltraLight 2.0 measure payload into its groups.

    Raises :class:`UltraLightSyntaxError` (a 400 BadRequestData) with the reason when
    the text is empty, a group or key is empty, a field count is odd without a leading
    timestamp, or the timestamp is not ISO 8601. Naive timestamps are returned naive: the
    device's timezone decides what they mean.
    """
    text = payload.strip()
    if not text:
        raise UltraLightSyntaxError("the UltraLight payload is empty")
    return [_parse_group(group, index) for index, group in enumerate(text.split(GROUP_SEPARATOR))]


def _parse_group(group: str, index: int) -> MeasureGroup:
    fields = group.strip().split(FIELD_SEPARATOR)
    if fields == [""]:
        raise UltraLightSyntaxError(f"measure group {index + 1} is empty", group=index + 1)
    observed_at = None
    if len(fields) % 2 == 1:
        observed_at = _parse_timestamp(fields[0].strip(), index)
        fields = fields[1:]
        if not fields:
            raise UltraLightSyntaxError(
                f"measure group {index + 1} has a timestamp but no measures", group=index + 1
            )
    measures: dict[str, str] = {}
    for position in range(0, len(fields), 2):
        key = fields[position].strip()
        if not key:
            raise UltraLightSyntaxError(
                f"measure group {index + 1} has an empty key", group=index + 1
            )
        measures[key] = fields[position + 1].strip()
    return MeasureGroup(measures=measures, observed_at=observed_at)


def _parse_timestamp(text: str, index: int) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise UltraLightSyntaxError(
            f"measure group {index + 1} has an odd number of fields and its first field "
            f"{text[:40]!r} is not an ISO 8601 timestamp",
            group=index + 1,
        ) from None


def format_ultralight(groups: Sequence[MeasureGroup]) -> str:
    """The UltraLight 2.0 text of ``groups`` (what a device or the simulator sends)."""
    return GROUP_SEPARATOR.join(_format_group(group) for group in groups)


def _format_group(group: MeasureGroup) -> str:
    fields: list[str] = []
    if group.observed_at is not None:
        fields.append(group.observed_at.isoformat())
    for key, value in group.measures.items():
        fields.extend((key, value))
    return FIELD_SEPARATOR.join(fields)
