"""Settings: read once from HOOKLINE_* variables, immutable, documented, nothing at import."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import pytest

from hookline.errors import SettingsError
from hookline.settings import Settings, documented_settings, ensure_secret_key

from testkit import REPO


def test_values_are_parsed_by_type():
    settings = Settings.from_env(
        {
            "HOOKLINE_DATA_DIR": "/srv/hookline",
            "HOOKLINE_PORT": "8080",
            "HOOKLINE_JOB_LEASE_SECONDS": "12.5",
            "HOOKLINE_SCHEDULER": "off",
            "HOOKLINE_PLUGINS": "studio.jobs, studio.more",
            "PATH": "/usr/bin",
        }
    )
    assert settings.port == 8080
    assert settings.job_lease_seconds == 12.5
    assert settings.scheduler is False
    assert settings.plugins == ("studio.jobs", "studio.more")
    assert settings.database_url == "sqlite:////srv/hookline/hookline.db"
    assert settings.media_root == Path("/srv/hookline/media")


def test_settings_are_immutable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings().port = 1  # type: ignore[misc]


def test_a_misspelt_variable_is_an_error_with_a_suggestion():
    with pytest.raises(
        SettingsError,
        match=r"HOOKLINE_DATABSE_URL is not a Hookline setting\. Did you mean HOOKLINE_DATABASE_",
    ):
        Settings.from_env({"HOOKLINE_DATABSE_URL": "sqlite://"})


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("HOOKLINE_PORT", "eighty"),
        ("HOOKLINE_SCHEDULER", "maybe"),
        ("HOOKLINE_JOB_LEASE_SECONDS", "1s"),
    ],
)
def test_a_malformed_value_names_the_variable(variable, value):
    with pytest.raises(SettingsError, match=variable):
        Settings.from_env({variable: value})


def test_impossible_values_are_refused():
    with pytest.raises(SettingsError, match="MAX_UPLOAD_MB"):
        Settings(max_upload_mb=0)


def test_the_secret_key_is_generated_once_and_kept(tmp_path):
    first = ensure_secret_key(Settings(data_dir=tmp_path))
    second = ensure_secret_key(Settings(data_dir=tmp_path))
    assert first.secret_key == second.secret_key and len(first.secret_key) > 40
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert ensure_secret_key(Settings(data_dir=tmp_path, secret_key="given")).secret_key == "given"


def test_every_setting_is_documented_in_the_readme():
    readme = (REPO / "README.md").read_text()
    for variable, _default, help_text in documented_settings():
        assert f"`{variable}`" in readme, f"{variable} is not documented in README.md"
        assert help_text, variable
    documented = set(re.findall(r"`(HOOKLINE_[A-Z_]+)`", readme))
    known = {v for v, _, _ in documented_settings()} | {
        "HOOKLINE_TEST_POSTGRES_URL",
        "HOOKLINE_NEW_PASSWORD",
    }
    assert documented <= known, f"README documents settings that do not exist: {documented - known}"


def test_every_command_is_documented_in_the_readme():
    from hookline.cli import cli

    readme = (REPO / "README.md").read_text()
    for name in cli.commands:  # Hookline's own; Flask's run, shell and routes come later
        assert f"hookline {name}" in readme, f"`hookline {name}` is not documented in README.md"


def test_importing_hookline_does_no_work(tmp_path):
    """No settings read, no files, no connections, no threads at import time."""
    code = (
        "import threading, hookline, hookline.app, hookline.cli, hookline.models, hookline.jobs, "
        "hookline.jobs.worker, hookline.jobs.scheduler, hookline.storage, hookline.ingest, "
        "localization.web, publisher.web, analytics.web\n"
        "assert threading.active_count() == 1, threading.enumerate()\n"
    )
    env = {
        "HOOKLINE_NOT_A_SETTING": "1",  # would raise if settings were read
        "HOOKLINE_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
        "HOOKLINE_DATA_DIR": str(tmp_path / "data"),
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "data").exists()


def test_paths_are_made_absolute_where_they_are_read(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = Settings(data_dir=Path("var"))
    assert settings.data_dir == tmp_path / "var"
    assert settings.media_root == tmp_path / "var" / "media"
    assert settings.database_url == f"sqlite:///{tmp_path / 'var' / 'hookline.db'}"
