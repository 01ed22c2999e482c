"""Shared fixtures: real databases (SQLite and PostgreSQL), settings, app, signed-in clients."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from hookline import migrate
from hookline.app import create_app
from hookline.auth import create_user
from hookline.db import Database
from hookline.models import Role
from hookline.settings import Settings

from testkit import PASSWORD, make_settings

POSTGRES_URL = os.environ.get(
    "HOOKLINE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """The PostgreSQL server the suite needs; not reachable is a failure, never a skip."""
    url = make_url(POSTGRES_URL).set(drivername="postgresql+psycopg")
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        pytest.fail(
            f"PostgreSQL is required at {POSTGRES_URL} ({exc.orig}). Start it with "
            "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` "
            "or point HOOKLINE_TEST_POSTGRES_URL at one.",
            pytrace=False,
        )
    finally:
        engine.dispose()
    return url.render_as_string(hide_password=False)


@pytest.fixture
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """An empty PostgreSQL schema of its own, as a database URL; dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in postgres_admin_url else "?"
    yield f"{postgres_admin_url}{separator}options={quote(f'-csearch_path={schema}')}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test that needs one (migrating is the slow part)."""
    path = tmp_path_factory.mktemp("template") / "hookline.db"
    db = Database.from_url(f"sqlite:///{path}")
    migrate.upgrade(db.engine)
    db.dispose()
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hookline.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def db(database_url: str, tmp_path: Path, sqlite_template: Path) -> Iterator[Database]:
    """A migrated database, SQLite and PostgreSQL in turn."""
    if database_url.startswith("sqlite"):
        shutil.copy(sqlite_template, tmp_path / "hookline.db")
    database = Database.from_url(database_url)
    if not database_url.startswith("sqlite"):
        migrate.upgrade(database.engine)
    yield database
    database.dispose()


@pytest.fixture
def sqlite_db(tmp_path: Path, sqlite_template: Path) -> Iterator[Database]:
    """A migrated SQLite database, for tests about the web layer rather than the database."""
    shutil.copy(sqlite_template, tmp_path / "hookline.db")
    database = Database.from_url(f"sqlite:///{tmp_path / 'hookline.db'}")
    yield database
    database.dispose()


@pytest.fixture
def settings(tmp_path: Path, sqlite_db: Database) -> Settings:
    return make_settings(tmp_path, str(sqlite_db.engine.url))


@pytest.fixture
def app(settings: Settings, sqlite_db: Database):
    app = create_app(settings, db=sqlite_db)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def users(sqlite_db: Database) -> dict[str, int]:
    """One user per role, named after it, all with PASSWORD."""
    ids = {}
    with sqlite_db.transaction() as session:
        for role in Role:
            ids[role.value] = create_user(session, role.value, PASSWORD, [role.value]).id
    return ids


@pytest.fixture(scope="session")
def tiny_archives(request: pytest.FixtureRequest, tmp_path_factory) -> dict:
    """Tiny en→es and es→ca .argosmodel files, trained once and cached between runs."""
    import argos_tiny

    cache = getattr(request.config, "cache", None)
    folder = cache.mkdir("argos-tiny") if cache else tmp_path_factory.getbasetemp() / "argos-tiny"
    folder.mkdir(exist_ok=True)
    return argos_tiny.cached_packages(Path(folder))
