"""The content-addressed media store: placement, limits, atomicity and temp cleanup."""

from __future__ import annotations

import hashlib
import io
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from datetime import timedelta
from pathlib import Path

import pytest

import hookline
from hookline.clock import utcnow
from hookline.errors import InvalidInput, TooLarge
from hookline.storage import CHUNK_BYTES, MediaStore

MIB = 1024 * 1024


class EndlessZeros:
    """A stream that never ends, counting the bytes handed out."""

    def __init__(self) -> None:
        self.given = 0

    def read(self, size: int) -> bytes:
        self.given += size
        return bytes(size)


class BreaksAfter:
    """A stream that delivers ``good`` bytes and then fails like a dropped connection."""

    def __init__(self, good: int) -> None:
        self.left = good

    def read(self, size: int) -> bytes:
        if self.left <= 0:
            raise ConnectionResetError("client went away")
        n = min(size, self.left)
        self.left -= n
        return b"x" * n


@pytest.fixture
def store(tmp_path: Path) -> MediaStore:
    return MediaStore(tmp_path / "media")


def objects(store: MediaStore) -> list[Path]:
    return sorted(p for p in store.root.glob("objects/**/*") if p.is_file())


def temp_files(store: MediaStore) -> list[Path]:
    return sorted(store.tmp_dir.iterdir()) if store.tmp_dir.exists() else []


def test_commit_places_object_at_its_sharded_digest_path(store: MediaStore) -> None:
    data = b"episode bytes" * 1000
    digest = hashlib.sha256(data).hexdigest()

    with store.stage(io.BytesIO(data), limit_bytes=None) as staged:
        assert (staged.sha256, staged.size) == (digest, len(data))
        placed = store.commit(staged)

    assert placed == store.root / "objects" / digest[:2] / digest[2:4] / digest
    assert placed.read_bytes() == data
    assert store.exists(digest) and store.path_for(digest) == placed
    assert not placed.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert objects(store) == [placed]
    assert temp_files(store) == []


def test_committing_the_same_bytes_twice_keeps_one_object(store: MediaStore) -> None:
    first = store.put_bytes(b"same")
    second = store.stage(io.BytesIO(b"same"), limit_bytes=None)

    assert store.commit(second) == store.path_for(first)
    assert second.sha256 == first
    assert len(objects(store)) == 1
    assert temp_files(store) == []


def test_put_file_returns_digest_of_the_file(store: MediaStore, tmp_path: Path) -> None:
    script = tmp_path / "script.txt"
    script.write_text("INT. BOARDROOM - NIGHT\n", encoding="utf-8")

    digest = store.put_file(script)

    assert digest == hashlib.sha256(script.read_bytes()).hexdigest()
    assert store.path_for(digest).read_bytes() == script.read_bytes()


def test_stage_reports_progress_after_each_chunk(store: MediaStore) -> None:
    seen: list[int] = []
    data = bytes(2 * CHUNK_BYTES + 100)

    with store.stage(io.BytesIO(data), limit_bytes=None, progress=seen.append):
        pass

    assert seen == [CHUNK_BYTES, 2 * CHUNK_BYTES, 2 * CHUNK_BYTES + 100]


def test_stage_stops_reading_once_the_limit_is_passed(store: MediaStore) -> None:
    endless = EndlessZeros()

    with pytest.raises(TooLarge) as raised:
        store.stage(endless, limit_bytes=3 * MIB)

    assert raised.value.code == "too_large"
    assert "3 MiB" in str(raised.value) and "HOOKLINE_MAX_UPLOAD_MB" in str(raised.value)
    assert endless.given <= 4 * MIB + CHUNK_BYTES
    assert temp_files(store) == [] and objects(store) == []


def test_stage_accepts_exactly_the_limit(store: MediaStore) -> None:
    with store.stage(io.BytesIO(bytes(1000)), limit_bytes=1000) as staged:
        assert staged.size == 1000


def test_stage_path_rejects_an_oversized_file_before_reading_it(
    store: MediaStore, tmp_path: Path
) -> None:
    big = tmp_path / "big.mp4"
    with big.open("wb") as fh:
        fh.truncate(5 * MIB)  # sparse: the size is what counts

    with pytest.raises(TooLarge, match=r"4 MiB"):
        store.stage_path(big, limit_bytes=4 * MIB)

    assert temp_files(store) == []


def test_stage_path_names_a_missing_file(store: MediaStore, tmp_path: Path) -> None:
    missing = tmp_path / "nope.mp4"

    with pytest.raises(InvalidInput, match=r"nope\.mp4 is not a readable file"):
        store.stage_path(missing, limit_bytes=None)


def test_staged_file_is_deleted_unless_committed(store: MediaStore) -> None:
    with store.stage(io.BytesIO(b"draft"), limit_bytes=None) as staged:
        assert staged.path.parent == store.tmp_dir and staged.path.exists()

    assert not staged.path.exists()
    assert objects(store) == []


def test_a_stream_failing_midway_leaves_nothing(store: MediaStore) -> None:
    with pytest.raises(ConnectionResetError):
        store.stage(BreaksAfter(int(2.5 * MIB)), limit_bytes=None)

    assert temp_files(store) == [] and objects(store) == []


def test_path_for_rejects_anything_but_a_digest(store: MediaStore) -> None:
    with pytest.raises(InvalidInput, match="not a SHA-256 digest"):
        store.path_for("../../etc/passwd")


def test_gc_temp_removes_only_stale_temp_files(store: MediaStore) -> None:
    store.tmp_dir.mkdir(parents=True)
    stale, fresh = store.tmp_dir / "stage-old", store.tmp_dir / "stage-new"
    stale.write_bytes(b"x")
    fresh.write_bytes(b"y")
    hour_ago = time.time() - 3600
    os.utime(stale, (hour_ago, hour_ago))

    removed = store.gc_temp(older_than=timedelta(minutes=30), now=utcnow())

    assert removed == 1
    assert temp_files(store) == [fresh]


def test_gc_temp_without_temp_dir_removes_nothing(store: MediaStore) -> None:
    assert store.gc_temp(older_than=timedelta(0), now=utcnow()) == 0


# The child stages its stdin: it writes one chunk to the temp file, then blocks
# waiting for the rest, which never comes because it is killed first.
WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from hookline.storage import MediaStore
    MediaStore(Path(sys.argv[1])).stage(sys.stdin.buffer, limit_bytes=None)
    """
)


@pytest.mark.slow
def test_killed_writer_leaves_only_a_temp_file_that_gc_removes(store: MediaStore) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(hookline.__file__).parents[1])}
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(store.root)], stdin=subprocess.PIPE, env=env
    )
    try:
        assert child.stdin is not None
        child.stdin.write(bytes(CHUNK_BYTES + CHUNK_BYTES // 2))
        child.stdin.flush()
        _wait_for_temp_bytes(store, CHUNK_BYTES)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        if child.stdin:
            child.stdin.close()

    assert child.returncode == -signal.SIGKILL
    assert objects(store) == []
    assert len(temp_files(store)) == 1
    assert store.gc_temp(older_than=timedelta(hours=1), now=utcnow()) == 0
    assert store.gc_temp(older_than=timedelta(hours=1), now=utcnow() + timedelta(hours=2)) == 1
    assert temp_files(store) == []


def _wait_for_temp_bytes(store: MediaStore, size: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.stat().st_size >= size for p in temp_files(store)):
            return
        time.sleep(0.02)
    raise AssertionError(f"the writer did not write {size} bytes within {timeout} s")
