"""Who may do what with citizen cards: the permissions the card routes declare.

Holders (``card.hold``) are citizens acting on their own current card. The card
service centre (``card.manage``: officers and administrators, or the centre's systems)
issues, freezes and reissues any card. Terminals (``card.terminal``: machine clients of
gates, buses and shop tills) authorise taps and download the deny list; a terminal is
known by its client id, so it can neither send nor replay another terminal's taps.
"""

from __future__ import annotations

from smartcity.api.permissions import requires
from smartcity.kernel.errors import PermissionDenied
from smartcity.kernel.identity.permissions import Permission
from smartcity.kernel.identity.principal import AccountKind, Principal

HOLD = requires(Permission.CARD_HOLD)
MANAGE = requires(Permission.CARD_MANAGE)
TERMINAL = requires(Permission.CARD_TERMINAL)


def holder_of(principal: Principal) -> str:
    """The national ID of the signed-in citizen."""
    if principal.kind != AccountKind.CITIZEN:
        raise PermissionDenied("only citizens hold citizen cards", kind=principal.kind.value)
    return principal.subject


def terminal_of(principal: Principal) -> str:
    """The terminal id of a machine client (its subject)."""
    return principal.subject[:64]
