"""The API against its OpenAPI document: every endpoint answers, and schemathesis finds nothing wrong."""

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.opendata import make_sample

SCHEMATHESIS = Path(sys.executable).parent / "st"
CONFIG = Path(__file__).resolve().parent.parent / "schemathesis.toml"


@pytest.fixture
def live_api(app, make_officer):
    """The app with sample projects, served over HTTP on a free local port."""
    make_sample(app, make_officer)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_schemathesis_finds_no_server_error_and_no_response_that_breaks_the_schema(live_api, tmp_path):
    result = subprocess.run(
        [
            str(SCHEMATHESIS),
            "--config-file",
            str(CONFIG),
            "run",
            f"{live_api}/api/v1/openapi.json",
            "--checks",
            "all",
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            "25",
            "--seed",
            "2026",
            "--workers",
            "1",
            "--report-dir",
            str(tmp_path),
        ],
        cwd=tmp_path,  # schemathesis keeps a cache folder where it runs
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-15000:] + result.stderr[-3000:]
