"""Tables of the payment app (all prefixed ``payment_``).

Money itself lives in the kernel ledger: these tables hold what the ledger does not
know, namely who owes what to whom (bills), what a payer asked for (orders, with the
client's request id that makes retries idempotent), the signed receipts, and the
settlement of each biller's day. Amounts are integer fen. Every ledger account and
transfer id the app uses is derived from these rows (see ``postings.py``), so a retried
step always names the same ledger transfer and the ledger refuses to apply it twice.
"""

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from smartcity.kernel.storage.schema import metadata

payment_biller = Table(
    "payment_biller",
    metadata,
    # A short stable code: electricity, water, gas, telecom, medical_insurance, ...
    Column("code", String(32), primary_key=True),
    # The department (utility, bureau) whose staff and systems issue its bills.
    Column("department_code", String(16), nullable=False),
    Column("name", String(64), nullable=False),
    Column("name_en", String(128), nullable=False),
    Column("active", Boolean, nullable=False),
)

payment_payer = Table(
    "payment_payer",
    metadata,
    # citizen (national ID) or enterprise (unified social credit code).
    Column("kind", String(16), primary_key=True),
    Column("identifier", String(18), primary_key=True),
    # Paperless e-bill preference: no paper bill is mailed when true.
    Column("paperless", Boolean, nullable=False),
    # The platform account to notify, once the payer has signed in.
    Column("account_id", BigInteger, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

payment_bill = Table(
    "payment_bill",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("biller_code", String(32), ForeignKey("payment_biller.code"), nullable=False),
    # The biller's own number for the bill: issuing it again is a retry, not a new bill.
    Column("bill_number", String(64), nullable=False),
    Column("payer_kind", String(16), nullable=False),
    Column("payer_identifier", String(18), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("period", String(16), nullable=False),
    Column("due_date", Date, nullable=False),
    Column("reference", String(64), nullable=False),
    # open | pending (a bank payment is under way) | paid
    Column("status", String(8), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("paid_at", DateTime(timezone=True), nullable=True),
    Column("order_id", Integer, nullable=True),
    CheckConstraint("amount_fen > 0", name="amount_positive"),
    UniqueConstraint("biller_code", "bill_number", name="uq_payment_bill_biller_number"),
    # A payer's bills, newest first: the everyday question of the e-bill page.
    Index("ix_payment_bill_payer", "payer_kind", "payer_identifier", "issued_at"),
)

payment_order = Table(
    "payment_order",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("payer_kind", String(16), nullable=False),
    Column("payer_identifier", String(18), nullable=False),
    # Chosen by the client; the same id again returns the same order (idempotent retry).
    Column("request_id", String(64), nullable=False),
    # The platform account that placed the order: where its notifications go.
    Column("account_id", BigInteger, nullable=True),
    # bill (pay one bill) | top_up (money into the payer's wallet)
    Column("purpose", String(8), nullable=False),
    Column("bill_id", Integer, ForeignKey("payment_bill.id"), nullable=True),
    Column("biller_code", String(32), nullable=True),
    # wallet | bank
    Column("method", String(8), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    # pending -> confirmed -> settled; pending -> failed | expired
    Column("status", String(12), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("confirmed_at", DateTime(timezone=True), nullable=True),
    # The local (Asia/Shanghai) business day the money was confirmed: what settles it.
    Column("business_date", Date, nullable=True),
    Column("settled_at", DateTime(timezone=True), nullable=True),
    Column("bank_reference", String(64), nullable=True),
    Column("failure_reason", String(200), nullable=True),
    CheckConstraint("amount_fen > 0", name="amount_positive"),
    # Request id first: a group of payments looks its retries up by ``request_id IN``.
    UniqueConstraint(
        "request_id", "payer_kind", "payer_identifier", name="uq_payment_order_request"
    ),
    # Daily settlement and reconciliation read one biller's confirmed orders of a day.
    Index("ix_payment_order_business_date", "business_date", "biller_code"),
    # The expiry job's question: which bank orders are still pending.
    Index("ix_payment_order_status_expires_at", "status", "expires_at"),
)

payment_receipt = Table(
    "payment_receipt",
    metadata,
    Column("order_id", Integer, ForeignKey("payment_order.id"), primary_key=True),
    Column("bill_id", Integer, ForeignKey("payment_bill.id"), nullable=False, unique=True),
    Column("number", String(32), nullable=False, unique=True),
    # The exact bytes that were signed (canonical JSON), and the detached CMS signature.
    Column("document", Text, nullable=False),
    Column("signature", LargeBinary, nullable=True),
    Column("issued_at", DateTime(timezone=True), nullable=False),
)

payment_settlement = Table(
    "payment_settlement",
    metadata,
    Column("biller_code", String(32), ForeignKey("payment_biller.code"), primary_key=True),
    Column("business_date", Date, primary_key=True),
    Column("orders", Integer, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("transfer_id", BigInteger, nullable=False),
    Column("settled_at", DateTime(timezone=True), nullable=False),
)

payment_signer = Table(
    "payment_signer",
    metadata,
    # One row: the platform's receipt signing certificate (see ``signing.py``).
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("serial", String(40), nullable=False),
    Column("certificate_pem", Text, nullable=False),
    # PKCS#8, encrypted under the CA passphrase.
    Column("key_pem", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
