"""OpenAPI fuzzing (schemathesis): no operation of the platform answers with a 5xx.

Every operation in /openapi.json gets generated paths, queries, headers and bodies,
valid and invalid; whatever arrives, the answer must be a 2xx-4xx, never a server error.
The app runs on its own SQLite file: this fuzzes the HTTP layer, and what is special to
PostgreSQL (NUL bytes, regex dialects, 64-bit overflow) has property tests on both backends.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from smartcity.api.app import create_app
from smartcity.apps import installed_apps
from smartcity.kernel.config import Settings
from smartcity.kernel.platform import Platform
from smartcity.kernel.storage import open_store
from tests.conftest import BACKEND

VOCABULARY = "https://uri.etsi.org/ngsi-ld/default-context/"

pytestmark = pytest.mark.skipif(
    BACKEND == "postgres", reason="fuzzes the HTTP layer on its own SQLite file (SQLite pass)"
)


def _app() -> object:
    directory = Path(tempfile.mkdtemp(prefix="smartcity-fuzz-"))
    store = open_store(f"sqlite:///{directory / 'fuzz.db'}")
    platform = Platform.open(Settings(data_dir=directory), apps=installed_apps(), store=store)
    platform.context.create_entity(
        "",
        {
            "id": "urn:ngsi-ld:Probe:1",
            "type": [VOCABULARY + "Probe"],
            VOCABULARY + "level": [{"type": "Property", "value": 1}],
        },
    )
    return create_app(platform)


schema = schemathesis.openapi.from_asgi("/openapi.json", _app())


@schema.parametrize()
# Derandomized: CI must not fail on a new draw. To hunt for new failures locally, run
#   SMARTCITY_FUZZ_RANDOM=1 uv run pytest tests/api/test_openapi_fuzz.py
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=not os.environ.get("SMARTCITY_FUZZ_RANDOM"),
)
def test_no_operation_answers_with_a_server_error(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=[not_a_server_error])
