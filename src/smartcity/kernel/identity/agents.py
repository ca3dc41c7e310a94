"""Enterprise agents: citizens an enterprise authorises to act for it, and withdraws.

An agent signs in with their own citizen account and asks for a session acting for the
enterprise (``enterprise=<USCC>`` on the token request); the token then names the
enterprise as subject with the ``agent`` role, so routes see an enterprise principal that
cannot itself manage agents. Withdrawing an agent also revokes the sessions they hold
for the enterprise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from smartcity.kernel import audit
from smartcity.kernel.clock import Clock
from smartcity.kernel.errors import Conflict, NotFound, PermissionDenied
from smartcity.kernel.identity.account_tables import (
    identity_account,
    identity_enterprise_agent,
    identity_refresh_token,
)
from smartcity.kernel.identity.citizen_id import parse_citizen_id
from smartcity.kernel.identity.permissions import actor_of
from smartcity.kernel.identity.principal import AccountKind, Principal
from smartcity.kernel.storage import Store


@dataclass(frozen=True, slots=True)
class Agent:
    """An authorisation of a citizen to act for an enterprise."""

    id: int
    national_id: str
    name: str
    granted_at: datetime
    withdrawn_at: datetime | None


def _enterprise_of(conn: Connection, principal: Principal) -> int:
    enterprise_id = conn.execute(
        select(identity_account.c.enterprise_id).where(
            identity_account.c.id == principal.account_id,
            identity_account.c.kind == AccountKind.ENTERPRISE.value,
        )
    ).scalar()
    if enterprise_id is None:
        raise PermissionDenied("only an enterprise account manages its agents")
    return int(enterprise_id)


def _agents_query() -> Any:
    return select(
        identity_enterprise_agent.c.id,
        identity_enterprise_agent.c.granted_at,
        identity_enterprise_agent.c.withdrawn_at,
        identity_account.c.username.label("national_id"),
        identity_account.c.display_name.label("name"),
    ).select_from(
        identity_enterprise_agent.join(
            identity_account,
            identity_account.c.id == identity_enterprise_agent.c.agent_account_id,
        )
    )


def _agent(row: Any) -> Agent:
    return Agent(
        id=row.id,
        national_id=row.national_id,
        name=row.name,
        granted_at=row.granted_at,
        withdrawn_at=row.withdrawn_at,
    )


def grant_agent(store: Store, clock: Clock, *, enterprise: Principal, national_id: str) -> Agent:
    """Authorise the citizen account of ``national_id`` to act for the enterprise."""
    parsed = parse_citizen_id(national_id, today=clock.now().date())
    with store.begin() as conn:
        enterprise_id = _enterprise_of(conn, enterprise)
        agent_account = conn.execute(
            select(identity_account.c.id).where(
                identity_account.c.username == parsed.text,
                identity_account.c.kind == AccountKind.CITIZEN.value,
            )
        ).scalar()
        if agent_account is None:
            raise NotFound(
                f"citizen {parsed.text} has no account yet; they must register first",
                part="national id",
            )
        active = conn.execute(
            select(identity_enterprise_agent.c.id).where(
                identity_enterprise_agent.c.enterprise_id == enterprise_id,
                identity_enterprise_agent.c.agent_account_id == agent_account,
                identity_enterprise_agent.c.withdrawn_at.is_(None),
            )
        ).first()
        if active is not None:
            raise Conflict(f"citizen {parsed.text} is already an agent", part="national id")
        agent_id = conn.execute(
            identity_enterprise_agent.insert()
            .values(
                enterprise_id=enterprise_id,
                agent_account_id=agent_account,
                granted_at=clock.now(),
                granted_by=enterprise.account_id,
            )
            .returning(identity_enterprise_agent.c.id)
        ).scalar_one()
        audit.append(
            conn,
            clock,
            actor=actor_of(enterprise),
            action="identity.agent_granted",
            subject=f"account:{agent_account}",
            details={"enterprise": enterprise.subject, "agent": agent_id},
        )
        row = conn.execute(_agents_query().where(identity_enterprise_agent.c.id == agent_id)).one()
    return _agent(row)


def list_agents(
    store: Store, *, enterprise: Principal, include_withdrawn: bool = False
) -> list[Agent]:
    """The enterprise's agents, oldest grant first."""
    with store.connect() as conn:
        enterprise_id = _enterprise_of(conn, enterprise)
        query = _agents_query().where(identity_enterprise_agent.c.enterprise_id == enterprise_id)
        if not include_withdrawn:
            query = query.where(identity_enterprise_agent.c.withdrawn_at.is_(None))
        rows = conn.execute(query.order_by(identity_enterprise_agent.c.id)).all()
    return [_agent(row) for row in rows]


def withdraw_agent(store: Store, clock: Clock, *, enterprise: Principal, agent_id: int) -> Agent:
    """Withdraw an authorisation and revoke the agent's sessions for this enterprise."""
    with store.begin() as conn:
        now = clock.now()
        enterprise_id = _enterprise_of(conn, enterprise)
        row = conn.execute(
            select(identity_enterprise_agent).where(
                identity_enterprise_agent.c.id == agent_id,
                identity_enterprise_agent.c.enterprise_id == enterprise_id,
            )
        ).first()
        if row is None:
            raise NotFound(f"this enterprise has no agent {agent_id}", part="agent")
        if row.withdrawn_at is not None:
            raise Conflict(f"agent {agent_id} was already withdrawn", part="agent")
        conn.execute(
            update(identity_enterprise_agent)
            .where(identity_enterprise_agent.c.id == agent_id)
            .values(withdrawn_at=now)
        )
        conn.execute(
            update(identity_refresh_token)
            .where(
                identity_refresh_token.c.account_id == row.agent_account_id,
                identity_refresh_token.c.acting_for == enterprise_id,
                identity_refresh_token.c.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
        audit.append(
            conn,
            clock,
            actor=actor_of(enterprise),
            action="identity.agent_withdrawn",
            subject=f"account:{row.agent_account_id}",
            details={"enterprise": enterprise.subject, "agent": agent_id},
        )
        updated = conn.execute(
            _agents_query().where(identity_enterprise_agent.c.id == agent_id)
        ).one()
    return _agent(updated)
