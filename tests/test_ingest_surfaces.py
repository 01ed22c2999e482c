"""Ingest as users run it: the `hookline ingest` command, the /ingest form and the API.

Each entry point gets the same bad inputs and must answer with a clear message and a
4xx status (or a non-zero exit), touching nothing: no new rows, no stored object, no
temp file, and the episode already in the library, and its job, exactly as they were.
"""

from __future__ import annotations

import hashlib
import html
import io
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import select
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from hookline.app import create_app
from hookline.auth import create_token, get_user
from hookline.db import Database
from hookline.models import Episode, MediaAsset, Series
from hookline.settings import Settings
from hookline.storage import MediaStore

from mediafixtures import BAD_INPUTS, MIB, OVERSIZED, BadInput, ingest_media
from testkit import (
    PASSWORD,
    SERIES,
    Existing,
    hookline_env,
    make_settings,
    run_hookline,
    seed_episode,
    snapshot,
    temp_files,
)

BAD = [pytest.param(bad, id=bad.id) for bad in BAD_INPUTS]
NEW_SERIES = "Rebirth of the Heiress"
WARNINGS = (
    "Aspect ratio is 16:9 (256x144), not 9:16",
    "Runs 3:10, longer than 3 minutes",
    "Has no audio stream",
)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ingest_media(tmp_path_factory)


def assert_untouched(db: Database, store: MediaStore, existing: Existing, before: dict) -> None:
    assert snapshot(db, store, existing) == before
    assert temp_files(store) == []


def assert_platform_warnings(texts: list[str]) -> None:
    """Check that ``texts`` are the three platform warnings, in order."""
    assert len(texts) == len(WARNINGS), texts
    for text, opening in zip(texts, WARNINGS, strict=True):
        assert text.startswith(opening), text


def episode_row(db: Database, series: str, number: int) -> tuple[Episode, MediaAsset]:
    with db.session() as session:
        found = session.exec(
            select(Episode, MediaAsset)
            .join(Series, Series.id == Episode.series_id)
            .join(MediaAsset, MediaAsset.id == Episode.master_asset_id)
            .where(Series.title == series, Episode.number == number)
        ).one()
    return found[0], found[1]


# --- the command line ------------------------------------------------------------------


@pytest.fixture(scope="module")
def migrated_by_the_cli(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file made by `hookline db upgrade`, copied for each test."""
    data_dir = tmp_path_factory.mktemp("cli-template")
    done = run_hookline("db", "upgrade", env=hookline_env(data_dir))
    assert done.returncode == 0, done.stderr
    assert "Database at" in done.stdout
    return data_dir / "hookline.db"


class Cli:
    """A data dir with a migrated database, an episode and its job, and `hookline` to run."""

    def __init__(self, data_dir: Path, database_url: str, media: Path) -> None:
        self.data_dir = data_dir
        self.database_url = database_url
        self.db = Database.from_url(database_url)
        self.store = MediaStore(data_dir / "media")
        self.existing = seed_episode(self.db, self.store, media / "good.mp4")
        self.files = data_dir / "uploads"
        self.files.mkdir()
        self.media = media

    def file(self, source: str, name: str | None = None) -> Path:
        """Return a copy of a media file under the name the user gave it on disk."""
        target = self.files / (name or source)
        shutil.copy(self.media / source, target)
        return target

    def ingest(self, path: Path, *options: str, **settings: str):
        env = hookline_env(self.data_dir, self.database_url, **settings)
        return run_hookline("ingest", path, *options, env=env)

    def snapshot(self) -> dict[str, Any]:
        return snapshot(self.db, self.store, self.existing)


@pytest.fixture
def cli(tmp_path: Path, migrated_by_the_cli: Path, media: Path) -> Iterator[Cli]:
    database = tmp_path / "hookline.db"
    shutil.copy(migrated_by_the_cli, database)
    runner = Cli(tmp_path, f"sqlite:///{database}", media)
    yield runner
    runner.db.dispose()


@pytest.mark.parametrize("bad", BAD)
def test_cli_rejects_a_bad_file_with_one_error_line_and_touches_nothing(
    cli: Cli, bad: BadInput
) -> None:
    before = cli.snapshot()

    done = cli.ingest(cli.file(bad.file, bad.filename), "--series", NEW_SERIES, "--episode", "1")

    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and bad.phrase in errors[0], done.stderr
    assert "Traceback" not in done.stderr and "Ingested" not in done.stdout
    assert_untouched(cli.db, cli.store, cli.existing, before)


def test_cli_refuses_a_file_over_the_size_limit(cli: Cli) -> None:
    before = cli.snapshot()

    done = cli.ingest(
        cli.file(OVERSIZED), "--series", NEW_SERIES, "--episode", "1", max_upload_mb="1"
    )

    assert done.returncode == 2
    assert "Error: The file is larger than the 1 MiB limit" in done.stderr
    assert "HOOKLINE_MAX_UPLOAD_MB" in done.stderr
    assert_untouched(cli.db, cli.store, cli.existing, before)
    # The same file is fine once the limit allows it.
    assert cli.ingest(cli.file(OVERSIZED), "--series", NEW_SERIES, "--episode", "1").returncode == 0


def test_cli_names_a_missing_file(cli: Cli) -> None:
    before = cli.snapshot()

    done = cli.ingest(cli.files / "nowhere.mp4", "--series", NEW_SERIES, "--episode", "1")

    assert done.returncode != 0
    assert "nowhere.mp4 does not exist or is not a file" in done.stderr
    assert_untouched(cli.db, cli.store, cli.existing, before)


def test_cli_ingests_with_its_labels_and_prints_platform_warnings(cli: Cli) -> None:
    done = cli.ingest(
        cli.file("wide-silent-long.mp4", "Rebirth 02.mp4"),
        "--series",
        NEW_SERIES,
        "--episode",
        "2",
        "--title",
        "The Heiress Returns",
        "--hook",
        "hidden_identity_reveal",
        "--tropes",
        "revenge, Rebirth",
    )

    assert done.returncode == 0, done.stderr
    assert f"Ingested {NEW_SERIES} episode 2: 256x144 h264, 190.0 s, sha256 " in done.stdout
    warnings = [line for line in done.stdout.splitlines() if line.startswith("Warning: ")]
    assert_platform_warnings([w.removeprefix("Warning: ") for w in warnings])
    episode, master = episode_row(cli.db, NEW_SERIES, 2)
    assert (episode.title, episode.hook_type, episode.tropes) == (
        "The Heiress Returns",
        "hidden_identity_reveal",
        ["revenge", "rebirth"],
    )
    assert (master.original_name, master.duration_s) == (
        "Rebirth 02.mp4",
        pytest.approx(190, abs=1),
    )
    assert temp_files(cli.store) == []


def test_cli_ingesting_the_same_file_again_says_nothing_changed(cli: Cli) -> None:
    before = cli.snapshot()

    done = cli.ingest(cli.file("good.mp4"), "--series", SERIES, "--episode", "1")

    assert done.returncode == 0, done.stderr
    assert f"Already ingested (nothing changed): {SERIES} episode 1: 360x640 h264" in done.stdout
    assert "Warning" not in done.stdout
    assert_untouched(cli.db, cli.store, cli.existing, before)


def test_cli_replaces_a_master_only_with_replace(cli: Cli) -> None:
    before = cli.snapshot()
    other = cli.file("other.mp4", "ep01-regraded.mp4")

    refused = cli.ingest(other, "--series", SERIES, "--episode", "1", "--hook", "slap")

    assert refused.returncode == 2
    assert (
        f"Error: Episode 1 of '{SERIES}' already has a different master (ep01.mp4). "
        "To make ep01-regraded.mp4 its new master, ingest it with replace: --replace"
    ) in refused.stderr
    assert_untouched(cli.db, cli.store, cli.existing, before)

    replaced = cli.ingest(other, "--series", SERIES, "--episode", "1", "--replace")

    assert replaced.returncode == 0, replaced.stderr
    assert f"Replaced the master of {SERIES} episode 1: 360x640 h264" in replaced.stdout
    episode, master = episode_row(cli.db, SERIES, 1)
    assert episode.id == cli.existing.episode_id
    assert master.original_name == "ep01-regraded.mp4" and master.sha256 != cli.existing.sha256
    after = cli.snapshot()
    assert after["counts"]["episodes"] == before["counts"]["episodes"]
    assert after["job"] == before["job"]
    assert len(after["objects"]) == 2 and temp_files(cli.store) == []


def test_cli_on_postgresql_ingests_once_and_rejects_without_a_trace(
    tmp_path: Path, postgres_url: str, media: Path
) -> None:
    upgraded = run_hookline("db", "upgrade", env=hookline_env(tmp_path, postgres_url))
    assert upgraded.returncode == 0, upgraded.stderr
    cli = Cli(tmp_path, postgres_url, media)
    try:
        before = cli.snapshot()
        bad = BAD_INPUTS[0]
        refused = cli.ingest(
            cli.file(bad.file, bad.filename), "--series", NEW_SERIES, "--episode", "1"
        )
        assert refused.returncode == 2 and f"Error: {bad.phrase}" in refused.stderr
        assert_untouched(cli.db, cli.store, cli.existing, before)

        first = cli.ingest(cli.file("landscape.mp4"), "--series", NEW_SERIES, "--episode", "1")
        again = cli.ingest(cli.file("landscape.mp4"), "--series", NEW_SERIES, "--episode", "1")

        assert first.returncode == again.returncode == 0, first.stderr + again.stderr
        assert f"\nIngested {NEW_SERIES} episode 1: 640x360" in first.stdout
        assert "Warning: Aspect ratio is 16:9" in first.stdout
        assert "Already ingested (nothing changed)" in again.stdout
        assert "Warning: Aspect ratio is 16:9" in again.stdout  # still true, so still said
        counts = cli.snapshot()["counts"]
        assert (counts["series"], counts["episodes"], counts["media_assets"]) == (2, 2, 2)
    finally:
        cli.db.dispose()


# --- the web form ----------------------------------------------------------------------


def make_app(tmp_path: Path, db: Database, **settings: Any) -> Flask:
    app = create_app(make_settings(tmp_path, str(db.engine.url), **settings), db=db)
    app.config["TESTING"] = True
    app.config["WTF_CSRF_ENABLED"] = False  # test_form_checks_the_csrf_token covers tokens
    return app


def signed_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


@pytest.fixture
def store(settings: Settings) -> MediaStore:
    return MediaStore(settings.media_root)


@pytest.fixture
def existing(sqlite_db: Database, store: MediaStore, media: Path, users: dict) -> Existing:
    return seed_episode(sqlite_db, store, media / "good.mp4")


@pytest.fixture
def publisher(tmp_path: Path, sqlite_db: Database, existing: Existing) -> FlaskClient:
    return signed_in(make_app(tmp_path, sqlite_db), "publisher")


def upload(client: FlaskClient, path: Path, filename: str, **fields: str):
    values = {"series": NEW_SERIES, "episode": "1", **fields}
    with path.open("rb") as fh:
        return post_form(client, {"file": (fh, filename), **values})


def post_form(client: FlaskClient, data: dict[str, Any]):
    response = client.post("/ingest", data=data)
    # The test client spools a multipart body over 500 KiB to a temp file it never closes.
    response.request.environ["wsgi.input"].close()
    return response


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def form_errors(response) -> list[str]:
    return re.findall(r'<p class="error" role="alert">(.*?)</p>', page_text(response), re.S)


def test_form_ingest_redirects_to_the_episode_and_flashes_its_warnings(
    publisher: FlaskClient, sqlite_db: Database, media: Path
) -> None:
    response = upload(
        publisher,
        media / "wide-silent-long.mp4",
        "Rebirth 02.mp4",
        episode="2",
        hook="hidden_identity_reveal",
        tropes="revenge, rebirth",
    )

    episode, master = episode_row(sqlite_db, NEW_SERIES, 2)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/episodes/{episode.id}"
    page = page_text(publisher.get(response.headers["Location"]))
    assert '<li class="flash success" role="status">Ingested episode 2.</li>' in page
    flashed = re.findall(r'<li class="flash warning" role="status">(.*?)</li>', page)
    assert_platform_warnings(flashed)
    assert f'src="/media/{master.sha256}"' in page
    assert episode.hook_type == "hidden_identity_reveal"


@pytest.mark.parametrize("bad", BAD)
def test_form_shows_why_a_bad_file_was_refused_and_touches_nothing(
    publisher: FlaskClient,
    sqlite_db: Database,
    store: MediaStore,
    existing: Existing,
    media: Path,
    bad: BadInput,
) -> None:
    before = snapshot(sqlite_db, store, existing)

    response = upload(publisher, media / bad.file, bad.filename, title="The Heiress Returns")

    assert response.status_code == bad.status
    assert len(form_errors(response)) == 1 and bad.phrase in form_errors(response)[0]
    page = page_text(response)
    assert 'id="ingest-form"' in page
    assert f'value="{NEW_SERIES}"' in page and 'value="The Heiress Returns"' in page  # kept
    assert_untouched(sqlite_db, store, existing, before)


def test_form_replaces_a_master_only_when_asked(
    publisher: FlaskClient,
    sqlite_db: Database,
    store: MediaStore,
    existing: Existing,
    media: Path,
) -> None:
    before = snapshot(sqlite_db, store, existing)

    refused = upload(publisher, media / "other.mp4", "ep01-regraded.mp4", series=SERIES)

    assert refused.status_code == 409
    [error] = form_errors(refused)
    assert f"Episode 1 of '{SERIES}' already has a different master (ep01.mp4)" in error
    assert_untouched(sqlite_db, store, existing, before)

    replaced = upload(
        publisher, media / "other.mp4", "ep01-regraded.mp4", series=SERIES, replace="y"
    )

    assert replaced.headers["Location"] == f"/episodes/{existing.episode_id}"
    page = page_text(publisher.get(replaced.headers["Location"]))
    assert '<li class="flash success" role="status">Replaced the master of episode 1.</li>' in page
    assert f'src="/media/{sha256(media / "other.mp4")}"' in page


def test_form_without_a_file_asks_for_one(
    publisher: FlaskClient, sqlite_db: Database, store: MediaStore, existing: Existing
) -> None:
    before = snapshot(sqlite_db, store, existing)

    response = publisher.post("/ingest", data={"series": NEW_SERIES, "episode": "1"})

    assert response.status_code == 400
    assert form_errors(response) == ["Choose a video file."]
    assert_untouched(sqlite_db, store, existing, before)


def test_form_refuses_a_file_over_the_size_limit(
    tmp_path: Path, sqlite_db: Database, store: MediaStore, existing: Existing, media: Path
) -> None:
    client = signed_in(make_app(tmp_path, sqlite_db, max_upload_mb=1), "publisher")
    before = snapshot(sqlite_db, store, existing)

    response = upload(client, media / OVERSIZED, "ep1.mp4")

    assert response.status_code == 413
    [error] = form_errors(response)
    assert error.startswith("The file is larger than the 1 MiB limit.")
    assert_untouched(sqlite_db, store, existing, before)


def test_form_refuses_an_upload_the_server_will_not_read(
    tmp_path: Path, sqlite_db: Database, store: MediaStore, existing: Existing
) -> None:
    client = signed_in(make_app(tmp_path, sqlite_db, max_upload_mb=1), "publisher")
    before = snapshot(sqlite_db, store, existing)

    response = post_form(
        client,
        {"file": (io.BytesIO(bytes(3 * MIB)), "ep1.mp4"), "series": NEW_SERIES, "episode": "1"},
    )

    assert response.status_code == 413
    assert "The upload is larger than this server accepts (HOOKLINE_MAX_UPLOAD_MB)" in page_text(
        response
    )
    assert_untouched(sqlite_db, store, existing, before)


def test_form_checks_the_csrf_token(
    tmp_path: Path, sqlite_db: Database, store: MediaStore, existing: Existing, media: Path
) -> None:
    app = make_app(tmp_path, sqlite_db)
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    login_token = csrf_token(client.get("/login"))
    client.post(
        "/login", data={"username": "publisher", "password": PASSWORD, "csrf_token": login_token}
    )
    before = snapshot(sqlite_db, store, existing)

    forged = upload(client, media / "landscape.mp4", "ep1.mp4")

    assert forged.status_code == 400 and "CSRF" in page_text(forged)
    assert_untouched(sqlite_db, store, existing, before)

    token = csrf_token(client.get("/ingest"))
    real = upload(client, media / "landscape.mp4", "ep1.mp4", csrf_token=token)

    episode, _ = episode_row(sqlite_db, NEW_SERIES, 1)
    assert real.status_code == 302 and real.headers["Location"] == f"/episodes/{episode.id}"


def csrf_token(response) -> str:
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', response.get_data(True))
    assert found, response.get_data(as_text=True)
    return found.group(1)


@pytest.mark.parametrize("role", ["reviewer", "analyst"])
def test_roles_that_do_not_ingest_get_403_from_the_form(
    tmp_path: Path,
    sqlite_db: Database,
    store: MediaStore,
    existing: Existing,
    media: Path,
    role: str,
) -> None:
    client = signed_in(make_app(tmp_path, sqlite_db), role)
    before = snapshot(sqlite_db, store, existing)

    assert client.get("/ingest").status_code == 403
    assert upload(client, media / "landscape.mp4", "ep1.mp4").status_code == 403
    assert 'href="/ingest"' not in page_text(client.get("/"))
    assert_untouched(sqlite_db, store, existing, before)


# --- the API ---------------------------------------------------------------------------


def api_token(db: Database, username: str) -> dict[str, str]:
    with db.transaction() as session:
        _, secret = create_token(session, get_user(session, username), "ingest-robot")
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def api(tmp_path: Path, sqlite_db: Database, existing: Existing) -> Flask:
    app = make_app(tmp_path, sqlite_db)
    app.config["WTF_CSRF_ENABLED"] = True  # bearer tokens need no CSRF token
    return app


def post_ingest(client: FlaskClient, body: bytes, headers: dict, **query: Any):
    params = {"series": NEW_SERIES, "episode": 1, **query}
    return client.post("/api/v1/episodes/ingest", query_string=params, data=body, headers=headers)


def test_api_ingest_answers_201_with_the_episode_and_its_master(
    api: Flask, sqlite_db: Database, media: Path
) -> None:
    client = api.test_client()
    body = (media / "landscape.mp4").read_bytes()

    response = post_ingest(
        client,
        body,
        api_token(sqlite_db, "publisher"),
        filename="Rebirth 01.mp4",
        hook="Confrontation_Slap",
        tropes="revenge,rebirth",
        title="The Return",
    )

    assert response.status_code == 201, response.get_data(as_text=True)
    out = response.get_json()
    episode, master = episode_row(sqlite_db, NEW_SERIES, 1)
    assert out["created"] is True
    assert out["warnings"][0].startswith("Aspect ratio is 16:9 (640x360), not 9:16")
    assert out["warnings"][1].startswith("Has no audio stream") and len(out["warnings"]) == 2
    assert out["episode"]["id"] == episode.id and out["episode"]["number"] == 1
    assert (out["episode"]["hook_type"], out["episode"]["tropes"]) == (
        "confrontation_slap",
        ["revenge", "rebirth"],
    )
    assert out["asset"]["sha256"] == master.sha256 == out["episode"]["master"]["sha256"]
    assert out["asset"]["url"] == f"/media/{master.sha256}"
    with client.get(out["asset"]["url"], headers=api_token(sqlite_db, "analyst")) as served:
        assert served.status_code == 200 and served.data == body


@pytest.mark.parametrize("bad", BAD)
def test_api_answers_a_bad_file_with_a_json_error_and_touches_nothing(
    api: Flask,
    sqlite_db: Database,
    store: MediaStore,
    existing: Existing,
    media: Path,
    bad: BadInput,
) -> None:
    headers = api_token(sqlite_db, "publisher")
    before = snapshot(sqlite_db, store, existing)

    response = post_ingest(
        api.test_client(), (media / bad.file).read_bytes(), headers, filename=bad.filename
    )

    assert response.status_code == bad.status
    assert response.get_json()["error"] == bad.code
    assert bad.phrase in response.get_json()["message"]
    assert_untouched(sqlite_db, store, existing, before)


def test_api_reingest_changes_nothing_and_a_new_master_needs_replace(
    api: Flask, sqlite_db: Database, store: MediaStore, existing: Existing, media: Path
) -> None:
    client, headers = api.test_client(), api_token(sqlite_db, "publisher")
    before = snapshot(sqlite_db, store, existing)
    series = {"series": SERIES, "episode": 1}

    again = post_ingest(
        client, (media / "good.mp4").read_bytes(), headers, **series, filename="ep01.mp4"
    )
    conflict = post_ingest(
        client, (media / "other.mp4").read_bytes(), headers, **series, filename="ep01-regraded.mp4"
    )

    assert again.status_code == 201 and again.get_json()["created"] is False
    assert conflict.status_code == 409 and conflict.get_json()["error"] == "conflict"
    assert "already has a different master" in conflict.get_json()["message"]
    assert_untouched(sqlite_db, store, existing, before)

    replaced = post_ingest(
        client,
        (media / "other.mp4").read_bytes(),
        headers,
        **series,
        filename="ep01-regraded.mp4",
        replace="true",
    )

    assert replaced.status_code == 201
    assert replaced.get_json()["episode"]["id"] == existing.episode_id
    assert replaced.get_json()["asset"]["sha256"] == sha256(media / "other.mp4")


class Body(io.RawIOBase):
    """``size`` zero bytes that count how many of them the server read."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), self.left)
        buffer[:n] = bytes(n)
        self.left -= n
        self.read_bytes += n
        return n


def raw_request(headers: dict, body: Body, *, content_length: int | None) -> Request:
    """Build a request whose body is read from ``body`` as a WSGI server would hand it on."""
    query = {"series": NEW_SERIES, "episode": 1, "filename": "ep1.mp4"}
    environ = EnvironBuilder(
        "/api/v1/episodes/ingest", method="POST", query_string=query, headers=headers
    ).get_environ()
    environ["wsgi.input"] = body
    if content_length is None:
        environ.pop("CONTENT_LENGTH", None)
        environ["wsgi.input_terminated"] = True  # what servers set for a chunked body
    else:
        environ["CONTENT_LENGTH"] = str(content_length)
    return Request(environ)


@pytest.fixture
def small_api(tmp_path: Path, sqlite_db: Database, existing: Existing) -> Flask:
    return make_app(tmp_path, sqlite_db, max_upload_mb=1)


def test_api_enforces_the_size_limit_while_streaming(
    small_api: Flask, sqlite_db: Database, store: MediaStore, existing: Existing
) -> None:
    headers = api_token(sqlite_db, "publisher")
    before = snapshot(sqlite_db, store, existing)

    # 2 MiB passes the request-size gate (limit plus room for form framing): the store's
    # count of the streamed bytes is what refuses it.
    response = post_ingest(small_api.test_client(), bytes(2 * MIB), headers, filename="ep1.mp4")

    assert response.status_code == 413
    assert response.get_json()["error"] == "too_large"
    assert response.get_json()["message"].startswith("The file is larger than the 1 MiB limit.")
    assert_untouched(sqlite_db, store, existing, before)


def test_api_stops_reading_a_chunked_body_soon_after_the_limit(
    small_api: Flask, sqlite_db: Database, store: MediaStore, existing: Existing
) -> None:
    headers = api_token(sqlite_db, "publisher")
    before = snapshot(sqlite_db, store, existing)
    body = Body(64 * MIB)

    response = small_api.test_client().open(raw_request(headers, body, content_length=None))

    assert response.status_code == 413 and response.get_json()["error"] == "too_large"
    assert body.read_bytes <= 2 * MIB  # the rest of the 64 MiB was never read
    assert_untouched(sqlite_db, store, existing, before)


def test_api_refuses_a_declared_length_over_the_limit_before_reading(
    small_api: Flask, sqlite_db: Database, store: MediaStore, existing: Existing
) -> None:
    headers = api_token(sqlite_db, "publisher")
    before = snapshot(sqlite_db, store, existing)
    body = Body(64 * MIB)

    response = small_api.test_client().open(raw_request(headers, body, content_length=64 * MIB))

    assert response.status_code == 413
    assert response.get_json()["error"] == "too_large"  # the same code however far over
    assert "HOOKLINE_MAX_UPLOAD_MB" in response.get_json()["message"]
    assert body.read_bytes == 0
    assert_untouched(sqlite_db, store, existing, before)


def test_api_needs_the_file_name_to_check_its_extension(
    api: Flask, sqlite_db: Database, store: MediaStore, existing: Existing, media: Path
) -> None:
    headers = api_token(sqlite_db, "publisher")
    before = snapshot(sqlite_db, store, existing)

    response = post_ingest(api.test_client(), (media / "good.mp4").read_bytes(), headers)

    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_input"
    assert "filename" in response.get_json()["message"]
    assert_untouched(sqlite_db, store, existing, before)


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [(None, 401, "unauthorized"), ("reviewer", 403, "forbidden"), ("analyst", 403, "forbidden")],
)
def test_api_ingest_needs_a_token_of_a_role_that_ingests(
    api: Flask,
    sqlite_db: Database,
    store: MediaStore,
    existing: Existing,
    media: Path,
    who: str | None,
    status: int,
    code: str,
) -> None:
    headers = api_token(sqlite_db, who) if who else {}
    before = snapshot(sqlite_db, store, existing)

    response = post_ingest(
        api.test_client(), (media / "landscape.mp4").read_bytes(), headers, filename="ep1.mp4"
    )

    assert response.status_code == status and response.get_json()["error"] == code
    assert_untouched(sqlite_db, store, existing, before)
