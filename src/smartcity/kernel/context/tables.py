"""Tables of the city information library (NGSI-LD context).

Names of types and attributes are stored **expanded** (full IRIs), so tenants with
different @contexts share one vocabulary. Every row carries its tenant ('' is the
default tenant); a tenant's rows are invisible to every other tenant.

- ``context_entity``: one row per entity: id, first type, system timestamps, and its
  location (the ``location`` GeoProperty) with a bounding box and an H3 cell for fast
  spatial prefiltering on both backends.
- ``context_entity_type``: every type of every entity (an entity may have several).
- ``context_attribute``: one row per attribute instance (name + datasetId; '' is the
  default instance). ``value_json`` holds the whole normalized attribute (expanded,
  with sub-attributes) and is what retrieval returns; ``value_number``/``value_text``/
  ``value_bool`` are typed copies of the value used by indexed ``q`` filters, and
  ``value_class`` (generated) says which copy holds it.
- ``context_series``: one integer id per attribute instance under the type it was
  written as (tenant, entity, attribute, datasetId, entity type): the short key the
  history is indexed by (decision 0014).
- ``context_instance``: the temporal history: every value an attribute ever had, each
  row naming its series by id only (decision 0016).
"""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Computed,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    text,
)

from smartcity.kernel.storage.schema import metadata
from smartcity.kernel.storage.types import GeometryType, UtcDateTime

TENANT = 64
ENTITY_ID = 256
NAME = 512


def _value_columns() -> list[Column[object]]:
    """One stored attribute value: the current one, or one instance of its history."""
    return [
        # Property, Relationship, GeoProperty, LanguageProperty, JsonProperty,
        # VocabProperty, ListProperty, ListRelationship
        Column("kind", String(32), nullable=False),
        Column("value_number", Float, nullable=True),
        Column("value_text", Text, nullable=True),
        Column("value_bool", Boolean, nullable=True),
        Column("value_json", Text, nullable=False),
        Column("observed_at", UtcDateTime, nullable=True),
        Column("unit_code", String(16), nullable=True),
    ]


# The predicates of ``context_entity``'s partial indexes (PostgreSQL). ``type`` is never
# NULL: the predicate only keeps the index from answering a lookup by tenant alone.
TYPED = "type IS NOT NULL"
WIDTH_KNOWN = "(location_east - location_west) IS NOT NULL"

context_entity = Table(
    "context_entity",
    metadata,
    Column("tenant", String(TENANT), primary_key=True),
    Column("id", String(ENTITY_ID), primary_key=True),
    Column("type", String(NAME), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("modified_at", UtcDateTime, nullable=False),
    Column("location", GeometryType, nullable=True),
    Column("location_west", Float, nullable=True),
    Column("location_south", Float, nullable=True),
    Column("location_east", Float, nullable=True),
    Column("location_north", Float, nullable=True),
    # H3 cell (resolution 7, ~5 km²) of the location's representative point.
    Column("location_cell", BigInteger, nullable=True),
    # On PostgreSQL every index but the primary key leading with the tenant holds only
    # rows whose other column is set (its readers name that column), so no plan can
    # answer ``tenant = $1`` from it: the foreign-key checks of new attribute and type
    # rows, planned on a table never analyzed (a fresh database), estimate one row for
    # the tenant and took the smallest such index, reading every entity of the tenant
    # per check (decision 0014, addendum of session 10).
    Index("ix_context_entity_tenant_type", "tenant", "type", postgresql_where=text(TYPED)),
    Index(
        "ix_context_entity_tenant_location_cell",
        "tenant",
        "location_cell",
        postgresql_where=text("location_cell IS NOT NULL"),
    ),
    # The whole box: a bounding-box search is answered from the index, and only the
    # candidates' rows are read.
    Index(
        "ix_context_entity_tenant_location_west",
        "tenant",
        "location_west",
        "location_east",
        "location_south",
        "location_north",
        postgresql_where=text("location_west IS NOT NULL"),
    ),
    # Every write touches its entity's ``modified_at`` (indexed nowhere): a HOT update
    # when the page has room for the new row version, so new pages keep some.
    postgresql_with={"fillfactor": 85},
)
# The widest box of a tenant (one index probe) bounds location_west from below in a box
# search: a box reaching east of x starts east of x minus the widest width.
Index(
    "ix_context_entity_tenant_location_width",
    context_entity.c.tenant,
    context_entity.c.location_east - context_entity.c.location_west,
    # ``max()`` of the width reads it where it IS NOT NULL: this very predicate.
    postgresql_where=text(WIDTH_KNOWN),
)

context_entity_type = Table(
    "context_entity_type",
    metadata,
    Column("tenant", String(TENANT), primary_key=True),
    Column("entity_id", String(ENTITY_ID), primary_key=True),
    Column("type", String(NAME), primary_key=True),
    ForeignKeyConstraint(
        ["tenant", "entity_id"],
        ["context_entity.tenant", "context_entity.id"],
        ondelete="CASCADE",
        name="fk_context_entity_type_entity",
    ),
    Index("ix_context_entity_type_tenant_type", "tenant", "type"),
)

# Which typed copy of ``context_attribute`` holds an instance's value (``value_class``):
# computed by the database, so no writer sets it. Declared stored (PostgreSQL 15 has
# no other kind); the SQLite migration adds it virtual (computed when read), as SQLite
# cannot add a stored one to a table, and nothing on SQLite indexes it.
VALUE_CLASS_NONE, VALUE_CLASS_TEXT, VALUE_CLASS_NUMBER = 0, 1, 2
VALUE_CLASS = (
    f"CASE WHEN value_number IS NOT NULL THEN {VALUE_CLASS_NUMBER}"
    f" WHEN value_text IS NOT NULL THEN {VALUE_CLASS_TEXT} ELSE {VALUE_CLASS_NONE} END"
)

context_attribute = Table(
    "context_attribute",
    metadata,
    Column("tenant", String(TENANT), primary_key=True),
    Column("entity_id", String(ENTITY_ID), primary_key=True),
    Column("name", String(NAME), primary_key=True),
    Column("dataset_id", String(ENTITY_ID), primary_key=True),
    Column("entity_type", String(NAME), nullable=False),
    *_value_columns(),
    Column("created_at", UtcDateTime, nullable=False),
    Column("modified_at", UtcDateTime, nullable=False),
    Column("value_class", SmallInteger, Computed(VALUE_CLASS, persisted=True)),
    # SQLite: the id of the row's series (context_series), kept by a batch that found it
    # (decision 0014, addendum of session 10), so that the next batch's read needs no
    # probe of the series key; NULL until then, and set NULL again by every upsert of
    # the row (whose entity type, part of the series key, it may change). Unused on
    # PostgreSQL, whose batch joins the series in its history statement.
    Column("series_id", BigInteger().with_variant(Integer, "sqlite"), nullable=True),
    ForeignKeyConstraint(
        ["tenant", "entity_id"],
        ["context_entity.tenant", "context_entity.id"],
        ondelete="CASCADE",
        name="fk_context_attribute_entity",
    ),
    # A live update changes ``value_number``; PostgreSQL can update the row in place
    # (a HOT update: no new index entries) only when no indexed column changes, a
    # column named in an index's condition included. So on PostgreSQL no index names
    # ``value_number`` (decision 0015, second addendum): the rows of an attribute are
    # found by ``value_class``, which a number replacing a number leaves as it was, and
    # the page keeps room for the new row versions: half of it, as a batch rewrites
    # every row of its entities' pages at once (migration 0025).
    postgresql_with={"fillfactor": 50},
)
# SQLite: entity_id last, a q lookup is answered from the index alone (no row visits).
# Every row is in the number index (a NULL number too): its (tenant, type, name)
# prefix also serves discovery and the per-name checks of the query compiler. SQLite
# updates only the indexes of the columns an UPDATE sets, so a live update costs it
# one entry here, not one in every index.
Index(
    "ix_context_attribute_number",
    context_attribute.c.tenant,
    context_attribute.c.entity_type,
    context_attribute.c.name,
    context_attribute.c.value_number,
    context_attribute.c.entity_id,
).ddl_if(dialect="sqlite")
# PostgreSQL: the same prefix, then the class: discovery, the compiler's per-name checks
# (one seek each); a number comparison reads the rows of its attribute's numbers and
# tests each row's number: more row visits than an index range (decision 0015,
# addendum 2, has the price).
Index(
    "ix_context_attribute_class",
    context_attribute.c.tenant,
    context_attribute.c.entity_type,
    context_attribute.c.name,
    context_attribute.c.value_class,
    context_attribute.c.entity_id,
).ddl_if(dialect="postgresql")
# Text comparisons. PostgreSQL leaves numbers out (decision 0015, addendum): a number
# update keeps ``value_text`` NULL, so the condition does not stop a HOT update.
# SQLite keeps it whole: its ``q`` on patterns (a ``REGEXP`` function) would not prove
# the condition.
Index(
    "ix_context_attribute_text",
    context_attribute.c.tenant,
    context_attribute.c.entity_type,
    context_attribute.c.name,
    context_attribute.c.value_text,
    context_attribute.c.entity_id,
    postgresql_where=text("value_text IS NOT NULL"),
)
# SQLite: the instances neither typed copy holds (whole values: lists, JSON, vocabulary
# terms; booleans): the compiler asks whether an attribute has any (one seek).
# PostgreSQL asks ``ix_context_attribute_class`` (this condition names value_number).
Index(
    "ix_context_attribute_untyped",
    context_attribute.c.tenant,
    context_attribute.c.entity_type,
    context_attribute.c.name,
    sqlite_where=text("value_number IS NULL AND value_text IS NULL"),
).ddl_if(dialect="sqlite")
# Attribute names (``/attributes``) on SQLite, which walks an index's distinct prefixes
# (0.2 ms for 100,000 entities, 177 ms without it) and touches it on no update. Not on
# PostgreSQL: it cost every live update an entry there, and PostgreSQL reads every
# entry of the tenant for the same answer anyway (110–144 ms with or without it).
Index("ix_context_attribute_name", context_attribute.c.tenant, context_attribute.c.name).ddl_if(
    dialect="sqlite"
)

context_series = Table(
    "context_series",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("tenant", String(TENANT), nullable=False),
    Column("entity_id", String(ENTITY_ID), nullable=False),
    Column("name", String(NAME), nullable=False),
    Column("dataset_id", String(ENTITY_ID), nullable=False),
    Column("entity_type", String(NAME), nullable=False),
    # A series is found by its key (the write path, per-entity reads) and is never
    # deleted: history rows may name it at any time.
    Index(
        "ux_context_series_key",
        "tenant",
        "entity_id",
        "name",
        "dataset_id",
        "entity_type",
        unique=True,
    ),
    # The entities of a type, in id order: a type-scoped temporal query finds its page of
    # entities by skipping from one entity id to the next (a probe per entity).
    Index("ix_context_series_type", "tenant", "entity_type", "entity_id"),
)

context_instance = Table(
    "context_instance",
    metadata,
    Column(
        "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    # The row's series (context_series.id): tenant, entity, attribute, datasetId and
    # type live on the series only (decision 0016), and the history's only index but its
    # primary key is keyed by it (decision 0014). The row's instanceId is derived from
    # ``seq`` (``instance_id_of``), not stored.
    Column("series_id", BigInteger().with_variant(Integer, "sqlite"), nullable=False),
    *_value_columns(),
    # When the platform recorded this value (the temporal API's modifiedAt/createdAt).
    Column("recorded_at", UtcDateTime, nullable=False),
    # True for the record that an attribute (or its entity) was deleted.
    Column("deleted", Boolean, nullable=False),
    # Per series, in time: the range scans of the temporal queries. The trailing
    # columns make an aggregation over observedAt an index-only scan; a recordedAt
    # (modifiedAt) window reads the rows of the same ranges. Every history row costs one
    # entry here, and on a batch of live updates those entries land all over the index
    # (one leaf page per series): an 8-byte key instead of ~140 bytes.
    Index(
        "ix_context_instance_series",
        "series_id",
        "observed_at",
        "deleted",
        "kind",
        "value_number",
    ),
)
