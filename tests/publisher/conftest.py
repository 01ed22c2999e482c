"""Fixtures for the platform clients and their emulators: a sandbox, real videos."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from publisher.platforms.base import Media
from publisher.sandbox.server import Sandbox

from platformkit import make_video, media_of


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox(tmp_path / "sandbox") as running:
        yield running


@pytest.fixture(scope="session")
def short_video(tmp_path_factory) -> Media:
    """A 4 s 9:16 clip of about 2 MB."""
    return media_of(make_video(tmp_path_factory.mktemp("short") / "short.mp4", seconds=4))


@pytest.fixture(scope="session")
def big_video(tmp_path_factory) -> Media:
    """A 20 s 9:16 clip of about 12 MB: big enough for several chunks on every platform."""
    return media_of(
        make_video(tmp_path_factory.mktemp("big") / "big.mp4", seconds=20, bitrate="5M")
    )


@pytest.fixture(scope="session")
def landscape_video(tmp_path_factory) -> Media:
    """A 16:9 clip: not what vertical-video platforms accept."""
    path = tmp_path_factory.mktemp("wide") / "wide.mp4"
    return media_of(make_video(path, seconds=4, size="1280x720"))


@pytest.fixture(scope="session")
def long_video(tmp_path_factory) -> Media:
    """A 100 s clip: too long for Facebook Reels (90 s), small in bytes."""
    path = tmp_path_factory.mktemp("long") / "long.mp4"
    return media_of(make_video(path, seconds=100, size="360x640", bitrate="200k"))
