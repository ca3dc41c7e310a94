"""What the targeting API takes and answers."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from smartcity.apps.targeting.rules import Rule

Title = Annotated[str, Field(min_length=1, max_length=200)]
Body = Annotated[str, Field(min_length=1, max_length=1800)]


class NoticeStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"  # published for a later time: delivered when it comes
    PUBLISHING = "publishing"  # delivery under way (resumed after a restart)
    PUBLISHED = "published"


class NoticeCategory(StrEnum):
    """The inbox categories a notice may travel as (kernel/notify categories)."""

    NOTICE = "notice"
    ALERT = "alert"
    BILL = "bill"
    SERVICE = "service"


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NoticeRequest(_Request):
    title_zh: Title
    title_en: Title
    body_zh: Body
    body_en: Body
    category: NoticeCategory = NoticeCategory.NOTICE
    audience: Rule
    # Default: now. A later time schedules the delivery.
    publish_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    # For city-level administrators acting for a department; others author in their own.
    department_code: Annotated[str | None, Field(max_length=16)] = None


class PreviewRequest(_Request):
    audience: Rule
    # The date ages and life events are computed on (default: today in the city).
    on: dt.date | None = None


class PreviewView(BaseModel):
    on: dt.date
    matched: int
    with_account: int
    elapsed_ms: float


class NoticeView(BaseModel):
    id: int
    department_code: str
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str
    category: NoticeCategory
    audience: Any
    publish_at: dt.datetime
    expires_at: dt.datetime | None
    status: NoticeStatus
    matched: int
    delivered: int
    created_at: dt.datetime
    published_at: dt.datetime | None


class ReachView(BaseModel):
    notice_id: int
    status: NoticeStatus
    # Persons the rule matched so far; those with an account got an inbox message.
    matched: int
    delivered: int
    matched_no_account: int
    read: int


class MyNoticeView(BaseModel):
    id: int
    title: str
    body: str
    category: NoticeCategory
    department_code: str
    publish_at: dt.datetime
    expires_at: dt.datetime | None
    # None when the notice reached the citizen through this page, not the inbox.
    message_id: int | None
    read: bool


class EventKind(StrEnum):
    WATER_OUTAGE = "water_outage"
    POWER_OUTAGE = "power_outage"
    GAS_OUTAGE = "gas_outage"
    ROAD_WORKS = "road_works"


class EventRequest(_Request):
    kind: EventKind
    area_code: Annotated[str, Field(pattern=r"^(\d{6}|\d{9}|\d{12})$")]
    starts_on: dt.date
    ends_on: dt.date
    description: Annotated[str, Field(min_length=1, max_length=200)]


class EventView(BaseModel):
    id: int
    kind: EventKind
    area_code: str
    starts_on: dt.date
    ends_on: dt.date
    description: str
    department_code: str
