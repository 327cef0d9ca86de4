"""Browser tests: the app served on localhost, driven in headless Debian Chromium, with axe on every page."""

import os
import re
import threading
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium tries to reach Google's hosts and this closed network refuses it.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
RESULTS = {"passed": 0, "failed": 0, "skipped": 0, "pages": 0}


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing at /usr/bin/chromium: CI must install it (apt-get install -y chromium)")
        pytest.skip("Browser tests skipped: no Chromium at /usr/bin/chromium (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def live_server(app):
    """The app under test, served over HTTP on a free local port for the browser."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


class Journey:
    """A person's path through the site: every page they reach is checked by axe and photographed."""

    def __init__(self, page, base_url: str, artifacts: Path, name: str):
        self.page = page
        self.base_url = base_url
        self.artifacts = artifacts
        self.name = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        self.step = 0
        self.axe = Axe()

    def goto(self, path: str):
        response = self.page.goto(path if path.startswith("http") else self.base_url + path)
        self.check()
        return response

    def click(self, name: str, role: str = "button"):
        """Click a button or link that leads to a new page, then check that page."""
        with self.page.expect_navigation():
            self.page.get_by_role(role, name=name, exact=True).first.click()
        self.check()

    def fill(self, label: str, value: str):
        self.page.get_by_label(label, exact=True).fill(value)

    def heading(self) -> str:
        return self.page.locator("h1").inner_text().strip()

    def check(self):
        """Run axe for WCAG 2.2 A and AA on the current page and fail on any violation."""
        self.page.wait_for_load_state("load")
        self.step += 1
        RESULTS["pages"] += 1
        self.page.screenshot(path=str(self.artifacts / f"{self.name}-{self.step:02d}.png"), full_page=True)
        assert self.page.locator("h1").count() == 1, f"{self.page.url}: expected one h1"
        results = self.axe.run(self.page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
        assert results.violations_count == 0, f"{self.page.url}:\n{results.generate_report()}"


@pytest.fixture
def journey(request, browser, live_server, app, artifacts_dir):
    """A fresh browser context (no cookies) for one test; email links point at the live server."""
    previous = app.config["BASE_URL"]
    app.config["BASE_URL"] = live_server
    context = browser.new_context(base_url=live_server)
    page = context.new_page()
    page.set_default_timeout(10_000)
    folder = artifacts_dir / "browser"
    folder.mkdir(exist_ok=True)
    try:
        yield Journey(page, live_server, folder, request.node.name)
    finally:
        context.close()
        app.config["BASE_URL"] = previous


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if "journey" not in item.fixturenames:
        return
    if report.when == "call":
        RESULTS["passed" if report.passed else "failed"] += 1
    elif report.when == "setup" and report.skipped:
        RESULTS["skipped"] += 1


def pytest_terminal_summary(terminalreporter):
    if any(RESULTS.values()):
        terminalreporter.write_line(
            f"browser tests: {RESULTS['passed']} passed, {RESULTS['failed']} failed, {RESULTS['skipped']} skipped; "
            f"{RESULTS['pages']} pages checked with axe"
        )
