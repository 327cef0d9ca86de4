"""The projects list as a search page: the search box, highlights, facets, saved searches and the Atom feed."""

import xml.etree.ElementTree as ElementTree
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from pipeline.database import forget_kept_counts
from pipeline.extensions import db
from pipeline.models import SavedSearch, User
from pipeline.services import merges, project_lists, projects, saved_searches, teams, updates
from pipeline.timeutil import utcnow
from tests.conftest import sign_in
from tests.factories import NeedInput, make_project
from tests.pages import assert_statement_count_is_flat, soup_of

BULKY_WASTE, HOUSEHOLD_WASTE, PARKING_PERMITS = 528, 524, 474
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def waste_projects(app, officer, make_officer):
    """Bulky waste in Leeds (alpha), bin collections in Cardiff (beta), parking in Cardiff (alpha)."""
    cardiff = make_officer("CRF")
    make_project(
        app, officer, title="Book a bulky waste collection online", phase="alpha", service_ids=[BULKY_WASTE],
        problem="Residents phone to book collections of sofas & fridges <script>alert(1)</script>", tags=["waste"],
    )  # fmt: skip
    make_project(
        app, cardiff, title="Bin collection day finder", phase="beta", service_ids=[HOUSEHOLD_WASTE],
        problem="Residents put the wrong bins out.", tags=["waste"],
    )  # fmt: skip
    make_project(app, cardiff, title="Residents' parking permits", phase="alpha", service_ids=[PARKING_PERMITS])


def words(element) -> str:
    return " ".join(element.get_text().split())


def titles(soup) -> list[str]:
    return [words(a) for a in soup.select(".app-card h2 a")]


def option_text(soup, select_id: str, value: str) -> str:
    return soup.select_one(f"#{select_id} option[value='{value}']").get_text(strip=True)


def label_text(soup, input_id: str) -> str:
    return soup.select_one(f"label[for='{input_id}']").get_text(strip=True)


def test_search_finds_stemmed_words_and_highlights_them(client, waste_projects):
    soup = client.page("/projects?q=bins")
    assert soup.select_one("#search-q")["value"] == "bins"
    assert titles(soup) == ["Bin collection day finder"]
    result = soup.select_one(".app-search-result")
    assert [m.get_text() for m in result.select("h2 mark")] == ["Bin"]
    assert words(result.h2) == "Bin collection day finder"
    assert [m.get_text() for m in result.select(".app-search-result__snippet mark")] == ["bins"]
    assert soup.select_one("#result-count").get_text(" ", strip=True) == "1 project matches ‘bins’"


def test_text_from_people_is_escaped_around_the_highlights(client, waste_projects):
    response = client.get("/projects?q=sofas")
    html = response.get_data(as_text=True)
    assert "<script>alert" not in html
    snippet = soup_of(response).select_one(".app-search-result__snippet")
    assert snippet.decode_contents().count("<mark>") == 1
    assert "sofas</mark> &amp; fridges" in snippet.decode_contents()


def test_a_phrase_and_a_filter_with_facet_counts_all_in_the_url(client, waste_projects):
    soup = client.page('/projects?q="waste+collection"&phase=alpha')
    assert titles(soup) == ["Book a bulky waste collection online"]
    # Each facet counts what the search and the other filters give, so other phases still show their counts.
    assert label_text(soup, "filter-phase-alpha") == "Alpha (1)"
    assert label_text(soup, "filter-phase-beta") == "Beta (1)"  # its service is "Household waste collection"
    assert label_text(soup, "filter-phase-idea") == "Idea (0)"
    assert option_text(soup, "filter-nation", "England") == "England (1)"
    assert option_text(soup, "filter-nation", "Wales") == "Wales (0)"
    assert option_text(soup, "filter-region", "Yorkshire and The Humber") == "Yorkshire and The Humber (1)"

    soup = client.page("/projects?q=waste")
    assert label_text(soup, "filter-phase-alpha") == "Alpha (1)"
    assert label_text(soup, "filter-phase-beta") == "Beta (1)"
    assert option_text(soup, "filter-nation", "Wales") == "Wales (1)"
    environment = soup.select_one("#filter-function option:-soup-contains('Environment')")
    assert environment.get_text(strip=True).endswith("(2)")

    soup = client.page("/projects?q=waste&nation=Wales")
    assert titles(soup) == ["Bin collection day finder"]
    assert option_text(soup, "filter-nation", "England") == "England (1)"  # the nation filter itself is left out
    assert label_text(soup, "filter-phase-beta") == "Beta (1)"
    assert label_text(soup, "filter-phase-alpha") == "Alpha (0)"


def test_the_search_form_keeps_the_filters_and_links_keep_the_search(client, waste_projects, app, officer):
    for number in range(21):
        make_project(app, officer, title=f"Waste project {number}", phase="alpha")
    soup = client.page("/projects?q=waste&phase=alpha")
    search_box = soup.select_one("#search-q")
    assert search_box["form"] == "project-filters" and soup.select_one("form#project-filters")
    assert soup.select_one("#filter-phase-alpha").has_attr("checked")
    next_page = soup.select_one(".govuk-pagination__next a")["href"]
    assert parse_qs(urlsplit(next_page).query) == {"q": ["waste"], "phase": ["alpha"], "page": ["2"]}
    assert len(titles(client.page(next_page))) == 2
    feed = soup.select_one("link[rel=alternate][type='application/atom+xml']")["href"]
    assert parse_qs(urlsplit(feed).query) == {"q": ["waste"], "phase": ["alpha"]}


def test_relevance_is_the_default_order_for_a_search(client, waste_projects, app, officer):
    make_project(app, officer, title="Street cleaning", problem="Waste is left on the street.", phase="idea")
    soup = client.page("/projects?q=waste")
    assert titles(soup)[-1] == "Street cleaning"  # a match in the body only ranks below the titles
    assert words(soup.select_one("#filter-sort option[selected]")) == "Best match"
    assert titles(client.page("/projects?q=waste&sort=title")) == [
        "Bin collection day finder",
        "Book a bulky waste collection online",
        "Street cleaning",
    ]
    assert titles(client.page("/projects?q=waste&sort=")) == titles(client.page("/projects?q=waste"))
    # Without a search there is nothing to rank: the list goes back to the most recently updated.
    soup = client.page("/projects?sort=relevance")
    assert words(soup.select_one("#filter-sort option[selected]")) == "Recently updated"
    assert [words(o) for o in soup.select("#filter-sort option")] == ["Recently updated", "Newest", "Title A to Z"]


def test_no_match_suggests_removing_filters(client, waste_projects):
    soup = client.page("/projects?q=bins&phase=alpha&nation=England")
    assert titles(soup) == []
    assert "No projects match ‘bins’ with these filters" in soup.get_text(" ")
    links = {a.get_text(strip=True): a["href"] for a in soup.select("#remove-filters a")}
    assert set(links) == {"Remove ‘Phase: Alpha’", "Remove ‘Nation: England’"}
    assert parse_qs(urlsplit(links["Remove ‘Phase: Alpha’"]).query) == {"q": ["bins"], "nation": ["England"]}
    assert titles(client.page(links["Remove ‘Nation: England’"])) == []
    soup = client.page("/projects?q=zebra")
    assert "No projects match ‘zebra’. Check the spelling" in soup.get_text(" ")


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "*",
        "AND OR",
        '"unclosed',
        "NEAR(",
        "-bins",
        "'; DROP TABLE projects; --",
        "1' OR '1'='1",
        "<script>alert(1)</script>",
        "%00bins",
        "bins " * 400,
    ],
)
def test_bad_input_is_never_an_error(client, waste_projects, typed):
    response = client.get("/projects", query_string={"q": typed})
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.get_data(as_text=True)
    soup = soup_of(response)
    if typed in ("", "*", "AND OR", "-bins"):
        assert len(titles(soup)) == 3  # nothing to search for: the list
    assert client.get("/projects/feed.atom", query_string={"q": typed}).status_code == 200


def test_messages_say_what_was_searched_for(client, waste_projects):
    soup = client.page("/projects?q=" + "bins+" * 100)
    assert "only its first 200 characters were used" in soup.select_one(".app-search-notice").get_text()
    assert len(soup.select_one("#search-q")["value"]) <= 200
    assert titles(soup) == ["Bin collection day finder"]
    soup = client.page("/projects?q=-bins")
    assert "Add a word to search for" in soup.select_one(".app-search-notice").get_text()
    soup = client.page("/projects?q=%2A%2A")
    assert "Your search had no words to look for" in soup.select_one(".app-search-notice").get_text()


def test_filters_with_characters_the_database_refuses_are_refused_plainly(client, waste_projects):
    for args in ("region=%00", "council=%00x", "tag=a%00b", "q=%00", "sort=%00", "phase=%00"):
        response = client.get(f"/projects?{args}")
        assert response.status_code == 400, args
        assert "There is a problem with your request" in response.get_data(as_text=True)


def test_the_search_page_runs_the_same_statements_however_many_results(client, app, officer, make_officer):
    cardiff = make_officer("CRF")

    def add():
        for number in range(4):
            make_project(
                app, officer if number % 2 else cardiff, title=f"Bulky waste collection {number}", phase="alpha",
                service_ids=[BULKY_WASTE, HOUSEHOLD_WASTE], tags=["waste", f"tag {number}"],
                people_needs=[NeedInput("Developer", 3)],
            )  # fmt: skip

    def add_afresh():
        add()
        # Counted afresh on both fetches, as by a new process: how many statements the facet counts take depends
        # on what the process has kept, not on how many rows there are (see tests/unit/test_facet_cache.py).
        with app.app_context():
            forget_kept_counts(db.engine)

    add_afresh()
    url = "/projects?q=waste+collection&phase=alpha&phase=beta&nation=Wales&seeking=people"
    count = assert_statement_count_is_flat(client, url, add_afresh, budget=16)
    add_afresh()
    assert count == assert_statement_count_is_flat(client, "/projects?q=waste", add_afresh)


def test_the_feed_is_atom_and_public(anon, waste_projects):
    response = anon.get("/projects/feed.atom?q=waste&phase=alpha")
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    feed = ElementTree.fromstring(response.data)
    assert feed.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated", "author"):
        assert feed.find(f"{ATOM}{required}") is not None, required
    assert feed.find(f"{ATOM}title").text == "Pipeline projects: ‘waste’; Phase: Alpha"
    links = {link.get("rel"): link.get("href") for link in feed.findall(f"{ATOM}link")}
    assert links["self"] == "https://localhost/projects/feed.atom?q=waste&phase=alpha"
    assert links["alternate"] == "https://localhost/projects?q=waste&phase=alpha"
    [entry] = feed.findall(f"{ATOM}entry")
    assert entry.find(f"{ATOM}title").text == "Book a bulky waste collection online"
    assert entry.find(f"{ATOM}id").text.startswith("tag:localhost,2026:project:")
    assert entry.find(f"{ATOM}link").get("href") == "https://localhost/projects/book-a-bulky-waste-collection-online"
    assert entry.find(f"{ATOM}link").get("rel") == "alternate"
    assert entry.find(f"{ATOM}author/{ATOM}name").text == "Leeds City Council"
    for stamp in ("updated", "published"):
        assert entry.find(f"{ATOM}{stamp}").text.endswith("Z")
    assert "@" not in response.get_data(as_text=True)


def test_the_feed_holds_only_characters_xml_allows(anon, app, officer):
    make_project(app, officer, title="Bins\x0b and \x1fboxes", summary="Tabs\tand\x08 bells")
    feed = ElementTree.fromstring(anon.get("/projects/feed.atom").data)
    assert feed.find(f"{ATOM}entry/{ATOM}title").text == "Bins and boxes"


def test_an_officer_saves_a_search_and_sees_it(client, waste_projects, app, officer):
    soup = client.page('/projects?q="bulky+waste"&nation=England')
    save = soup.select_one("form[action^='/saved-searches']")
    response = client.submit(save["action"], {}, page='/projects?q="bulky+waste"&nation=England')
    assert response.status_code == 302 and response.headers["Location"] == "/saved-searches"
    soup = client.page("/saved-searches")
    assert "Your search has been saved." in soup.get_text()
    [item] = soup.select("#saved-searches li")
    assert item.h2.get_text(strip=True) == '‘"bulky waste"’; Nation: England'
    assert titles(client.page(item.h2.a["href"])) == ["Book a bulky waste collection online"]
    assert item.select_one("a[href^='/projects/feed.atom']")

    # Saving it again keeps one.
    client.submit(save["action"], {}, page='/projects?q="bulky+waste"&nation=England')
    assert "You had already saved this search." in client.page("/saved-searches").get_text()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SavedSearch)) == 1


def test_only_the_officer_who_saved_a_search_sees_or_deletes_it(client, app, officer, make_officer):
    client.submit("/saved-searches?q=waste", {}, page="/projects?q=waste")
    with app.app_context():
        token = db.session.scalar(select(SavedSearch.token))
    other = app.test_client()
    sign_in(other, make_officer("CRF"))
    assert not other.page("/saved-searches").select("#saved-searches li")
    response = other.submit(f"/saved-searches/{token}/delete", {}, page="/saved-searches")
    assert response.status_code == 404
    assert other.submit("/saved-searches/not-a-token/delete", {}, page="/saved-searches").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SavedSearch)) == 1

    response = client.submit(f"/saved-searches/{token}/delete", {}, page="/saved-searches")
    assert response.status_code == 302
    assert "The saved search has been deleted." in client.page("/saved-searches").get_text()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SavedSearch)) == 0


def test_signing_in_to_save_a_search_comes_back_to_it(anon, waste_projects):
    soup = anon.page("/projects?q=waste&phase=alpha")
    link = soup.find("a", string="Sign in to save this search")["href"]
    assert parse_qs(urlsplit(link).query)["next"] == ["/projects?q=waste&phase=alpha"]
    response = anon.post("/saved-searches?q=waste", data={})
    assert response.status_code in (302, 400)
    assert anon.get("/saved-searches").headers["Location"].startswith("/sign-in")


def test_new_matches_are_projects_posted_since_that_match(client, app, officer, make_officer):
    client.submit("/saved-searches?q=waste&nation=Wales", {}, page="/projects?q=waste&nation=Wales")
    cardiff = make_officer("CRF")
    make_project(app, cardiff, title="Old Cardiff waste project")
    since = utcnow()
    make_project(app, cardiff, title="New Cardiff waste project")
    make_project(app, cardiff, title="New Cardiff parking project")
    make_project(app, officer, title="New Leeds waste project")
    with app.app_context():
        saved = db.session.scalar(select(SavedSearch))
        assert [p.title for p in saved_searches.new_matches(saved, since)] == ["New Cardiff waste project"]
        assert saved_searches.new_matches(saved, utcnow() + timedelta(seconds=1)) == []
        assert saved_searches.get_saved_search(saved.token).id == saved.id


def test_similar_projects_on_a_project_page(client, app, officer, make_officer):
    slug, _ = make_project(
        app, officer, title="Book a bulky waste collection online", service_ids=[BULKY_WASTE], tags=["waste"],
        summary="Residents book sofas and fridges for collection",
    )  # fmt: skip
    make_project(
        app, make_officer("CRF"), title="Bulky waste bookings", service_ids=[BULKY_WASTE], summary="Phone queues"
    )
    make_project(app, officer, title="Garden waste subscriptions", tags=["waste"], summary="Stickers")
    make_project(app, officer, title="Parking permits", summary="Paper permits")
    soup = client.page(f"/projects/{slug}")
    panel = soup.select_one("#similar").find_next("ul")
    cards = {
        card.h3.get_text(strip=True): [li.get_text() for li in card.select("ul li")]
        for card in panel.select("li.app-card")
    }
    assert list(cards) == ["Bulky waste bookings", "Garden waste subscriptions"]
    assert cards["Bulky waste bookings"] == [
        "Same service: Bulky household waste collections",
        "Similar words: book, bulky, waste",
    ]
    assert cards["Garden waste subscriptions"] == ["Shared tag: waste", "Similar words: waste"]


def test_projects_merged_away_are_not_offered_as_similar(client, app, officer, make_officer):
    slug, _ = make_project(
        app, officer, title="Book a bulky waste collection online", service_ids=[BULKY_WASTE], tags=["waste"],
        summary="Residents book sofas and fridges for collection",
    )  # fmt: skip
    _, copy_id = make_project(app, make_officer("CRF"), title="Bulky waste bookings", service_ids=[BULKY_WASTE])
    make_project(app, officer, title="Garden waste subscriptions", tags=["waste"], summary="Stickers")
    with app.app_context():
        organiser = db.session.get(User, make_officer("LDS", role="organiser").id)
        merges.merge(organiser, copy_id, slug)
        db.session.commit()
        posting = projects.possible_duplicates("Bulky waste bookings", "Phone queues", [BULKY_WASTE])
        assert [found.project.title for found in posting] == ["Book a bulky waste collection online"]
    panel = client.page(f"/projects/{slug}").select_one("#similar").find_next("ul")
    assert [card.h3.get_text(strip=True) for card in panel.select("li.app-card")] == ["Garden waste subscriptions"]


def test_the_filters_offer_only_councils_services_and_tags_that_projects_use(client, waste_projects):
    soup = client.page("/projects")

    def offered(name: str) -> list[str]:
        return [option.get_text(strip=True) for option in soup.select(f"#filter-{name} option") if option["value"]]

    assert offered("council") == ["City of Cardiff Council", "Leeds City Council"]
    assert offered("service") == [
        "Bulky household waste collections",
        "Household waste collection",
        "Parking permits",
    ]
    assert offered("tag") == ["waste"]


def test_councils_joining_and_leaving_are_searched_and_counted(client, app, officer, make_officer):
    """A project's document names the councils taking part, and its places count for the nation and region: kept in
    step when a council is added, leaves, or comes over in a merge."""
    cardiff, manchester = make_officer("CRF"), make_officer("MAN")
    _, shared_id = make_project(app, cardiff, title="Bins for students")

    def seen() -> tuple[list[str], str]:
        soup = client.page("/projects?q=manchester")
        return titles(soup), option_text(client.page("/projects"), "filter-nation", "England")

    assert seen() == ([], "England (0)")
    with app.app_context():
        council_id = db.session.get(User, manchester.id).council_id
        partner = teams.add_council(db.session.get(User, cardiff.id), shared_id, council_id, "partner")
        partner_id = partner.id
    assert seen() == (["Bins for students"], "England (1)")
    with app.app_context():
        teams.withdraw_council(db.session.get(User, manchester.id), shared_id, partner_id)
    assert seen() == ([], "England (0)")

    slug = client.page("/projects?q=students").select_one(".app-card h2 a")["href"].rsplit("/", 1)[-1]
    _, copy_id = make_project(app, manchester, title="Student bins")
    with app.app_context():
        organiser = db.session.get(User, make_officer("LDS", role="organiser").id)
        merges.merge(organiser, copy_id, slug)
    # The merged project leaves the list; the one it went into now has Manchester taking part.
    assert seen() == (["Bins for students"], "England (1)")


def test_an_update_that_moves_in_a_merge_is_found_on_its_new_project(client, app, officer, make_officer):
    """A merge moves the merged project's updates to the project it went into: searching their words finds that
    project, as its page shows them."""
    slug, _ = make_project(app, officer, title="Bulky waste bookings")
    cardiff = make_officer("CRF")
    _, copy_id = make_project(app, cardiff, title="Booking bulky collections")
    with app.app_context():
        updates.post_update(db.session.get(User, cardiff.id), copy_id, "weeknotes", "Week 2", "Tested with a zebra.")
    assert titles(client.page("/projects?q=zebra")) == ["Booking bulky collections"]
    with app.app_context():
        organiser = db.session.get(User, make_officer("LDS", role="organiser").id)
        merges.merge(organiser, copy_id, slug)
    assert titles(client.page("/projects?q=zebra")) == ["Bulky waste bookings"]
    with app.app_context():  # and counted once, from the ids this process kept for the search and moved
        assert project_lists.facet_counts(project_lists.ProjectFilters(q="zebra")).total == 1
