"""The platform's receipt certificate: who signs every e-receipt.

The payment platform's operator (the city's Government Service and Data Management
Bureau, 政数局) holds one certificate from the platform CA, like any enterprise holder,
with its unified social credit code in the subject. Its key is made on first use and
kept in ``payment_signer``, encrypted (PKCS#8) under the CA passphrase, so every worker
and every restart signs with the same certificate. Receipts are detached CMS
signatures (:class:`DetachedSigner`, the same CMS as ``sign_document`` with its fixed
parts encoded once), verifiable with OpenSSL against the platform root.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from smartcity.apps.payment.tables import payment_signer
from smartcity.kernel.errors import ConfigurationError
from smartcity.kernel.identity.certificates import (
    CertificateAuthority,
    DetachedSigner,
    Holder,
    HolderKind,
    SigningIdentity,
    issue_certificate,
    load_certificate,
    open_authority,
    resolve_ca_passphrase,
)
from smartcity.kernel.identity.uscc import make_uscc

if TYPE_CHECKING:
    from smartcity.kernel.platform import Platform

# 广州市政务服务数据管理局, the platform's operator: a government body (authority 1, category 1).
PLATFORM_HOLDER = Holder(
    kind=HolderKind.ENTERPRISE,
    identifier=make_uscc("1", "1", "440100", "00768412").text,
    name="广州市政务服务数据管理局（统一支付平台）",
)


class PlatformReceiptSigner:
    """Signs receipts with the platform's certificate (loaded or made on first use)."""

    def __init__(self, platform: Platform) -> None:
        self._platform = platform
        self._identity: SigningIdentity | None = None
        self._signer: DetachedSigner | None = None
        self._authority: CertificateAuthority | None = None
        self._lock = threading.Lock()

    def prepare(self) -> None:
        """Load (or make) the signing identity; call it outside any open transaction."""
        if self._identity is not None:
            return
        with self._lock:
            if self._identity is None:
                identity = self._load_or_make()
                self._signer = DetachedSigner(identity.key, identity.certificate, identity.chain)
                self._identity = identity

    def sign(self, document: bytes, now: datetime) -> bytes:
        """A detached CMS signature (DER) over the receipt's exact bytes."""
        if self._signer is None:
            raise ConfigurationError("the receipt signer was not prepared")
        # The SignedData's fixed parts are encoded once; the clock's time is signingTime.
        return self._signer.sign(document, now)

    @property
    def authority(self) -> CertificateAuthority:
        if self._authority is None:
            platform = self._platform
            self._authority = open_authority(
                platform.store, resolve_ca_passphrase(platform.settings), platform.clock
            )
        return self._authority

    def _load_or_make(self) -> SigningIdentity:
        passphrase = resolve_ca_passphrase(self._platform.settings)
        authority = self.authority
        found = self._load(passphrase, authority)
        if found is not None:
            return found
        key = ec.generate_private_key(ec.SECP256R1())
        try:
            with self._platform.store.begin() as conn:
                issued = issue_certificate(
                    conn,
                    authority,
                    PLATFORM_HOLDER,
                    key.public_key(),
                    now=self._platform.clock.now(),
                    key_origin="generated",
                )
                conn.execute(
                    insert(payment_signer).values(
                        id=1,
                        serial=issued.serial,
                        certificate_pem=issued.pem().decode("ascii"),
                        key_pem=key.private_bytes(
                            serialization.Encoding.PEM,
                            serialization.PrivateFormat.PKCS8,
                            serialization.BestAvailableEncryption(passphrase),
                        ).decode("ascii"),
                        created_at=self._platform.clock.now(),
                    )
                )
        except IntegrityError:
            pass  # another worker made it at the same moment: use theirs
        found = self._load(passphrase, authority)
        if found is None:  # pragma: no cover - only if the row vanished meanwhile
            raise ConfigurationError("the receipt signing certificate could not be made")
        return found

    def _load(self, passphrase: bytes, authority: CertificateAuthority) -> SigningIdentity | None:
        with self._platform.store.connect() as conn:
            row = conn.execute(select(payment_signer).where(payment_signer.c.id == 1)).first()
        if row is None:
            return None
        key = serialization.load_pem_private_key(row.key_pem.encode("ascii"), passphrase)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ConfigurationError("the receipt signing key is not an ECDSA key")
        certificate = load_certificate(row.certificate_pem.encode("ascii"))
        return SigningIdentity(key=key, certificate=certificate, chain=(authority.issuing,))
