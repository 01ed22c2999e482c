"""Uploads sent as numbered parts, put together when the client says they are all there.

Douyin's parts and Kuaishou's fragments may arrive in any order and be sent again after
a lost answer; each part is kept in its own file (through :class:`Uploads`, so resent
bytes are counted) until the client says the upload is complete.
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from publisher.sandbox.core import Uploads


class Parts:
    """Numbered parts of upload sessions, kept apart until they are assembled."""

    def __init__(self, uploads: Uploads) -> None:
        self.uploads = uploads
        self._lock = threading.Lock()
        self._sizes: dict[str, dict[int, int]] = {}

    def put(self, session_id: str, number: int, data: bytes) -> None:
        """Store one part; a part sent again replaces the earlier copy."""
        part = _part_id(session_id, number)
        with self._lock:
            self.uploads.path(part).unlink(missing_ok=True)
            self.uploads.write(part, 0, data)
            self._sizes.setdefault(session_id, {})[number] = len(data)

    def sizes(self, session_id: str) -> dict[int, int]:
        """Return {part number: bytes} of what arrived for this session."""
        with self._lock:
            return dict(self._sizes.get(session_id, {}))

    def assemble(self, session_id: str, numbers: list[int]) -> Path:
        """Concatenate the parts in ``numbers`` order into the session's file."""
        target = self.uploads.path(session_id)
        with self._lock, target.open("wb") as out:
            for number in numbers:
                part = self.uploads.path(_part_id(session_id, number))
                with part.open("rb") as fh:
                    shutil.copyfileobj(fh, out)
                part.unlink()
            self._sizes.pop(session_id, None)
        return target


def _part_id(session_id: str, number: int) -> str:
    return f"{session_id}.part{number}"


def missing(numbers: set[int], first: int, count: int) -> list[int]:
    """Return the part numbers in ``first .. first+count-1`` that did not arrive."""
    return [n for n in range(first, first + count) if n not in numbers]
