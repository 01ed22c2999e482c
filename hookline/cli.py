"""The ``hookline`` command: Flask's CLI group plus Hookline's own commands."""

from __future__ import annotations

import getpass
import json
import logging
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, routes_command, shell_command
from sqlmodel import col, select

from hookline import ingest, migrate
from hookline.app import create_app
from hookline.auth import PERMISSIONS, ROLE_HELP, create_token, create_user, get_user, set_password
from hookline.errors import HooklineError
from hookline.jobs import enqueue, registry, request_cancel, retry_now
from hookline.models import Job, Role, User
from hookline.settings import Settings, documented_settings
from hookline.web.context import Services


def _create_app() -> Flask:
    settings = Settings.from_env()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # Alembic narrates every step at INFO; `hookline db upgrade` says the result itself.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    return create_app(settings)


class HooklineGroup(FlaskGroup):
    """Flask's group, with Hookline errors shown as one clear line and a non-zero exit."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except HooklineError as error:
            click.secho(f"Error: {error.message}", fg="red", err=True)
            sys.exit(2 if error.status < 500 else 1)


cli = HooklineGroup(
    create_app=_create_app,
    add_default_commands=False,
    add_version_option=False,
    load_dotenv=False,
    help="Hookline: localize, review, publish and track microdramas.",
)
# Flask's shell and routes help developers; its `run` would serve without workers, so
# `hookline serve` takes its place.
cli.add_command(shell_command)
cli.add_command(routes_command)


def services() -> Services:
    return current_app.extensions["hookline"]


def main() -> None:
    cli.main(prog_name="hookline")


# -- database --------------------------------------------------------------------------


@cli.group()
def db() -> None:
    """Create and migrate the database."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations (creates the database on first run)."""
    engine = services().db.engine
    before = migrate.current_revision(engine)
    migrate.upgrade(engine, revision)
    after = migrate.current_revision(engine)
    click.echo(
        f"Database at {after}" + (f" (was {before})" if before != after else " (up to date)")
    )


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION ("base" empties the database)."""
    migrate.downgrade(services().db.engine, revision)
    click.echo(f"Database at {migrate.current_revision(services().db.engine)}")


@db.command("revision")
@click.option("--message", "-m", required=True, help="What the migration changes.")
def db_revision(message: str) -> None:
    """Write a new migration from the difference between the models and the database."""
    from alembic import command

    engine = services().db.engine
    if not migrate.is_up_to_date(engine):
        raise click.ClickException(
            "Upgrade the database first: a revision is the change from head."
        )
    command.revision(migrate.alembic_config(engine), message=message, autogenerate=True)


@db.command("current")
def db_current() -> None:
    """Show the applied and the newest migration."""
    engine = services().db.engine
    click.echo(f"applied: {migrate.current_revision(engine)}  head: {migrate.head_revision()}")


# -- users and tokens ------------------------------------------------------------------


@cli.group()
def user() -> None:
    """Manage people who sign in."""


@user.command("create")
@click.argument("username")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice([r.value for r in Role]),
    help="Repeat for several roles.",
)
@click.option("--name", "display_name", default="", help="Display name.")
@click.option(
    "--password", envvar="HOOKLINE_NEW_PASSWORD", help="Read from a prompt when not given."
)
def user_create(
    username: str, roles: tuple[str, ...], display_name: str, password: str | None
) -> None:
    """Create a user with one or more roles."""
    password = password or _prompt_password()
    with services().db.transaction() as session:
        created = create_user(session, username, password, roles, display_name=display_name)
        click.echo(f"Created {created.username} ({', '.join(created.roles)}).")


@user.command("set-password")
@click.argument("username")
@click.option("--password", envvar="HOOKLINE_NEW_PASSWORD")
def user_set_password(username: str, password: str | None) -> None:
    """Set a user's password (their other sessions end)."""
    password = password or _prompt_password()
    with services().db.transaction() as session:
        set_password(session, get_user(session, username), password)
    click.echo(f"Password of {username} changed.")


@user.command("list")
def user_list() -> None:
    """List users and their roles."""
    with services().db.session() as session:
        for row in session.exec(select(User).order_by(User.username)):
            state = "" if row.active else "  (inactive)"
            click.echo(f"{row.username:<20} {', '.join(row.roles)}{state}")


@user.command("roles")
def user_roles() -> None:
    """Explain the roles and what each may do."""
    for role in Role:
        granted = sorted(p for p, roles in PERMISSIONS.items() if role in roles)
        click.echo(f"{role.value:<10} {ROLE_HELP[role]}\n           {', '.join(granted)}")


def _prompt_password() -> str:
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise click.ClickException("The passwords differ.")
    return first


@cli.group()
def token() -> None:
    """Manage API tokens for machine clients."""


@token.command("create")
@click.option("--user", "username", required=True)
@click.option("--name", required=True, help="Which machine uses it.")
def token_create(username: str, name: str) -> None:
    """Create an API token; it is printed once."""
    with services().db.transaction() as session:
        _, secret = create_token(session, get_user(session, username), name)
    click.echo(secret)


# -- ingest ----------------------------------------------------------------------------


@cli.command("ingest")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--series", required=True, help="Series title; created if new.")
@click.option("--episode", type=int, required=True, help="Episode number (1, 2, …).")
@click.option("--title", default=None, help="Episode title.")
@click.option("--hook", default=None, help="Hook type of the opening, e.g. confrontation_slap.")
@click.option("--tropes", default=None, help="Comma-separated plot tropes.")
@click.option("--replace", is_flag=True, help="Replace a different master of this episode.")
def ingest_command(
    file: Path,
    series: str,
    episode: int,
    title: str | None,
    hook: str | None,
    tropes: str | None,
    replace: bool,
) -> None:
    """Check FILE and store it as an episode's master."""
    svc = services()
    if not file.is_file():
        raise click.ClickException(f"{file} does not exist or is not a file.")
    with click.progressbar(length=file.stat().st_size, label=f"Reading {file.name}") as bar:
        staged = svc.store.stage_path(
            file,
            limit_bytes=svc.settings.max_upload_bytes,
            progress=lambda done: bar.update(done - bar.pos),
        )
        with staged, svc.db.transaction() as session:
            result = ingest.ingest_episode(
                session,
                svc.store,
                staged,
                filename=file.name,
                series_title=series,
                episode_number=episode,
                hook_type=hook,
                tropes=ingest.split_tropes(tropes),
                title=title,
                replace=replace,
                actor=None,
            )
    asset = result.asset
    if result.created:
        verb = "Ingested"
    elif result.replaced:
        verb = "Replaced the master of"
    else:
        verb = "Already ingested (nothing changed):"
    click.echo(
        f"{verb} {series} episode {result.episode.number}: {asset.width}x{asset.height} "
        f"{asset.video_codec}, {asset.duration_s:.1f} s, sha256 {asset.sha256[:12]}"
    )
    for warning in result.warnings:
        click.secho(f"Warning: {warning}", fg="yellow")


# -- localization -----------------------------------------------------------------------


@cli.command("localize")
@click.argument("episode")
@click.option("--to", "languages", required=True, help="Languages, e.g. es,pt-BR,id.")
@click.option("--dub/--no-dub", default=True, show_default=True, help="Voice the translation.")
@click.option("--burn/--no-burn", default=False, show_default=True, help="Also burn subtitles in.")
@click.option("--queue-only", is_flag=True, help="Queue the jobs for the workers and return.")
def localize_command(episode: str, languages: str, dub: bool, burn: bool, queue_only: bool) -> None:
    """Localize EPISODE (its id, or "Series title/number") into languages, with progress."""
    from hookline import wiring
    from hookline.jobs import run_jobs
    from localization import workflow

    svc = services()
    with svc.db.transaction() as session:
        episode_id = _find_episode(session, episode)
        started = workflow.start(session, svc.settings, episode_id, languages, dub=dub, burn=burn)
    ids = [job.id for job in started.jobs]
    click.echo(f"Queued {', '.join(started.languages)} (jobs {', '.join(map(str, ids))}).")
    if queue_only:
        return
    with click.progressbar(
        length=100 * len(ids),
        label="Localizing",
        show_percent=True,
        item_show_func=lambda text: text,
    ) as bar:

        def tick(rows: list[Job]) -> None:
            done = sum(100 if r.status == "succeeded" else r.progress for r in rows)
            bar.update(max(0, round(done) - bar.pos), _progress_line(rows))

        rows = run_jobs(
            svc.db,
            svc.settings,
            ids,
            parallel=svc.settings.localize_parallel,
            modules=wiring.JOB_MODULES,
            on_tick=tick,
        )
    _report_localizations(rows)


def _progress_line(rows: list[Job]) -> str:
    parts = []
    for row in rows:
        stage = row.status if row.status != "running" else (row.progress_message or "running")
        parts.append(f"{row.payload.get('language') or 'transcript'}: {stage}")
    return " | ".join(parts)


def _report_localizations(rows: list[Job]) -> None:
    failed = [r for r in rows if r.status != "succeeded"]
    for row in rows:
        language = row.payload.get("language")
        if row.status == "succeeded":
            click.echo(f"  {language}: ready for review" if language else "  transcript: done")
        else:
            reason = (row.last_error or row.status).splitlines()[0]
            click.secho(f"  {language or 'transcript'}: {row.status}: {reason}", fg="red", err=True)
    if failed:
        sys.exit(1)


def _find_episode(session: Any, reference: str) -> int:
    from hookline.models import Episode, Series

    if reference.isdigit():
        return int(reference)
    title, _, number = reference.rpartition("/")
    series = session.exec(select(Series).where(Series.title == title.strip())).first()
    if series is None or not number.strip().isdigit():
        raise click.BadParameter(
            f'{reference!r}: give an episode id or "Series title/number"', param_hint="EPISODE"
        )
    episode = session.exec(
        select(Episode).where(Episode.series_id == series.id, Episode.number == int(number))
    ).first()
    if episode is None:
        raise click.BadParameter(f"{title} has no episode {number}", param_hint="EPISODE")
    return episode.id


@cli.group()
def models() -> None:
    """Install and list models (Whisper, translation packages); never done while serving."""


@models.command("install")
@click.argument("kind", type=click.Choice(["whisper", "argos"]))
@click.argument("name")
def models_install(kind: str, name: str) -> None:
    """Install a Whisper model SIZE (needs internet) or an Argos .argosmodel FILE."""
    from localization.transcription import install_model
    from localization.translation import argos_packages_dir, install_argos_package

    settings = services().settings
    if kind == "whisper":
        click.echo(f"Downloading Whisper {name} into {settings.models_dir}/whisper …")
        path = install_model(name, settings.models_dir)  # type: ignore[arg-type]
        click.echo(f"Installed {path}. Use it with HOOKLINE_WHISPER_MODEL={name}.")
        return
    package = install_argos_package(Path(name), argos_packages_dir(settings))
    click.echo(f"Installed Argos package {package.source}→{package.target} ({package.path.name}).")


@models.command("list")
def models_list() -> None:
    """Show the models, translation pairs and voices this installation can use."""
    from localization.transcription import installed_models
    from localization.translation import installed_translators

    settings = services().settings
    names = installed_models(settings.models_dir)  # type: ignore[arg-type]
    click.echo(f"Whisper models: {', '.join(names) or 'none'}")
    device = f"{settings.whisper_device}, {settings.whisper_compute_type}"
    click.echo(f"  in use: {settings.whisper_model} ({device})")
    for translator in installed_translators(settings):
        with translator:
            click.echo(f"Translator {translator.name}: {translator.describe()}")


# -- jobs and the worker ---------------------------------------------------------------


@cli.command("worker")
@click.option(
    "--concurrency",
    type=int,
    default=None,
    help="Jobs at once (default HOOKLINE_WORKER_CONCURRENCY).",
)
@click.option("--no-scheduler", is_flag=True, help="Never run the scheduler in this process.")
def worker_command(concurrency: int | None, no_scheduler: bool) -> None:
    """Run jobs until stopped (Ctrl-C finishes running jobs; twice stops at once)."""
    from hookline import wiring
    from hookline.jobs import Worker

    svc = services()
    settings = svc.settings.replace(scheduler=False) if no_scheduler else svc.settings
    worker = Worker(
        svc.db,
        settings,
        concurrency=concurrency,
        modules=wiring.JOB_MODULES,
        recurring=wiring.RECURRING,
    )
    worker.run(install_signals=True)


@cli.command("serve")
@click.option(
    "--workers",
    type=int,
    default=None,
    help="Worker processes (default HOOKLINE_WORKERS; 0: none).",
)
def serve_command(workers: int | None) -> None:
    """Serve the web UI and API, with workers and the scheduler beside it."""
    from hookline import serve

    svc = services()
    serve.serve(current_app._get_current_object(), svc.settings, workers=workers)  # type: ignore[attr-defined]


@cli.command("sandbox")
def sandbox_command() -> None:
    """Run the platform sandbox (local emulators of every platform) on its own."""
    import signal as signals
    import threading

    from hookline.serve import start_sandbox

    running = start_sandbox(services().settings)
    click.echo(f"The platform sandbox is at {running.url}. Ctrl-C stops it.")
    stopped = threading.Event()
    signals.signal(signals.SIGTERM, lambda *_: stopped.set())
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        running.stop()


@cli.group()
def jobs() -> None:
    """Inspect and steer the job queue."""


@jobs.command("list")
@click.option("--status", default=None)
@click.option("--limit", default=20, show_default=True)
def jobs_list(status: str | None, limit: int) -> None:
    """Show the newest jobs."""
    with services().db.session() as session:
        statement = select(Job).order_by(col(Job.id).desc()).limit(limit)
        if status:
            statement = statement.where(Job.status == status)
        for job in session.exec(statement):
            error = f"  {job.last_error.splitlines()[0]}" if job.last_error else ""
            click.echo(
                f"{job.id:>7} {job.kind:<24} {job.status:<10} {job.attempts}/{job.max_attempts} "
                f"{job.progress:5.1f}%{error}"
            )


@jobs.command("enqueue")
@click.argument("kind")
@click.option("--payload", default="{}", help="JSON object.")
@click.option("--key", default=None, help="Idempotency key.")
@click.option(
    "--at", "run_at", default=None, help="ISO time with zone, e.g. 2026-11-21T19:00+01:00."
)
def jobs_enqueue(kind: str, payload: str, key: str | None, run_at: str | None) -> None:
    """Enqueue a job of a registered KIND."""
    registry.get(kind)
    try:
        data = json.loads(payload)
        when = datetime.fromisoformat(run_at) if run_at else None
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    if not isinstance(data, dict):
        raise click.BadParameter("--payload must be a JSON object")
    if when is not None and when.tzinfo is None:
        raise click.BadParameter("--at needs a time zone, e.g. +01:00 or Z")
    with services().db.transaction() as session:
        job = enqueue(session, kind, data, key=key, run_at=when)
    click.echo(f"Job {job.id} ({job.status})")


@jobs.command("retry")
@click.argument("job_id", type=int)
def jobs_retry(job_id: int) -> None:
    """Run a dead or cancelled job again."""
    with services().db.transaction() as session:
        retry_now(session, job_id)
    click.echo(f"Job {job_id} queued.")


@jobs.command("cancel")
@click.argument("job_id", type=int)
def jobs_cancel(job_id: int) -> None:
    """Cancel a queued job, or ask a running one to stop."""
    with services().db.transaction() as session:
        job = request_cancel(session, job_id)
    click.echo(f"Job {job_id}: {'cancelled' if job.status == 'cancelled' else 'asked to stop'}.")


@jobs.command("kinds")
def jobs_kinds() -> None:
    """List the job kinds this installation knows."""
    for name, kind in sorted(registry.load().items()):
        click.echo(f"{name:<28} {kind.description}")


# -- demo and settings -----------------------------------------------------------------


@cli.command("demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has a series.")
def demo_command(if_empty: bool) -> None:
    """Generate the demo series (real media, made on the spot) and demo users."""
    from hookline.demo import seed

    svc = services()
    seed.run(svc, if_empty=if_empty, echo=click.echo, progressbar=click.progressbar)


@cli.command("settings")
def settings_command() -> None:
    """Show every setting, its value here and what it does."""
    current = services().settings
    for variable, _default, help_text in documented_settings():
        name = variable.removeprefix("HOOKLINE_").lower()
        value = getattr(current, name)
        shown = "(set)" if name == "secret_key" and value else value
        click.echo(f"{variable} = {shown}\n    {help_text}")


# -- the feedback loop -------------------------------------------------------------------


@cli.command("simulate")
@click.option("--rounds", "-r", type=int, default=10, show_default=True, help="Rounds of posting.")
@click.option("--seeds", type=int, default=1, show_default=True, help="Worlds to average over.")
@click.option("--seed", type=int, default=0, show_default=True, help="The first world's seed.")
@click.option("--episodes", type=int, default=20, show_default=True, help="Per market per round.")
@click.option("--hooks", type=int, default=8, show_default=True, help="Hook types in play.")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="Write JSON here.")
def simulate_command(
    rounds: int, seeds: int, seed: int, episodes: int, hooks: int, out: Path | None
) -> None:
    """Run the feedback loop against the sandbox audience; report regret against an oracle."""
    from analytics.feedback import simulate
    from analytics.feedback.model import FeedbackInputError

    if seeds <= 0:
        raise click.BadParameter("--seeds must be 1 or more")
    setups = [
        simulate.Setup(seed=s, rounds=rounds, episodes=episodes, hooks=hooks)
        for s in range(seed, seed + seeds)
    ]
    runs = []
    try:
        for setup in setups:
            setup.check()
        steps = len(simulate.POLICIES) * rounds
        with click.progressbar(length=steps * seeds, label="Simulating") as bar:
            for i, setup in enumerate(setups):
                runs.append(
                    simulate.run(
                        setup, progress=lambda done, _t, i=i: bar.update(i * steps + done - bar.pos)
                    )
                )
    except FeedbackInputError as error:
        raise click.BadParameter(str(error)) from None
    summary = simulate.summarize(runs)
    for line in simulate.report(summary):
        click.echo(line)
    if out:
        out.write_text(json.dumps(summary, indent=2))
        click.echo(f"Wrote {out}")
