"""HTTP surface of identity and access: accounts, the OAuth 2.0 token endpoint, agents."""

from smartcity.api.identity.routes import router

__all__ = ["router"]
