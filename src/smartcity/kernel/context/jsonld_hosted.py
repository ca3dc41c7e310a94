"""@context documents the broker hosts for its clients (NGSI-LD ``/jsonldContexts``).

A client that cannot publish its context anywhere posts it to the broker and then names
it by the URL the broker gives back, ``<broker>/ngsi-ld/v1/jsonldContexts/<id>``. The
resolver answers those URLs from the database through :meth:`HostedContexts.lookup`
rather than over HTTP, so the broker never calls itself.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import orjson
from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from smartcity.kernel.clock import Clock
from smartcity.kernel.context.errors import BadRequestData, ResourceNotFound
from smartcity.kernel.context.jsonld_tables import CONTEXT_ID, context_jsonld
from smartcity.kernel.storage import Store

HOSTED_PATH = "/ngsi-ld/v1/jsonldContexts/"
HOSTED = "Hosted"
IMPLICITLY_CREATED = "ImplicitlyCreated"
ID_PREFIX = "urn:ngsi-ld:jsonldContext:"
IMPLICIT_ID_PREFIX = ID_PREFIX + "implicit:"


@dataclass(frozen=True, slots=True)
class HostedContext:
    """One hosted context: its id, kind, the document as posted and when it came."""

    id: str
    kind: str
    document: dict[str, Any]
    created_at: datetime


class HostedContexts:
    """The hosted contexts in the store; ``validate`` checks a ``@context`` value."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def create(self, document: Any, *, validate: Callable[[Any], object]) -> HostedContext:
        """Store ``document`` (``{"@context": ...}``) after ``validate`` accepts its context.

        The ``@context`` must be an object or a list: hosting a bare URL would only
        make a second name for a context that already has one.
        """
        if not isinstance(document, dict) or "@context" not in document:
            raise BadRequestData("a hosted context is a JSON object with an @context member")
        if not isinstance(document["@context"], dict | list):
            raise BadRequestData("the @context to host must be an object or a list")
        validate(document["@context"])
        hosted = HostedContext(
            id=ID_PREFIX + str(uuid.uuid4()),
            kind=HOSTED,
            document={"@context": document["@context"]},
            created_at=self._clock.now(),
        )
        with self._store.begin() as conn:
            conn.execute(
                insert(context_jsonld).values(
                    id=hosted.id,
                    kind=hosted.kind,
                    document=orjson.dumps(hosted.document).decode(),
                    created_at=hosted.created_at,
                )
            )
        return hosted

    def ensure_implicit(self, context: Any, *, validate: Callable[[Any], object]) -> HostedContext:
        """The ImplicitlyCreated context standing for an inline ``@context`` value.

        A reply in plain JSON can only name its context by URL; when the request gave
        its context inline, this gives that context a URL. The id is a digest of the
        value, so the same inline context always gets the same URL and one row.
        """
        canonical = orjson.dumps(context, option=orjson.OPT_SORT_KEYS)
        context_id = IMPLICIT_ID_PREFIX + hashlib.sha256(canonical).hexdigest()[:40]
        found = self.find(context_id)
        if found is not None:
            return found
        validate(context)
        implicit = HostedContext(
            id=context_id,
            kind=IMPLICITLY_CREATED,
            document={"@context": context},
            created_at=self._clock.now(),
        )
        try:
            with self._store.begin() as conn:
                conn.execute(
                    insert(context_jsonld).values(
                        id=implicit.id,
                        kind=implicit.kind,
                        document=orjson.dumps(implicit.document).decode(),
                        created_at=implicit.created_at,
                    )
                )
        except IntegrityError:
            # Another request stored the same context in the meantime: same row.
            return self.get(context_id)
        return implicit

    def get(self, context_id: str) -> HostedContext:
        """The hosted context ``context_id``; ResourceNotFound when there is none."""
        found = self.find(context_id)
        if found is None:
            raise ResourceNotFound(f"no hosted @context {context_id!r}", id=context_id)
        return found

    def find(self, context_id: str) -> HostedContext | None:
        """The hosted context ``context_id``, or ``None``."""
        if len(context_id) > CONTEXT_ID:
            return None
        with self._store.connect() as conn:
            row = conn.execute(
                select(context_jsonld).where(context_jsonld.c.id == context_id)
            ).first()
        if row is None:
            return None
        return HostedContext(
            id=row.id,
            kind=row.kind,
            document=orjson.loads(row.document),
            created_at=row.created_at,
        )

    def list(self, kind: str | None = None) -> list[HostedContext]:
        """Every hosted context (of ``kind``, if given), oldest first."""
        query = select(context_jsonld).order_by(context_jsonld.c.created_at, context_jsonld.c.id)
        if kind is not None:
            query = query.where(context_jsonld.c.kind == kind)
        with self._store.connect() as conn:
            rows = conn.execute(query).all()
        return [
            HostedContext(
                id=row.id,
                kind=row.kind,
                document=orjson.loads(row.document),
                created_at=row.created_at,
            )
            for row in rows
        ]

    def delete(self, context_id: str) -> None:
        """Remove a hosted context; ResourceNotFound when there is none."""
        with self._store.begin() as conn:
            deleted = conn.execute(
                delete(context_jsonld).where(context_jsonld.c.id == context_id)
            ).rowcount
        if not deleted:
            raise ResourceNotFound(f"no hosted @context {context_id!r}", id=context_id)

    def lookup(self, url: str) -> Any | None:
        """The ``@context`` value a hosted-context URL names, or ``None``.

        Any host is accepted: the broker may be reached under several names, and ids
        are random URNs, so a path naming one of ours means ours.
        """
        path = urlsplit(url).path
        if not path.startswith(HOSTED_PATH):
            return None
        found = self.find(unquote(path[len(HOSTED_PATH) :]))
        return None if found is None else found.document["@context"]


def hosted_url(base_url: str, context_id: str) -> str:
    """The URL under which the broker at ``base_url`` serves hosted context ``context_id``."""
    return base_url.rstrip("/") + HOSTED_PATH + context_id
