"""`hookline demo`: a first run's library, rendered on the spot, and the logins it prints.

The demo is rendered once per session (about 20 s); every test reads that one run.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlmodel import func, select

from hookline.app import create_app
from hookline.db import Database
from hookline.models import (
    AssetRole,
    Character,
    Episode,
    EpisodeAsset,
    Job,
    MediaAsset,
    Role,
    Series,
    Term,
    User,
)
from hookline.settings import Settings
from hookline.storage import MediaStore

from testkit import hookline_env, run_hookline

pytestmark = pytest.mark.slow

TITLE = "The Contract Bride"
COUNTED = (Series, Character, Term, Episode, MediaAsset, EpisodeAsset, User)


@dataclass(frozen=True)
class Demo:
    data_dir: Path
    env: dict[str, str]
    output: subprocess.CompletedProcess[str]
    db: Database

    def passwords(self) -> dict[str, str]:
        return dict(re.findall(r"^\s+(\w+)\s+password: (\S+)$", self.output.stdout, re.M))


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory):
    data_dir = tmp_path_factory.mktemp("demo")
    env = hookline_env(data_dir)
    upgraded = run_hookline("db", "upgrade", env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    done = run_hookline("demo", env=env, timeout=240)
    assert done.returncode == 0, done.stderr
    db = Database.from_url(f"sqlite:///{data_dir / 'hookline.db'}")
    yield Demo(data_dir, env, done, db)
    db.dispose()


def counts(db: Database) -> dict[str, int]:
    with db.session() as session:
        return {
            m.__tablename__: session.exec(select(func.count()).select_from(m)).one()
            for m in COUNTED
        }


def test_demo_puts_the_series_and_its_bible_in_the_library(demo: Demo) -> None:
    with demo.db.session() as session:
        series = session.exec(select(Series)).one()
        characters = session.exec(select(Character).order_by(Character.name)).all()
        terms = session.exec(select(Term.term)).all()

    assert series.title == TITLE and series.logline and series.source_language == "en"
    assert [(c.name, c.gender) for c in characters] == [
        ("Adrian Cole", "male"),
        ("Lena Hart", "female"),
    ]
    assert all({"en", "es"} <= set(c.voices) for c in characters)
    assert characters[1].voices["es"]["voice"] == "es+f3"
    assert {"Cole Group", "the contract", "Harbor Tower", "Mr. Cole"} <= set(terms)
    assert f"Demo series '{TITLE}' is in the library: 3 episodes." in demo.output.stdout


def test_demo_episodes_are_vertical_with_stems_and_a_script(demo: Demo) -> None:
    store = MediaStore(demo.data_dir / "media")
    with demo.db.session() as session:
        episodes = session.exec(select(Episode).order_by(Episode.number)).all()
        files = {
            episode.number: {
                link.role: asset
                for link, asset in session.exec(
                    select(EpisodeAsset, MediaAsset)
                    .join(MediaAsset, MediaAsset.id == EpisodeAsset.asset_id)
                    .where(EpisodeAsset.episode_id == episode.id)
                )
            }
            for episode in episodes
        }

    assert [e.number for e in episodes] == [1, 2, 3]
    assert all(e.title and e.hook_type and e.warnings == [] for e in episodes)
    for number, assets in files.items():
        assert set(assets) == {
            AssetRole.MASTER,
            AssetRole.DIALOGUE_STEM,
            AssetRole.MUSIC_EFFECTS_STEM,
            AssetRole.SCRIPT,
        }, number
        master = assets[AssetRole.MASTER]
        assert (master.width, master.height, master.video_codec) == (1080, 1920, "h264")
        assert 20 <= master.duration_s <= 60 and master.audio_codec, number
        assert assets[AssetRole.DIALOGUE_STEM].kind == "audio"
        assert assets[AssetRole.MUSIC_EFFECTS_STEM].kind == "audio"
        assert assets[AssetRole.SCRIPT].kind == "text"
        assert all(store.exists(asset.sha256) for asset in assets.values())
    leftovers = [*store.tmp_dir.glob("*"), *(demo.data_dir / "tmp").glob("*")]
    assert leftovers == []  # rendered in a temp folder, committed by rename, nothing left


def test_demo_creates_one_user_per_role_and_the_printed_login_works(demo: Demo) -> None:
    with demo.db.session() as session:
        users = {u.username: u.roles for u in session.exec(select(User))}
    passwords = demo.passwords()
    assert users == {role.value: [role.value] for role in Role}
    assert set(passwords) == set(users) and len(set(passwords.values())) == 1
    login_file = demo.data_dir / "demo-login.txt"
    assert login_file.stat().st_mode & 0o777 == 0o600
    assert passwords["publisher"] in login_file.read_text()

    app = create_app(Settings(data_dir=demo.data_dir))
    client = app.test_client()
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
    signed_in = client.post(
        "/login",
        data={"username": "publisher", "password": passwords["publisher"], "csrf_token": token},
    )
    assert signed_in.status_code == 302
    library = client.get("/").get_data(as_text=True)
    assert TITLE in library and "Demo publisher" in library
    app.extensions["hookline"].db.dispose()


def test_demo_if_empty_adds_nothing_to_a_library_that_has_series(demo: Demo) -> None:
    before = counts(demo.db)

    again = run_hookline("demo", "--if-empty", env=demo.env)

    assert again.returncode == 0, again.stderr
    assert "The library already has the demo series; no demo added." in again.stdout
    assert f"Demo logins are in {demo.data_dir / 'demo-login.txt'}." in again.stdout
    assert "password" not in again.stdout
    assert counts(demo.db) == before


def test_demo_queues_its_spanish_and_catalan_localizations(demo: Demo) -> None:
    with demo.db.session() as session:
        kinds = [job.kind for job in session.exec(select(Job))]
        languages = sorted(
            {
                job.payload["language"]
                for job in session.exec(select(Job))
                if "language" in job.payload
            }
        )
    assert kinds.count("localization.transcribe") == 3
    assert kinds.count("localization.localize") == 9  # the English track, Spanish, Catalan
    assert languages == ["ca", "en", "es"]
    assert "Queued localization into es, ca" in demo.output.stdout
