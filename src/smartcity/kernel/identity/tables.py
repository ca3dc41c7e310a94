"""Tables of the base registries: departments, staff, citizens, enterprises.

``identity_citizen`` holds the whole population (18.8 million rows at city scale), so its
rows are kept narrow: fixed-width codes, a one-letter gender, no JSON, and only the
indexes the platform's queries need (national ID lookup, counts by district and
community). Codes are stored as text because their leading zeros and prefixes matter.
"""

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Integer,
    String,
    Table,
)

from smartcity.kernel.storage.schema import metadata

identity_department = Table(
    "identity_department",
    metadata,
    Column("code", String(16), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("name_en", String(128), nullable=False),
    Column("short_name", String(16), nullable=False),
    Column("kind", String(24), nullable=False),
    # Set for district governments: the district they govern.
    Column("district_code", String(6), nullable=True),
)

identity_staff = Table(
    "identity_staff",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "department_code",
        String(16),
        ForeignKey("identity_department.code"),
        nullable=False,
        index=True,
    ),
    Column("name", String(32), nullable=False),
    # Comma-separated role names in declaration order, e.g. "officer,supervisor".
    Column("roles", String(64), nullable=False),
    Column("employee_number", String(24), nullable=False, unique=True),
)

identity_citizen = Table(
    "identity_citizen",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("national_id", String(18), nullable=False, unique=True),
    Column("name", String(32), nullable=False),
    Column("gender", String(1), nullable=False),
    Column("birth_date", Date, nullable=False),
    # Young children have no phone of their own.
    Column("phone", String(11), nullable=True),
    Column("community_code", String(12), nullable=False, index=True),
    Column("grid_code", String(15), nullable=False),
    Column("district_code", String(6), nullable=False, index=True),
    Column("occupation", String(16), nullable=True),
    # Indexed for the citizen page's household view; seeding hands out household ids in
    # ascending order, so this index only ever grows at its end.
    Column("household_id", Integer, nullable=True, index=True),
    CheckConstraint("gender IN ('M', 'F')", name="gender"),
)

identity_enterprise = Table(
    "identity_enterprise",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("uscc", String(18), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    # The legal representative's citizen ID. Not a foreign key: a legal representative
    # need not be a resident of this city.
    Column("legal_representative", String(18), nullable=False),
    Column("district_code", String(6), nullable=False, index=True),
    Column("industry", String(32), nullable=False),
    Column("registered_at", Date, nullable=False),
)
