"""Serve the app in a process of its own, for tests that need several servers on one database.

Run as `python -m tests.serve_app` with PIPELINE_TEST_DATABASE_URL and PIPELINE_TEST_SMTP_PORT set.
It prints `PORT <n>` once it listens on a free local port, and serves until it is terminated.
"""

import logging
import os
import sys

from werkzeug.serving import make_server

from pipeline import create_app
from tests.conftest import config_for


def main() -> None:
    config = config_for(os.environ["PIPELINE_TEST_DATABASE_URL"], int(os.environ["PIPELINE_TEST_SMTP_PORT"]))
    app = create_app(config)
    # Errors still reach stderr through the app's logger; one line per request would drown them.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    sys.stdout.write(f"PORT {server.server_port}\n")
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
