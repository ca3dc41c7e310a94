"""The table of @context documents the broker hosts itself (``/jsonldContexts``).

``context_jsonld`` holds one row per context a client stored with
``POST /ngsi-ld/v1/jsonldContexts`` (kind ``Hosted``). Contexts are broker-wide, not per
tenant, as in ETSI GS CIM 009. ``document`` is the JSON document as posted (a JSON
object with an ``@context`` member); it never changes after creation.
"""

from sqlalchemy import Column, String, Table, Text

from smartcity.kernel.storage.schema import metadata
from smartcity.kernel.storage.types import UtcDateTime

CONTEXT_ID = 256

context_jsonld = Table(
    "context_jsonld",
    metadata,
    Column("id", String(CONTEXT_ID), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("document", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)
