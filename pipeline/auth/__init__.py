from flask import Blueprint

bp = Blueprint("auth", __name__)

from pipeline.auth import routes  # noqa: E402, F401
