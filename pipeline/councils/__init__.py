from flask import Blueprint

bp = Blueprint("councils", __name__)

from pipeline.councils import routes  # noqa: E402, F401
