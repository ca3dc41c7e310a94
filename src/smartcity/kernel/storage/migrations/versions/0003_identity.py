"""Base registries: departments, staff, citizens, enterprises.

Revision ID: 0003_identity
Revises: 0001_storage
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_identity"
down_revision: str | Sequence[str] | None = "0001_storage"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "identity_department",
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("name_en", sa.String(128), nullable=False),
        sa.Column("short_name", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("district_code", sa.String(6), nullable=True),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_identity_department")),
    )
    op.create_table(
        "identity_staff",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("department_code", sa.String(16), nullable=False),
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("roles", sa.String(64), nullable=False),
        sa.Column("employee_number", sa.String(24), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_code"],
            ["identity_department.code"],
            name=op.f("fk_identity_staff_department_code_identity_department"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_staff")),
        sa.UniqueConstraint("employee_number", name=op.f("uq_identity_staff_employee_number")),
    )
    op.create_index(
        op.f("ix_identity_staff_department_code"), "identity_staff", ["department_code"]
    )
    op.create_table(
        "identity_citizen",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("national_id", sa.String(18), nullable=False),
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("gender", sa.String(1), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("phone", sa.String(11), nullable=True),
        sa.Column("community_code", sa.String(12), nullable=False),
        sa.Column("grid_code", sa.String(15), nullable=False),
        sa.Column("district_code", sa.String(6), nullable=False),
        sa.Column("occupation", sa.String(16), nullable=True),
        sa.Column("household_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("gender IN ('M', 'F')", name=op.f("ck_identity_citizen_gender")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_citizen")),
        sa.UniqueConstraint("national_id", name=op.f("uq_identity_citizen_national_id")),
    )
    op.create_index(
        op.f("ix_identity_citizen_community_code"), "identity_citizen", ["community_code"]
    )
    op.create_index(
        op.f("ix_identity_citizen_district_code"), "identity_citizen", ["district_code"]
    )
    op.create_index(op.f("ix_identity_citizen_household_id"), "identity_citizen", ["household_id"])
    op.create_table(
        "identity_enterprise",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uscc", sa.String(18), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("legal_representative", sa.String(18), nullable=False),
        sa.Column("district_code", sa.String(6), nullable=False),
        sa.Column("industry", sa.String(32), nullable=False),
        sa.Column("registered_at", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_enterprise")),
        sa.UniqueConstraint("uscc", name=op.f("uq_identity_enterprise_uscc")),
    )
    op.create_index(
        op.f("ix_identity_enterprise_district_code"), "identity_enterprise", ["district_code"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_identity_enterprise_district_code"), table_name="identity_enterprise")
    op.drop_table("identity_enterprise")
    op.drop_index(op.f("ix_identity_citizen_household_id"), table_name="identity_citizen")
    op.drop_index(op.f("ix_identity_citizen_district_code"), table_name="identity_citizen")
    op.drop_index(op.f("ix_identity_citizen_community_code"), table_name="identity_citizen")
    op.drop_table("identity_citizen")
    op.drop_index(op.f("ix_identity_staff_department_code"), table_name="identity_staff")
    op.drop_table("identity_staff")
    op.drop_table("identity_department")
