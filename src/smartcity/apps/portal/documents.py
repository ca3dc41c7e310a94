"""Where the content of citizens' documents lives: files under the data directory.

Content is addressed by its SHA-256, so the same file uploaded twice (or by two people)
is stored once, and a name never points at changed bytes. A file is written atomically
(a temporary file in the same directory, flushed and fsynced, then renamed over the
final name, then the directory fsynced): a crash leaves either no file or the whole one,
never a torn one. The metadata row is written after the content; a content file without
a row is harmless garbage, a row without content never happens.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

# Digests are lowercase hex of this length; anything else is not a content name.
DIGEST_LENGTH = 64


def digest_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


class ContentStore:
    """Files named by their SHA-256 under ``root`` (two-character fan-out directories)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, digest: str) -> Path:
        if len(digest) != DIGEST_LENGTH or not all(c in "0123456789abcdef" for c in digest):
            raise ValueError(f"not a SHA-256 digest: {digest!r}")
        return self.root / digest[:2] / digest

    def has(self, digest: str) -> bool:
        return self.path_of(digest).is_file()

    def put(self, content: bytes) -> str:
        """Store ``content`` (once) and answer its digest."""
        digest = digest_of(content)
        final = self.path_of(digest)
        if final.is_file():
            return digest
        final.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=final.parent, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(content)
                file.flush()
                os.fsync(file.fileno())
            Path(temporary).replace(final)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _fsync_directory(final.parent)
        return digest

    def remove(self, digest: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path_of(digest).unlink()


def _fsync_directory(directory: Path) -> None:
    # The rename is durable only once the directory entry is; not possible on Windows.
    if os.name != "posix":
        return
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
