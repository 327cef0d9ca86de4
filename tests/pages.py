"""Checks every HTML page must pass, and helpers to read pages and send forms."""

import re

import html5lib
from bs4 import BeautifulSoup
from flask.testing import FlaskClient

# The example address in the email format hint is not anyone's.
EXAMPLE_EMAILS = {"name@council.gov.uk"}
EMAIL_PATTERN = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


class PageProblem(AssertionError):
    pass


def check_page(html: str, *, public: bool, allowed_emails: set[str]) -> BeautifulSoup:
    """Fail unless the page parses cleanly, has one h1, unique ids, and a title that starts with the h1."""
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    try:
        parser.parse(html)
    except html5lib.html5parser.ParseError as error:
        line = error.args[0] if error.args else ""
        raise PageProblem(f"HTML does not parse: {error} {line}") from None
    soup = BeautifulSoup(html, "html.parser")
    h1s = soup.find_all("h1")
    if len(h1s) != 1:
        raise PageProblem(f"expected exactly one h1, found {len(h1s)}")
    ids = [element["id"] for element in soup.select("[id]")]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise PageProblem(f"duplicate ids: {sorted(duplicates)}")
    title = " ".join(soup.title.get_text().split())
    heading = " ".join(h1s[0].get_text().split())
    if not title.removeprefix("Error: ").startswith(heading):
        raise PageProblem(f"title {title!r} does not start with the h1 {heading!r}")
    if public:
        leaked = set(EMAIL_PATTERN.findall(soup.get_text(" "))) | {
            m for a in soup.select("a[href^=mailto]") for m in EMAIL_PATTERN.findall(a["href"])
        }
        leaked -= allowed_emails | EXAMPLE_EMAILS
        if leaked:
            raise PageProblem(f"a public page shows email addresses: {sorted(leaked)}")
    return soup


class PageCheckingClient(FlaskClient):
    """A test client that checks every HTML page it receives.

    Pages seen while nobody is signed in must show no email address.
    """

    signed_in = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Addresses this client typed in itself may be shown back to it.
        self.own_emails: set[str] = set()

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        if response.mimetype == "text/html" and response.status_code != 304:
            check_page(
                response.get_data(as_text=True),
                public=not self.signed_in,
                allowed_emails={self.application.config["ORGANISER_CONTACT"], *self.own_emails},
            )
        return response

    def page(self, url: str, status: int = 200) -> BeautifulSoup:
        """GET a page, check its status, and return it parsed."""
        response = self.get(url)
        assert response.status_code == status, f"{url}: {response.status_code}, expected {status}"
        return BeautifulSoup(response.get_data(as_text=True), "html.parser")

    def csrf_token(self, url: str) -> str:
        """The CSRF token from the first form on a page."""
        soup = self.page(url)
        field = soup.select_one("input[name=csrf_token]")
        assert field is not None, f"no form with a CSRF token on {url}"
        return field["value"]

    def submit(self, url: str, data: dict, *, page: str | None = None, follow_redirects: bool = False):
        """Send a form as a browser would: read its CSRF token from the page first."""
        page = page or url
        if data.get("email"):
            self.own_emails.add(data["email"].strip().lower())
        token = self.csrf_token(page)
        # Browsers send the page's address as the Referer, which CSRF protection checks over HTTPS.
        return self.post(
            url,
            data={"csrf_token": token, **data},
            headers={"Referer": f"https://localhost{page}"},
            follow_redirects=follow_redirects,
        )


def soup_of(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def error_messages(response) -> list[str]:
    """The error messages shown next to fields and in the error summary."""
    soup = soup_of(response)
    found = soup.select(".govuk-error-message, .govuk-error-summary__list li")
    messages = [" ".join(e.get_text().split()).removeprefix("Error: ") for e in found]
    return list(dict.fromkeys(messages))


def statement_count(response) -> int:
    return int(response.headers["X-SQL-Count"])


def assert_statement_count_is_flat(client, url: str, add_rows, *, budget: int | None = None) -> int:
    """Fetch `url`, add more of the rows it shows with `add_rows()`, fetch again: the SQL count must not change.

    Returns the count, and checks it against `budget` when one is given.
    """
    before = client.get(url)
    assert before.status_code == 200, f"{url}: {before.status_code}"
    add_rows()
    after = client.get(url)
    assert after.status_code == 200, f"{url}: {after.status_code}"
    first, second = statement_count(before), statement_count(after)
    assert first == second, f"{url}: {first} SQL statements before adding rows, {second} after"
    if budget is not None:
        assert second <= budget, f"{url}: {second} SQL statements, budget {budget}"
    return second
