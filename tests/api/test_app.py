"""The assembled application: probes, problem documents, OpenAPI and the factory."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from smartcity.api.app import build
from smartcity.kernel.platform import Platform

PROBLEM = "application/problem+json"


def assert_problem(response: object, status: int, code: str, instance: str) -> dict[str, object]:
    from httpx2 import Response

    assert isinstance(response, Response)
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"] == f"urn:smartcity:problem:{code}"
    assert body["status"] == status
    assert body["code"] == code
    assert body["instance"] == instance
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    return dict(body)


def test_healthz_answers_without_the_database(client: TestClient, platform: Platform) -> None:
    platform.store.close()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ok_when_the_store_answers(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


def test_readyz_is_a_503_problem_when_the_store_does_not_answer(
    client: TestClient, platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse() -> None:
        raise ConnectionError("connection to db.internal:5432 refused for user admin")

    monkeypatch.setattr(platform.store, "ping", refuse)
    body = assert_problem(client.get("/readyz"), 503, "store-unavailable", "/readyz")
    assert "db.internal" not in str(body)


def test_domain_error_becomes_a_problem_with_reason_and_details(client: TestClient) -> None:
    body = assert_problem(client.get("/probe/conflict"), 409, "conflict", "/probe/conflict")
    assert body["title"] == "Conflict"
    assert body["detail"] == "the permit is already issued"
    assert body["permit"] == "P-7"
    assert body["issued_by"] == "天河区"


def test_unknown_path_is_a_404_problem(client: TestClient) -> None:
    body = assert_problem(client.get("/no/such/page"), 404, "not-found", "/no/such/page")
    assert "/no/such/page" in str(body["detail"])


def test_wrong_method_is_a_405_problem_naming_the_allowed_ones(client: TestClient) -> None:
    response = client.delete("/healthz")
    body = assert_problem(response, 405, "method-not-allowed", "/healthz")
    assert "DELETE" in str(body["detail"]) and "GET" in str(body["detail"])
    assert "GET" in response.headers["allow"]


def test_bad_query_parameter_is_a_422_problem_naming_it(client: TestClient) -> None:
    body = assert_problem(
        client.get("/probe/count?limit=zero"), 422, "invalid-input", "/probe/count"
    )
    assert "query parameter 'limit'" in str(body["detail"])
    errors = body["errors"]
    assert isinstance(errors, list) and errors[0]["location"] == "query parameter 'limit'"


def test_missing_query_parameter_is_a_422_problem(client: TestClient) -> None:
    body = assert_problem(client.get("/probe/count"), 422, "invalid-input", "/probe/count")
    assert "limit" in str(body["detail"])


def test_malformed_json_body_is_a_422_problem(client: TestClient) -> None:
    response = client.post(
        "/probe/echo", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert_problem(response, 422, "invalid-input", "/probe/echo")


def test_unexpected_exception_is_a_500_problem_without_internals(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    body = assert_problem(client.get("/probe/crash"), 500, "internal-error", "/probe/crash")
    assert "hunter2" not in str(body)
    assert "RuntimeError" not in str(body)
    assert any("hunter2" in (record.exc_text or "") or record.exc_info for record in caplog.records)


def test_a_lost_database_connection_is_a_503_to_send_again(client: TestClient) -> None:
    response = client.get("/probe/lost-connection")
    body = assert_problem(response, 503, "database-unavailable", "/probe/lost-connection")
    assert response.headers["retry-after"] == "1"
    assert "server closed" not in str(body)


def test_body_within_the_limit_is_accepted(client: TestClient) -> None:
    response = client.post("/probe/echo", json={"name": "x" * 500})
    assert response.status_code == 200


def test_declared_oversized_body_is_a_413_problem(client: TestClient) -> None:
    response = client.post("/probe/echo", json={"name": "x" * 5000})
    body = assert_problem(response, 413, "payload-too-large", "/probe/echo")
    assert "1024" in str(body["detail"])


def test_chunked_oversized_body_is_a_413_problem(client: TestClient) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(10):
            yield b"y" * 300

    for path in ("/probe/raw", "/probe/echo"):
        response = client.post(path, content=chunks(), headers={"content-type": "application/json"})
        assert "content-length" not in response.request.headers
        assert_problem(response, 413, "payload-too-large", path)


def test_chunked_body_within_the_limit_is_accepted(client: TestClient) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(3):
            yield b"z" * 300

    response = client.post("/probe/raw", content=chunks())
    assert response.status_code == 200
    assert response.json() == {"size": 900}


def test_openapi_document_loads(client: TestClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert "/healthz" in document["paths"]
    assert "/readyz" in document["paths"]
    assert "/probe/count" in document["paths"]


def test_docs_page_loads_swagger_from_our_own_static_files(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert "/static/vendor/swagger-ui-bundle.js" in response.text
    assert "cdn." not in response.text


def test_lifespan_starts_and_stops_the_platform(platform: Platform) -> None:
    from smartcity.api import create_app

    calls: list[str] = []

    class RecordingBus:
        async def start(self) -> None:
            calls.append("start")

        async def stop(self) -> None:
            calls.append("stop")

        async def drain(self) -> None:
            calls.append("drain")

        def subscribe(
            self, pattern: str, handler: object, *, name: str | None = None, accepts: object = None
        ) -> object:
            calls.append(f"subscribe {pattern}")
            return SimpleNamespace(name=name or pattern, cancel=lambda: None)

    platform.bus = RecordingBus()  # type: ignore[assignment]
    with TestClient(create_app(platform)) as test_client:
        assert test_client.get("/healthz").status_code == 200
        assert calls[0] == "start"
        assert "stop" not in calls
    assert calls[-1] == "stop"


def test_build_reads_settings_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMARTCITY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SMARTCITY_MAX_BODY_BYTES", "2048")
    application = build()
    with TestClient(application) as test_client:
        assert test_client.get("/readyz").status_code == 200
        oversized = test_client.post("/api/geo/areas", content=b"x" * 4096)
        assert oversized.status_code == 413
        paths = test_client.get("/openapi.json").json()["paths"]
        assert "/api/geo/areas" in paths
        assert "/api/stats/population-by-district" in paths
    assert (tmp_path / "smartcity.db").exists()
