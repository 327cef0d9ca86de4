"""Project updates: the team posts dated updates, newest first on the project page, each on its own page."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from pipeline.extensions import db
from pipeline.models import Activity, Project, ProjectUpdate
from pipeline.timeutil import utcnow
from tests.conftest import sign_in
from tests.conversation_factories import update as post_update
from tests.factories import make_project
from tests.pages import assert_statement_count_is_flat, error_messages, soup_of

FORM = {"kind": "weeknotes", "title": "Weeknotes 3: we tested the booking form", "body": "Five residents **tried** it."}


def count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ProjectUpdate))


def test_the_team_posts_an_update_with_a_stable_address(client, anon, officer, app):
    slug, project_id = make_project(app, officer)
    with app.app_context():
        long_ago = utcnow() - timedelta(days=200)
        db.session.execute(update(Project).values(active_at=long_ago, updated_at=long_ago))
        db.session.commit()
    assert client.page(f"/projects/{slug}").select_one(f"a[href='/projects/{slug}/updates/new']")
    response = client.submit(f"/projects/{slug}/updates/new", FORM)
    assert response.status_code == 302
    [posted] = _updates(app)
    assert response.headers["Location"] == f"/projects/{slug}/updates/{posted.id}"
    page = anon.page(f"/projects/{slug}/updates/{posted.id}")
    assert page.h1.get_text() == FORM["title"]
    assert page.select_one(".app-markdown strong").get_text() == "tried"
    assert "Weeknotes from" in page.get_text() and officer.name in page.get_text()
    with app.app_context():
        project = db.session.get(Project, project_id)
        assert project.active_at > utcnow() - timedelta(minutes=1)  # posting an update is a sign of life
        assert db.session.scalars(select(Activity.kind).order_by(Activity.id.desc())).first() == "update_posted"
    assert "Dormant" not in anon.page(f"/projects/{slug}").get_text()


def _updates(app) -> list[ProjectUpdate]:
    with app.app_context():
        return list(db.session.scalars(select(ProjectUpdate).order_by(ProjectUpdate.id)))


def test_updates_are_newest_first(client, anon, officer, app):
    slug, project_id = make_project(app, officer)
    for number in range(1, 6):
        post_update(app, officer, project_id, f"Weeknotes {number}", f"Week {number} went well.")
    page = anon.page(f"/projects/{slug}")
    titles = [a.get_text() for a in page.select("#updates ~ .app-card-list h3 a")]
    assert titles == ["Weeknotes 5", "Weeknotes 4", "Weeknotes 3"]
    assert page.select_one(f"a[href='/projects/{slug}/updates']").get_text() == "All 5 updates"
    everything = anon.page(f"/projects/{slug}/updates")
    assert [a.get_text() for a in everything.select(".app-card h2 a")] == [f"Weeknotes {n}" for n in (5, 4, 3, 2, 1)]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"title": ""}, "Enter a title for the update"),
        ({"title": "x" * 151}, "Title must be 150 characters or fewer"),
        ({"body": ""}, "Enter the update"),
        ({"body": "   "}, "Enter the update"),
        ({"body": "x" * 20001}, "Update must be 20,000 characters or fewer"),
        ({"kind": "rumour"}, "Select what kind of update this is"),
        ({"kind": None}, "Select what kind of update this is"),
    ],
)
def test_bad_updates_are_explained_and_nothing_is_written(client, officer, app, changes, message):
    slug, _ = make_project(app, officer)
    data = {k: v for k, v in {**FORM, **changes}.items() if v is not None}
    response = client.submit(f"/projects/{slug}/updates/new", data)
    assert response.status_code == 200
    assert message in error_messages(response)
    assert soup_of(response).select_one("input[name=title]")["value"] == data.get("title", "")
    assert count(app) == 0


def test_only_the_team_posts_updates(client, app, officer, make_officer):
    slug, _ = make_project(app, officer)
    outsider = app.test_client()
    sign_in(outsider, make_officer("BIR"))
    assert outsider.get(f"/projects/{slug}/updates/new").status_code == 403
    assert not outsider.page(f"/projects/{slug}").select(f"a[href='/projects/{slug}/updates/new']")
    token = outsider.csrf_token(f"/projects/{slug}")
    response = outsider.post(
        f"/projects/{slug}/updates/new", data={"csrf_token": token, **FORM}, headers={"Referer": "https://localhost/"}
    )
    assert response.status_code == 403
    assert count(app) == 0


def test_an_update_of_another_project_is_not_found(anon, officer, app):
    slug, project_id = make_project(app, officer)
    other_slug, _ = make_project(app, officer)
    posted = post_update(app, officer, project_id)
    anon.page(f"/projects/{slug}/updates/{posted}")
    anon.page(f"/projects/{other_slug}/updates/{posted}", status=404)
    anon.page(f"/projects/{slug}/updates?page=2", status=404)


def test_update_pages_run_a_fixed_number_of_statements(client, officer, app):
    slug, project_id = make_project(app, officer)
    posted = post_update(app, officer, project_id)

    def add_rows():
        for number in range(12):
            post_update(app, officer, project_id, f"More {number}")

    assert_statement_count_is_flat(client, f"/projects/{slug}/updates", add_rows)
    assert_statement_count_is_flat(client, f"/projects/{slug}/updates/{posted}", add_rows)


def test_an_update_with_script_renders_harmless(client, anon, officer, app):
    slug, _ = make_project(app, officer)
    evil = '<script>alert(1)</script> [click](javascript:alert(2)) <img src=x onerror="alert(3)"> **kept**'
    client.submit(f"/projects/{slug}/updates/new", {**FORM, "body": evil})
    [posted] = _updates(app)
    markdown = str(anon.page(f"/projects/{slug}/updates/{posted.id}").select_one(".app-markdown"))
    assert "<strong>kept</strong>" in markdown
    for bad in ("<script", "javascript:", "onerror", "<img"):
        assert bad not in markdown


def test_an_update_is_found_by_search_with_its_project(client, anon, officer, app):
    slug, _ = make_project(app, officer, title="Garden waste subscriptions")
    client.submit(f"/projects/{slug}/updates/new", {**FORM, "body": "We interviewed twelve allotment holders."})
    found = [a.get_text(strip=True) for a in anon.page("/projects?q=allotment").select("main h2 a")]
    assert "Garden waste subscriptions" in found
    assert app.test_cli_runner().invoke(args=["search", "rebuild"]).exit_code == 0
    found = [a.get_text(strip=True) for a in anon.page("/projects?q=allotment").select("main h2 a")]
    assert "Garden waste subscriptions" in found
