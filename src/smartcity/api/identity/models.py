"""Bodies and answers of the identity routes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from smartcity.kernel.identity.accounts import Account
from smartcity.kernel.identity.agents import Agent


class CitizenRegistration(BaseModel):
    model_config = ConfigDict(extra="forbid")
    national_id: str = Field(max_length=32, description="居民身份证号 (GB 11643)")
    name: str = Field(max_length=64, description="name as in the population registry")
    password: str = Field(max_length=256)


class EnterpriseRegistration(BaseModel):
    model_config = ConfigDict(extra="forbid")
    uscc: str = Field(max_length=32, description="统一社会信用代码 (GB 32100)")
    password: str = Field(max_length=256)


class StaffAccountRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    employee_number: str = Field(max_length=32)
    password: str = Field(max_length=256, description="initial password")


class RolesChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    roles: list[str] = Field(
        max_length=5, description="dispatcher, officer, inspector, supervisor, administrator"
    )


class RolesView(BaseModel):
    employee_number: str
    roles: list[str]


class ClientRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=200)
    scopes: list[str] = Field(max_length=20)
    department_code: str | None = Field(default=None, max_length=16)


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    current_password: str = Field(max_length=256)
    new_password: str = Field(max_length=256)


class TotpConfirmation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(max_length=16)


class AgentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    national_id: str = Field(max_length=32)


class AccountView(BaseModel):
    id: int
    kind: str
    username: str
    display_name: str
    department_code: str | None
    roles: list[str]
    scopes: list[str]
    totp_enabled: bool
    created_at: datetime

    @classmethod
    def of(cls, account: Account) -> AccountView:
        return cls(
            id=account.id,
            kind=account.kind.value,
            username=account.username,
            display_name=account.display_name,
            department_code=account.department_code,
            roles=list(account.roles),
            scopes=list(account.scopes),
            totp_enabled=account.totp_enabled,
            created_at=account.created_at,
        )


class SessionView(BaseModel):
    """Who the current access token names."""

    account: AccountView
    kind: str
    subject: str
    roles: list[str]
    scopes: list[str]
    method: str
    permissions: list[str]


class ClientCreated(BaseModel):
    account: AccountView
    client_id: str
    client_secret: str = Field(description="shown once; store it now")


class TotpEnrolmentView(BaseModel):
    secret: str = Field(description="base32, for typing into an authenticator app")
    uri: str = Field(description="otpauth:// URI, for a QR code")


class AgentView(BaseModel):
    id: int
    national_id: str
    name: str
    granted_at: datetime
    withdrawn_at: datetime | None

    @classmethod
    def of(cls, agent: Agent) -> AgentView:
        return cls(
            id=agent.id,
            national_id=agent.national_id,
            name=agent.name,
            granted_at=agent.granted_at,
            withdrawn_at=agent.withdrawn_at,
        )


class PermissionView(BaseModel):
    permission: str
    description: str
    kinds: list[str]
    roles: list[str]
    machines: bool
    agents: bool
