from flask import Blueprint

bp = Blueprint("main", __name__)

from pipeline.main import routes  # noqa: E402, F401
