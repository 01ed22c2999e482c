"""Pages of the feedback loop: the production brief, its history, the vocabularies, tagging.

The brief's rules (slate size, exploration share, limit per hook, must-includes, KPI) live
in the query string, so a brief can be shared by its URL and exported as it is shown.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from analytics.feedback import brief as briefs
from analytics.feedback import charts, simulate, store, vocabulary
from analytics.feedback.model import FeedbackInputError
from analytics.feedback.slate import Rules
from hookline.auth import requires
from hookline.clock import utcnow
from hookline.errors import HooklineError, InvalidInput, NotFound
from hookline.models import Episode, Series, TermKind
from hookline.web.context import db_session, form_change

bp = Blueprint("feedback", __name__, url_prefix="/feedback")
MAX_SIMULATION = {"rounds": 20, "episodes": 20, "seeds": 3}  # keeps a request under ~2 s


def parse_rules(args: Any) -> tuple[Rules, str, int]:
    """Rules, KPI and seed from the form; a malformed value says which and how to fix it."""

    def number(name: str, default: float, cast: type = float) -> Any:
        raw = (args.get(name) or "").strip()
        if not raw:
            return cast(default)
        try:
            return cast(raw)
        except ValueError:
            raise InvalidInput(f"{name}={raw!r} is not a number.") from None

    kpi = args.get("kpi") or "hook_rate"
    if kpi not in store.KPIS:
        raise InvalidInput(f"Unknown KPI {kpi!r}; use one of {', '.join(store.KPIS)}.")
    rules = Rules(
        size=number("size", 10, int),
        exploration=number("exploration", 10) / 100,
        max_share=number("limit", 50) / 100,
        must_include=tuple(m for m in args.getlist("must") if m),
    )
    return rules, kpi, number("seed", 0, int)


def _brief(args: Any) -> tuple[briefs.Brief, Rules, str]:
    rules, kpi, seed = parse_rules(args)
    return store.compose(db_session(), rules, kpi=kpi, seed=seed, now=utcnow()), rules, kpi


@bp.get("/")
@requires("feedback.view")
def index() -> Any:
    """The production brief per market with its rules as a form, and the saved briefs."""
    session = db_session()
    error, brief, rules, kpi = "", None, Rules(), request.args.get("kpi", "hook_rate")
    try:
        brief, rules, kpi = _brief(request.args)
    except InvalidInput as exc:
        error = exc.message
    page = render_template(
        "feedback/brief.html",
        brief=brief,
        rules=rules,
        kpi=kpi,
        kpis=store.KPIS,
        error=error,
        hooks=vocabulary.names(session, TermKind.HOOK),
        headline=briefs.headline,
        history=store.history(session, now=utcnow()),
        query=request.query_string.decode(),
    )
    return (page, 400) if error else page


@bp.get("/brief.<any(md, csv):fmt>")
@requires("feedback.view")
def export(fmt: str) -> Any:
    """The brief as shown, as a Markdown or CSV download."""
    brief, _, _ = _brief(request.args)
    return _download(brief_text(brief, fmt), fmt, f"brief-{brief.created_at:%Y-%m-%d}")


def brief_text(brief: briefs.Brief, fmt: str) -> str:
    return briefs.to_markdown(brief) if fmt == "md" else briefs.to_csv(brief)


def _download(text: str, fmt: str, stem: str) -> Response:
    mimetype = "text/markdown" if fmt == "md" else "text/csv"
    response = Response(text, mimetype=f"{mimetype}; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{stem}.{fmt}"'
    return response


@bp.post("/briefs")
@requires("feedback.edit")
def save() -> Any:
    """Save the brief with these rules to the history."""
    session = db_session()
    try:
        brief, _, kpi = _brief(request.form)
        if brief.empty:
            raise InvalidInput(brief.note or "There is nothing to save: no market has a slate.")
    except InvalidInput as exc:
        flash(exc.message, "error")
        return redirect(url_for("feedback.index"))
    row = store.save(session, brief, kpi=kpi, by=current_user.user.username)
    session.commit()
    flash(f"Saved brief {row.id}.", "success")
    return redirect(url_for("feedback.index"))


@bp.get("/briefs/<int:brief_id>.<any(md, csv):fmt>")
@requires("feedback.view")
def saved_export(brief_id: int, fmt: str) -> Any:
    row = store.saved(db_session(), brief_id)
    return _download(row.markdown if fmt == "md" else row.csv, fmt, f"brief-{brief_id}")


# -- vocabularies -------------------------------------------------------------------------


@bp.get("/vocabulary")
@requires("feedback.view")
def vocabulary_page() -> Any:
    session = db_session()
    return render_template(
        "feedback/vocabulary.html",
        vocabularies={k: vocabulary.terms(session, k, retired=True) for k in TermKind.ALL},
    )


@bp.post("/vocabulary")
@requires("feedback.edit")
def add_term() -> Any:
    session = db_session()
    form = request.form
    with form_change(session) as change:
        term = vocabulary.add_term(
            session,
            form.get("kind", ""),
            form.get("name", ""),
            label=form.get("label", ""),
            keywords=form.get("keywords", ""),
        )
        change.message = f"Added the {term.kind} {term.name}."
    return redirect(url_for("feedback.vocabulary_page"))


@bp.post("/vocabulary/<int:term_id>")
@requires("feedback.edit")
def update_term(term_id: int) -> Any:
    """Rename or relabel a term, change its keywords, retire or restore it."""
    session = db_session()
    form = request.form
    action = form.get("action", "save")
    with form_change(session) as change:
        if action not in ("save", "retire", "restore"):
            raise InvalidInput(f"Unknown action {action!r}; use save, retire or restore.")
        term = vocabulary.update_term(
            session,
            term_id,
            name=form.get("name") if action == "save" else None,
            label=form.get("label") if action == "save" else None,
            keywords=form.get("keywords") if action == "save" else None,
            retired={"retire": True, "restore": False}.get(action),
        )
        change.message = f"Saved the {term.kind} {term.name}."
    return redirect(url_for("feedback.vocabulary_page"))


# -- tagging --------------------------------------------------------------------------------


@bp.get("/episodes/<int:episode_id>")
@requires("feedback.view")
def episode_page(episode_id: int) -> Any:
    """An episode's hook and tropes, with suggestions from its transcript to confirm."""
    session = db_session()
    episode = session.get(Episode, episode_id)
    if episode is None:
        raise NotFound(f"No episode {episode_id}.")
    return render_template(
        "feedback/episode.html",
        episode=episode,
        series=session.get(Series, episode.series_id),
        hooks=vocabulary.terms(session, TermKind.HOOK),
        tropes=vocabulary.terms(session, TermKind.TROPE),
        suggestions=vocabulary.suggest(session, episode_id),
        has_transcript=bool(vocabulary.transcript_lines(session, episode_id)),
    )


@bp.post("/episodes/<int:episode_id>")
@requires("feedback.edit")
def tag_episode(episode_id: int) -> Any:
    session = db_session()
    try:
        episode = vocabulary.tag_episode(
            session,
            episode_id,
            hook=request.form.get("hook"),
            tropes=request.form.getlist("tropes"),
        )
    except HooklineError as error:
        session.rollback()
        if isinstance(error, NotFound):
            raise
        flash(error.message, "error")
    else:
        session.commit()
        flash(f"Tagged episode {episode.number}: {episode.hook_type or 'no hook'}.", "success")
    return redirect(url_for("feedback.episode_page", episode_id=episode_id))


# -- simulation ---------------------------------------------------------------------------


@bp.route("/simulation", methods=["GET", "POST"])
@requires("feedback.view")
def simulation() -> Any:
    """Regret by round: a small simulation run here, or an uploaded `hookline simulate` result."""
    error, result, source = "", None, ""
    try:
        if request.method == "POST":
            result, source = _uploaded(), "uploaded result"
        else:
            values = _simulation_values(request.args)
            result = _simulated(**values)
            source = (
                f"{values['seeds']} simulated world(s), {values['rounds']} rounds, "
                f"{values['episodes']} episodes per market per round"
            )
        figure = charts.regret(result)
    except InvalidInput as exc:
        error, figure = exc.message, None
    page = render_template(
        "feedback/simulation.html",
        figure=_figure_json(figure) if figure is not None else None,
        result=result,
        source=source,
        error=error,
        args=request.args,
        limits=MAX_SIMULATION,
    )
    return (page, 400) if error else page


def _simulation_values(args: Any) -> dict[str, int]:
    defaults = {"rounds": 8, "episodes": 10, "seeds": 1, "seed": 0}
    values = {}
    for name, default in defaults.items():
        raw = (args.get(name) or "").strip()
        if raw and not raw.isdigit():
            raise InvalidInput(f"{name}={raw!r} is not a whole number.")
        values[name] = int(raw) if raw else default
        top = MAX_SIMULATION.get(name)
        if top is not None and not 1 <= values[name] <= top:
            raise InvalidInput(
                f"{name} must be between 1 and {top} here; run `hookline simulate` for more "
                "and upload its result."
            )
    return values


@lru_cache(maxsize=16)
def _simulated(rounds: int, episodes: int, seeds: int, seed: int) -> dict[str, Any]:
    try:
        runs = [
            simulate.run(simulate.Setup(seed=s, rounds=rounds, episodes=episodes, hooks=6))
            for s in range(seed, seed + seeds)
        ]
    except FeedbackInputError as error:
        raise InvalidInput(str(error)) from None
    return simulate.summarize(runs)


def _uploaded() -> dict[str, Any]:
    upload = request.files.get("result")
    if upload is None or not upload.filename:
        raise InvalidInput("Choose the JSON file `hookline simulate --out` wrote.")
    try:
        return json.loads(upload.read(5_000_000))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"The file is not JSON ({exc}).") from None


def _figure_json(fig: Any) -> Markup:
    # Safe inside <script type="application/json">: nothing can close the tag.
    text = fig.to_json().replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)
