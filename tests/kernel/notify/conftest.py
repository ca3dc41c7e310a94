from __future__ import annotations

from dataclasses import dataclass, field

from smartcity.kernel.bus import Event

BILL = {
    "biller": "电力",
    "amount": "123.45",
    "period": "2026-10",
    "due_date": "2026-12-01",
    "bill_number": "B-7",
}
NOTICE = {
    "department": "市应急管理局",
    "headline": "台风预警",
    "summary": "请减少外出。",
    "link": "/n/1",
}


@dataclass
class RecordingBus:
    """Collects what is published (the notify write path only publishes)."""

    published: list[Event] = field(default_factory=list)

    def publish(self, event: Event) -> None:
        self.published.append(event)
