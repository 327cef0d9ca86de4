from flask import Blueprint

bp = Blueprint("api", __name__)

from pipeline.api import routes  # noqa: E402, F401
