from flask import Blueprint

bp = Blueprint("opendata", __name__)

from pipeline.opendata import routes  # noqa: E402, F401
