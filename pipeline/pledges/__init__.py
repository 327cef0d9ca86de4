from flask import Blueprint

bp = Blueprint("pledges", __name__)

from pipeline.pledges import routes  # noqa: E402, F401
