"""Helpers the tests share (importable as ``testkit``: tests/support is on the path)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import func, select

from hookline.db import Database
from hookline.ingest import ingest_episode
from hookline.jobs import enqueue
from hookline.models import AuditEvent, Episode, EpisodeAsset, Job, MediaAsset, Series
from hookline.settings import Settings
from hookline.storage import MediaStore

SUPPORT = Path(__file__).resolve().parent
REPO = SUPPORT.parent.parent
PASSWORD = "correct horse battery"  # every test user's


def make_settings(tmp_path: Path, database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = dict(
        data_dir=tmp_path,
        database_url=database_url,
        secret_key="test-secret",
        job_lease_seconds=2.0,
        job_poll_seconds=0.05,
        job_backoff_seconds=0.05,
        job_backoff_max_seconds=0.2,
    )
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def worker_env(database_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    """Environment for a `hookline worker` subprocess that knows the test job kinds."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKLINE_")}
    env.update(
        HOOKLINE_DATABASE_URL=database_url,
        HOOKLINE_DATA_DIR=str(tmp_path),
        HOOKLINE_SECRET_KEY="test-secret",
        HOOKLINE_PLUGINS="jobkinds",
        HOOKLINE_JOB_LEASE_SECONDS="2",
        HOOKLINE_JOB_POLL_SECONDS="0.05",
        HOOKLINE_JOB_BACKOFF_SECONDS="0.05",
        HOOKLINE_JOB_BACKOFF_MAX_SECONDS="0.2",
        HOOKLINE_LOG_LEVEL="WARNING",
        PYTHONPATH=os.pathsep.join([str(SUPPORT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
    )
    env.update(extra)
    return env


# -- the command line, as a user runs it -------------------------------------------------


def hookline_env(data_dir: Path, database_url: str = "", **settings: str) -> dict[str, str]:
    """Return this environment without any HOOKLINE_* variable but the ones given.

    ``settings`` are named as in Settings (``max_upload_mb="1"``); no database URL means
    SQLite in the data dir, as for a user who sets nothing.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKLINE_")}
    env.update(HOOKLINE_DATA_DIR=str(data_dir), HOOKLINE_LOG_LEVEL="WARNING")
    if database_url:
        env["HOOKLINE_DATABASE_URL"] = database_url
    env.update({f"HOOKLINE_{name.upper()}": value for name, value in settings.items()})
    return env


def run_hookline(
    *args: str | Path, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m hookline ARGS`` in a process of its own; return what it printed."""
    return subprocess.run(
        [sys.executable, "-m", "hookline", *map(str, args)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- the library, as a rejected ingest must leave it -------------------------------------

COUNTED = (Series, Episode, MediaAsset, EpisodeAsset, AuditEvent, Job)
SERIES = "The Contract Bride"


@dataclass(frozen=True)
class Existing:
    """The episode already in the library, and a job working on it."""

    episode_id: int
    job_id: int
    sha256: str


def seed_episode(db: Database, store: MediaStore, master: Path) -> Existing:
    """Ingest ``master`` as episode 1 of The Contract Bride and queue a job about it."""
    with db.transaction() as session:
        result = ingest_episode(
            session, store, master, filename="ep01.mp4", series_title=SERIES, episode_number=1
        )
        episode_id = result.episode.id
        job = enqueue(session, "noop", {"episode_id": episode_id}, key=f"localize:{episode_id}")
        assert episode_id is not None and job.id is not None
        return Existing(episode_id, job.id, result.asset.sha256)


def row_counts(db: Database) -> dict[str, int]:
    with db.session() as session:
        return {
            model.__tablename__: session.exec(select(func.count()).select_from(model)).one()
            for model in COUNTED
        }


def snapshot(db: Database, store: MediaStore, existing: Existing) -> dict[str, Any]:
    """Return the row counts, the existing episode and job as they are, and the stored objects."""
    with db.session() as session:
        episode = session.get_one(Episode, existing.episode_id).model_dump()
        job = session.get_one(Job, existing.job_id).model_dump()
    return {
        "counts": row_counts(db),
        "episode": episode,
        "job": job,
        "objects": stored_objects(store),
    }


def stored_objects(store: MediaStore) -> list[str]:
    return sorted(p.name for p in store.objects_dir.glob("*/*/*") if p.is_file())


def temp_files(store: MediaStore) -> list[Path]:
    return sorted(store.tmp_dir.iterdir()) if store.tmp_dir.exists() else []


# -- worker processes ----------------------------------------------------------------------


class Workers:
    """Start and stop `hookline worker` processes; never leave one running."""

    def __init__(self, url: str, tmp_path: Path, **extra: str) -> None:
        self.env = worker_env(url, tmp_path, **extra)
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(
        self, count: int = 1, *, concurrency: int = 2, scheduler: bool = False
    ) -> list[subprocess.Popen[bytes]]:
        command = [sys.executable, "-m", "hookline", "worker", "--concurrency", str(concurrency)]
        if not scheduler:
            command.append("--no-scheduler")
        started = [subprocess.Popen(command, cwd=REPO, env=self.env) for _ in range(count)]
        self.procs += started
        return started

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_for(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
