"""`hookline localize` and `hookline models` as a user runs them, in a fresh process."""

from __future__ import annotations

import pytest

from episodes import make_episode
from testkit import hookline_env, run_hookline

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("data")
    env = hookline_env(data_dir, translators="apertium")
    files = make_episode(tmp_path_factory.mktemp("episode"))
    assert run_hookline("db", "upgrade", env=env).returncode == 0
    ingested = run_hookline(
        "ingest", str(files.master), "--series", "Command Drama", "--episode", "1", env=env
    )
    assert ingested.returncode == 0, ingested.stderr
    return env


def test_localize_runs_every_language_with_a_progress_bar(library):
    done = run_hookline(
        "localize", "Command Drama/1", "--to", "es", "--burn", env=library, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "Queued en, es" in done.stdout
    assert "Localizing" in done.stdout
    assert "es: ready for review" in done.stdout
    assert "transcript: done" in done.stdout


def test_localize_refuses_a_language_nothing_translates(library):
    refused = run_hookline("localize", "Command Drama/1", "--to", "xh", env=library)
    assert refused.returncode == 2
    assert "No translator for en→xh" in refused.stderr and "apertium" in refused.stderr


def test_localize_says_which_episode_it_cannot_find(library):
    missing = run_hookline("localize", "Command Drama/9", "--to", "es", env=library)
    assert missing.returncode == 2
    assert "Command Drama has no episode 9" in missing.stderr


def test_models_list_shows_what_is_installed(library):
    listed = run_hookline("models", "list", env=library)
    assert listed.returncode == 0
    assert "Whisper models: tiny.en" in listed.stdout
    assert "apertium" in listed.stdout and "en→es" in listed.stdout
