from flask import Blueprint

bp = Blueprint("projects", __name__)

from pipeline.projects import routes  # noqa: E402, F401, I001
from pipeline.projects import team_routes  # noqa: E402, F401
from pipeline.projects import commands  # noqa: E402, F401
