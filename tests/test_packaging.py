"""What ships: the wheel carries templates, static files and migrations; Docker matches make run."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from hookline.cli import cli

from testkit import REPO

pytestmark = pytest.mark.slow


def test_the_wheel_carries_everything_an_installed_hookline_needs(tmp_path: Path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(REPO),
        ],
        check=True,
        capture_output=True,
    )
    [wheel] = tmp_path.glob("hookline-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in (
        "templates/base.html",
        "templates/library/ingest.html",
        "hookline/static/app.js",
        "hookline/migrations/env.py",
        "hookline/migrations/script.py.mako",
        "hookline/migrations/versions/0001_initial_schema.py",
        "localization/espeak.py",
    ):
        assert path in names, f"{path} is missing from the wheel"
    assert not any(name.startswith("tests/") for name in names)


def test_the_image_copies_every_package_and_compose_runs_real_commands():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    dockerfile = (REPO / "docker" / "Dockerfile").read_text()
    for pattern in project["tool"]["setuptools"]["packages"]["find"]["include"]:
        package = pattern.rstrip("*")
        assert f"COPY {package} ./{package}" in dockerfile, f"the image does not copy {package}/"
    assert "USER hookline" in dockerfile
    compose = (REPO / "docker" / "compose.yml").read_text()
    for command in re.findall(r'command: \["([a-z-]+)"', compose):
        assert command in cli.commands, f"compose runs `hookline {command}`, which does not exist"
    assert "postgresql+psycopg://" in compose and "media:/data" in compose
