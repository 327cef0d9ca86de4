"""Following projects, councils, services and tags, taking part following for you, and email settings."""

from sqlalchemy import select

from pipeline.extensions import db
from pipeline.models import Follow, Notification, NotificationSettings, Tag
from tests.conftest import sign_in
from tests.conversation_factories import comment, follow
from tests.factories import make_project
from tests.pages import error_messages

BULKY_WASTE = 528


def follows_of(app, officer) -> list[tuple[str, int, str | None, bool]]:
    with app.app_context():
        return [
            (f.target_type, f.target_id, f.frequency, f.unfollowed_at is None)
            for f in db.session.scalars(select(Follow).where(Follow.user_id == officer.id).order_by(Follow.id))
        ]


def notified(app, officer) -> list[str]:
    with app.app_context():
        return [
            n.activity.kind
            for n in db.session.scalars(
                select(Notification).where(Notification.user_id == officer.id).order_by(Notification.id)
            )
        ]


def test_follow_and_unfollow_a_project_from_its_page(client, app, officer, make_officer):
    owner = make_officer("BIR")
    slug, project_id = make_project(app, owner)
    page = client.page(f"/projects/{slug}")
    assert page.select_one("form[action='/follow'] button").get_text() == "Follow this project"
    data = {"target_type": "project", "target": str(project_id), "next": f"/projects/{slug}"}
    response = client.submit("/follow", data, page=f"/projects/{slug}")
    assert response.headers["Location"] == f"/projects/{slug}"
    client.submit("/follow", data, page="/notifications/settings")  # following twice changes nothing
    assert follows_of(app, officer) == [("project", project_id, None, True)]
    page = client.page(f"/projects/{slug}")
    assert "You follow this project." in page.get_text()
    [follow_id] = [f[0] for f in _ids(app, officer)]
    response = client.submit(f"/follows/{follow_id}/unfollow", {"next": f"/projects/{slug}"}, page=f"/projects/{slug}")
    assert response.headers["Location"] == f"/projects/{slug}"
    assert follows_of(app, officer) == [("project", project_id, None, False)]
    assert client.page(f"/projects/{slug}").select_one("form[action='/follow']")


def _ids(app, officer):
    with app.app_context():
        return db.session.execute(select(Follow.id).where(Follow.user_id == officer.id)).all()


def test_taking_part_follows_the_project_until_you_unfollow(client, app, officer, make_officer):
    slug, project_id = make_project(app, officer)  # posting follows it
    assert follows_of(app, officer) == [("project", project_id, None, True)]
    [follow_id] = [f[0] for f in _ids(app, officer)]
    client.submit(f"/follows/{follow_id}/unfollow", {})
    comment(app, officer, project_id, "Commenting does not follow it again")
    assert follows_of(app, officer) == [("project", project_id, None, False)]
    follow(app, officer, "project", project_id)  # but following it yourself does
    assert follows_of(app, officer) == [("project", project_id, None, True)]


def test_follow_a_council_a_service_and_a_tag_to_hear_of_new_projects(client, app, officer, make_officer):
    other = make_officer("BIR")
    make_project(app, other, title="Tagged first", tags=["chatbots"])
    with app.app_context():
        tag_id = db.session.scalar(select(Tag.id).where(Tag.slug == "chatbots"))
    for path, data in [
        ("/councils/birmingham-city-council", {"target_type": "council", "target": str(other.council_id)}),
        (f"/services/{BULKY_WASTE}", {"target_type": "service", "target": str(BULKY_WASTE)}),
        ("/projects?tag=chatbots", {"target_type": "tag", "target": "chatbots"}),
    ]:
        page = client.page(path)
        button = page.select_one("form[action='/follow'] button")
        assert button is not None, path
        assert client.submit("/follow", {**data, "next": path}, page=path).status_code == 302
        assert "You follow" in client.page(path).get_text(), path
    assert follows_of(app, officer) == [
        ("council", other.council_id, None, True),
        ("service", BULKY_WASTE, None, True),
        ("tag", tag_id, None, True),
    ]
    _, birmingham_only = make_project(app, other, title="Birmingham only")
    make_project(app, make_officer("MAN"), title="On the service", service_ids=[BULKY_WASTE])
    make_project(app, make_officer("MAN"), title="With the tag", tags=["Chatbots", "other"])
    make_project(app, make_officer("MAN"), title="Unrelated")
    with app.app_context():
        titles = [
            n.activity.summary
            for n in db.session.scalars(select(Notification).where(Notification.user_id == officer.id))
        ]
    assert len(titles) == 3
    assert {t.rsplit(" posted ", 1)[1] for t in titles} == {"Birmingham only", "On the service", "With the tag"}
    # Those followers hear of new projects only, not of everything on them.
    comment(app, other, birmingham_only, "A comment on the Birmingham project")
    assert notified(app, officer) == ["project_posted"] * 3


def test_following_something_that_does_not_exist_is_not_found(client, officer):
    for data in [
        {"target_type": "project", "target": "99999"},
        {"target_type": "tag", "target": "no-such-tag"},
        {"target_type": "planet", "target": "1"},
        {"target_type": "council", "target": "leeds"},
    ]:
        assert client.submit("/follow", data, page="/notifications/settings").status_code == 404


def test_follow_redirects_only_within_the_site(client, app, officer):
    slug, project_id = make_project(app, officer)
    data = {"target_type": "project", "target": str(project_id), "next": "https://evil.example/"}
    response = client.submit("/follow", data, page="/notifications/settings")
    assert response.headers["Location"] == "/notifications/settings"


def test_settings_change_the_overall_choice_and_each_follow(client, app, officer, make_officer):
    owner = make_officer("BIR")
    slug, project_id = make_project(app, owner)
    follow(app, officer, "project", project_id)
    follow(app, officer, "council", owner.council_id)
    page = client.page("/notifications/settings")
    assert page.select_one("input[name=frequency][value=daily]").has_attr("checked")
    labels = [label.get_text() for label in page.select("tbody label")]
    assert labels[0].startswith("Email about Shared project number")
    assert labels[1] == "Email about Birmingham City Council"
    [(project_follow,), (council_follow,)] = _ids(app, officer)
    response = client.submit(
        "/notifications/settings",
        {
            "frequency": "weekly",
            "follows-0-follow_id": str(project_follow),
            "follows-0-frequency": "instantly",
            "follows-1-follow_id": str(council_follow),
            "follows-1-frequency": "",
        },
    )
    assert response.status_code == 302
    assert [f[2] for f in follows_of(app, officer)] == ["instantly", None]
    with app.app_context():
        assert db.session.get(NotificationSettings, officer.id).frequency == "weekly"
    page = client.page("/notifications/settings")
    assert page.select_one("input[name=frequency][value=weekly]").has_attr("checked")
    assert page.select_one("#follows-0-frequency option[selected]")["value"] == "instantly"

    response = client.submit("/notifications/settings", {"frequency": "hourly"})
    assert "Select how often we should email you" in error_messages(response)
    response = client.submit(
        "/notifications/settings",
        {"frequency": "daily", "follows-0-follow_id": str(project_follow), "follows-0-frequency": "hourly"},
    )
    assert "Select how often we should email you about each thing you follow" in error_messages(response)


def test_settings_cannot_change_or_end_someone_elses_follows(client, app, officer, make_officer):
    other = make_officer("BIR")
    _, project_id = make_project(app, other)
    [(theirs,)] = _ids(app, other)
    client.submit(
        "/notifications/settings",
        {"frequency": "daily", "follows-0-follow_id": str(theirs), "follows-0-frequency": "off"},
    )
    assert follows_of(app, other) == [("project", project_id, None, True)]
    assert client.get(f"/follows/{theirs}/unfollow").status_code == 404
    response = client.submit(f"/follows/{theirs}/unfollow", {}, page="/notifications/settings")
    assert response.status_code == 404
    assert follows_of(app, other) == [("project", project_id, None, True)]


def test_unfollow_asks_first_from_the_settings_page(client, app, officer):
    make_project(app, officer, title="Waste app")
    [(follow_id,)] = _ids(app, officer)
    page = client.page("/notifications/settings")
    link = page.select_one(f"a[href='/follows/{follow_id}/unfollow']")
    assert link.get_text() == "Unfollow Waste app"
    confirm = client.page(f"/follows/{follow_id}/unfollow")
    assert confirm.h1.get_text() == "Stop following Waste app"
    response = client.submit(f"/follows/{follow_id}/unfollow", {})
    assert response.headers["Location"] == "/notifications/settings"
    assert "You do not follow anything yet" in client.page("/notifications/settings").get_text()


def test_signed_out_visitors_are_asked_to_sign_in_to_follow(anon, app, make_officer):
    owner = make_officer("BIR")
    slug, _ = make_project(app, owner)
    page = anon.page(f"/projects/{slug}")
    assert page.select_one(f"a[href^='/sign-in?next=/projects/{slug}']")
    assert not page.select("form[action='/follow']")


def test_signing_in_as_another_officer_shows_their_own_follow_state(app, make_officer):
    owner = make_officer("BIR")
    slug, _ = make_project(app, owner)
    theirs = app.test_client()
    sign_in(theirs, owner)
    assert "You follow this project." in theirs.page(f"/projects/{slug}").get_text()
