"""Resolving a request's ``@context`` value into an :class:`LdContext`.

A request names its context by URL (Link header or body), inline as an object, or as a
list mixing both. :class:`ContextResolver` dereferences the URLs (the core context from
the package, mapped URLs from local files, the rest over HTTP), processes the result
with the core context applied last, and caches both the documents (LRU by URL, with a
TTL; failures for a short while) and the resolved contexts. One resolver is shared by
all requests: it is thread-safe and fetches each URL once even when many requests ask
for it at the same moment.

An unreachable context answers :class:`LdContextNotAvailable` within ``timeout_s`` for
the whole resolution, whatever the remote server does: the fetch runs on a worker thread
and the caller stops waiting at the deadline.
"""

from __future__ import annotations

import functools
import json
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from smartcity.kernel.config import PREFIX
from smartcity.kernel.context.errors import BadRequestData, LdContextNotAvailable, NgsiLdError
from smartcity.kernel.context.jsonld_context import LdContext
from smartcity.kernel.context.jsonld_core import apply_core_last, core_context, is_core_context_url
from smartcity.kernel.context.jsonld_fetch import (
    Fetch,
    check_context_url,
    context_of_document,
    fetch_over_http,
    read_mapped_file,
)
from smartcity.kernel.context.jsonld_processing import ContextProcessor
from smartcity.kernel.errors import ConfigurationError

CONTEXT_MAP_VARIABLE = PREFIX + "CONTEXT_MAP"
ALLOW_PRIVATE_VARIABLE = PREFIX + "CONTEXT_ALLOW_PRIVATE"
# The all-domains Smart Data Models context is over a megabyte; 4 MiB leaves room for
# such published vocabularies while still bounding what one request can make us read.
DEFAULT_MAX_BYTES = 4 * 1_048_576
FETCH_WORKERS = 8
# Fetches under way (or queued) at once; past this, new URLs are refused at once
# rather than queued behind dead servers, so many bad URLs cannot pile up work.
MAX_FETCHES_UNDER_WAY = 64


@dataclass(frozen=True, slots=True)
class _Cached:
    expires_at: float
    value: Any = None
    error: NgsiLdError | None = None


class _LruCache:
    """A small LRU map with per-entry expiry; callers hold the resolver's lock."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[Hashable, _Cached] = OrderedDict()

    def get(self, key: Hashable, now: float) -> _Cached | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires_at <= now:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry

    def put(self, key: Hashable, entry: _Cached) -> None:
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()

    def pop(self, key: Hashable) -> _Cached | None:
        return self._entries.pop(key, None)

    def items(self, now: float) -> list[tuple[Hashable, _Cached]]:
        return [(key, entry) for key, entry in self._entries.items() if entry.expires_at > now]


@dataclass(frozen=True, slots=True)
class CachedContext:
    """A remote context document the resolver holds: where from, since when, how used."""

    url: str
    created_at: datetime
    last_usage: datetime
    hits: int
    context: Any


@dataclass(slots=True)
class _Usage:
    created_at: datetime
    last_usage: datetime
    hits: int = 0


def load_url_map(path: Path) -> dict[str, Path]:
    """Read a URL→file map: a JSON object ``{url: path}``, paths relative to the file."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"{CONTEXT_MAP_VARIABLE}: cannot read {path}: {exc}") from exc
    if not isinstance(raw, dict) or not all(
        isinstance(url, str) and isinstance(target, str) for url, target in raw.items()
    ):
        raise ConfigurationError(f"{CONTEXT_MAP_VARIABLE}: {path} must map URL strings to paths")
    return {url: path.parent / target for url, target in raw.items()}


class ContextResolver:
    """Turns ``@context`` values into :class:`LdContext` objects; shared, thread-safe.

    ``url_map`` answers the listed URLs from local files instead of the network;
    ``timeout_s`` bounds a whole resolution; ``cache_size`` bounds each of the two
    caches; ``max_bytes`` bounds one context document; ``fetch`` replaces HTTP;
    ``ttl_s`` and ``failure_ttl_s`` say how long a document and a failure are
    remembered; ``monotonic`` is the clock of those expiries; ``allow_private_addresses``
    lets the HTTP fetch reach loopback and private hosts (an intranet deployment; off by
    default against SSRF, see :func:`check_public_host`). ``local_documents``
    answers URLs the platform hosts itself (``/jsonldContexts/{id}``): it returns the
    document's ``@context`` value, or ``None`` for a URL it does not host.
    """

    def __init__(
        self,
        *,
        url_map: Mapping[str, Path] | None = None,
        timeout_s: float = 1.0,
        cache_size: int = 256,
        max_bytes: int = DEFAULT_MAX_BYTES,
        fetch: Fetch | None = None,
        ttl_s: float = 3600.0,
        failure_ttl_s: float = 10.0,
        monotonic: Callable[[], float] = time.monotonic,
        local_documents: Callable[[str], Any | None] | None = None,
        allow_private_addresses: bool = False,
    ) -> None:
        if timeout_s <= 0 or cache_size <= 0 or max_bytes <= 0:
            raise ConfigurationError("timeout_s, cache_size and max_bytes must be positive")
        self._url_map = dict(url_map or {})
        self._timeout_s = timeout_s
        self._max_bytes = max_bytes
        self._fetch: Fetch = fetch or functools.partial(
            fetch_over_http, allow_private=allow_private_addresses
        )
        self._ttl_s = ttl_s
        self._failure_ttl_s = failure_ttl_s
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._cache_size = cache_size
        self._documents = _LruCache(cache_size)
        self._contexts = _LruCache(cache_size)
        self._in_flight: dict[str, Future[Any]] = {}
        self._executor: ThreadPoolExecutor | None = None
        self._local_documents = local_documents
        self._usage: dict[str, _Usage] = {}

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **options: Any) -> ContextResolver:
        """A resolver whose URL map comes from the file ``SMARTCITY_CONTEXT_MAP`` names."""
        source = os.environ if env is None else env
        map_path = source.get(CONTEXT_MAP_VARIABLE, "")
        url_map = load_url_map(Path(map_path)) if map_path else None
        allow_private = source.get(ALLOW_PRIVATE_VARIABLE, "").lower() in ("1", "true", "yes")
        options.setdefault("allow_private_addresses", allow_private)
        return cls(url_map=url_map, **options)

    def close(self) -> None:
        """Stop the fetch workers (fetches under way finish in the background)."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    def use_local_documents(self, lookup: Callable[[str], Any | None]) -> None:
        """Answer the URLs ``lookup`` knows (hosted contexts) without fetching them."""
        with self._lock:
            self._local_documents = lookup

    def clear(self) -> None:
        """Forget every cached document and context."""
        with self._lock:
            self._documents.clear()
            self._contexts.clear()
            self._usage.clear()

    def forget(self, url: str) -> bool:
        """Drop the cached document of ``url`` (and every context built with it).

        Returns whether it was cached. The next use fetches the document again.
        """
        with self._lock:
            entry = self._documents.pop(url)
            self._usage.pop(url, None)
            # Resolved contexts do not record what they were built from; they are cheap
            # to rebuild from the cached documents, so all of them go.
            self._contexts.clear()
        return entry is not None and entry.error is None

    def cached_contexts(self) -> list[CachedContext]:
        """The remote context documents held in the cache now, oldest first."""
        now = self._monotonic()
        with self._lock:
            held = [
                CachedContext(
                    url=str(url),
                    created_at=self._usage[str(url)].created_at,
                    last_usage=self._usage[str(url)].last_usage,
                    hits=self._usage[str(url)].hits,
                    context=entry.value,
                )
                for url, entry in self._documents.items(now)
                if entry.error is None and str(url) in self._usage
            ]
        return sorted(held, key=lambda cached: cached.created_at)

    def resolve(self, value: Any) -> LdContext:
        """The active context for a request's ``@context`` value.

        ``None`` gives the core context; a URL, an object or a list of them is processed
        in order with the core context last. Raises :class:`LdContextNotAvailable` when a
        remote context cannot be fetched in time and :class:`BadRequestData` when a
        context is not valid JSON-LD.
        """
        known = self.cached(value)
        if known is not None:
            return known
        key = self._cache_key(value)
        now = self._monotonic()
        deadline = now + self._timeout_s
        expiries: list[float] = [now + self._ttl_s]

        def load_remote(url: str) -> Any:
            local_context, expires_at = self._document(url, deadline)
            expiries.append(expires_at)
            return local_context

        # User contexts see the core terms (they may write ``ngsi-ld:...`` without
        # defining the prefix, as Smart Data Models contexts do); the core comes last.
        processor = ContextProcessor(load_remote, core_context(), initial_overridable=True)
        processor.apply(_without_core_urls(value))
        apply_core_last(processor)
        context = processor.result(value)
        with self._lock:
            self._contexts.put(key, _Cached(min(expiries), context))
        return context

    def cached(self, value: Any) -> LdContext | None:
        """The active context for ``value`` if it needs no processing or fetching now.

        The core context, or a context processed earlier and still fresh; None when
        :meth:`resolve` has work to do (which may mean waiting for a remote document).
        """
        if value is None or (isinstance(value, str) and is_core_context_url(value)):
            return core_context()
        key = self._cache_key(value)
        with self._lock:
            cached = self._contexts.get(key, self._monotonic())
        if cached is None:
            return None
        if isinstance(value, str):
            self._count_use(value)
        context: LdContext = cached.value
        return context

    def document(self, url: str) -> Any:
        """The ``@context`` member of the document at ``url`` (through the caches)."""
        return self._document(url, self._monotonic() + self._timeout_s)[0]

    def _cache_key(self, value: Any) -> Hashable:
        if isinstance(value, str):
            return value
        try:
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        except TypeError as exc:
            raise BadRequestData("@context must be JSON: URLs, objects and null") from exc

    def _document(self, url: str, deadline: float) -> tuple[Any, float]:
        """A document's ``@context`` and when its cache entry expires."""
        now = self._monotonic()
        if is_core_context_url(url):
            # Nested references to the core context add nothing: it is applied last.
            return {}, now + self._ttl_s
        with self._lock:
            cached = self._documents.get(url, now)
        if cached is not None:
            if cached.error is not None:
                raise _fresh(cached.error)
            self._count_use(url)
            return cached.value, cached.expires_at
        if self._local_documents is not None:
            hosted = self._local_documents(url)
            if hosted is not None:
                return hosted, self._remember(url, hosted, listed=False)
        mapped = self._url_map.get(url)
        if mapped is not None:
            try:
                local_context = context_of_document(
                    url, read_mapped_file(url, mapped, self._max_bytes)
                )
            except NgsiLdError as error:
                self._remember(url, error=error)
                raise
            return local_context, self._remember(url, local_context)
        check_context_url(url)
        remaining = deadline - now
        if remaining <= 0:
            raise LdContextNotAvailable(
                f"@context {url!r}: no time left to fetch it within {self._timeout_s:g} s",
                context=url,
            )
        try:
            local_context = self._start_fetch(url, remaining).result(timeout=remaining)
        except FutureTimeout as exc:
            # Not remembered as a failure: the fetch goes on in the background and
            # caches whatever it gets, so a slow first answer still serves later requests.
            raise LdContextNotAvailable(
                f"@context {url!r} did not arrive within {self._timeout_s:g} s", context=url
            ) from exc
        return local_context, self._monotonic() + self._ttl_s

    def _remember(
        self,
        url: str,
        local_context: Any = None,
        error: NgsiLdError | None = None,
        *,
        listed: bool = True,
    ) -> float:
        ttl_s = self._ttl_s if error is None else self._failure_ttl_s
        expires_at = self._monotonic() + ttl_s
        with self._lock:
            self._documents.put(url, _Cached(expires_at, local_context, error))
            if error is None and listed:
                moment = datetime.now(UTC)
                self._usage[url] = _Usage(created_at=moment, last_usage=moment)
            else:
                self._usage.pop(url, None)
            if len(self._usage) > 2 * self._cache_size:
                # Entries the LRU dropped leave their usage behind; prune the strays.
                live = {str(key) for key, _entry in self._documents.items(float("-inf"))}
                self._usage = {key: use for key, use in self._usage.items() if key in live}
        return expires_at

    def _count_use(self, url: str) -> None:
        with self._lock:
            usage = self._usage.get(url)
            if usage is not None:
                usage.hits += 1
                usage.last_usage = datetime.now(UTC)

    def _fetch_context(self, url: str, timeout_s: float) -> Any:
        try:
            local_context = context_of_document(url, self._fetch(url, timeout_s, self._max_bytes))
        except NgsiLdError as error:
            self._remember(url, error=error)
            raise
        self._remember(url, local_context)
        return local_context

    def _start_fetch(self, url: str, timeout_s: float) -> Future[Any]:
        # Single flight: requests asking for the same URL at once share one fetch.
        with self._lock:
            future = self._in_flight.get(url)
            if future is not None:
                return future
            if len(self._in_flight) >= MAX_FETCHES_UNDER_WAY:
                raise LdContextNotAvailable(
                    f"@context {url!r} cannot be fetched now: too many fetches under way",
                    context=url,
                )
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    max_workers=FETCH_WORKERS, thread_name_prefix="jsonld-fetch"
                )
            future = self._executor.submit(self._fetch_context, url, timeout_s)
            self._in_flight[url] = future
        future.add_done_callback(lambda _done: self._forget_in_flight(url, future))
        return future

    def _forget_in_flight(self, url: str, future: Future[Any]) -> None:
        with self._lock:
            if self._in_flight.get(url) is future:
                del self._in_flight[url]


def _fresh(error: NgsiLdError) -> NgsiLdError:
    # A new instance per raise: re-raising one cached exception object would grow its
    # traceback on every request and share it across threads.
    return type(error)(error.reason, **error.details)


def _without_core_urls(value: Any) -> Any:
    # The core context is applied last whatever the request says; where the request
    # lists it (usually last, sometimes first) it is dropped from the user part so that
    # its protected terms do not forbid the user's own definitions that follow.
    if isinstance(value, list):
        return [item for item in value if not (isinstance(item, str) and is_core_context_url(item))]
    return value


_shared_lock = threading.Lock()
_shared: list[ContextResolver] = []


def shared_resolver() -> ContextResolver:
    """The process-wide resolver, configured from the environment on first use.

    Requests, subscriptions and notifications share it, so a context fetched for one is
    cached for all.
    """
    with _shared_lock:
        if not _shared:
            _shared.append(ContextResolver.from_env())
        return _shared[0]
