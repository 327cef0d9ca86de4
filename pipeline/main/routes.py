"""The home page, the service's own information pages and the health check."""

from flask import jsonify, render_template
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from pipeline.access import public
from pipeline.extensions import db
from pipeline.main import bp
from pipeline.models.project import PHASE_LABELS
from pipeline.services import curation, project_lists


@bp.get("/")
@public
def home():
    return render_template(
        "main/home.html",
        counts=project_lists.phase_counts(),
        recent=project_lists.recently_updated(),
        featured=curation.featured_projects(),
        phase_labels=PHASE_LABELS,
    )


@bp.get("/accessibility")
@public
def accessibility():
    return render_template("main/accessibility.html")


@bp.get("/privacy")
@public
def privacy():
    return render_template("main/privacy.html")


@bp.get("/cookies")
@public
def cookies():
    return render_template("main/cookies.html")


@bp.get("/healthcheck")
@public
def healthcheck():
    """Report whether the app can reach its database."""
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok", database="ok")
