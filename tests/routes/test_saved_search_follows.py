"""Following a saved search: new projects that match it come in the officer's notifications and email."""

from sqlalchemy import select

from pipeline.extensions import db
from pipeline.models import Activity, Follow, Notification, Project, SavedSearch
from tests.conftest import sign_in
from tests.factories import make_project
from tests.mail import body, links
from tests.unit.test_digests import digests_to, send

BULKY_WASTE = 528
SEARCH = "/projects?q=bulky+waste&nation=Wales"


def save(client, path: str = SEARCH, said: str = "We will tell you about new projects that match it.") -> str:
    """Save the search at `path` as the signed-in officer; returns its token."""
    query = path.split("?", 1)[1]
    response = client.submit(f"/saved-searches?{query}", {}, page=path)
    assert response.status_code == 302 and response.headers["Location"] == "/saved-searches"
    page = client.page("/saved-searches")
    assert said in page.select_one(".govuk-notification-banner").get_text()
    return page.select_one("#saved-searches form[action$='/delete']")["action"].split("/")[2]


def new_projects_notified(app, officer) -> list[str]:
    """The titles of the new projects the officer was told of, oldest first."""
    with app.app_context():
        return db.session.scalars(
            select(Project.title)
            .join(Activity, Activity.project_id == Project.id)
            .join(Notification, Notification.activity_id == Activity.id)
            .where(Notification.user_id == officer.id, Activity.kind == "project_posted")
            .order_by(Notification.id)
        ).all()


def search_follow(app, officer) -> Follow:
    """The officer's newest follow of a saved search."""
    with app.app_context():
        mine = select(Follow).where(Follow.user_id == officer.id, Follow.target_type == "search")
        found = db.session.scalars(mine.order_by(Follow.id.desc())).first()
        db.session.expunge_all()
        return found


def test_saving_a_search_follows_it_and_new_matching_projects_are_notified(client, app, officer, make_officer):
    token = save(client)
    follow = search_follow(app, officer)
    assert follow is not None and follow.is_active and follow.frequency is None
    settings = client.page("/notifications/settings")
    [row] = settings.select("tbody tr")
    assert row.select_one("a").get_text() == "‘bulky waste’; Nation: Wales"
    assert row.select_one("a")["href"] == "/projects?nation=Wales&q=bulky+waste"
    assert "Saved search: new projects that match" in row.get_text()

    cardiff, leeds = make_officer("CRF"), make_officer("LDS", name="Second Leeds officer")
    make_project(app, cardiff, title="Book bulky waste collections in Cardiff", service_ids=[BULKY_WASTE])
    make_project(app, leeds, title="Bulky waste booking in Leeds")  # England: the filter leaves it out
    make_project(app, cardiff, title="Cardiff parking permits")  # Wales, but not the words
    make_project(app, cardiff, title="Collecting large items", problem="Residents book bulky items of waste.")
    assert new_projects_notified(app, officer) == ["Book bulky waste collections in Cardiff", "Collecting large items"]
    page = client.page("/notifications")
    assert "Book bulky waste collections in Cardiff" in page.select_one("main").get_text()
    assert token  # the officer's own saved search, named by its token


def test_officers_who_saved_the_same_search_each_hear_once(client, app, officer, make_officer):
    other = make_officer("LDS", name="Another Leeds officer")
    other_client = app.test_client()
    sign_in(other_client, other)
    save(client)
    save(other_client)
    make_project(app, make_officer("CRF"), title="Bulky waste in Wales")
    assert new_projects_notified(app, officer) == ["Bulky waste in Wales"]
    assert new_projects_notified(app, other) == ["Bulky waste in Wales"]


def test_unfollow_and_follow_again_from_the_saved_searches_page(client, app, officer, make_officer):
    token = save(client)
    page = client.page("/saved-searches")
    unfollow = page.select_one("#saved-searches form[action^='/follows/']")
    assert "Unfollow" in unfollow.get_text()
    response = client.submit(unfollow["action"], {"next": "/saved-searches"}, page="/saved-searches")
    assert response.headers["Location"] == "/saved-searches"
    assert not search_follow(app, officer).is_active
    cardiff = make_officer("CRF")
    make_project(app, cardiff, title="Bulky waste while not following")
    assert new_projects_notified(app, officer) == []

    page = client.page("/saved-searches")
    button = page.select_one("#saved-searches form[action='/follow'] button")
    assert button.get_text(" ", strip=True) == "Follow new projects matching ‘bulky waste’; Nation: Wales"
    data = {"target_type": "search", "target": token, "next": "/saved-searches"}
    assert client.submit("/follow", data, page="/saved-searches").headers["Location"] == "/saved-searches"
    assert search_follow(app, officer).is_active
    make_project(app, cardiff, title="Bulky waste after following again")
    assert new_projects_notified(app, officer) == ["Bulky waste after following again"]


def test_nobody_follows_another_officers_saved_search(client, app, officer, make_officer):
    token = save(client)
    other = app.test_client()
    intruder = make_officer("MAN")
    sign_in(other, intruder)
    data = {"target_type": "search", "target": token}
    assert other.submit("/follow", data, page="/notifications/settings").status_code == 404
    assert other.submit("/follow", {**data, "target": "1"}, page="/notifications/settings").status_code == 404
    make_project(app, make_officer("CRF"), title="Bulky waste for the owner only")
    assert new_projects_notified(app, intruder) == []
    assert new_projects_notified(app, officer) == ["Bulky waste for the owner only"]


def test_deleting_a_saved_search_ends_its_follow_and_keeps_what_it_brought(client, app, officer, make_officer):
    token = save(client)
    cardiff = make_officer("CRF")
    make_project(app, cardiff, title="Bulky waste before deleting")
    client.submit(f"/saved-searches/{token}/delete", {}, page="/saved-searches")
    assert not search_follow(app, officer).is_active
    make_project(app, cardiff, title="Bulky waste after deleting")
    assert new_projects_notified(app, officer) == ["Bulky waste before deleting"]
    assert not client.page("/notifications/settings").select("tbody tr")
    # Saving it again follows it again.
    save(client)
    with app.app_context():
        assert db.session.scalar(select(SavedSearch.id)) is not None
    assert search_follow(app, officer).is_active
    make_project(app, cardiff, title="Bulky waste after saving again")
    assert new_projects_notified(app, officer)[-1] == "Bulky waste after saving again"


def test_a_saved_search_followed_instantly_sends_an_email(client, app, officer, make_officer, mailbox):
    save(client)
    follow = search_follow(app, officer)
    client.submit(
        "/notifications/settings",
        {"frequency": "daily", "follows-0-follow_id": str(follow.id), "follows-0-frequency": "instantly"},
    )
    assert search_follow(app, officer).frequency == "instantly"
    make_project(app, make_officer("CRF"), title="Bulky waste in Cardiff")
    assert app.test_cli_runner().invoke(args=["outbox", "deliver"]).exit_code == 0
    mailbox.wait_for(officer.email)
    [message] = [m for m in mailbox.to(officer.email) if m["Subject"].startswith("New project")]
    assert message["Subject"] == "New project: Bulky waste in Cardiff"
    text = body(message)
    assert "you follow new projects matching your saved search ‘bulky waste’; Nation: Wales" in " ".join(text.split())
    assert "http://localhost/projects/bulky-waste-in-cardiff" in links(message)
    assert message["List-Unsubscribe"].startswith("<http://localhost/unsubscribe/")


def test_a_saved_search_in_the_daily_digest(client, app, officer, make_officer, mailbox):
    save(client)
    make_project(app, make_officer("CRF"), title="Bulky waste in Cardiff")
    send(app)
    [message] = digests_to(mailbox, officer.email)
    text = " ".join(body(message).split())
    assert "Bulky waste in Cardiff ===" in text
    assert "Stop email about new projects matching your saved search ‘bulky waste’; Nation: Wales:" in text
