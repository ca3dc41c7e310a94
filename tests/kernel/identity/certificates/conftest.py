"""A platform CA on the test store, and a registered citizen and enterprise."""

from __future__ import annotations

from datetime import date

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from smartcity.kernel.clock import FixedClock
from smartcity.kernel.identity import (
    make_citizen_id,
    make_uscc,
    register_citizen,
    register_enterprise,
)
from smartcity.kernel.identity.certificates import (
    CertificateAuthority,
    Holder,
    HolderKind,
    find_holder,
    open_authority,
)
from smartcity.kernel.storage import Store

PASSPHRASE = b"correct horse battery staple"
TODAY = date(2026, 11, 21)
CITIZEN_ID = make_citizen_id("440106", date(1985, 3, 14), 123).text
USCC = make_uscc("9", "1", "440106", "MA5D8K2L").text


@pytest.fixture
def authority(store: Store, clock: FixedClock) -> CertificateAuthority:
    return open_authority(store, PASSPHRASE, clock)


@pytest.fixture
def citizen(store: Store) -> Holder:
    register_citizen(
        store,
        national_id=CITIZEN_ID,
        name="陈小明",
        community_code="440106001002",
        grid_code="440106001002003",
        today=TODAY,
    )
    with store.connect() as conn:
        return find_holder(conn, HolderKind.CITIZEN, CITIZEN_ID, today=TODAY)


@pytest.fixture
def enterprise(store: Store) -> Holder:
    register_enterprise(
        store,
        uscc=USCC,
        name="广州市天河区华盛科技有限公司",
        legal_representative=make_citizen_id("440106", date(1970, 1, 2), 11).text,
        industry="信息传输、软件和信息技术服务业",
        registered_at=date(2015, 6, 1),
        today=TODAY,
    )
    with store.connect() as conn:
        return find_holder(conn, HolderKind.ENTERPRISE, USCC, today=TODAY)


def make_csr(key: ec.EllipticCurvePrivateKey, common_name: str = "whoever") -> bytes:
    """A PEM CSR as a holder's own software would make it."""
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .sign(key, hashes.SHA256())
    )
    return request.public_bytes(serialization.Encoding.PEM)
