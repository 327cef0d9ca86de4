"""The read-only JSON API: lists filtered like the web list, pages, details, errors, CORS, and nothing private."""

import json
import re
from dataclasses import fields

import pytest
import schemathesis

from pipeline.services.project_lists import ProjectFilters
from tests.opendata import BULKY_WASTE, add_conversation_and_pledges, add_projects, make_sample, move_on
from tests.pages import EMAIL_PATTERN, assert_statement_count_is_flat, soup_of

# Keys that would mean something private had reached a response.
PRIVATE_KEYS = {
    "email",
    "password_hash",
    "session_token",
    "created_by_id",
    "created_by",
    "changed_by",
    "changed_by_id",
    "added_by_id",
    "user_id",
    "members",
    "dormancy_notified_at",
    "email_verified_at",
    "domains",
    "message",  # a join request's message
    "pledged_by",
    "pledged_by_id",
    "idempotency_key",
    "need_id",
    "actor",
    "actor_id",
    "author",
    "author_id",
    "official_by",
    "official_by_id",
    "deleted_at",
    "versions",
    "reports",
}


@pytest.fixture
def sample(app, make_officer):
    return make_sample(app, make_officer)


def api(client, url: str, status: int = 200) -> dict:
    response = client.get(url)
    assert response.status_code == status, f"{url}: {response.status_code} {response.get_data(as_text=True)[:500]}"
    assert response.mimetype == "application/json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    return response.json


def web_slugs(client, query: str) -> list[str]:
    soup = soup_of(client.get(f"/projects?{query}"))
    return [a["href"].removeprefix("/projects/") for a in soup.select(".app-card h2 a")]


def keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys(v)}
    return set()


def test_every_endpoint_in_the_openapi_document_answers_and_matches_it(app, client, sample):
    document = api(client, "/api/v1/openapi.json")
    assert document["openapi"].startswith("3.")
    schema = schemathesis.openapi.from_dict(document)
    assert len(document["paths"]) >= 16
    for listed in ("pledges", "updates", "comments"):
        assert f"/{listed}" in document["paths"] and f"/projects/{{slug}}/{listed}" in document["paths"]
    assert "/projects/{slug}/pledge-events" in document["paths"]
    for path, methods in document["paths"].items():
        url = "/api/v1" + path
        for parameter in methods["get"]["parameters"]:
            if parameter["in"] == "path":
                url = url.replace("{" + parameter["name"] + "}", str(parameter["example"]))
        response = client.get(url)
        assert response.status_code == 200, f"{url}: {response.status_code} {response.get_data(as_text=True)[:300]}"
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        schema[path]["GET"].validate_response(response)
    # The example project is the newest; the oldest has every kind of record: each of its lists matches too.
    for path in document["paths"]:
        if path.startswith("/projects/{slug}"):
            response = client.get("/api/v1" + path.replace("{slug}", sample.bulky[0]))
            assert response.status_code == 200, path
            schema[path]["GET"].validate_response(response)
            assert path == "/projects/{slug}" or response.json["items"], path


def test_the_document_names_every_filter_of_the_web_list(client):
    """When ProjectFilters gains a filter (search's q, say), the API must take and document it too."""
    document = api(client, "/api/v1/openapi.json")
    documented = {p["name"] for p in document["paths"]["/projects"]["get"]["parameters"]}
    assert {f.name for f in fields(ProjectFilters)} <= documented


@pytest.mark.parametrize(
    "query",
    [
        "",
        "dormant=include",
        "phase=alpha",
        "phase=alpha&phase=idea&sort=title",
        "council=birmingham-city-council",
        "nation=England&region=West+Midlands",
        f"service={BULKY_WASTE}",
        "function=30",
        "tag=waste&sort=newest",
        "seeking=money",
        "seeking=people&phase=alpha",
        "dormant=only",
    ],
)
def test_projects_are_filtered_and_sorted_as_the_web_list_is(client, sample, query):
    data = api(client, f"/api/v1/projects?{query}")
    assert [p["slug"] for p in data["items"]] == web_slugs(client, query)
    assert data["total"] == len(data["items"])


def test_pages_of_projects(client, sample):
    first = api(client, "/api/v1/projects?per_page=2&sort=title")
    assert (first["page"], first["per_page"], first["total"], first["pages"]) == (1, 2, 3, 2)
    assert first["links"]["previous"] is None
    assert first["links"]["next"].endswith("/api/v1/projects?per_page=2&sort=title&page=2")
    second = api(client, first["links"]["next"].removeprefix("https://localhost"))
    assert len(second["items"]) == 1 and second["links"]["next"] is None
    assert second["links"]["previous"].endswith("page=1")
    slugs = [p["slug"] for p in first["items"] + second["items"]]
    assert slugs == web_slugs(client, "sort=title") and len(set(slugs)) == 3
    assert api(client, "/api/v1/projects?per_page=100")["per_page"] == 100


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/api/v1/projects?per_page=101", "per_page must be a whole number from 1 to 100"),
        ("/api/v1/projects?per_page=0", "per_page must be a whole number from 1 to 100"),
        ("/api/v1/projects?page=0", "page must be a whole number from 1 to 100,000"),
        ("/api/v1/projects?page=abc", "page must be a whole number from 1 to 100,000"),
        ("/api/v1/projects?page=-1", "page must be a whole number from 1 to 100,000"),
        ("/api/v1/projects?page=1.5", "page must be a whole number from 1 to 100,000"),
        ("/api/v1/projects?page=2", "Page 2 is past the end of the list: there is 1 page."),
        ("/api/v1/councils?page=99", "Page 99 is past the end of the list: there are 20 pages."),
        ("/api/v1/phase-changes?page=3&per_page=2", "Page 3 is past the end of the list: there are 2 pages."),
        ("/api/v1/pledges?page=3&per_page=2", "Page 3 is past the end of the list: there are 2 pages."),
        ("/api/v1/comments?per_page=1000", "per_page must be a whole number from 1 to 100"),
        ("/api/v1/updates?project=book-a-bulky-waste-collection-online", "Unknown parameter 'project'"),
        (
            "/api/v1/projects/book-a-bulky-waste-collection-online/pledge-events?state=offered",
            "Unknown parameter 'state'",
        ),
        ("/api/v1/projects/book-a-bulky-waste-collection-online/comments?page=2", "Page 2 is past the end"),
        ("/api/v1/projects/%00", "Remove the NUL character (%00)"),
        ("/api/v1/projects?colour=red", "Unknown parameter 'colour'"),
        ("/api/v1/projects?phase=banana", "phase must be one of: idea, discovery, alpha"),
        ("/api/v1/projects?nation=Atlantis", "nation must be one of: England, Scotland"),
        ("/api/v1/projects?region=Mars", "region must be one of:"),
        ("/api/v1/projects?service=abc", "service must be a whole number"),
        ("/api/v1/projects?service=1000000000", "service must be a whole number"),
        ("/api/v1/projects?sort=title&sort=newest", "Give sort once"),
        ("/api/v1/projects?council=Leeds%20City", "council must be 1 to 200 lower-case letters"),
        ("/api/v1/projects?council=", "council must be 1 to 200 lower-case letters"),
        ("/api/v1/projects?tag=%00", "Remove the NUL character (%00)"),
        ("/api/v1/projects?dormant=sometimes", "dormant must be one of: hide, include, only"),
        ("/api/v1/projects/book-a-bulky-waste-collection-online?full=yes", "Unknown parameter 'full'"),
        ("/api/v1/statistics?year=2027", "Unknown parameter 'year'"),
        ("/api/v1/services?function=x", "function must be a whole number"),
    ],
)
def test_bad_parameters_are_refused_with_a_json_message(client, sample, url, message):
    data = api(client, url, 400)
    assert data["status"] == 400
    assert data["message"].startswith(message), data["message"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/projects/no-such-project",
        "/api/v1/projects/no-such-project/phase-changes",
        "/api/v1/projects/book-a-bulky-waste-collection-online/no-such-list",
        "/api/v1/projects/Not%20A%20Slug",
        "/api/v1/projects/no-such-project/pledges",
        "/api/v1/projects/no-such-project/pledge-events",
        "/api/v1/pledge-events",
        "/api/v1/councils/no-such-council",
        "/api/v1/services/999999",
        "/api/v1/services/0",
        "/api/v1/services/99999999999999999999",
        "/api/v1/services/bulky",
        "/api/v1/no-such-thing",
        "/api/v1/councils/leeds-city-council/more/parts",
        "/api/v1/",
    ],
)
def test_unknown_ids_and_addresses_are_404_json(client, sample, url):
    data = api(client, url, 404)
    assert data["status"] == 404 and data["message"]


def test_writing_is_refused_with_json(client):
    response = client.post("/api/v1/projects", json={"title": "x"})
    assert response.status_code == 405
    assert response.json["status"] == 405 and "GET" in response.json["message"]
    assert "GET" in response.headers["Allow"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_a_project_in_full(client, sample):
    slug = sample.bulky[0]
    data = api(client, f"/api/v1/projects/{slug}")
    assert data["title"] == "Book a bulky waste collection online"
    assert data["phase"] == "alpha"
    assert data["lead_council"] == {"code": "LDS", "slug": "leeds-city-council", "name": "Leeds City Council"}
    # Manchester asked to take part and was not accepted: it is not shown.
    assert [(c["code"], c["role"], c["state"]) for c in data["councils"]] == [("LDS", "lead", "committed")]
    assert data["services"] == [{"lgsl_id": BULKY_WASTE, "label": "Bulky household waste collections"}]
    assert [t["name"] for t in data["tags"]] == ["online payments", "waste"]
    assert data["links"] == [{"kind": "report", "title": "Discovery report", "url": "https://example.org/report"}]
    assert data["asks"]["money_target"] == 25_000
    needs = [(n["role"], n["days"]) for n in data["asks"]["people_needs"]]
    assert needs == [("User researcher", 10), ("Developer", 20)]
    steps = [(s["from_phase"], s["to_phase"]) for s in data["phase_history"]]
    assert steps == [(None, "discovery"), ("discovery", "alpha")]
    assert data["phase_history"][1]["evidence_url"] == "https://example.org/assessment"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", data["created_at"])
    assert data["url"].endswith(f"/projects/{slug}") and data["feed_url"].endswith(f"/feeds/projects/{slug}.atom")
    changes = api(client, f"/api/v1/projects/{slug}/phase-changes")
    assert [c["to_phase"] for c in changes["items"]] == ["alpha", "discovery"]


def test_pledges_as_the_ledger_page_shows_them(client, sample):
    slug = sample.bulky[0]
    data = api(client, f"/api/v1/projects/{slug}/pledges")
    pledges = {p["description"]: p for p in data["items"]}
    assert [p["id"] for p in data["items"]] == sorted((p["id"] for p in data["items"]), reverse=True)
    assert {d: p["state"] for d, p in pledges.items()} == {
        "£5,000": "delivered",
        "User researcher, 12 days": "offered",
        "£1,000": "declined",
    }
    people = pledges["User researcher, 12 days"]
    assert people["council"] == {"code": "BIR", "slug": "birmingham-city-council", "name": "Birmingham City Council"}
    assert (people["kind"], people["role"], people["days"], people["amount"], people["skill"]) == (
        "people",
        "User researcher",
        12,
        None,
        None,
    )
    assert (people["start_date"], people["end_date"]) == ("2027-03-01", "2027-04-30")
    assert people["note"] == "Our researcher can start in March."
    assert people["project"]["slug"] == slug
    assert people["url"].endswith(f"/projects/{slug}/pledges#pledge-{people['id']}")
    # The ledger page has a row for each pledge at that anchor.
    page = client.page(f"/projects/{slug}/pledges")
    assert page.select_one(f"#pledge-{people['id']}")

    every = api(client, "/api/v1/pledges")
    assert every["total"] == 4 and {p["id"] for p in data["items"]} < {p["id"] for p in every["items"]}

    ledger = api(client, f"/api/v1/projects/{slug}/pledge-events?per_page=100")
    entries = [(e["description"], e["action"], e["from_state"], e["to_state"]) for e in reversed(ledger["items"])]
    assert entries == [
        ("£5,000", "offered", None, "offered"),
        ("£5,000", "accepted", "offered", "accepted"),
        ("£5,000", "delivered", "accepted", "delivered"),
        ("User researcher, 10 days", "offered", None, "offered"),
        ("User researcher, 12 days", "changed", "offered", "offered"),
        ("£1,000", "offered", None, "offered"),
        ("£1,000", "declined", "offered", "declined"),
    ]
    by_action = {(e["description"], e["action"]): e for e in ledger["items"]}
    changed = by_action[("User researcher, 12 days", "changed")]
    assert changed["changes"] == [{"field": "days", "before": 10, "after": 12}]
    assert changed["reason"] == "Two more days"
    assert changed["actor_council"]["code"] == "BIR" and changed["council"]["code"] == "BIR"
    offered = by_action[("User researcher, 10 days", "offered")]
    assert {c["field"]: c["after"] for c in offered["changes"]} == {
        "role": "User researcher",
        "days": 10,
        "start_date": "2027-03-01",
        "end_date": "2027-04-30",
    }
    declined = by_action[("£1,000", "declined")]
    assert declined["reason"] == "We have the money we need for alpha."
    assert declined["actor_council"]["code"] == "LDS" and declined["council"]["code"] == "BIR"
    assert declined["pledge_id"] == pledges["£1,000"]["id"]
    assert declined["url"].endswith(f"/projects/{slug}/pledges#event-{declined['id']}")
    assert page.select_one(f"#event-{declined['id']}")


def test_a_projects_pledge_totals_add_up_its_pledges_that_count(client, sample):
    for slug, _ in (sample.bulky, sample.tipping, sample.formula):
        totals = api(client, f"/api/v1/projects/{slug}")["pledge_totals"]
        counted = [
            p
            for p in api(client, f"/api/v1/projects/{slug}/pledges")["items"]
            if p["state"] not in ("withdrawn", "declined")
        ]
        delivered = [p for p in counted if p["state"] == "delivered"]

        def total(pledges, key):
            return sum(p[key] or 0 for p in pledges)

        assert totals == {
            "count": len(counted),
            "money_pledged": total(counted, "amount"),
            "money_delivered": total(delivered, "amount"),
            "people_days_pledged": total(counted, "days"),
            "people_days_delivered": total(delivered, "days"),
            "skill_hours_pledged": total(counted, "hours"),
            "skill_hours_delivered": total(delivered, "hours"),
        }, slug
    bulky = api(client, f"/api/v1/projects/{sample.bulky[0]}")["pledge_totals"]
    assert (bulky["count"], bulky["money_pledged"], bulky["money_delivered"], bulky["people_days_pledged"]) == (
        2,
        5_000,
        5_000,
        12,
    )
    # The formula project's only pledge was withdrawn.
    assert set(api(client, f"/api/v1/projects/{sample.formula[0]}")["pledge_totals"].values()) == {0}


def test_updates_and_comments(client, sample):
    slug = sample.bulky[0]
    updates = api(client, f"/api/v1/projects/{slug}/updates")["items"]
    assert [(u["kind"], u["title"], u["body"]) for u in updates] == [
        ("weeknotes", "Weeknotes 1", "We tested the booking form with **five** residents.")
    ]
    assert updates[0]["author_council"]["code"] == "LDS"
    assert updates[0]["url"].endswith(f"/projects/{slug}/updates/{updates[0]['id']}")
    assert client.get(updates[0]["url"].removeprefix("https://localhost")).status_code == 200
    assert api(client, "/api/v1/updates")["items"] == updates

    found = api(client, f"/api/v1/projects/{slug}/comments")["items"]
    deleted, reply, top = found  # newest first
    assert (top["body"], top["reply_to"], top["author_council"]["code"]) == (
        "Have you looked at our booking form yet?",
        None,
        "BIR",
    )
    assert top["edited_at"] and not top["deleted"] and not top["official_response"]
    assert (reply["reply_to"], reply["official_response"], reply["author_council"]["code"]) == (top["id"], True, "LDS")
    assert reply["edited_at"] is None
    # A deleted comment is a marker, as on the page: no text and no author.
    assert deleted["deleted"] is True
    assert (deleted["body"], deleted["author_council"], deleted["edited_at"]) == (None, None, None)
    for each in found:
        response = client.get(each["url"].removeprefix("https://localhost"), follow_redirects=True)
        assert response.status_code == 200
    every = api(client, "/api/v1/comments")["items"]
    assert [c for c in every if c["project"]["slug"] == slug] == found and len(every) == len(found) + 1


def test_councils_and_services(client, sample):
    leeds = api(client, "/api/v1/councils/leeds-city-council")
    assert (leeds["code"], leeds["nation"], leeds["region"], leeds["project_count"]) == (
        "LDS",
        "England",
        "Yorkshire and The Humber",
        1,
    )
    assert [(p["slug"], p["role"]) for p in leeds["projects"]] == [(sample.bulky[0], "lead")]
    manchester = api(client, "/api/v1/councils/manchester-city-council")
    assert manchester["project_count"] == 0 and manchester["projects"] == []
    welsh = api(client, "/api/v1/councils?nation=Wales&per_page=100")
    assert welsh["total"] == len(welsh["items"]) > 10 and {c["nation"] for c in welsh["items"]} == {"Wales"}
    everyone = api(client, "/api/v1/councils?per_page=100")
    assert everyone["total"] == 382
    service = api(client, f"/api/v1/services/{BULKY_WASTE}")
    assert service["project_count"] == 2 and service["function"]["label"] == "Waste management"
    assert service["function"]["parent"]["label"] == "Environmental protection"
    assert {p["slug"] for p in service["projects"]} == {sample.bulky[0], sample.tipping[0]}
    waste = api(client, "/api/v1/services?function=38&per_page=100")
    assert BULKY_WASTE in {s["lgsl_id"] for s in waste["items"]}
    assert api(client, "/api/v1/services?per_page=100")["total"] == 1519


def test_no_email_address_name_or_private_field_in_any_response(app, client, sample):
    urls = [
        "/api/v1/openapi.json",
        "/api/v1/projects?dormant=include&per_page=100",
        "/api/v1/phase-changes?per_page=100",
        "/api/v1/councils?per_page=100",
        "/api/v1/services?per_page=100",
        "/api/v1/statistics",
        "/api/v1/councils/leeds-city-council",
        "/api/v1/councils/birmingham-city-council",
        f"/api/v1/services/{BULKY_WASTE}",
    ]
    urls += ["/api/v1/pledges?per_page=100", "/api/v1/updates?per_page=100", "/api/v1/comments?per_page=100"]
    for slug, _ in (sample.bulky, sample.tipping, sample.formula):
        urls += [f"/api/v1/projects/{slug}"]
        urls += [f"/api/v1/projects/{slug}/{c}" for c in ("phase-changes", "pledges", "pledge-events")]
        urls += [f"/api/v1/projects/{slug}/{c}" for c in ("updates", "comments")]
    people = {sample.leeds_officer.name, sample.birmingham_officer.name}
    for url in urls:
        data = api(client, url)
        text = json.dumps(data)
        assert not EMAIL_PATTERN.findall(text), url
        assert not any(name in text for name in people), url
        assert sample.deleted_comment not in text, url
        if url != "/api/v1/openapi.json":
            assert not keys(data) & PRIVATE_KEYS, (url, keys(data) & PRIVATE_KEYS)
    text = client.get("/data/pipeline.jsonl").get_data(as_text=True)
    for line in text.splitlines():
        assert not keys(json.loads(line)) & PRIVATE_KEYS
    for download in ("projects", "councils", "phase-changes", "pledges"):
        text += client.get(f"/data/{download}.csv").get_data(as_text=True)
    assert not EMAIL_PATTERN.findall(text)
    assert not any(name in text for name in people)
    assert sample.deleted_comment not in text
    assert "Manchester City Council" not in client.get("/data/projects.csv").get_data(as_text=True)
    # Feeds carry the activity log's public summaries, which may name people as the project page does.
    for feed in ("/feeds/projects.atom", f"/feeds/projects/{sample.bulky[0]}.atom", "/feeds/tags/waste.atom"):
        text = client.get(feed).get_data(as_text=True)
        assert not EMAIL_PATTERN.findall(text), feed
        assert sample.deleted_comment not in text, feed


def test_list_pages_run_a_fixed_number_of_statements(app, client, sample):
    officer = sample.birmingham_officer
    slug = sample.bulky[0]
    urls = {
        "/api/v1/projects?dormant=include&per_page=100": 10,
        "/api/v1/projects?tag=waste&phase=alpha&dormant=include": 10,
        "/api/v1/phase-changes?per_page=100": 4,
        f"/api/v1/projects/{slug}/phase-changes": 5,
        f"/api/v1/projects/{slug}": 11,
        "/api/v1/pledges?per_page=100": 3,
        f"/api/v1/projects/{slug}/pledges?per_page=100": 4,
        f"/api/v1/projects/{slug}/pledge-events?per_page=100": 5,
        "/api/v1/updates?per_page=100": 5,
        f"/api/v1/projects/{slug}/updates": 6,
        "/api/v1/comments?per_page=100": 5,
        f"/api/v1/projects/{slug}/comments?per_page=100": 6,
        "/api/v1/councils?per_page=100": 5,
        "/api/v1/services?per_page=100&function=30": 6,
        f"/api/v1/services/{BULKY_WASTE}": 6,
        "/api/v1/councils/birmingham-city-council": 3,
        "/api/v1/statistics": 8,
    }

    def more_rows():
        for _, project_id in add_projects(app, officer, 3):
            add_conversation_and_pledges(app, officer, sample.leeds_officer, project_id, 1)
        add_conversation_and_pledges(app, sample.leeds_officer, officer, sample.bulky[1])
        move_on(app, sample.leeds_officer, sample.bulky[1])

    for url, budget in urls.items():
        assert_statement_count_is_flat(client, url, more_rows, budget=budget)


def test_the_projects_list_searches_as_the_website_does(client, app, make_officer):
    from tests.factories import make_project

    officer = make_officer("LDS")
    make_project(app, officer, title="Bulky waste collections booked online")
    make_project(app, officer, title="Parking permits for residents")
    response = client.get("/api/v1/projects?q=bulky")
    assert response.status_code == 200
    assert [p["title"] for p in response.json["items"]] == ["Bulky waste collections booked online"]
    assert client.get('/api/v1/projects?q="unclosed').status_code == 200
    assert client.get("/api/v1/projects?q=" + "x" * 201).status_code == 400
