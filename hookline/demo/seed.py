"""``hookline demo``: render the demo series on the spot and put it in the library.

Everything a first run needs: the series and its bible, three episodes with real
media (master, stems, script), and one user per role with a generated password.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from hookline import ingest
from hookline.auth import create_user
from hookline.demo.media import RenderedEpisode, render_episode
from hookline.demo.script import THE_CONTRACT_BRIDE, SeriesScript
from hookline.errors import HooklineError
from hookline.models import AssetRole, Character, Episode, Role, Series, Term, User
from hookline.web.context import Services

Echo = Callable[[str], None]
LOGIN_FILE = "demo-login.txt"
# Offline with Apertium (Debian packages apertium-eng-spa, apertium-eng-cat) and espeak-ng.
DEMO_LANGUAGES = ("es", "ca")


def run(svc: Services, *, if_empty: bool, echo: Echo, progressbar: Callable[..., Any]) -> None:
    """Create the demo unless it (or, with ``if_empty``, any series) exists already."""
    script = THE_CONTRACT_BRIDE
    with svc.db.session() as session:
        existing = session.exec(select(Series)).first()
        demo = session.exec(select(Series).where(Series.title == script.title)).first()
    if demo or (if_empty and existing):
        echo(f"The library already has {'the demo series' if demo else 'series'}; no demo added.")
    else:
        _render_and_ingest(svc, script, echo, progressbar)
        _queue_localizations(svc, script, echo)
        _prepare_publishing(svc, script, echo)
    _ensure_demo_users(svc, echo)


def _render_and_ingest(
    svc: Services, script: SeriesScript, echo: Echo, progressbar: Callable[..., Any]
) -> None:
    work = svc.settings.data_dir / "tmp"
    work.mkdir(parents=True, exist_ok=True)
    # Rendered beside the media store, so committing a file is a rename, not a copy.
    with tempfile.TemporaryDirectory(dir=work, prefix="demo-") as tmp:
        for episode in script.episodes:
            label = f"Rendering episode {episode.number}: {episode.title}"
            with progressbar(length=100, label=label) as bar:
                rendered = render_episode(
                    episode,
                    Path(tmp) / f"episode-{episode.number}",
                    ffmpeg=svc.settings.ffmpeg or None,
                    progress=lambda fraction: bar.update(max(0, round(fraction * 100) - bar.pos)),
                )
            with svc.db.transaction() as session:
                _ingest(session, svc, rendered)
    with svc.db.transaction() as session:
        _write_bible(session, script)
    echo(f"Demo series '{script.title}' is in the library: {len(script.episodes)} episodes.")


def _ingest(session: Session, svc: Services, rendered: RenderedEpisode) -> None:
    episode = rendered.episode
    result = ingest.ingest_episode(
        session,
        svc.store,
        rendered.master,
        filename=f"{episode.series_title} {episode.number:02d}.mp4",
        series_title=episode.series_title,
        episode_number=episode.number,
        hook_type=episode.hook_type,
        tropes=list(episode.tropes),
        title=episode.title,
    )
    attachments = (
        (rendered.dialogue, AssetRole.DIALOGUE_STEM),
        (rendered.music_effects, AssetRole.MUSIC_EFFECTS_STEM),
        (rendered.script, AssetRole.SCRIPT),
    )
    for path, role in attachments:
        ingest.attach_asset(session, svc.store, result.episode, path, role, filename=path.name)


def _write_bible(session: Session, script: SeriesScript) -> None:
    series = session.exec(select(Series).where(Series.title == script.title)).one()
    series.logline = script.logline
    series.source_language = script.source_language
    session.add(series)
    for member in script.cast:
        session.add(
            Character(
                series_id=series.id,
                name=member.name,
                gender=member.gender,
                description=member.description,
                voices={lang: spec.as_dict() for lang, spec in member.voices.items()},
            )
        )
    for entry in script.glossary:
        session.add(
            Term(
                series_id=series.id,
                term=entry.term,
                kind=entry.kind,
                note=entry.note,
                translations=dict(entry.translations),
            )
        )


def _queue_localizations(svc: Services, script: SeriesScript, echo: Echo) -> None:
    """Queue the demo's Spanish and Catalan localizations for the workers (dubbed, burned in)."""
    from localization import workflow

    with svc.db.session() as session:
        series = session.exec(select(Series).where(Series.title == script.title)).one()
        episodes = session.exec(select(Episode.id).where(Episode.series_id == series.id)).all()
    try:
        with svc.db.transaction() as session:
            for episode_id in episodes:
                workflow.start(
                    session, svc.settings, episode_id, DEMO_LANGUAGES, dub=True, burn=True
                )
    except HooklineError as error:  # e.g. Apertium not installed: the demo still runs
        echo(f"The demo's localizations were not queued: {error.message}")
        return
    echo(
        f"Queued localization into {', '.join(DEMO_LANGUAGES)} (transcribe, translate, dub, "
        "render): the workers run it; follow it on the Jobs and Review pages."
    )


def _prepare_publishing(svc: Services, script: SeriesScript, echo: Echo) -> None:
    """Connect one sandbox channel per platform, and queue the demo's publishing."""
    from hookline.demo import publishing
    from hookline.jobs import enqueue

    publishing.connect_channels(svc, echo)
    with svc.db.transaction() as session:
        series = session.exec(select(Series).where(Series.title == script.title)).one()
        enqueue(session, publishing.PUBLISH_DEMO, {"series_id": series.id}, key="demo:publish")
    echo("Once localized, the episodes are approved and posted to the sandbox channels.")


def _ensure_demo_users(svc: Services, echo: Echo) -> None:
    """On a database without users, create one per role and say how to sign in."""
    login_file = svc.settings.data_dir / LOGIN_FILE
    with svc.db.transaction() as session:
        if session.exec(select(User)).first() is not None:
            if login_file.exists():
                echo(f"Demo logins are in {login_file}.")
            return
        password = secrets.token_urlsafe(12)
        for role in Role:
            create_user(
                session, role.value, password, [role.value], display_name=f"Demo {role.value}"
            )
    lines = [f"Sign in at {svc.settings.public_url} as one of these users:"]
    lines += [f"  {role.value:<10} password: {password}" for role in Role]
    text = "\n".join(lines)
    _write_private(login_file, text + "\n")
    echo(text)
    echo(f"(Saved in {login_file}.)")


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
