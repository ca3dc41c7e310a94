"""The write path of the targeting app: author, publish and deliver notices; record events.

Delivery goes in batches of persons in registry id order. Each batch is one transaction:
its inbox messages (``kernel/notify.notify_many``), its delivery rows and the notice's
cursor and counters commit together, so a publication cut by a crash or a restart
resumes at the next batch and never notifies anyone twice.
"""

from __future__ import annotations

import threading
import time
from datetime import date
from typing import Any

from sqlalchemy import Connection, Row, func, insert, select, update

from smartcity.apps.portal.api import notices_refused
from smartcity.apps.targeting import storage
from smartcity.apps.targeting.matching import (
    city_date,
    count_matching,
    matches_person,
    select_matching,
)
from smartcity.apps.targeting.models import (
    EventRequest,
    EventView,
    MyNoticeView,
    NoticeCategory,
    NoticeRequest,
    NoticeStatus,
    NoticeView,
    PreviewView,
)
from smartcity.apps.targeting.rules import Rule, check_rule, load_rule, rule_json
from smartcity.apps.targeting.tables import targeting_delivery, targeting_event, targeting_notice
from smartcity.kernel import audit
from smartcity.kernel.errors import Conflict, InvalidInput, NotFound
from smartcity.kernel.identity.account_tables import identity_account
from smartcity.kernel.identity.permissions import actor_of, check_department
from smartcity.kernel.identity.principal import Principal
from smartcity.kernel.notify import notify_many
from smartcity.kernel.notify.preferences import read_many_preferences
from smartcity.kernel.notify.tables import notify_message
from smartcity.kernel.platform import Platform

BATCH_SIZE = 2000
# The generic notification template (title, body); the notice supplies both languages.
TEMPLATE = "message"


def notice_link(notice_id: int) -> str:
    """Where the inbox message of a notice points: the notice on the citizen's page."""
    return f"/me#notice-{notice_id}"


def _department_of(principal: Principal, requested: str | None) -> str:
    department = requested or principal.department_code
    if department is None:
        raise InvalidInput("say which department publishes the notice", part="department_code")
    check_department(principal, department)
    return department


def create_notice(platform: Platform, principal: Principal, request: NoticeRequest) -> NoticeView:
    """Save a draft notice of the principal's department (not delivered yet)."""
    rule = check_rule(request.audience)
    department = _department_of(principal, request.department_code)
    now = platform.clock.now()
    publish_at = request.publish_at or now
    if publish_at.tzinfo is None or (request.expires_at and request.expires_at.tzinfo is None):
        raise InvalidInput("times need a UTC offset", part="publish_at")
    if request.expires_at is not None and request.expires_at <= publish_at:
        raise InvalidInput("a notice must expire after it is published", part="expires_at")
    with platform.store.begin() as conn:
        notice_id = conn.execute(
            insert(targeting_notice)
            .values(
                department_code=department,
                title_zh=request.title_zh,
                title_en=request.title_en,
                body_zh=request.body_zh,
                body_en=request.body_en,
                category=request.category.value,
                audience=rule_json(rule),
                publish_at=publish_at,
                expires_at=request.expires_at,
                status=NoticeStatus.DRAFT.value,
                cursor=0,
                matched=0,
                delivered=0,
                created_at=now,
                created_by=principal.account_id,
                published_at=None,
            )
            .returning(targeting_notice.c.id)
        ).scalar_one()
        return storage.get_notice(conn, int(notice_id))


def preview(platform: Platform, rule: Rule, on: date | None) -> PreviewView:
    """How many persons ``rule`` matches (and how many of them have an account); sends nothing."""
    check_rule(rule)
    day = on or city_date(platform.clock.now())
    started = time.perf_counter()
    with platform.store.connect() as conn:
        matched = count_matching(conn, rule, day)
        with_account = conn.execute(
            select(func.count()).where(
                identity_account.c.kind == "citizen",
                identity_account.c.citizen_id.in_(select_matching(conn, rule, day)),
            )
        ).scalar_one()
    elapsed = (time.perf_counter() - started) * 1000
    return PreviewView(
        on=day, matched=matched, with_account=int(with_account), elapsed_ms=round(elapsed, 1)
    )


def publish_notice(platform: Platform, principal: Principal, notice_id: int) -> NoticeView:
    """Publish a draft: deliver now if its time has come, else when it does."""
    now = platform.clock.now()
    with platform.store.begin() as conn:
        row = storage.notice_row(conn, notice_id, lock=True)
        check_department(principal, row.department_code)
        if row.status != NoticeStatus.DRAFT.value:
            raise Conflict(f"notice {notice_id} is already {row.status}", status=row.status)
        due = row.publish_at <= now
        status = NoticeStatus.PUBLISHING if due else NoticeStatus.SCHEDULED
        conn.execute(
            update(targeting_notice)
            .where(targeting_notice.c.id == notice_id)
            .values(status=status.value, published_at=now)
        )
        audit.append(
            conn,
            platform.clock,
            actor=actor_of(principal),
            action="targeting.notice_published",
            subject=f"notice:{notice_id}",
            details={"department": row.department_code, "status": status.value},
        )
    if due:
        deliver_notice(platform, notice_id)
    with platform.store.connect() as conn:
        return storage.get_notice(conn, notice_id)


def deliver_batch(platform: Platform, notice_id: int, batch_size: int = BATCH_SIZE) -> bool:
    """Deliver the next batch of a notice in one transaction; False when none is left."""
    now = platform.clock.now()
    with platform.store.begin() as conn:
        row = storage.notice_row(conn, notice_id, lock=True)
        if row.status == NoticeStatus.SCHEDULED.value and row.publish_at <= now:
            conn.execute(
                update(targeting_notice)
                .where(targeting_notice.c.id == notice_id)
                .values(status=NoticeStatus.PUBLISHING.value)
            )
        elif row.status != NoticeStatus.PUBLISHING.value:
            return False
        rule = load_rule(row.audience)
        matching = select_matching(conn, rule, city_date(row.publish_at), row.cursor, batch_size)
        persons = [int(person) for person in conn.execute(matching).scalars()]
        accounts = _accounts_of(conn, persons)
        for person in notices_refused(conn, list(accounts)):
            del accounts[person]
        messages: dict[int, int] = {}
        if accounts:
            link = notice_link(notice_id)
            _notify_in_locales(platform, conn, row, list(accounts.values()), link)
            messages = _messages_of(conn, list(accounts.values()), link)
        if persons:
            platform.store.bulk_insert(
                conn,
                targeting_delivery,
                [
                    {
                        "notice_id": notice_id,
                        "person_id": person,
                        "account_id": accounts.get(person),
                        "message_id": messages.get(accounts[person])
                        if person in accounts
                        else None,
                    }
                    for person in persons
                ],
            )
        finished = len(persons) < batch_size
        conn.execute(
            update(targeting_notice)
            .where(targeting_notice.c.id == notice_id)
            .values(
                cursor=persons[-1] if persons else row.cursor,
                matched=row.matched + len(persons),
                delivered=row.delivered + len(accounts),
                status=(NoticeStatus.PUBLISHED if finished else NoticeStatus.PUBLISHING).value,
            )
        )
        return not finished


def deliver_notice(
    platform: Platform,
    notice_id: int,
    batch_size: int = BATCH_SIZE,
    stopping: threading.Event | None = None,
) -> None:
    """Deliver every remaining batch of a notice (resumes where a cut publication stopped).

    With ``stopping`` set, it returns after the current batch; the rest stays due.
    """
    while deliver_batch(platform, notice_id, batch_size):
        if stopping is not None and stopping.is_set():
            return


def deliver_due(platform: Platform, stopping: threading.Event | None = None) -> int:
    """Run every publication that is due or was cut short; returns how many ran."""
    with platform.store.connect() as conn:
        due = storage.due_notices(conn, platform.clock.now())
    for notice_id in due:
        if stopping is not None and stopping.is_set():
            break
        deliver_notice(platform, notice_id, stopping=stopping)
    return len(due)


def _notify_in_locales(
    platform: Platform, conn: Connection, row: Row[Any], accounts: list[int], link: str
) -> None:
    """Inbox messages in each account's language: the notice is written in both, so the
    shared ``message`` template is filled once per locale."""
    default = platform.settings.default_locale
    saved = read_many_preferences(conn, accounts, default)
    english = [
        account for account in accounts if account in saved and saved[account].locale == "en"
    ]
    in_english = set(english)
    chinese = [account for account in accounts if account not in in_english]
    for group, title, body in (
        (chinese, row.title_zh, row.body_zh),
        (english, row.title_en, row.body_en),
    ):
        if group:
            notify_many(
                conn,
                group,
                TEMPLATE,
                {"title": title, "body": body},
                NoticeCategory(row.category).value,
                platform.clock.now(),
                link=link,
                bus=platform.bus,
                default_locale=default,
                bulk_insert=platform.store.bulk_insert,
            )


def _accounts_of(conn: Connection, persons: list[int]) -> dict[int, int]:
    """person id -> citizen account id, for the persons who have one."""
    if not persons:
        return {}
    rows = conn.execute(
        select(identity_account.c.citizen_id, identity_account.c.id).where(
            identity_account.c.kind == "citizen",
            identity_account.c.citizen_id.between(persons[0], persons[-1]),
            identity_account.c.citizen_id.in_(persons),
        )
    )
    return {int(person): int(account) for person, account in rows}


def _messages_of(conn: Connection, accounts: list[int], link: str) -> dict[int, int]:
    """account id -> id of the inbox message just written with ``link``."""
    rows = conn.execute(
        select(notify_message.c.account_id, notify_message.c.id).where(
            notify_message.c.account_id.in_(accounts), notify_message.c.link == link
        )
    )
    return {int(account): int(message) for account, message in rows}


def concerning(platform: Platform, national_id: str) -> list[tuple[Row[Any], int | None, bool]]:
    """Live notices that concern the citizen, newest first, with (inbox message id, read):
    delivered ones, and those that match them now though they were not reached
    (registered later, or moved into the audience)."""
    now = platform.clock.now()
    found: list[tuple[Row[Any], int | None, bool]] = []
    with platform.store.connect() as conn:
        person = storage.person_of(conn, national_id)
        if person is None:
            raise NotFound("this account has no person in the registry")
        delivered = storage.deliveries_of(conn, person)
        for row in storage.live_notices(conn, now):
            if row.id in delivered:
                message_id, read = delivered[row.id]
                found.append((row, message_id, read))
            elif matches_person(conn, load_rule(row.audience), city_date(row.publish_at), person):
                found.append((row, None, False))
    return found


def my_notices(platform: Platform, national_id: str, locale: str) -> list[MyNoticeView]:
    """:func:`concerning` in the citizen's language."""
    english = locale.startswith("en")
    return [
        MyNoticeView(
            id=row.id,
            title=row.title_en if english else row.title_zh,
            body=row.body_en if english else row.body_zh,
            category=NoticeCategory(row.category),
            department_code=row.department_code,
            publish_at=row.publish_at,
            expires_at=row.expires_at,
            message_id=message_id,
            read=read,
        )
        for row, message_id, read in concerning(platform, national_id)
    ]


def record_event(platform: Platform, principal: Principal, request: EventRequest) -> EventView:
    """Record an outage or works in an area, which ``area_event`` rules then match."""
    if request.ends_on < request.starts_on:
        raise InvalidInput("an event must end on or after its start", part="ends_on")
    department = _department_of(principal, None)
    with platform.store.begin() as conn:
        event_id = conn.execute(
            insert(targeting_event)
            .values(
                kind=request.kind.value,
                area_code=request.area_code,
                starts_on=request.starts_on,
                ends_on=request.ends_on,
                description=request.description,
                department_code=department,
            )
            .returning(targeting_event.c.id)
        ).scalar_one()
    return EventView(id=int(event_id), department_code=department, **request.model_dump())
