from flask import Blueprint

# cli_group="organisers": its commands are `flask organisers ...`.
bp = Blueprint("curation", __name__, cli_group="organisers")

from pipeline.curation import cli, merge_routes, moderation_routes, routes  # noqa: E402, F401
