"""The citizen page's typed runtime state and settings."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from smartcity.apps.portal.documents import ContentStore
from smartcity.apps.portal.sections import SectionRegistry
from smartcity.kernel.errors import ConfigurationError

PREFIX = "SMARTCITY_PORTAL_"
MIB = 1024 * 1024


def _positive(source: Mapping[str, str], name: str, default: int) -> int:
    text = source.get(PREFIX + name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ConfigurationError(f"{PREFIX}{name} must be a whole number, not {text!r}") from None
    if value <= 0:
        raise ConfigurationError(f"{PREFIX}{name} must be positive")
    return value


@dataclass(frozen=True)
class PortalSettings:
    """``SMARTCITY_PORTAL_*``: document quota and size limit, comment pace."""

    quota_bytes: int = 100 * MIB
    max_file_bytes: int = 10 * MIB
    comment_interval_seconds: int = 60

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> PortalSettings:
        source = os.environ if environ is None else environ
        return cls(
            quota_bytes=_positive(source, "QUOTA_BYTES", cls.quota_bytes),
            max_file_bytes=_positive(source, "MAX_FILE_BYTES", cls.max_file_bytes),
            comment_interval_seconds=_positive(
                source, "COMMENT_INTERVAL_SECONDS", cls.comment_interval_seconds
            ),
        )


@dataclass
class PortalRuntime:
    settings: PortalSettings
    content: ContentStore
    sections: SectionRegistry = field(default_factory=SectionRegistry)
