"""Atom feeds: valid Atom 1.0, read from the activity log, found from the pages they belong to."""

import re
import xml.etree.ElementTree as ET
from datetime import datetime

import pytest
from sqlalchemy import select

from pipeline.extensions import db
from pipeline.models import Comment, Project, User
from pipeline.services import activity
from tests.factories import make_project
from tests.opendata import BULKY_WASTE, add_conversation_and_pledges, add_projects, make_sample, move_on
from tests.pages import assert_statement_count_is_flat, soup_of

ATOM = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")
TAG_URI = re.compile(r"tag:[a-z0-9.-]+,\d{4}(-\d\d(-\d\d)?)?:\S+")


@pytest.fixture
def sample(app, make_officer):
    return make_sample(app, make_officer)


def one(element, name: str):
    found = element.findall(ATOM + name)
    assert len(found) == 1, f"expected one {name}, found {len(found)}"
    return found[0]


def moment(element) -> datetime:
    text = element.text or ""
    assert RFC3339.fullmatch(text), text
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def valid_atom(client, url: str) -> ET.Element:
    """Fetch a feed, parse it with a real XML parser, and check what Atom 1.0 (RFC 4287) requires of it."""
    response = client.get(url)
    assert response.status_code == 200, url
    assert response.mimetype == "application/atom+xml"
    feed = ET.fromstring(response.get_data())
    assert feed.tag == ATOM + "feed"
    ids = [one(feed, "id").text]
    assert one(feed, "title").text
    updated = moment(one(feed, "updated"))
    assert one(one(feed, "author"), "name").text  # so entries need no author of their own
    links = {link.get("rel", "alternate"): link.get("href") for link in feed.findall(ATOM + "link")}
    assert links["self"].endswith(url) and links["alternate"].startswith("http")
    for entry in feed.findall(ATOM + "entry"):
        ids.append(one(entry, "id").text)
        assert one(entry, "title").text
        assert moment(one(entry, "updated")) <= updated
        moment(one(entry, "published"))
        alternate = [link for link in entry.findall(ATOM + "link") if link.get("rel", "alternate") == "alternate"]
        assert len(alternate) == 1 and alternate[0].get("href").startswith("http")
        assert one(entry, "summary").get("type") == "text"
    assert len(ids) == len(set(ids)), "ids must be unique"
    assert all(TAG_URI.fullmatch(i) for i in ids), ids
    return feed


def entries(feed) -> list[tuple[str, str]]:
    return [(one(e, "title").text, one(e, "summary").text) for e in feed.findall(ATOM + "entry")]


def test_every_feed_is_valid_atom(client, sample):
    slug = sample.bulky[0]
    for url in (
        "/feeds/projects.atom",
        f"/feeds/projects/{slug}.atom",
        "/feeds/councils/leeds-city-council.atom",
        "/feeds/councils/manchester-city-council.atom",
        f"/feeds/services/{BULKY_WASTE}.atom",
        "/feeds/services/1.atom",
        "/feeds/tags/waste.atom",
    ):
        valid_atom(client, url)


def test_the_new_projects_feed(client, sample):
    feed = valid_atom(client, "/feeds/projects.atom")
    titles = [title for title, _ in entries(feed)]
    assert sorted(titles) == sorted(
        ["Book a bulky waste collection online", "Report fly-tipping with photos", sample_formula_title()]
    )
    assert ("Book a bulky waste collection online", "Residents book and pay without phoning") in entries(feed)


def sample_formula_title() -> str:
    return '=HYPERLINK("https://evil.example", "click")'


def kinds(feed) -> list[str]:
    return [one(e, "category").get("term") for e in feed.findall(ATOM + "entry")]


def test_a_project_feed_shows_every_kind_of_activity_read_from_the_log(app, client, sample):
    slug, project_id = sample.bulky
    feed = valid_atom(client, f"/feeds/projects/{slug}.atom")
    assert kinds(feed) == [
        "reply_posted",
        "comment_posted",
        "update_posted",
        "pledge_declined",
        "pledge_offered",
        "pledge_changed",
        "pledge_offered",
        "pledge_delivered",
        "pledge_accepted",
        "pledge_offered",
        "phase_changed",
        "project_posted",
    ]
    assert [title for title, _ in entries(feed)[-3:]] == [
        "New pledge: Book a bulky waste collection online",
        "Phase changed: Book a bulky waste collection online",
        "New project: Book a bulky waste collection online",
    ]
    assert entries(feed)[-3][1] == "Birmingham City Council pledged £5,000 to Book a bulky waste collection online"

    # A kind no feed code knows (as a future area will record) appears by itself; a request to join does not.
    with app.app_context():
        project, user = db.session.get(Project, project_id), db.session.get(User, sample.leeds_officer.id)
        activity.record("outcome_recorded", project, user, "The project recorded its outcome")
        activity.record("join_requested", project, user, "Someone asked to join", "join_request", 1)
        db.session.commit()
    feed = valid_atom(client, f"/feeds/projects/{slug}.atom")
    assert ("Outcome recorded: Book a bulky waste collection online", "The project recorded its outcome") in entries(
        feed
    )
    assert "Someone asked to join" not in [summary for _, summary in entries(feed)]


def test_a_deleted_comment_leaves_the_feeds(app, client, sample):
    slug, project_id = sample.bulky
    with app.app_context():
        comments = db.session.scalars(select(Comment).where(Comment.project_id == project_id)).all()
        deleted = {c.id for c in comments if c.is_deleted}
        shown = {c.id for c in comments if not c.is_deleted}
    assert len(deleted) == 1 and len(shown) == 2
    for url in (f"/feeds/projects/{slug}.atom", "/feeds/councils/leeds-city-council.atom", "/feeds/tags/waste.atom"):
        links = [link.get("href") for link in valid_atom(client, url).iter(ATOM + "link")]
        linked = {int(href.rsplit("/", 1)[1]) for href in links if "/comments/" in href}
        assert shown <= linked and not deleted & linked, url


def test_each_entry_links_to_what_it_is_about(client, sample):
    slug = sample.bulky[0]
    feed = valid_atom(client, f"/feeds/projects/{slug}.atom")
    project = f"https://localhost/projects/{slug}"
    patterns = {
        "project_posted": re.escape(project),
        "phase_changed": re.escape(project + "#timeline"),
        "update_posted": re.escape(project + "/updates/") + r"\d+",
        "comment_posted": re.escape(project + "/comments/") + r"\d+",
        "reply_posted": re.escape(project + "/comments/") + r"\d+",
    }
    for entry in feed.findall(ATOM + "entry"):
        kind = one(entry, "category").get("term")
        href = one(entry, "link").get("href")
        pattern = re.escape(project + "/pledges#pledge-") + r"\d+" if kind.startswith("pledge_") else patterns[kind]
        assert re.fullmatch(pattern, href), (kind, href)
        path, _, anchor = href.removeprefix("https://localhost").partition("#")
        response = client.get(path, follow_redirects=True)
        assert response.status_code == 200, href
        if anchor:
            assert soup_of(response).select_one(f"#{anchor}"), href


def test_council_service_and_tag_feeds_cover_their_projects(client, sample):
    def projects_in(url):
        return {title.split(": ", 1)[1] for title, _ in entries(valid_atom(client, url))}

    bulky, tipping = "Book a bulky waste collection online", "Report fly-tipping with photos"
    assert projects_in("/feeds/councils/leeds-city-council.atom") == {bulky}
    assert projects_in("/feeds/councils/birmingham-city-council.atom") == {tipping, sample_formula_title()}
    # Manchester asked to join the Leeds project and was not accepted.
    assert projects_in("/feeds/councils/manchester-city-council.atom") == set()
    assert projects_in(f"/feeds/services/{BULKY_WASTE}.atom") == {bulky, tipping}
    assert projects_in("/feeds/tags/online-payments.atom") == {bulky}


def test_text_that_xml_cannot_hold_is_left_out(app, client, sample):
    slug, _ = make_project(app, sample.leeds_officer, title="Bell\x07 and form\x0cfeed", summary="Tab\tkept")
    feed = valid_atom(client, f"/feeds/projects/{slug}.atom")
    assert entries(feed)[0][0] == "New project: Bell and formfeed"


@pytest.mark.parametrize(
    ("page", "feed"),
    [
        ("/", "/feeds/projects.atom"),
        ("/projects", "/feeds/projects.atom"),
        ("/projects?tag=waste", "/feeds/tags/waste.atom"),
        ("/projects/book-a-bulky-waste-collection-online", "/feeds/projects/book-a-bulky-waste-collection-online.atom"),
        ("/councils/leeds-city-council", "/feeds/councils/leeds-city-council.atom"),
        (f"/services/{BULKY_WASTE}", f"/feeds/services/{BULKY_WASTE}.atom"),
        ("/data", "/feeds/projects.atom"),
    ],
)
def test_feeds_are_discoverable_from_their_pages(client, sample, page, feed):
    soup = client.page(page)
    links = [link["href"] for link in soup.head.select("link[rel=alternate][type='application/atom+xml']")]
    assert feed in links
    for href in links:
        valid_atom(client, href)


@pytest.mark.parametrize(
    "url",
    [
        "/feeds/projects/no-such-project.atom",
        "/feeds/councils/no-such-council.atom",
        "/feeds/services/999999.atom",
        "/feeds/services/99999999999999999999.atom",
        "/feeds/tags/no-such-tag.atom",
    ],
)
def test_unknown_feeds_are_not_found(client, url):
    assert client.get(url).status_code == 404


def test_a_nul_character_is_refused(client):
    assert client.get("/feeds/projects/%00.atom").status_code == 400


def test_feeds_run_a_fixed_number_of_statements(app, client, sample):
    def more_rows():
        for _, project_id in add_projects(app, sample.birmingham_officer, 3):
            add_conversation_and_pledges(app, sample.birmingham_officer, sample.leeds_officer, project_id, 1)
        move_on(app, sample.leeds_officer, sample.bulky[1])

    # Two statements, and one more where comments may be among the entries (are any deleted?).
    feeds = {
        "/feeds/projects.atom": 2,
        f"/feeds/projects/{sample.bulky[0]}.atom": 5,
        "/feeds/councils/birmingham-city-council.atom": 5,
        f"/feeds/services/{BULKY_WASTE}.atom": 6,
        "/feeds/tags/waste.atom": 5,
    }
    for url, budget in feeds.items():
        assert_statement_count_is_flat(client, url, more_rows, budget=budget)
