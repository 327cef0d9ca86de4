"""Posting, reading, editing and moving projects through their phases."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from pipeline.extensions import db
from pipeline.models import PhaseChange, Project, ProjectEdit, User
from pipeline.services import projects
from pipeline.services.errors import PermissionDenied
from pipeline.timeutil import utcnow
from tests.conftest import sign_in
from tests.factories import LinkInput, NeedInput, make_project
from tests.pages import assert_statement_count_is_flat, error_messages, soup_of

BULKY_WASTE = 528
FORM = {
    "title": "Book a bulky waste collection online",
    "summary": "Residents book and pay for bulky waste collections without phoning",
    "problem": "Residents phone us to book collections.\n\nCalls peak on Mondays.",
    "description": "We have **two** ideas.",
    "services": str(BULKY_WASTE),
    "tags": "Waste, online payments ,waste",
    "links-0-kind": "report",
    "links-0-title": "Discovery report",
    "links-0-url": "https://example.org/report",
    "money_target": "£25,000",
    "people_needs-0-role": "User researcher",
    "people_needs-0-days": "10",
    "people_needs-0-start_date": ["1", "3", "2027"],
    "people_needs-0-end_date": ["30", "4", "2027"],
    "phase": "discovery",
    "submit": "y",
}


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def post(client, **changes):
    data = {**FORM, **changes}
    return client.submit("/projects/new", {k: v for k, v in data.items() if v is not None})


def test_post_a_project(client, officer, app):
    response = post(client)
    assert response.status_code == 302
    assert response.headers["Location"] == "/projects/book-a-bulky-waste-collection-online"
    soup = client.page("/projects/book-a-bulky-waste-collection-online")
    text = soup.get_text(" ")
    assert soup.h1.get_text(strip=True) == FORM["title"]
    assert "Led by Leeds City Council" in text
    assert "Bulky household waste collections" in text
    assert "£25,000" in text and "User researcher" in text and "1 March 2027 to 30 April 2027" in text
    assert [a.get_text() for a in soup.select("a[href^='/projects?tag=']")] == ["online payments", "waste"]
    assert soup.select_one("a[href='https://example.org/report']").get_text() == "Discovery report"
    assert "Posted in discovery" in text
    assert len(soup.select(".govuk-body")) > 2 and "Calls peak on Mondays." in text
    assert soup.select_one(".app-markdown strong").get_text() == "two"
    with app.app_context():
        project = db.session.scalar(select(Project))
        assert [m.user_id for m in project.members] == [officer.id]
        assert [(c.council.code, c.role, c.state) for c in project.councils] == [("LDS", "lead", "committed")]


def test_slugs_are_unique_and_stable(client, officer, app):
    assert post(client).headers["Location"] == "/projects/book-a-bulky-waste-collection-online"
    again = post(client, post_anyway="y", submit=None)
    assert again.headers["Location"] == "/projects/book-a-bulky-waste-collection-online-2"
    client.submit(
        "/projects/book-a-bulky-waste-collection-online/edit",
        {**FORM, "title": "A new title", "phase": None},
    )
    client.page("/projects/book-a-bulky-waste-collection-online")


def test_a_possible_duplicate_is_shown_before_saving(client, officer, app, make_officer):
    other = make_officer("BIR")
    make_project(
        app, other, title="Bulky waste booking", problem="Phone bookings for bulky items", service_ids=[BULKY_WASTE]
    )
    response = post(client)
    assert response.status_code == 200
    soup = soup_of(response)
    banner = soup.select_one("#duplicates")
    assert "Has another council already solved this?" in banner.get_text()
    assert "Bulky waste booking" in banner.get_text()
    assert "Same service: Bulky household waste collections" in banner.get_text()
    assert "Birmingham City Council" in banner.get_text()
    assert banner.select_one("a[href='/projects/bulky-waste-booking#join']")
    assert soup.select_one("input[name=title]")["value"] == FORM["title"]  # nothing typed is lost
    assert count(app, Project) == 1

    response = post(client, post_anyway="y", submit=None)
    assert response.status_code == 302
    assert count(app, Project) == 2


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"title": ""}, "Enter a project title"),
        ({"title": "x" * 151}, "Project title must be 150 characters or fewer"),
        ({"summary": ""}, "Enter a one-line summary"),
        ({"summary": "x" * 201}, "Summary must be 200 characters or fewer"),
        ({"problem": "  "}, "Enter the problem the project is trying to solve"),
        ({"money_target": "-5"}, "Enter the money target as a whole number of pounds, like 5000"),
        ({"money_target": "12.50"}, "Enter the money target as a whole number of pounds, like 5000"),
        ({"money_target": "100000001"}, "Money target must be £100,000,000 or less"),
        ({"services": "999999"}, "Select services from the Local Government Services List"),
        ({"lead_council_id": "999999"}, "Select the lead council"),
        ({"phase": "stopped"}, "Select the phase the project is in"),
        ({"people_needs-0-days": "0"}, "Days must be between 1 and 10,000"),
        ({"people_needs-0-days": "1.5"}, "Enter the number of days as a whole number, like 10"),
        ({"people_needs-0-role": ""}, "Enter the role needed, like user researcher"),
        ({"people_needs-0-end_date": ["1", "1", "2027"]}, "The end date must be on or after the start date"),
        ({"people_needs-0-start_date": ["31", "2", "2027"]}, "Enter a real start date, like 27 3 2027"),
        ({"links-0-url": "javascript:alert(1)"}, "Enter a web address starting with https://"),
        ({"links-0-kind": ""}, "Select what kind of output the link is"),
    ],
)
def test_bad_input_is_explained_and_nothing_is_written(client, officer, app, changes, message):
    response = post(client, post_anyway="y", submit=None, **changes)
    assert response.status_code == 200
    assert message in error_messages(response), error_messages(response)
    assert soup_of(response).title.get_text().startswith("Error: ")
    assert count(app, Project) == 0


def test_markdown_with_script_renders_harmless(client, officer, app):
    evil = (
        '<script>alert(1)</script><img src=x onerror="alert(2)"> '
        '[click](javascript:alert(3)) <a href="#" onclick="x()">a</a>'
    )
    post(client, description=evil)
    html = client.get("/projects/book-a-bulky-waste-collection-online").get_data(as_text=True)
    markdown = html.split('class="app-markdown">', 1)[1].split("</div>", 1)[0]
    for bad in ("<script", "onerror", "javascript:", "onclick", "<img"):
        assert bad not in markdown


def test_service_search_without_javascript_keeps_what_was_typed(client, officer):
    response = client.submit("/projects/new", {"title": "Draft", "service_query": "bulky", "find_services": "y"})
    soup = soup_of(response)
    labels = [label.get_text(strip=True) for label in soup.select("#service-choices label")]
    assert "Bulky household waste collections" in labels
    assert soup.select_one("input[name=title]")["value"] == "Draft"
    assert not error_messages(response)


def test_service_search_json(client):
    response = client.get("/services/search?q=bulky waste")
    assert {"id": BULKY_WASTE, "label": "Bulky household waste collections"} in response.json["services"]
    assert client.get("/services/search?q=").json == {"services": []}


def test_add_another_link_and_role_without_javascript(client, officer):
    response = client.submit("/projects/new", {**FORM, "submit": None, "add_link": "y"})
    assert soup_of(response).select_one("input[name='links-1-url']") is not None
    response = client.submit("/projects/new", {**FORM, "submit": None, "add_need": "y"})
    assert soup_of(response).select_one("input[name='people_needs-1-role']") is not None


def test_edit_keeps_history(client, officer, app):
    post(client)
    url = "/projects/book-a-bulky-waste-collection-online"
    response = client.submit(
        url + "/edit", {**FORM, "phase": None, "summary": "A better summary", "money_target": "30000"}
    )
    assert response.status_code == 302
    soup = client.page(url + "/history")
    rows = {
        row.th.get_text(strip=True): [td.get_text(strip=True) for td in row.select("td")]
        for row in soup.select("tbody tr")
    }
    assert rows["Summary"] == [FORM["summary"], "A better summary"]
    assert rows["Money target"] == ["£25,000", "£30,000"]
    assert officer.name in soup.get_text()
    # Saving without changes adds nothing.
    client.submit(url + "/edit", {**FORM, "phase": None, "summary": "A better summary", "money_target": "30000"})
    assert count(app, ProjectEdit) == 1


def test_only_the_team_and_organisers_edit(client, app, officer, make_officer):
    slug, project_id = make_project(app, officer)
    outsider = make_officer("BIR")
    other = app.test_client()
    sign_in(other, outsider)
    assert other.get(f"/projects/{slug}/edit").status_code == 403
    assert other.get(f"/projects/{slug}/phase").status_code == 403
    token = client.csrf_token(f"/projects/{slug}/edit")
    response = other.post(
        f"/projects/{slug}/edit", data={"csrf_token": token, **FORM}, headers={"Referer": "https://localhost/"}
    )
    assert response.status_code in (400, 403)
    with app.app_context():
        user = db.session.get(User, outsider.id)
        with pytest.raises(PermissionDenied):
            projects.update_project(user, project_id, projects.ProjectInput(title="Hijacked", summary="x", problem="x"))
        with pytest.raises(PermissionDenied):
            projects.change_phase(user, project_id, "alpha", "I am not on the team")
        assert db.session.get(Project, project_id).title != "Hijacked"

    organiser = make_officer("BIR", role="organiser")
    other = app.test_client()
    sign_in(other, organiser)
    assert other.get(f"/projects/{slug}/edit").status_code == 200


def test_phase_changes_make_a_timeline(client, officer, app):
    slug, _ = make_project(app, officer, phase="discovery")
    response = client.submit(
        f"/projects/{slug}/phase",
        {"to_phase": "alpha", "note": "Discovery showed demand.", "evidence_url": "https://example.org/assessment"},
    )
    assert response.status_code == 302
    soup = client.page(f"/projects/{slug}")
    timeline = soup.select_one(".app-timeline").get_text(" ")
    assert "Moved from discovery to alpha" in timeline and "Discovery showed demand." in timeline
    assert soup.select_one(".app-timeline a[href='https://example.org/assessment']")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"to_phase": "stopped", "note": "No money", "lessons": "Plan funding"},
            "Enter the outcome of the project before stopping it",
        ),
        (
            {"to_phase": "stopped", "note": "No money", "outcome": "Ended"},
            "Enter the lessons learnt before stopping the project",
        ),
        ({"to_phase": "alpha", "note": ""}, "Enter a note saying why the project is changing phase"),
        (
            {"to_phase": "retired", "note": "Old", "outcome": "Done", "lessons": "Some"},
            "A project can only be retired once it is in beta or live",
        ),
        ({"to_phase": "discovery", "note": "Same"}, "The project is already in discovery"),
        (
            {"to_phase": "alpha", "note": "x", "evidence_url": "ftp://x"},
            "Enter the evidence link as a web address starting with https://",
        ),
    ],
)
def test_phase_change_rules(client, officer, app, data, message):
    slug, _ = make_project(app, officer, phase="discovery")
    response = client.submit(f"/projects/{slug}/phase", data)
    assert message in error_messages(response)
    assert count(app, PhaseChange) == 1


def test_stopping_needs_lessons_and_the_project_stays_findable(client, officer, app):
    slug, _ = make_project(app, officer, phase="alpha", title="Chatbot for council tax")
    response = client.submit(
        f"/projects/{slug}/phase",
        {
            "to_phase": "stopped",
            "note": "Funding ended",
            "outcome": "We stopped after alpha.",
            "lessons": "Test with residents early.",
        },
    )
    assert response.status_code == 302
    soup = client.page(f"/projects/{slug}")
    assert "Test with residents early." in soup.get_text()
    assert "Chatbot for council tax" in client.page("/projects").get_text()
    assert "Chatbot for council tax" in client.page("/projects?phase=stopped").get_text()
    assert client.page(f"/projects/{slug}/phase").select_one("main form") is None


def test_projects_list_filters(client, app, officer, make_officer):
    make_project(app, officer, title="Leeds housing repairs", phase="alpha", tags=["housing"], money_target=1000)
    welsh = make_officer("CRF")
    make_project(
        app,
        welsh,
        title="Cardiff parking permits",
        phase="beta",
        service_ids=[BULKY_WASTE],
        people_needs=[NeedInput("Developer", 5)],
    )

    def titles(query: str) -> list[str]:
        return [a.get_text(strip=True) for a in client.page("/projects" + query).select(".app-card h2 a")]

    assert sorted(titles("")) == ["Cardiff parking permits", "Leeds housing repairs"]
    assert titles("?phase=alpha") == ["Leeds housing repairs"]
    assert titles("?nation=Wales") == ["Cardiff parking permits"]
    assert titles("?region=Yorkshire+and+The+Humber") == ["Leeds housing repairs"]
    assert titles("?council=leeds-city-council") == ["Leeds housing repairs"]
    assert titles("?tag=housing") == ["Leeds housing repairs"]
    assert titles(f"?service={BULKY_WASTE}") == ["Cardiff parking permits"]
    assert titles("?seeking=money") == ["Leeds housing repairs"]
    assert titles("?seeking=people") == ["Cardiff parking permits"]
    assert titles("?sort=title") == ["Cardiff parking permits", "Leeds housing repairs"]
    assert titles("?phase=live") == []
    assert "Try removing some of them" in client.page("/projects?phase=live").get_text()
    # Nonsense in the URL is ignored, not an error.
    assert len(titles("?phase=nonsense&sort=%27;DROP&page=abc&service=x")) == 2
    client.page("/projects?page=99", status=404)


def test_dormant_projects_leave_the_default_list(client, app, officer):
    slug, project_id = make_project(app, officer, title="Quiet project")
    with app.app_context():
        project = db.session.get(Project, project_id)
        project.active_at = utcnow() - timedelta(days=91)
        db.session.commit()
    assert "Quiet project" not in client.page("/projects").get_text()
    assert "Quiet project" in client.page("/projects?dormant=include").get_text()
    assert "Quiet project" in client.page("/projects?dormant=only").get_text()
    assert "Dormant" in client.page(f"/projects/{slug}").get_text()


def test_council_service_and_home_pages_list_projects(client, app, officer):
    make_project(app, officer, title="Bulky waste online", service_ids=[BULKY_WASTE])
    assert "Bulky waste online" in client.page("/councils/leeds-city-council").get_text()
    assert "Bulky waste online" in client.page(f"/services/{BULKY_WASTE}").get_text()
    home = client.page("/")
    assert "Bulky waste online" in home.get_text()
    client.page("/services/99999999", status=404)


def _grow(app, officer, number: int):
    def add():
        for i in range(number):
            make_project(
                app,
                officer,
                title=f"Extra project {i}",
                service_ids=[BULKY_WASTE, 1],
                tags=[f"tag {i}", "common"],
                links=[LinkInput("report", "A report", "https://example.org/r")],
                people_needs=[NeedInput("Developer", 3), NeedInput("Designer", 2)],
            )

    return add


def test_statement_counts_do_not_grow_with_rows(client, app, officer, make_officer):
    slug, project_id = make_project(app, officer, title="Counted project", service_ids=[BULKY_WASTE])
    assert_statement_count_is_flat(client, "/projects", _grow(app, officer, 3), budget=14)
    assert_statement_count_is_flat(client, "/councils/leeds-city-council", _grow(app, officer, 3), budget=14)
    assert_statement_count_is_flat(client, f"/services/{BULKY_WASTE}", _grow(app, officer, 3), budget=10)
    assert_statement_count_is_flat(client, "/", _grow(app, officer, 3), budget=10)

    def grow_one_project():
        with app.app_context():
            user = db.session.get(User, officer.id)
            for i in range(3):
                projects.change_phase(user, project_id, ["alpha", "beta", "discovery"][i], f"Step {i}")
            project = projects.get_project(slug)
            data = projects.ProjectInput(
                title=project.title, summary=project.summary, problem=project.problem,
                service_ids=[BULKY_WASTE, 1, 2], tags=["a", "b", "c"],
                links=[LinkInput("code", f"Repo {i}", f"https://example.org/{i}") for i in range(3)],
                people_needs=[NeedInput(f"Role {i}", 2) for i in range(3)],
            )  # fmt: skip
            projects.update_project(user, project_id, data)

    # 21: the project's own 16, the unread count in the navigation, and the conversation section's 4.
    assert_statement_count_is_flat(client, f"/projects/{slug}", grow_one_project, budget=26)
    assert_statement_count_is_flat(client, f"/projects/{slug}/history", grow_one_project, budget=8)


def test_posting_editing_and_moving_phase_are_recorded_as_activity(client, officer, app):
    from pipeline.models import Activity

    post(client)
    slug = "book-a-bulky-waste-collection-online"
    client.submit(f"/projects/{slug}/edit", {**FORM, "phase": None, "summary": "Changed summary"})
    client.submit(f"/projects/{slug}/phase", {"to_phase": "alpha", "note": "Onwards"})
    with app.app_context():
        kinds = [a.kind for a in db.session.scalars(select(Activity).order_by(Activity.id))]
        assert kinds == ["project_posted", "project_edited", "phase_changed"]
        moved = db.session.scalars(select(Activity).where(Activity.kind == "phase_changed")).one()
        assert moved.data == {"from_phase": "discovery", "to_phase": "alpha"}
        assert moved.subject_type == "phase_change" and moved.actor_id == officer.id
