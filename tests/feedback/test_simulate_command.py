"""`hookline simulate` as a user runs it: a report, a JSON file, and bad settings refused."""

from __future__ import annotations

import json
import subprocess
import sys


def hookline(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hookline", *args], capture_output=True, text=True, timeout=120
    )


def test_simulate_reports_regret_against_the_oracle_and_writes_json(tmp_path):
    out = tmp_path / "sim.json"
    done = hookline(
        "simulate", "--rounds", "3", "--episodes", "8", "--hooks", "6", "--out", str(out)
    )
    assert done.returncode == 0, done.stderr
    assert "regret" in done.stdout.lower() and "uniform" in done.stdout.lower()
    summary = json.loads(out.read_text())
    again = tmp_path / "again.json"
    hookline("simulate", "--rounds", "3", "--episodes", "8", "--hooks", "6", "--out", str(again))
    assert json.loads(again.read_text()) == summary  # the same seed, the same run


def test_bad_settings_are_refused_with_what_to_change(tmp_path):
    done = hookline("simulate", "--seeds", "0")
    assert done.returncode != 0 and "--seeds must be 1 or more" in done.stderr
    done = hookline("simulate", "--rounds", "0")
    assert done.returncode != 0 and "round" in done.stderr.lower()
