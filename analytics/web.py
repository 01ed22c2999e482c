"""Pages of the analytics domain: the latest numbers of every publication."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from sqlmodel import col, func, select

from hookline.auth import requires
from hookline.models import MetricSnapshot, Publication
from hookline.web.context import db_session

bp = Blueprint("analytics", __name__, url_prefix="/analytics")


@bp.get("/")
@requires("analytics.view")
def index() -> Any:
    session = db_session()
    latest = (
        select(MetricSnapshot.publication_id, func.max(MetricSnapshot.as_of).label("as_of"))
        .group_by(MetricSnapshot.publication_id)
        .subquery()
    )
    rows = session.exec(
        select(Publication, MetricSnapshot)
        .join(latest, col(latest.c.publication_id) == Publication.id)
        .join(
            MetricSnapshot,
            (col(MetricSnapshot.publication_id) == latest.c.publication_id)
            & (col(MetricSnapshot.as_of) == latest.c.as_of),
        )
        .order_by(col(MetricSnapshot.views).desc())
    ).all()
    return render_template("analytics/index.html", rows=rows)
