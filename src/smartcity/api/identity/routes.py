"""Routes of identity and access under ``/auth``.

Each route declares its permission beside itself (``requires``) or says why it is public.
Work that hashes passwords runs in plain ``def`` routes, so FastAPI puts it on its
threadpool and argon2 never blocks the event loop.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from smartcity.api.dependencies import platform_of
from smartcity.api.identity import oauth_routes
from smartcity.api.identity.models import (
    AccountView,
    AgentRequest,
    AgentView,
    CitizenRegistration,
    ClientCreated,
    ClientRequest,
    EnterpriseRegistration,
    PasswordChange,
    PermissionView,
    RolesChange,
    RolesView,
    SessionView,
    StaffAccountRequest,
    TotpConfirmation,
    TotpEnrolmentView,
)
from smartcity.api.identity.services import identity_services
from smartcity.api.permissions import public, requires
from smartcity.kernel.identity.accounts import (
    add_staff_account,
    change_password,
    change_staff_roles,
    get_account,
    register_citizen_account,
    register_enterprise_account,
)
from smartcity.kernel.identity.agents import grant_agent, list_agents, withdraw_agent
from smartcity.kernel.identity.clients import add_client
from smartcity.kernel.identity.permissions import CATALOGUE, Permission, holds
from smartcity.kernel.identity.principal import Principal
from smartcity.kernel.identity.second_factor import confirm_totp, enrol_totp

router = APIRouter(prefix="/auth", tags=["identity"])
router.include_router(oauth_routes.router)

SELF = requires(Permission.ACCOUNT_SELF)
REGISTER_ENTERPRISE = requires(Permission.ENTERPRISE_REGISTER)
MANAGE_AGENTS = requires(Permission.ENTERPRISE_AGENTS)
MANAGE_STAFF = requires(Permission.STAFF_ACCOUNTS)
MANAGE_CLIENTS = requires(Permission.CLIENTS_MANAGE)

Self = Annotated[Principal, Depends(SELF)]


@router.post(
    "/register/citizen",
    status_code=201,
    summary="Open a citizen account after the real-name check",
    openapi_extra=public("anyone may register; the real-name check guards it"),
)
def register_citizen(body: CitizenRegistration, request: Request) -> AccountView:
    platform = platform_of(request)
    account = register_citizen_account(
        platform.store,
        platform.clock,
        identity_services(request).hasher,
        national_id=body.national_id,
        name=body.name,
        password=body.password,
    )
    return AccountView.of(account)


@router.post(
    "/register/enterprise",
    status_code=201,
    summary="Open an enterprise account (by its legal representative)",
    openapi_extra=REGISTER_ENTERPRISE.openapi,
)
def register_enterprise(
    body: EnterpriseRegistration,
    request: Request,
    principal: Annotated[Principal, Depends(REGISTER_ENTERPRISE)],
) -> AccountView:
    platform = platform_of(request)
    account = register_enterprise_account(
        platform.store,
        platform.clock,
        identity_services(request).hasher,
        representative=principal,
        uscc=body.uscc,
        password=body.password,
    )
    return AccountView.of(account)


@router.get("/me", summary="Who am I: the session and its account", openapi_extra=SELF.openapi)
def me(request: Request, principal: Self) -> SessionView:
    platform = platform_of(request)
    with platform.store.connect() as conn:
        account = get_account(conn, principal.account_id)
    return SessionView(
        account=AccountView.of(account),
        kind=principal.kind.value,
        subject=principal.subject,
        roles=sorted(principal.roles),
        scopes=sorted(principal.scopes),
        method=principal.method,
        permissions=[p.value for p in Permission if holds(principal, p)],
    )


@router.post(
    "/password",
    status_code=204,
    summary="Change the password (signs out other sessions)",
    openapi_extra=SELF.openapi,
)
def password(body: PasswordChange, request: Request, principal: Self) -> Response:
    platform = platform_of(request)
    change_password(
        platform.store,
        platform.clock,
        identity_services(request).hasher,
        principal=principal,
        current_password=body.current_password,
        new_password=body.new_password,
    )
    return Response(status_code=204)


@router.post(
    "/totp/enrol",
    summary="Start TOTP enrolment: a new secret for an authenticator app",
    openapi_extra=SELF.openapi,
)
def totp_enrol(request: Request, principal: Self) -> TotpEnrolmentView:
    platform = platform_of(request)
    enrolment = enrol_totp(
        platform.store, platform.clock, identity_services(request).cipher, principal=principal
    )
    return TotpEnrolmentView(secret=enrolment.secret, uri=enrolment.uri)


@router.post(
    "/totp/confirm",
    status_code=204,
    summary="Confirm TOTP with a code; required at every sign-in from then on",
    openapi_extra=SELF.openapi,
)
def totp_confirm(body: TotpConfirmation, request: Request, principal: Self) -> Response:
    platform = platform_of(request)
    confirm_totp(
        platform.store,
        platform.clock,
        identity_services(request).cipher,
        principal=principal,
        code=body.code,
    )
    return Response(status_code=204)


@router.post(
    "/enterprise/agents",
    status_code=201,
    summary="Authorise a citizen to act for the enterprise",
    openapi_extra=MANAGE_AGENTS.openapi,
)
def add_agent(
    body: AgentRequest,
    request: Request,
    principal: Annotated[Principal, Depends(MANAGE_AGENTS)],
) -> AgentView:
    platform = platform_of(request)
    agent = grant_agent(
        platform.store, platform.clock, enterprise=principal, national_id=body.national_id
    )
    return AgentView.of(agent)


@router.get(
    "/enterprise/agents",
    summary="The enterprise's agents in force",
    openapi_extra=MANAGE_AGENTS.openapi,
)
def agents(
    request: Request, principal: Annotated[Principal, Depends(MANAGE_AGENTS)]
) -> list[AgentView]:
    platform = platform_of(request)
    return [AgentView.of(agent) for agent in list_agents(platform.store, enterprise=principal)]


@router.delete(
    "/enterprise/agents/{agent_id}",
    summary="Withdraw an agent (revokes their sessions for the enterprise)",
    openapi_extra=MANAGE_AGENTS.openapi,
)
def remove_agent(
    agent_id: int,
    request: Request,
    principal: Annotated[Principal, Depends(MANAGE_AGENTS)],
) -> AgentView:
    platform = platform_of(request)
    agent = withdraw_agent(platform.store, platform.clock, enterprise=principal, agent_id=agent_id)
    return AgentView.of(agent)


@router.post(
    "/staff",
    status_code=201,
    summary="Open an account for a staff member of the administrator's department",
    openapi_extra=MANAGE_STAFF.openapi,
)
def add_staff(
    body: StaffAccountRequest,
    request: Request,
    principal: Annotated[Principal, Depends(MANAGE_STAFF)],
) -> AccountView:
    platform = platform_of(request)
    account = add_staff_account(
        platform.store,
        platform.clock,
        identity_services(request).hasher,
        administrator=principal,
        employee_number=body.employee_number,
        password=body.password,
    )
    return AccountView.of(account)


@router.put(
    "/staff/{employee_number}/roles",
    summary="Set a staff member's roles (applies at their next token refresh)",
    openapi_extra=MANAGE_STAFF.openapi,
)
def set_roles(
    employee_number: str,
    body: RolesChange,
    request: Request,
    principal: Annotated[Principal, Depends(MANAGE_STAFF)],
) -> RolesView:
    platform = platform_of(request)
    roles = change_staff_roles(
        platform.store,
        platform.clock,
        administrator=principal,
        employee_number=employee_number,
        roles=body.roles,
    )
    return RolesView(employee_number=employee_number, roles=list(roles))


@router.post(
    "/clients",
    status_code=201,
    summary="Create a machine client; its secret is shown once",
    openapi_extra=MANAGE_CLIENTS.openapi,
)
def create_client(
    body: ClientRequest,
    request: Request,
    principal: Annotated[Principal, Depends(MANAGE_CLIENTS)],
) -> ClientCreated:
    platform = platform_of(request)
    created = add_client(
        platform.store,
        platform.clock,
        administrator=principal,
        name=body.name,
        scopes=body.scopes,
        department_code=body.department_code,
    )
    return ClientCreated(
        account=AccountView.of(created.account),
        client_id=created.client_id,
        client_secret=created.client_secret,
    )


@router.get(
    "/permissions",
    summary="The catalogue of permissions and who holds them",
    openapi_extra=public("the catalogue is documentation"),
)
async def permissions() -> list[PermissionView]:
    return [
        PermissionView(
            permission=permission.value,
            description=grant.description,
            kinds=sorted(kind.value for kind in grant.kinds),
            roles=sorted(role.value for role in grant.roles),
            machines=grant.machines,
            agents=grant.agents,
        )
        for permission, grant in CATALOGUE.items()
    ]
