"""Which kinds of files the document store accepts, told from their first bytes.

The type a client declares is not trusted: a file is what its content says it is, and
only PDF, JPEG, PNG, OFD (China's fixed-layout document format, GB/T 33190: a ZIP with
``OFD.xml`` at its root) and UTF-8 text are kept.
"""

from __future__ import annotations

import io
import zipfile

from smartcity.kernel.errors import InvalidInput

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
OFD = "application/ofd"
TEXT = "text/plain; charset=utf-8"
ACCEPTED = (PDF, JPEG, PNG, OFD, TEXT)


def _is_ofd(content: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return any(name.lower() == "ofd.xml" for name in archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return False


def _is_text(content: bytes) -> bool:
    if b"\x00" in content:
        return False
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    # Control characters other than tab and line breaks mean a binary file.
    return all(ch >= " " or ch in "\t\n\r\f" for ch in text)


def sniff_media_type(content: bytes) -> str:
    """The media type of ``content``; InvalidInput (422) for any other kind of file."""
    if not content:
        raise InvalidInput("the file is empty", part="content")
    if content.startswith(b"%PDF-"):
        return PDF
    if content.startswith(b"\xff\xd8\xff"):
        return JPEG
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if content.startswith(b"PK\x03\x04") and _is_ofd(content):
        return OFD
    if _is_text(content):
        return TEXT
    raise InvalidInput(
        "only PDF, JPEG, PNG, OFD and UTF-8 text files are kept", part="content", accepted=ACCEPTED
    )
