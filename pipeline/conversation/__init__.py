from flask import Blueprint

# cli_group=None: its commands are top-level (`flask digests send daily`).
bp = Blueprint("conversation", __name__, cli_group=None)

from pipeline.conversation import cli, routes  # noqa: E402, F401
