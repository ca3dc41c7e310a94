"""Applications. Each is a package with the same anatomy (see docs/architecture.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from smartcity.kernel.app import App


def installed_apps() -> list[App]:
    """Every application the platform serves, imported only when asked for.

    Importing inside the function keeps ``import smartcity.apps`` free of every app's
    dependencies, so the kernel, the CLI and tests load only what they use.
    """
    from smartcity.apps import card, operations, payment, portal, targeting

    return [card.APP, operations.APP, payment.APP, portal.APP, targeting.APP]
