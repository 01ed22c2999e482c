"""Fixtures for analytics: a studio whose cuts are published to the sandbox, whose clock moves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hookline.db import Database
from hookline.jobs import registry as job_kinds
from publisher.platforms.base import Media
from publisher.sandbox.server import Sandbox

from analyticskit import JOBS, Clock, Studio
from platformkit import make_video, media_of
from testkit import free_port, make_settings


@pytest.fixture(scope="session")
def clip(tmp_path_factory) -> Media:
    """A 12 s 9:16 clip, small in bytes."""
    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    return media_of(make_video(path, seconds=12, size="540x960", bitrate="300k"))


@pytest.fixture
def studio(tmp_path: Path, db: Database) -> Iterator[Studio]:
    job_kinds.load(JOBS)
    port = free_port()
    settings = make_settings(tmp_path, str(db.engine.url), sandbox_port=port)
    clock = Clock()
    sandbox = Sandbox(tmp_path / "sandbox", clock=clock).start(port=port)
    try:
        yield Studio(db, settings, sandbox, clock, tmp_path)
    finally:
        sandbox.stop()


@pytest.fixture
def lite_studio(tmp_path: Path, sqlite_db: Database) -> Iterator[Studio]:
    """The same studio on SQLite only, for fault tests where the database is not the point."""
    job_kinds.load(JOBS)
    port = free_port()
    settings = make_settings(tmp_path, str(sqlite_db.engine.url), sandbox_port=port)
    clock = Clock()
    sandbox = Sandbox(tmp_path / "sandbox", clock=clock).start(port=port)
    try:
        yield Studio(sqlite_db, settings, sandbox, clock, tmp_path)
    finally:
        sandbox.stop()
