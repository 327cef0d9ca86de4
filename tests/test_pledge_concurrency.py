"""Pledges under load: hundreds at the same moment through several server processes on one database all land,
a form sent many times at once makes one pledge, and the totals shown equal the sum of the rows."""

import http.client
import json
import os
import re
import selectors
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from pipeline.extensions import db
from pipeline.models import Activity, OutboxMessage, Pledge, PledgeEvent
from tests.factories import NeedInput, make_project

ROOT = Path(__file__).resolve().parent.parent
SERVERS = 3
OFFICERS = 10
PLEDGES = 200
REPEATED_FORMS = 10
COPIES = 3


@pytest.fixture
def servers(app, smtp_server, artifacts_dir):
    """Several processes each serving the app on its own port, on the test database and SMTP server."""
    controller, _ = smtp_server
    env = {
        **os.environ,
        "PIPELINE_TEST_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "PIPELINE_TEST_SMTP_PORT": str(controller.port),
    }
    kind = app.config["SQLALCHEMY_DATABASE_URI"].split(":", 1)[0].split("+")[0]
    logs = [artifacts_dir / f"pledge-concurrency-{kind}-server-{number}.log" for number in range(SERVERS)]
    processes = []
    for log in logs:
        with log.open("w") as stderr:
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "tests.serve_app"],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=stderr,
                    text=True,
                )
            )
    try:
        urls = []
        for process in processes:
            with selectors.DefaultSelector() as waiting:
                waiting.register(process.stdout, selectors.EVENT_READ)
                assert waiting.select(timeout=60), "a server did not start within 60 seconds"
            line = process.stdout.readline()
            assert line.startswith("PORT "), f"a server did not start: {line!r}"
            urls.append(f"http://127.0.0.1:{int(line.split()[1])}")
        yield urls, logs
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=20)
            process.stdout.close()


class Officer:
    """One officer's browser: a session cookie, sent over plain HTTP to whichever server it is given."""

    def __init__(self, email: str, password: str):
        self.email, self.password = email, password
        self.cookies: dict[str, str] = {}

    def request(self, base: str, method: str, path: str, form: dict | None = None, keep_cookies: bool = True):
        address = urlsplit(base)
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=120)
        headers = {"Cookie": "; ".join(f"{name}={value}" for name, value in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode()
        finally:
            connection.close()
        if keep_cookies:
            for header in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = header.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        return response.status, response.headers, text

    def sign_in(self, base: str) -> None:
        _, _, page = self.request(base, "GET", "/sign-in")
        token = hidden_fields(page)["csrf_token"]
        status, _, _ = self.request(
            base, "POST", "/sign-in", {"csrf_token": token, "email": self.email, "password": self.password}
        )
        assert status == 302, f"{self.email} could not sign in"


def hidden_fields(page: str) -> dict[str, str]:
    main = BeautifulSoup(page, "html.parser").select_one("main")
    return {field["name"]: field.get("value", "") for field in main.select("form input[type=hidden]")}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def fire(jobs: list) -> tuple[list, float]:
    """Run every job at the same moment, one thread each; return their results and the wall time."""
    barrier = threading.Barrier(len(jobs))

    def run(job):
        barrier.wait()
        started = time.perf_counter()
        result = job()
        return result, time.perf_counter() - started

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        results = list(pool.map(run, jobs))
    return results, time.perf_counter() - started


def test_pledges_sent_at_the_same_moment_through_several_servers_all_land(
    app, servers, make_officer, mailbox, artifacts_dir
):
    urls, logs = servers
    codes = ["BIR", "MAN", "CRF", "GLG", "BIR", "MAN", "CRF", "GLG", "BIR", "MAN"]
    owner = make_officer("LDS")
    slug, project_id = make_project(
        app, owner, title="Shared waste data", money_target=100_000, people_needs=[NeedInput("Developer", 10_000)]
    )
    officers = []
    for number, code in enumerate(codes[:OFFICERS]):
        person = make_officer(code)
        officer = Officer(person.email, person.password)
        officer.sign_in(urls[number % SERVERS])
        officers.append(officer)

    # Each pledge gets its own form, read as a browser would: a CSRF token and a fresh idempotency key.
    def open_form(number: int, kind: str) -> tuple[Officer, str, dict]:
        officer, base = officers[number % OFFICERS], urls[number % SERVERS]
        status, _, page = officer.request(base, "GET", f"/projects/{slug}/pledge?kind={kind}")
        assert status == 200
        return officer, base, hidden_fields(page)

    forms = [open_form(number, "money" if number % 2 == 0 else "people") for number in range(PLEDGES)]
    need = BeautifulSoup(officers[1].request(urls[0], "GET", f"/projects/{slug}/pledge?kind=people")[2], "html.parser")
    need_id = need.select_one("input[name=need]")["value"]
    amounts = {number: number + 1 for number in range(0, PLEDGES, 2)}
    days = {number: number % 3 + 1 for number in range(1, PLEDGES, 2)}

    def post(number: int, officer: Officer, base: str, fields: dict):
        values = {"amount": str(amounts[number])} if number in amounts else {"need": need_id, "days": str(days[number])}
        path = f"/projects/{slug}/pledge?kind={fields['kind']}"
        return officer.request(base, "POST", path, {**fields, **values}, keep_cookies=False)

    jobs = [lambda n=n, form=form: post(n, *form) for n, form in enumerate(forms)]
    results, wall = fire(jobs)
    statuses = [status for (status, _, _), _ in results]
    assert statuses == [302] * PLEDGES, {status: statuses.count(status) for status in set(statuses)}
    assert {headers["Location"] for (_, headers, _), _ in results} == {f"/projects/{slug}"}
    latencies = [seconds for _, seconds in results]

    # The same form sent several times at once, to different servers, makes one pledge.
    repeated = [open_form(number, "money") for number in range(REPEATED_FORMS)]
    copies = [
        lambda form=form, copy=copy: form[0].request(
            urls[copy % SERVERS],
            "POST",
            f"/projects/{slug}/pledge?kind=money",
            {**form[2], "amount": "1000"},
            keep_cookies=False,
        )
        for form in repeated
        for copy in range(COPIES)
    ]
    repeat_results, repeat_wall = fire(copies)
    assert [status for (status, _, _), _ in repeat_results] == [302] * (REPEATED_FORMS * COPIES)

    expected_pounds = sum(amounts.values()) + 1000 * REPEATED_FORMS
    expected_days = sum(days.values())
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Pledge)) == PLEDGES + REPEATED_FORMS
        assert db.session.scalar(select(func.sum(Pledge.amount))) == expected_pounds
        assert db.session.scalar(select(func.sum(Pledge.days))) == expected_days
        assert db.session.scalar(select(func.count()).select_from(PledgeEvent)) == PLEDGES + REPEATED_FORMS
        offered = select(func.count()).where(Activity.kind == "pledge_offered")
        assert db.session.scalar(offered) == PLEDGES + REPEATED_FORMS
        emails = select(OutboxMessage).where(OutboxMessage.subject.startswith("New pledge"))
        sent = db.session.scalars(emails).all()
        assert len(sent) == PLEDGES + REPEATED_FORMS
        unsent = [message.last_error for message in sent if message.sent_at is None]
        assert not unsent, unsent[:3]

    status, _, page = officers[0].request(urls[0], "GET", f"/projects/{slug}")
    text = " ".join(BeautifulSoup(page, "html.parser").select_one("main").get_text(" ").split())
    assert f"£{expected_pounds:,} pledged of £100,000 asked for" in text
    assert f"{expected_days} days pledged of 10,000 days asked for" in text
    status, _, ledger = officers[0].request(urls[1], "GET", f"/projects/{slug}/pledges")
    assert len(re.findall(r'class="app-timeline__item"', ledger)) == PLEDGES + REPEATED_FORMS

    for log in logs:
        written = log.read_text()
        assert "database is locked" not in written and "Traceback" not in written, written[-3000:]
    mailbox.wait_for(owner.email, PLEDGES + REPEATED_FORMS, timeout=30)

    kind = app.config["SQLALCHEMY_DATABASE_URI"].split(":", 1)[0].split("+")[0]
    report = {
        "database": kind,
        "servers": SERVERS,
        "officers": OFFICERS,
        "pledges": PLEDGES,
        "burst_seconds": round(wall, 2),
        "latency_median_ms": round(statistics.median(latencies) * 1000),
        "latency_p95_ms": round(percentile(latencies, 0.95) * 1000),
        "latency_max_ms": round(max(latencies) * 1000),
        "repeated_forms": REPEATED_FORMS,
        "copies_each": COPIES,
        "repeat_burst_seconds": round(repeat_wall, 2),
    }
    (artifacts_dir / f"pledge-concurrency-{kind}.json").write_text(json.dumps(report, indent=2) + "\n")
