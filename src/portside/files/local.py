"""The FileStore port on a local directory (the default: `<data dir>/files`).

Keys are Portside's own (services/attachments.py makes them), yet each is checked
against a strict pattern so no key can name a path outside the directory. A file is
written under a temporary name and renamed into place: a reader sees all of it or
nothing, and a crash leaves no half-written file behind under its key.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
from pathlib import Path

_KEY = re.compile(r"[a-z0-9][a-z0-9_-]*(/[a-z0-9][a-z0-9_.-]*)*")


def check_key(key: str) -> str:
    if len(key) > 300 or not _KEY.fullmatch(key) or ".." in key:
        raise ValueError(f"not a file key: {key!r}")
    return key


class LocalFileStore:
    origin: str | None = None  # its URLs are Portside's own

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        del content_type  # served from the attachment's row, not from the file
        await asyncio.to_thread(self._write, self._path(key), data)

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self._path(key).read_bytes)

    async def delete(self, key: str) -> None:
        path = self._path(key)
        await asyncio.to_thread(path.unlink, missing_ok=True)

    async def url(self, key: str, expires_s: int, filename: str | None) -> str | None:
        del key, expires_s, filename
        return None  # served by Portside at its signed /files/ path

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            with tmp.open("wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            tmp.replace(path)
        finally:
            tmp.unlink(missing_ok=True)
