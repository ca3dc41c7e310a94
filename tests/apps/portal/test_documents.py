"""Personal document storage: upload, list, download, delete, quota and type checks."""

from __future__ import annotations

import io
import zipfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartcity.apps.portal.actions import checked_document_name
from smartcity.apps.portal.documents import ContentStore, digest_of
from smartcity.apps.portal.media import ACCEPTED, sniff_media_type
from smartcity.apps.portal.runtime import PortalRuntime, PortalSettings
from smartcity.kernel.errors import InvalidInput
from tests.apps.portal.conftest import OTHER, PortalWorld

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _ofd() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("OFD.xml", "<ofd:OFD/>")
    return buffer.getvalue()


def _upload(world: PortalWorld, name: str, content: bytes, principal: object = None) -> object:
    kwargs = {} if principal is None else {"principal": principal}
    return world.send(
        "POST",
        "/api/portal/documents",
        params={"name": name},
        content=content,
        headers={"content-type": "application/octet-stream"},
        **kwargs,
    )


def _runtime(world: PortalWorld) -> PortalRuntime:
    return world.platform.state("portal", PortalRuntime)


def test_upload_list_download_delete(world: PortalWorld) -> None:
    answer = _upload(world, "出生医学证明.pdf", PDF)
    assert answer.status_code == 201, answer.text  # type: ignore[attr-defined]
    document = answer.json()  # type: ignore[attr-defined]
    assert document["media_type"] == "application/pdf"
    assert document["size_bytes"] == len(PDF)
    assert document["sha256"] == digest_of(PDF)
    assert document["name"] == "出生医学证明.pdf"

    listing = world.get("/api/portal/documents").json()
    assert listing["count"] == 1
    assert listing["used_bytes"] == len(PDF)
    assert listing["quota_bytes"] == 100 * 1024 * 1024
    assert listing["documents"][0] == document
    assert world.get(f"/api/portal/documents/{document['id']}").json() == document

    download = world.get(f"/api/portal/documents/{document['id']}/content")
    assert download.status_code == 200
    assert download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert "attachment" in download.headers["content-disposition"]

    me = {s["name"]: s for s in world.get("/api/portal/me").json()["sections"]}
    assert me["documents"]["data"]["used_bytes"] == len(PDF)

    stored = _runtime(world).content.path_of(document["sha256"])
    assert stored.read_bytes() == PDF
    assert world.send("DELETE", f"/api/portal/documents/{document['id']}").status_code == 204
    assert world.get(f"/api/portal/documents/{document['id']}").status_code == 404
    assert world.get("/api/portal/documents").json()["count"] == 0
    assert not stored.exists()


def test_same_content_is_stored_once_and_kept_while_named(world: PortalWorld) -> None:
    mine = _upload(world, "a.png", PNG).json()  # type: ignore[attr-defined]
    theirs = _upload(world, "b.png", PNG, OTHER).json()  # type: ignore[attr-defined]
    assert mine["sha256"] == theirs["sha256"]
    assert world.send("DELETE", f"/api/portal/documents/{mine['id']}").status_code == 204
    # The other citizen still has the same bytes.
    download = world.get(f"/api/portal/documents/{theirs['id']}/content", OTHER)
    assert download.content == PNG


def test_another_citizens_document_is_absent(world: PortalWorld) -> None:
    theirs = _upload(world, "b.png", PNG, OTHER).json()  # type: ignore[attr-defined]
    for path in (
        f"/api/portal/documents/{theirs['id']}",
        f"/api/portal/documents/{theirs['id']}/content",
    ):
        assert world.get(path).status_code == 404
    assert world.send("DELETE", f"/api/portal/documents/{theirs['id']}").status_code == 404


def test_accepted_kinds_are_told_from_content(world: PortalWorld) -> None:
    samples = {
        "scan.pdf": (PDF, "application/pdf"),
        "photo.jpg": (b"\xff\xd8\xff\xe0" + b"\x00" * 16, "image/jpeg"),
        "photo.png": (PNG, "image/png"),
        "licence.ofd": (_ofd(), "application/ofd"),
        "note.txt": ("租房合同备注\n".encode(), "text/plain; charset=utf-8"),
    }
    for name, (content, media_type) in samples.items():
        answer = _upload(world, name, content)
        assert answer.status_code == 201, answer.text  # type: ignore[attr-defined]
        assert answer.json()["media_type"] == media_type  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("name", "content", "part"),
    [
        ("x.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "content"),
        ("x.exe", b"\x7fELF\x02\x01\x01\x00", "content"),
        ("x.zip", b"PK\x03\x04" + b"\x00" * 26, "content"),
        ("empty.txt", b"", "content"),
        ("../etc/passwd", PDF, "name"),
        ("a\x00b.pdf", PDF, "name"),
        ("   ", PDF, "name"),
    ],
)
def test_bad_uploads_are_422(world: PortalWorld, name: str, content: bytes, part: str) -> None:
    answer = _upload(world, name, content)
    assert answer.status_code == 422, answer.text  # type: ignore[attr-defined]
    assert answer.json()["part"] == part  # type: ignore[attr-defined]
    assert world.get("/api/portal/documents").json()["count"] == 0


def test_file_size_and_quota_limits_are_413(world: PortalWorld) -> None:
    runtime = _runtime(world)
    runtime.settings = PortalSettings(quota_bytes=100, max_file_bytes=60)
    too_big = b"a" * 61
    answer = _upload(world, "big.txt", too_big)
    assert answer.status_code == 413  # type: ignore[attr-defined]
    assert _upload(world, "one.txt", b"a" * 60).status_code == 201  # type: ignore[attr-defined]
    over = _upload(world, "two.txt", b"b" * 50)
    assert over.status_code == 413  # type: ignore[attr-defined]
    assert "free" in over.json()["detail"]  # type: ignore[attr-defined]
    assert _upload(world, "three.txt", b"c" * 40).status_code == 201  # type: ignore[attr-defined]
    assert world.get("/api/portal/documents").json()["used_bytes"] == 100


def test_documents_are_for_signed_in_citizens(world: PortalWorld) -> None:
    assert world.get("/api/portal/documents", None).status_code == 401
    anonymous = world.client.post("/api/portal/documents", params={"name": "a.pdf"}, content=PDF)
    assert anonymous.status_code == 401


@given(st.binary(max_size=64))
def test_sniffing_accepts_or_refuses_clearly(content: bytes) -> None:
    try:
        media_type = sniff_media_type(content)
    except InvalidInput as error:
        assert error.details["part"] == "content"
    else:
        assert media_type in ACCEPTED


@given(st.text(max_size=300))
def test_a_kept_name_is_never_a_path(name: str) -> None:
    try:
        kept = checked_document_name(name)
    except InvalidInput:
        return
    assert "/" not in kept and "\\" not in kept
    assert kept not in (".", "..")
    assert 0 < len(kept) <= 200


def test_content_is_written_atomically(tmp_path: object) -> None:
    from pathlib import Path

    root = Path(str(tmp_path)) / "documents"
    content = ContentStore(root)
    digest = content.put(b"hello")
    assert content.put(b"hello") == digest
    assert content.path_of(digest).read_bytes() == b"hello"
    # No temporary file is left behind.
    assert [p.name for p in content.path_of(digest).parent.iterdir()] == [digest]
    with pytest.raises(ValueError, match="digest"):
        content.path_of("../../etc/passwd")
