from flask import Blueprint

bp = Blueprint("search", __name__)

from pipeline.search import commands, routes  # noqa: E402, F401
