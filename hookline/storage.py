"""The content-addressed media store: every file is named by the SHA-256 of its bytes.

Objects live at ``root/objects/ab/cd/<sha256>``. A write streams into a temp file
under ``root/tmp/`` (same filesystem, so the final rename is atomic), hashing as it
goes; only complete, fsynced files are renamed into ``objects/``. A process killed
mid-write leaves a file in ``tmp/`` and nothing else; :meth:`MediaStore.gc_temp`
removes those leftovers.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from stat import S_ISREG
from types import TracebackType
from typing import BinaryIO, Protocol

from hookline.errors import InvalidInput, TooLarge

log = logging.getLogger(__name__)

CHUNK_BYTES = 1024 * 1024
MIB = 1024 * 1024
_SHA256 = re.compile(r"[0-9a-f]{64}")

ProgressFn = Callable[[int], None]


class Readable(Protocol):
    """Anything with ``read(size)``: an open file, an upload's stream, a request body."""

    def read(self, size: int, /) -> bytes: ...


class StagedFile:
    """A complete, hashed temp file waiting to be committed into the store.

    As a context manager it deletes the temp file on exit unless it was committed.
    """

    def __init__(self, path: Path, sha256: str, size: int) -> None:
        self.path = path
        self.sha256 = sha256
        self.size = size
        self.done = False

    def discard(self) -> None:
        """Delete the temp file; harmless when it is already committed or gone."""
        if not self.done:
            self.path.unlink(missing_ok=True)
            self.done = True

    def __enter__(self) -> StagedFile:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.discard()

    def __repr__(self) -> str:
        return f"StagedFile({self.sha256[:12]}…, {self.size} bytes, done={self.done})"


class MediaStore:
    """Files addressed by SHA-256 under ``root``, written atomically."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.objects_dir = self.root / "objects"
        self.tmp_dir = self.root / "tmp"

    def path_for(self, sha256: str) -> Path:
        """Return where the object ``sha256`` lives (whether or not it exists)."""
        if not _SHA256.fullmatch(sha256):
            raise InvalidInput(f"{sha256!r} is not a SHA-256 digest (64 lowercase hex digits).")
        return self.objects_dir / sha256[:2] / sha256[2:4] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def stage(
        self, source: Readable, *, limit_bytes: int | None, progress: ProgressFn | None = None
    ) -> StagedFile:
        """Stream ``source`` into a temp file, hashing it; raise TooLarge past ``limit_bytes``.

        ``progress(bytes_so_far)`` is called after each chunk with the running total,
        not the increment. On any error the temp file is deleted; only a killed process
        leaves one behind.
        """
        _mkdirs(self.tmp_dir)
        fd, name = tempfile.mkstemp(dir=self.tmp_dir, prefix="stage-")
        path = Path(name)
        try:
            with os.fdopen(fd, "wb", buffering=0) as out:
                digest, size = _copy_hashing(source, out, limit_bytes, progress)
                os.fsync(out.fileno())
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return StagedFile(path, digest, size)

    def stage_path(
        self, path: Path, *, limit_bytes: int | None, progress: ProgressFn | None = None
    ) -> StagedFile:
        """Stage the file at ``path``, failing on its size before reading a byte."""
        with _open_input(Path(path)) as source:
            if limit_bytes is not None and os.fstat(source.fileno()).st_size > limit_bytes:
                raise _too_large(limit_bytes)
            return self.stage(source, limit_bytes=limit_bytes, progress=progress)

    def commit(self, staged: StagedFile) -> Path:
        """Move a staged file into place and return its object path.

        Idempotent: when the object already exists the temp file is just dropped.
        """
        if staged.done:
            raise ValueError(f"{staged!r} was already committed or discarded")
        target = self.path_for(staged.sha256)
        if target.is_file():
            staged.discard()
            return target
        _mkdirs(target.parent)
        # Objects never change once written; read-only protects them from stray writes.
        staged.path.chmod(0o444)
        os.replace(staged.path, target)
        _fsync_dir(target.parent)
        staged.done = True
        log.debug("stored %s (%d bytes)", staged.sha256, staged.size)
        return target

    def put_bytes(self, data: bytes) -> str:
        """Store ``data`` and return its SHA-256."""
        return self._put(self.stage(io.BytesIO(data), limit_bytes=None))

    def put_file(self, path: Path) -> str:
        """Store a copy of the file at ``path`` and return its SHA-256."""
        return self._put(self.stage_path(path, limit_bytes=None))

    def gc_temp(self, *, older_than: timedelta, now: datetime) -> int:
        """Delete temp files last written before ``now - older_than``; return how many.

        A write in progress touches its file with every chunk, so ``older_than`` only
        has to outlast the longest stall of a live upload.
        """
        if not self.tmp_dir.is_dir():
            return 0
        cutoff = now - older_than
        removed = 0
        for entry in self.tmp_dir.iterdir():
            if _written_before(entry, cutoff):
                entry.unlink(missing_ok=True)
                removed += 1
        if removed:
            log.info("removed %d stale temp file(s) from %s", removed, self.tmp_dir)
        return removed

    def _put(self, staged: StagedFile) -> str:
        with staged:
            self.commit(staged)
        return staged.sha256


def _copy_hashing(
    source: Readable, out: BinaryIO, limit_bytes: int | None, progress: ProgressFn | None
) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    while chunk := source.read(CHUNK_BYTES):
        size += len(chunk)
        if limit_bytes is not None and size > limit_bytes:
            raise _too_large(limit_bytes)
        digest.update(chunk)
        out.write(chunk)
        if progress:
            progress(size)
    return digest.hexdigest(), size


def _too_large(limit_bytes: int) -> TooLarge:
    mib = f"{limit_bytes / MIB:.2f}".rstrip("0").rstrip(".")
    return TooLarge(
        f"The file is larger than the {mib} MiB limit. Export a smaller file, or raise "
        "the limit with HOOKLINE_MAX_UPLOAD_MB.",
        detail={"limit_bytes": limit_bytes},
    )


def _mkdirs(path: Path) -> None:
    """Create ``path`` and missing parents, fsyncing each parent so the entries survive a crash."""
    if path.is_dir():
        return
    _mkdirs(path.parent)
    try:
        path.mkdir()
    except FileExistsError:  # another process created it between our check and mkdir
        return
    _fsync_dir(path.parent)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _open_input(path: Path) -> BinaryIO:
    try:
        return path.open("rb")
    # The CLI passes paths typed by people: name the bad one instead of showing a traceback.
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError):
        raise InvalidInput(f"{path} is not a readable file; check the path.") from None


def _written_before(path: Path, cutoff: datetime) -> bool:
    try:
        info = path.stat()
    except FileNotFoundError:  # committed or collected by another process meanwhile
        return False
    return S_ISREG(info.st_mode) and datetime.fromtimestamp(info.st_mtime, UTC) < cutoff
