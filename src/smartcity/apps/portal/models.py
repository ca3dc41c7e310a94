"""What the citizen page's JSON API accepts and answers (pydantic models)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool

# Occupation as the registry writes it (Chinese, e.g. 软件工程师), at most this long.
OCCUPATION_MAX = 32


class Channel(StrEnum):
    INBOX = "inbox"
    SMS = "sms"
    EMAIL = "email"


class ContactPreferences(BaseModel):
    """How the citizen wants to be reached by notices that concern them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channels: list[Channel] = Field(
        default_factory=lambda: [Channel.INBOX],
        max_length=3,
        description="channels for notices; the inbox is always kept",
    )
    receive_notices: StrictBool = Field(
        default=True, description="receive notices matched to the profile (信息找人)"
    )


class ProfileUpdate(BaseModel):
    """What a citizen may change. Omitted fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    occupation: str | None = Field(
        default=None,
        max_length=OCCUPATION_MAX,
        description="the citizen's correction of the registry occupation; null: the registry's",
    )
    interests: list[str] | None = Field(default=None, description="interest codes")
    contact: ContactPreferences | None = None


class InterestView(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str = Field(examples=["sport"])
    label_zh: str = Field(examples=["体育健身"])
    label_en: str = Field(examples=["Sport and fitness"])


class AreaView(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    name: str | None = Field(default=None, description="null when the area is not mapped")
    name_en: str | None = None


class HouseholdMember(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    gender: str = Field(examples=["F"])
    age: int


class OccupationView(BaseModel):
    model_config = ConfigDict(frozen=True)

    value: str | None = Field(description="what the page shows: the correction, else the registry")
    registry: str | None = Field(description="as the population registry holds it")
    corrected: bool


class ProfileView(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    national_id_masked: str = Field(examples=["440106********9913"])
    gender: str = Field(examples=["M"])
    birth_year: int
    age: int
    community: AreaView
    district: AreaView
    household: list[HouseholdMember] = Field(description="the other members, oldest first")
    occupation: OccupationView
    interests: list[InterestView]
    contact: ContactPreferences
    updated_at: dt.datetime | None = Field(description="null until the citizen saves a change")


class SectionView(BaseModel):
    """One section of the citizen's page: its data, or why it is not there."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(examples=["bills"])
    title_zh: str
    title_en: str
    available: bool = Field(description="false: no app provides it, or it failed just now")
    reason: str | None = Field(default=None, examples=["not installed"])
    data: dict[str, Any] | None = None


class ProfileSummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    age: int
    community: AreaView
    district: AreaView
    occupation: str | None
    interests: list[str]


class MyPage(BaseModel):
    """Everything the citizen's page shows, in one answer."""

    model_config = ConfigDict(frozen=True)

    profile: ProfileSummary
    sections: list[SectionView]


class DocumentView(BaseModel):
    """One file in the citizen's document store (attach it to applications by ``id``)."""

    model_config = ConfigDict(frozen=True)

    id: int
    name: str = Field(examples=["出生医学证明.pdf"])
    media_type: str = Field(examples=["application/pdf"])
    size_bytes: int
    sha256: str
    uploaded_at: dt.datetime


class DocumentList(BaseModel):
    model_config = ConfigDict(frozen=True)

    documents: list[DocumentView]
    count: int
    used_bytes: int
    quota_bytes: int
    max_file_bytes: int


class JourneySummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    slug: str = Field(examples=["having-a-baby"])
    title_zh: str
    title_en: str
    summary_zh: str
    summary_en: str
    steps: int


class DepartmentView(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str = Field(examples=["GZ-WJW"])
    name: str | None = None
    name_en: str | None = None


class NeededDocument(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: str = Field(examples=["id_card"])
    label_zh: str
    label_en: str
    in_storage: bool | None = Field(
        description="a stored document looks like this kind; null when not signed in"
    )
    document_ids: list[int] = Field(description="the citizen's stored documents of this kind")


class StepView(BaseModel):
    model_config = ConfigDict(frozen=True)

    slug: str
    title_zh: str
    title_en: str
    department: DepartmentView
    service: str = Field(description="service code in the service hall")
    documents: list[NeededDocument]
    done: bool | None = Field(description="ticked by the citizen; null when not signed in")


class JourneyView(BaseModel):
    """One journey, personalised when a citizen asks."""

    model_config = ConfigDict(frozen=True)

    slug: str
    title_zh: str
    title_en: str
    summary_zh: str
    summary_en: str
    started: bool | None = Field(description="null when not signed in")
    started_at: dt.datetime | None = None
    done_steps: int | None = None
    steps: list[StepView]


class StepChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    done: StrictBool


# Lengths a citizen's or an officer's text must have (after collapsing whitespace).
TITLE_LENGTH = (2, 200)
DRAFT_BODY_LENGTH = (10, 50_000)
COMMENT_LENGTH = (2, 1_000)
SUGGESTION_BODY_LENGTH = (10, 3_000)
REPLY_LENGTH = (2, 3_000)


class DraftStatus(StrEnum):
    UPCOMING = "upcoming"
    OPEN = "open"
    CLOSED = "closed"


class DraftRequest(BaseModel):
    """A policy draft put out for comment by a department."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(max_length=TITLE_LENGTH[1] * 2)
    body: str = Field(max_length=DRAFT_BODY_LENGTH[1] * 2)
    opens_at: dt.datetime | None = Field(default=None, description="default: now")
    closes_at: dt.datetime
    department_code: str | None = Field(
        default=None, max_length=16, description="default: the officer's own department"
    )


class CommentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(max_length=COMMENT_LENGTH[1] * 2)


class SuggestionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    department_code: str = Field(max_length=16, examples=["GZ-JTJ"])
    title: str = Field(max_length=TITLE_LENGTH[1] * 2)
    body: str = Field(max_length=SUGGESTION_BODY_LENGTH[1] * 2)


class ReplyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reply: str = Field(max_length=REPLY_LENGTH[1] * 2)


class CommentView(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    draft_id: int
    author: str = Field(examples=["陈**"], description="the family name only")
    body: str
    created_at: dt.datetime
    reply: str | None = None
    replied_at: dt.datetime | None = None


class DraftView(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    department: DepartmentView
    title: str
    body: str
    opens_at: dt.datetime
    closes_at: dt.datetime
    status: DraftStatus
    comments: int


class DraftDetail(DraftView):
    comment_list: list[CommentView]


class SuggestionView(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    department: DepartmentView
    author: str
    title: str
    body: str
    created_at: dt.datetime
    reply: str | None = None
    replied_at: dt.datetime | None = None
