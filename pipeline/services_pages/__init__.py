"""Pages about Local Government Services List services (the `services` blueprint)."""

from flask import Blueprint

bp = Blueprint("services", __name__)

from pipeline.services_pages import routes  # noqa: E402, F401
