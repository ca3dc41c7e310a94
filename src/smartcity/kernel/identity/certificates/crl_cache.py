"""The CRL, built once and served many times.

Building the CRL reads every revoked, unexpired certificate and signs; relying parties
fetch it far more often than anyone revokes. :class:`CrlCache` keeps the signed bytes
(DER and PEM) and rebuilds when a revocation in this process invalidates it, when it is
older than ``refresh`` (so revocations made by other workers or the CLI show within that
time, like the ``max-age`` the route sends), or when its nextUpdate is near.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.hazmat.primitives import serialization

from smartcity.kernel.clock import Clock
from smartcity.kernel.identity.certificates.authority import CertificateAuthority
from smartcity.kernel.identity.certificates.revocation import build_crl
from smartcity.kernel.storage import Store

CRL_REFRESH = timedelta(minutes=5)
# Rebuild this long before nextUpdate, so no client ever holds a CRL past it.
NEXT_UPDATE_MARGIN = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class CachedCrl:
    der: bytes
    pem: bytes
    built_at: datetime
    next_update: datetime


class CrlCache:
    """The current CRL of one authority; thread-safe."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        authority: CertificateAuthority,
        *,
        refresh: timedelta = CRL_REFRESH,
    ) -> None:
        self._store = store
        self._clock = clock
        self._authority = authority
        self._refresh = refresh
        self._lock = threading.Lock()
        self._current: CachedCrl | None = None
        self.builds = 0

    def invalidate(self) -> None:
        """Forget the CRL (call after a revocation commits)."""
        with self._lock:
            self._current = None

    def _fresh(self, cached: CachedCrl | None, now: datetime) -> bool:
        return (
            cached is not None
            and now - cached.built_at < self._refresh
            and cached.next_update - now > NEXT_UPDATE_MARGIN
        )

    def current(self) -> CachedCrl:
        """The CRL, rebuilt first when it is stale."""
        now = self._clock.now()
        cached = self._current
        if cached is not None and self._fresh(cached, now):
            return cached
        with self._lock:
            cached = self._current
            if cached is not None and self._fresh(cached, now):
                return cached
            with self._store.connect() as conn:
                crl = build_crl(conn, self._authority, now=now)
            next_update = crl.next_update_utc or now
            cached = CachedCrl(
                der=crl.public_bytes(serialization.Encoding.DER),
                pem=crl.public_bytes(serialization.Encoding.PEM),
                built_at=now,
                next_update=next_update,
            )
            self._current = cached
            self.builds += 1
            return cached
