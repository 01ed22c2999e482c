"""A real localized episode to review: made by the pipeline, in a database of its own.

Used by the review tests (server and browser) and the review benchmark: one episode of
espeak dialogue over music, transcribed by Whisper and localized into Spanish by
Apertium, dubbed and rendered, exactly as a studio's would be.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlmodel import select

from hookline import migrate
from hookline.auth import create_user
from hookline.db import Database
from hookline.jobs import run_jobs
from hookline.models import Localization, Role, SubtitleLine
from hookline.settings import Settings
from hookline.storage import MediaStore
from localization import workflow

from episodes import add_to_library, make_episode
from testkit import PASSWORD, make_settings

MODULES = ["localization.jobs"]


@dataclass
class Localized:
    db: Database
    settings: Settings
    episode_id: int
    source_id: int  # the English (source) track
    target_id: int  # the Spanish localization

    def line_ids(self, localization_id: int) -> list[int]:
        with self.db.session() as session:
            return list(
                session.exec(
                    select(SubtitleLine.id)
                    .where(SubtitleLine.localization_id == localization_id)
                    .order_by(SubtitleLine.position)
                )
            )

    def run(self, job_ids: list[int]) -> None:
        run_jobs(self.db, self.settings, job_ids, parallel=1, modules=MODULES)


def localized_episode(folder: Path, *, lines=None) -> Localized:
    """Migrate a SQLite database, add one user per role, and localize an episode into es."""
    db = Database.from_url(f"sqlite:///{folder / 'hookline.db'}")
    migrate.upgrade(db.engine)
    settings = make_settings(folder, str(db.engine.url), translators=("apertium",))
    with db.transaction() as session:
        for role in Role:
            create_user(session, role.value, PASSWORD, [role.value])
    files = make_episode(folder / "episode", **({"lines": lines} if lines else {}))
    with db.transaction() as session:
        episode = add_to_library(session, MediaStore(settings.media_root), files)
        started = workflow.start(session, settings, episode.id, "es")
        job_ids = [job.id for job in started.jobs]
        episode_id = episode.id
    run_jobs(db, settings, job_ids, parallel=2, modules=MODULES)
    with db.session() as session:
        ids = {
            loc.language: loc.id
            for loc in session.exec(
                select(Localization).where(Localization.episode_id == episode_id)
            )
        }
    return Localized(db, settings, episode_id, ids["en"], ids["es"])
