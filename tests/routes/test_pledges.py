"""Pledging money, people and skills; the lifecycle to delivery; totals, the ledger, and who may do what."""

import random
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from pipeline.extensions import db
from pipeline.models import Activity, OutboxMessage, PeopleNeed, Pledge, PledgeEvent, Project, User
from pipeline.models.project import DORMANT_AFTER_DAYS
from pipeline.services import pledges, projects
from pipeline.services.errors import InvalidInput, PermissionDenied
from pipeline.timeutil import utcnow
from tests.conftest import sign_in
from tests.factories import NeedInput, make_project
from tests.mail import body
from tests.pages import assert_statement_count_is_flat, error_messages, soup_of

REFERER = {"Referer": "https://localhost/"}


# ---- helpers --------------------------------------------------------------------------------


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def form_fields(client, slug: str, kind: str, **params) -> dict:
    """The hidden fields of the pledge form as the page shows them: CSRF token, kind, council, idempotency key."""
    query = "&".join(f"{k}={v}" for k, v in {"kind": kind, **params}.items())
    soup = client.page(f"/projects/{slug}/pledge?{query}")
    return {field["name"]: field.get("value", "") for field in soup.select("main form input[type=hidden]")}


def send(client, slug: str, fields: dict, **values):
    kind = fields["kind"]
    return client.post(f"/projects/{slug}/pledge?kind={kind}", data={**fields, **values}, headers=REFERER)


def pledge(client, slug: str, kind: str, **values):
    return send(client, slug, form_fields(client, slug, kind), **values)


def need_id(app, project_id: int, role: str = "User researcher") -> int:
    with app.app_context():
        return db.session.scalar(
            select(PeopleNeed.id).where(PeopleNeed.project_id == project_id, PeopleNeed.role == role)
        )


def only_pledge(app, *where) -> Pledge:
    with app.app_context():
        found = db.session.scalars(select(Pledge).where(*where)).one()
        db.session.expunge(found)
        return found


def act(client, pledge_id: int, action: str, **data):
    return client.submit(f"/pledges/{pledge_id}/{action}", data)


@pytest.fixture
def team(make_officer):
    """The officer who posted the project (Leeds), not signed in anywhere."""
    return make_officer("LDS", name="Tara Team")


@pytest.fixture
def project(app, team):
    """A Leeds project asking for £20,000 and 10 days of a user researcher; returns (slug, id)."""
    return make_project(
        app,
        team,
        title="Bin collection reminders",
        money_target=20_000,
        people_needs=[
            NeedInput("User researcher", 10, date(2027, 3, 1), date(2027, 4, 30)),
            NeedInput("Developer", 20),
        ],
    )


@pytest.fixture
def team_client(app, team, project):
    client = app.test_client()
    sign_in(client, team)
    return client


@pytest.fixture
def pledger(make_officer, client, mailbox):
    """A signed-in officer of Birmingham, using `client`."""
    person = make_officer("BIR", name="Priya Pledger")
    sign_in(client, person)
    mailbox.clear()
    return person


def project_text(client, slug: str) -> str:
    return " ".join(client.page(f"/projects/{slug}").select_one("main").get_text(" ").split())


def ledger_headings(client, slug: str) -> list[str]:
    soup = client.page(f"/projects/{slug}/pledges")
    return [" ".join(h.get_text(" ").split()) for h in soup.select("#ledger + ol h3")]


# ---- pledging -------------------------------------------------------------------------------


def test_pledge_people_and_money_and_see_the_totals(app, client, pledger, project, team, mailbox):
    slug, project_id = project
    response = pledge(client, slug, "people", need=str(need_id(app, project_id)), days="10", note="Sam, from March")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/projects/{slug}"
    response = pledge(client, slug, "money", amount="£5,000")
    assert response.status_code == 302

    text = project_text(client, slug)
    assert "£5,000 pledged of £20,000 asked for (25%)" in text
    assert "£0 delivered of £5,000 pledged (0%)" in text
    assert "10 days pledged of 10 days asked for (100%)" in text
    assert "0 days pledged of 20 days asked for (0%)" in text
    assert "Birmingham City Council : £5,000, 10 days" in text
    soup = client.page(f"/projects/{slug}")
    bars = soup.select("#pledges ~ progress.app-progress")
    assert bars and all(bar["aria-hidden"] == "true" for bar in bars)
    assert soup.select_one("#pledges ~ ul a[href='/councils/birmingham-city-council']")

    assert ledger_headings(client, slug) == [
        "Birmingham City Council offered User researcher, 10 days",
        "Birmingham City Council offered £5,000",
    ]
    assert "Sam, from March" in client.page(f"/projects/{slug}/pledges").get_text()
    people = only_pledge(app, Pledge.kind == "people")
    assert (people.role, people.days, people.council_id, people.pledged_by_id) == (
        "User researcher",
        10,
        pledger.council_id,
        pledger.id,
    )

    messages = mailbox.wait_for(team.email, 2)
    assert {m["Subject"] for m in messages} == {"New pledge to Bin collection reminders"}
    assert "Birmingham City Council has pledged £5,000 to Bin collection reminders." in body(messages[-1])
    assert f"/projects/{slug}/pledges#pledge-" in body(messages[-1])
    with app.app_context():
        offered = db.session.scalars(select(Activity).where(Activity.kind == "pledge_offered")).all()
        assert [(a.actor_id, a.subject_type, a.data) for a in offered] == [
            (pledger.id, "pledge", {"council_id": pledger.council_id})
        ] * 2


def test_pledge_skills_and_a_role_nobody_asked_for(app, client, pledger, project):
    slug, _ = project
    assert pledge(client, slug, "skills", skill="Accessibility testing", hours="12").status_code == 302
    assert pledge(client, slug, "people", need="other", role="Content designer", days="3").status_code == 302
    text = project_text(client, slug)
    assert "Skills pledged Accessibility testing: 12 hours pledged, 0 hours delivered" in text
    assert "Other people pledged Content designer: 3 days pledged, 0 days delivered" in text
    assert only_pledge(app, Pledge.kind == "people").need_id is None


def test_a_project_without_asks_takes_pledges_too(app, client, pledger, team):
    slug, _ = make_project(app, team, title="No asks yet")
    fields = form_fields(client, slug, "people")
    assert "need" not in str(client.page(f"/projects/{slug}/pledge?kind=people").select("input[type=radio]"))
    assert send(client, slug, fields, role="Developer", days="5").status_code == 302
    assert "Developer: 5 days pledged" in project_text(client, slug)


def test_choosing_what_to_pledge_first(client, pledger, project):
    slug, _ = project
    soup = client.page(f"/projects/{slug}/pledge")
    assert [i["value"] for i in soup.select("input[name=kind]")] == ["money", "people", "skills"]
    assert soup.select_one("main form")["method"] == "get"
    response = client.get(f"/projects/{slug}/pledge?choose=")
    assert error_messages(response) == ["Select what you are pledging: money, people or skills"]
    assert soup_of(response).title.get_text().startswith("Error: ")
    soup = client.page(f"/projects/{slug}/pledge?kind=skills&choose=")
    assert soup.h1.get_text(strip=True) == "Pledge skills to Bin collection reminders"
    # A form sent with a kind that makes no sense goes back to the first question.
    fields = form_fields(client, slug, "money")
    response = client.post(f"/projects/{slug}/pledge", data={**fields, "kind": "gold"}, headers=REFERER)
    assert response.headers["Location"] == f"/projects/{slug}/pledge"


def test_the_needs_board_link_chooses_the_need(app, client, pledger, project):
    slug, project_id = project
    need = need_id(app, project_id, "Developer")
    soup = client.page(f"/projects/{slug}/pledge?kind=people&need={need}")
    assert soup.select_one(f"input[name=need][value='{need}']").has_attr("checked")


def test_signed_out_people_are_asked_to_sign_in(anon, project):
    slug, _ = project
    page = anon.page(f"/projects/{slug}")
    link = page.select_one("#pledges ~ p a[href^='/sign-in']")
    assert link.get_text() == "Sign in to pledge"
    response = anon.get(f"/projects/{slug}/pledge")
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in?next=")
    assert anon.get(f"/projects/{slug}/pledges").status_code == 200


# ---- retries and double clicks --------------------------------------------------------------


def test_the_same_form_sent_twice_makes_one_pledge(app, client, pledger, project, team, mailbox):
    slug, _ = project
    fields = form_fields(client, slug, "money")
    first = send(client, slug, fields, amount="5000")
    second = send(client, slug, fields, amount="5000")
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert count(app, Pledge) == 1
    assert count(app, PledgeEvent) == 1
    assert count(app, Activity, Activity.kind == "pledge_offered") == 1
    assert count(app, OutboxMessage, OutboxMessage.subject.startswith("New pledge")) == 1
    # A fresh form is a fresh pledge.
    assert pledge(client, slug, "money", amount="5000").status_code == 302
    assert count(app, Pledge) == 2


def test_a_form_used_by_someone_else_is_refused(app, client, pledger, project, make_officer):
    slug, _ = project
    fields = form_fields(client, slug, "money")
    send(client, slug, fields, amount="5000")
    colleague = make_officer("BIR")
    other = app.test_client()
    sign_in(other, colleague)
    stolen = {**form_fields(other, slug, "money"), "idempotency_key": fields["idempotency_key"]}
    response = send(other, slug, stolen, amount="7000")
    assert error_messages(response) == ["This form has already been used. Start a new pledge."]
    assert count(app, Pledge) == 1


# ---- bad input ------------------------------------------------------------------------------

BAD_INPUT = [
    ("money", {"amount": "0"}, "Enter an amount of £1 or more"),
    ("money", {"amount": "-5"}, "Enter the amount as a whole number of pounds, like 5000"),
    ("money", {"amount": "12.50"}, "Enter the amount as a whole number of pounds, like 5000"),
    ("money", {"amount": "five"}, "Enter the amount as a whole number of pounds, like 5000"),
    ("money", {"amount": "100000001"}, "Amount must be £100,000,000 or less"),
    ("money", {"amount": "9" * 40}, "Amount must be £100,000,000 or less"),
    ("money", {"amount": ""}, "Enter how much money you are pledging, in whole pounds"),
    ("people", {"need": "NEED", "days": "0"}, "Days must be between 1 and 10,000"),
    ("people", {"need": "NEED", "days": "10001"}, "Days must be between 1 and 10,000"),
    ("people", {"need": "NEED", "days": "1.5"}, "Enter the number of days as a whole number, like 10"),
    ("people", {"need": "NEED", "days": "-3"}, "Enter the number of days as a whole number, like 10"),
    ("people", {"need": "NEED", "days": ""}, "Enter how many days you are pledging"),
    (
        "people",
        {"need": "NEED", "days": "5", "start_date": ["1", "5", "2027"], "end_date": ["1", "4", "2027"]},
        "The end date must be on or after the start date",
    ),
    (
        "people",
        {"need": "NEED", "days": "5", "start_date": ["31", "2", "2027"]},
        "Enter a real start date, like 1 3 2027",
    ),
    ("people", {"days": "5"}, "Select the role you are pledging, or another role"),
    ("people", {"need": "other", "role": " ", "days": "5"}, "Enter the role you are pledging, like user researcher"),
    ("people", {"need": "OTHER_PROJECT_NEED", "days": "5"}, "Select a role the project has asked for, or another role"),
    ("skills", {"skill": "Testing", "hours": "80001"}, "Hours must be between 1 and 80,000"),
    ("skills", {"skill": "Testing", "hours": "0"}, "Hours must be between 1 and 80,000"),
    ("skills", {"skill": "", "hours": "3"}, "Enter the skill you are offering, like accessibility testing"),
    ("money", {"amount": "50", "note": "x" * 2001}, "Note must be 2,000 characters or fewer"),
    ("money", {"amount": "50", "council_id": "OTHER_COUNCIL"}, "You can only pledge on behalf of your own council, "),
    (
        "money",
        {"amount": "50", "idempotency_key": ""},
        "This form is out of date. Check your answers and send it again.",
    ),
]


@pytest.mark.parametrize(("kind", "values", "message"), BAD_INPUT)
def test_bad_input_is_explained_and_nothing_is_written(app, client, pledger, project, team, kind, values, message):
    slug, project_id = project
    other_slug, other_id = make_project(app, team, people_needs=[NeedInput("Analyst", 3)])
    with app.app_context():
        leeds = db.session.get(User, team.id).council_id
    swaps = {"NEED": str(need_id(app, project_id)), "OTHER_PROJECT_NEED": str(need_id(app, other_id, "Analyst"))}
    swaps["OTHER_COUNCIL"] = str(leeds)
    values = {k: swaps.get(v, v) if isinstance(v, str) else v for k, v in values.items()}
    fields = form_fields(client, slug, kind)
    messages_before = count(app, OutboxMessage)
    response = send(client, slug, fields, **values)
    assert response.status_code == 200
    shown = error_messages(response)
    assert any(m.startswith(message) for m in shown), shown
    assert soup_of(response).title.get_text().startswith("Error: ")
    assert count(app, Pledge) == 0
    assert count(app, PledgeEvent) == 0
    assert count(app, Activity, Activity.kind.like("pledge_%")) == 0
    assert count(app, OutboxMessage) == messages_before
    # What was typed is kept.
    for name, value in values.items():
        if name in ("amount", "days", "hours", "skill") and value:
            assert soup_of(response).select_one(f"input[name={name}]")["value"] == value


def test_pledging_for_another_council_names_the_officers_own(app, client, pledger, project, team):
    slug, _ = project
    fields = {**form_fields(client, slug, "money"), "council_id": str(team.council_id)}
    response = send(client, slug, fields, amount="50")
    assert error_messages(response) == ["You can only pledge on behalf of your own council, Birmingham City Council"]


@pytest.mark.parametrize(("to_phase", "words"), [("stopped", "has stopped"), ("retired", "has been retired")])
def test_a_stopped_or_retired_project_takes_no_pledges(app, client, pledger, project, team, to_phase, words):
    slug, project_id = project
    fields = form_fields(client, slug, "money")
    with app.app_context():
        user = db.session.get(User, team.id)
        if to_phase == "retired":
            projects.change_phase(user, project_id, "live", "Launched")
        projects.change_phase(user, project_id, to_phase, "Over", outcome="Done", lessons="Plan")
    response = send(client, slug, fields, amount="5000")
    assert error_messages(response) == [f"This project {words}, so it no longer takes pledges"]
    assert count(app, Pledge) == 0
    for url in (f"/projects/{slug}/pledge", f"/projects/{slug}/pledge?kind=money"):
        page = client.page(url)
        assert f"This project {words}, so it no longer takes pledges" in page.get_text()
        assert page.select_one("main form") is None
    assert client.page(f"/projects/{slug}").select_one("#pledges ~ .govuk-button") is None


# ---- the lifecycle --------------------------------------------------------------------------


def test_accept_decline_change_and_deliver(app, client, pledger, project, team, team_client, mailbox):
    slug, project_id = project
    pledge(client, slug, "people", need=str(need_id(app, project_id)), days="10")
    pledge(client, slug, "money", amount="5000")
    people = only_pledge(app, Pledge.kind == "people")
    money = only_pledge(app, Pledge.kind == "money")
    mailbox.clear()

    # The team sees what it can do on the pledges page.
    page = team_client.page(f"/projects/{slug}/pledges")
    row = page.select_one(f"#pledge-{people.id}")
    assert [a.get_text(" ", strip=True).split(" the pledge")[0] for a in row.select("a[href^='/pledges/']")] == [
        "Accept",
        "Decline",
    ]

    assert act(team_client, people.id, "accept").status_code == 302
    response = act(team_client, money.id, "decline", reason="")
    assert error_messages(response) == ["Enter a reason for declining the pledge"]
    response = act(team_client, money.id, "decline", reason="We have the money from a grant")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/projects/{slug}/pledges#pledge-{money.id}"
    text = project_text(client, slug)
    assert "£0 pledged of £20,000 asked for (0%)" in text
    assert "10 days pledged of 10 days asked for (100%)" in text

    accepted, declined = mailbox.wait_for(pledger.email, 2)
    assert accepted["Subject"] == "Your pledge to Bin collection reminders has been accepted"
    assert declined["Subject"] == "Your pledge to Bin collection reminders has been declined"
    assert "We have the money from a grant" in body(declined)

    # The pledger changes the days; the change is recorded, not overwritten.
    response = client.submit(
        f"/pledges/{people.id}/change",
        {"days": "8", "start_date": ["2", "3", "2027"], "end_date": ["", "", ""], "reason": "Sam is away a week"},
    )
    assert response.status_code == 302
    assert "8 days pledged of 10 days asked for (80%)" in project_text(client, slug)
    changed = mailbox.wait_for(team.email, 1)[0]
    assert changed["Subject"] == "A pledge to Bin collection reminders has changed"
    assert "Days: 10 to 8" in body(changed) and "Sam is away a week" in body(changed)

    response = act(team_client, people.id, "mark-delivered", reason="Research round finished")
    assert response.status_code == 302
    text = project_text(client, slug)
    assert "8 days delivered of 8 days pledged (100%)" in text
    assert mailbox.wait_for(pledger.email, 3)[2]["Subject"] == (
        "Your pledge to Bin collection reminders has been marked delivered"
    )

    assert ledger_headings(client, slug) == [
        "Birmingham City Council offered User researcher, 10 days",
        "Birmingham City Council offered £5,000",
        "The team accepted Birmingham City Council’s pledge of User researcher, 10 days",
        "The team declined Birmingham City Council’s pledge of £5,000",
        "Birmingham City Council changed its pledge to User researcher, 8 days",
        "The team marked Birmingham City Council’s pledge of User researcher, 8 days delivered",
    ]
    ledger = client.page(f"/projects/{slug}/pledges").select_one("#ledger + ol").get_text(" ")
    for words in ("Days: 10 to 8", "From: (none) to 2 March 2027", "We have the money", "Research round finished"):
        assert words in ledger
    assert "Tara Team, Leeds City Council" in ledger
    with app.app_context():
        kinds = [a.kind for a in db.session.scalars(select(Activity).order_by(Activity.id)) if a.kind.startswith("pl")]
        assert kinds == [
            "pledge_offered",
            "pledge_offered",
            "pledge_accepted",
            "pledge_declined",
            "pledge_changed",
            "pledge_delivered",
        ]
        events = db.session.scalars(select(PledgeEvent).where(PledgeEvent.pledge_id == people.id)).all()
        assert [(e.action, e.from_state, e.to_state) for e in events] == [
            ("offered", None, "offered"),
            ("accepted", "offered", "accepted"),
            ("changed", "accepted", "accepted"),
            ("delivered", "accepted", "delivered"),
        ]
        assert events[2].changes == {
            "days": {"before": 10, "after": 8},
            "start_date": {"before": None, "after": "2027-03-02"},
        }
        assert events[2].reason == "Sam is away a week"


def test_withdrawing_needs_a_reason_and_tells_the_team(app, client, pledger, project, team, mailbox):
    slug, _ = project
    pledge(client, slug, "money", amount="5000")
    money = only_pledge(app)
    mailbox.clear()
    assert error_messages(act(client, money.id, "withdraw", reason=" ")) == [
        "Enter a reason for withdrawing the pledge"
    ]
    assert act(client, money.id, "withdraw", reason="Budget cut").status_code == 302
    [message] = mailbox.wait_for(team.email, 1)
    assert message["Subject"] == "A pledge to Bin collection reminders has been withdrawn"
    assert "Budget cut" in body(message)
    assert "£0 pledged of £20,000" in project_text(client, slug)
    assert ledger_headings(client, slug)[-1] == "Birmingham City Council withdrew its pledge of £5,000"
    # Nothing more can happen to it.
    assert "change" not in str(client.page("/my-pledges").select(f"a[href^='/pledges/{money.id}/']"))
    page = client.page(f"/pledges/{money.id}/withdraw")
    assert "This pledge is already withdrawn." in page.get_text() and page.select_one("main form") is None


@pytest.mark.parametrize(
    ("setup", "action", "message"),
    [
        (
            ["accepted", "delivered"],
            "offered",
            "This pledge has been delivered, so it cannot be offered or changed any more",
        ),
        (
            ["accepted", "delivered"],
            "withdrawn",
            "This pledge has been delivered, so it cannot be withdrawn or changed any more",
        ),
        (["declined"], "accepted", "This pledge has been declined, so it cannot be accepted or changed any more"),
        ([], "delivered", "Accept the pledge before marking it delivered"),
        (["accepted"], "accepted", "This pledge is already accepted"),
    ],
)
def test_transitions_that_are_not_allowed(app, client, pledger, project, team, setup, action, message):
    slug, _ = project
    pledge(client, slug, "money", amount="5000")
    money = only_pledge(app)
    with app.app_context():
        for state in setup:
            pledges.move_pledge(db.session.get(User, team.id), money.id, state, "A reason")
        events = count(app, PledgeEvent)
        actor = team.id if action != "withdrawn" else pledger.id
        with pytest.raises(InvalidInput) as refused:
            pledges.move_pledge(db.session.get(User, actor), money.id, action, "A reason")
        assert refused.value.message == message
        assert count(app, PledgeEvent) == events
        assert db.session.get(Pledge, money.id).state == (setup[-1] if setup else "offered")


def test_a_stale_page_explains_instead_of_failing(app, client, pledger, project, team, team_client):
    slug, _ = project
    pledge(client, slug, "money", amount="5000")
    money = only_pledge(app)
    token = team_client.csrf_token(f"/pledges/{money.id}/accept")
    act(client, money.id, "withdraw", reason="Changed our minds")
    response = team_client.post(f"/pledges/{money.id}/accept", data={"csrf_token": token}, headers=REFERER)
    assert error_messages(response) == ["This pledge has been withdrawn, so it cannot be accepted or changed any more"]
    assert only_pledge(app).state == "withdrawn"
    response = client.submit(f"/pledges/{money.id}/change", {"amount": "6000"}, page="/my-pledges")
    assert error_messages(response) == ["This pledge has been withdrawn, so it can no longer be changed"]


def test_a_change_must_change_something_and_keep_to_the_rules(app, client, pledger, project):
    slug, project_id = project
    pledge(client, slug, "people", need=str(need_id(app, project_id)), days="10")
    people = only_pledge(app)
    url = f"/pledges/{people.id}/change"
    assert client.page(url).select_one("input[name=days]")["value"] == "10"
    assert error_messages(client.submit(url, {"days": "10"})) == [
        "You have not changed anything. Change a value, or go back to the pledges."
    ]
    assert error_messages(client.submit(url, {"days": "10001"})) == ["Days must be between 1 and 10,000"]
    assert error_messages(client.submit(url, {"days": "2.5"})) == [
        "Enter the number of days as a whole number, like 10"
    ]
    response = client.submit(url, {"days": "4", "start_date": ["9", "9", "2027"], "end_date": ["1", "9", "2027"]})
    assert error_messages(response) == ["The end date must be on or after the start date"]
    assert count(app, PledgeEvent) == 1
    assert only_pledge(app).days == 10


# ---- permissions ----------------------------------------------------------------------------


def test_only_the_team_decides_and_only_the_pledger_changes(
    app, client, pledger, project, team, team_client, make_officer
):
    slug, _ = project
    pledge(client, slug, "money", amount="5000")
    money = only_pledge(app)
    outsider = make_officer("MAN")
    colleague = make_officer("BIR")
    clients = {}
    for name, person in (("outsider", outsider), ("colleague", colleague)):
        clients[name] = app.test_client()
        sign_in(clients[name], person)
    token = team_client.csrf_token(f"/pledges/{money.id}/accept")

    def refused(who, path, data=None):
        assert who.get(path).status_code == 403, path
        response = who.post(path, data={"csrf_token": token, **(data or {})}, headers=REFERER)
        assert response.status_code in (400, 403), path

    for who in clients.values():
        for action in ("accept", "decline", "mark-delivered", "change", "withdraw"):
            refused(who, f"/pledges/{money.id}/{action}", {"reason": "mine now", "amount": "1"})
    # The pledger is not on the team, and the team did not make the pledge.
    for action in ("accept", "decline", "mark-delivered"):
        assert client.get(f"/pledges/{money.id}/{action}").status_code == 403
    for action in ("change", "withdraw"):
        assert team_client.get(f"/pledges/{money.id}/{action}").status_code == 403

    with app.app_context():
        for person in (outsider, colleague):
            user = db.session.get(User, person.id)
            for state in ("accepted", "declined", "delivered", "withdrawn"):
                with pytest.raises(PermissionDenied):
                    pledges.move_pledge(user, money.id, state, "A reason")
            with pytest.raises(PermissionDenied):
                pledges.change_pledge(user, money.id, pledges.PledgeChange(amount=1))
        with pytest.raises(PermissionDenied):
            pledges.move_pledge(db.session.get(User, pledger.id), money.id, "accepted")
        with pytest.raises(PermissionDenied):
            pledges.move_pledge(db.session.get(User, team.id), money.id, "withdrawn", "Not theirs")
        with pytest.raises(PermissionDenied):
            pledges.move_pledge(db.session.get(User, outsider.id), money.id, "offered")
    stored = only_pledge(app)
    assert (stored.state, stored.amount) == ("offered", 5000)
    assert count(app, PledgeEvent) == 1
    # Other officers see no actions on the public pages.
    assert not clients["outsider"].page(f"/projects/{slug}/pledges").select(f"#pledge-{money.id} a[href^='/pledges/']")


def test_nobody_edits_history(app, client, pledger, project):
    slug, _ = project
    pledge(client, slug, "money", amount="5000")
    with app.app_context():
        event = db.session.scalars(select(PledgeEvent)).one()
        event.reason = "Rewritten"
        with pytest.raises(RuntimeError, match="append-only"):
            db.session.commit()
        db.session.rollback()
        db.session.delete(db.session.scalars(select(PledgeEvent)).one())
        with pytest.raises(RuntimeError, match="append-only"):
            db.session.commit()
        db.session.rollback()
    rules = sorted(rule.rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("pledges."))
    assert rules == [
        "/my-pledges",
        "/needs",
        "/pledges/<int:pledge_id>/accept",
        "/pledges/<int:pledge_id>/change",
        "/pledges/<int:pledge_id>/decline",
        "/pledges/<int:pledge_id>/mark-delivered",
        "/pledges/<int:pledge_id>/withdraw",
        "/projects/<slug>/pledge",
        "/projects/<slug>/pledges",
    ]


# ---- totals are the ledger ------------------------------------------------------------------


def replay(events: list[PledgeEvent]) -> dict[int, dict]:
    """Each pledge's state and values, rebuilt from nothing but the ledger."""
    pledged: dict[int, dict] = {}
    for event in events:
        current = pledged.setdefault(event.pledge_id, {})
        for name, change in event.changes.items():
            assert current.get(name) == change["before"], (event.id, name)
            current[name] = change["after"]
        assert current.get("state", None) == event.from_state
        current["state"] = event.to_state
    return pledged


def test_totals_always_equal_the_sum_of_the_ledger(app, project, team, make_officer):
    slug, project_id = project
    chance = random.Random(20261122)
    officers = [make_officer(code) for code in ("BIR", "MAN", "CRF", "BIR")]
    with app.app_context():
        need = need_id(app, project_id)
        team_user = db.session.get(User, team.id)
        made = []
        for step in range(60):
            choice = chance.random()
            if choice < 0.45 or not made:
                person = chance.choice(officers)
                user = db.session.get(User, person.id)
                kind = chance.choice(["money", "people", "people", "skills"])
                data = pledges.PledgeInput(
                    kind=kind,
                    council_id=person.council_id,
                    amount=chance.randint(1, 9000),
                    need_id=chance.choice([need, None]),
                    role="Analyst",
                    days=chance.randint(1, 9),
                    skill=chance.choice(["Testing", "Legal advice"]),
                    hours=chance.randint(1, 40),
                    idempotency_key=f"replay-key-{step:04d}-abcdefgh",
                )
                made.append((pledges.offer_pledge(user, project_id, data).id, person.id))
                continue
            pledge_id, owner = chance.choice(made)
            owner_user = db.session.get(User, owner)
            try:
                if choice < 0.6:
                    pledges.change_pledge(
                        owner_user,
                        pledge_id,
                        pledges.PledgeChange(amount=chance.randint(1, 9000), days=chance.randint(1, 9), hours=3),
                    )
                elif choice < 0.85:
                    state = chance.choice(["accepted", "accepted", "delivered", "declined"])
                    pledges.move_pledge(team_user, pledge_id, state, "Because")
                else:
                    pledges.move_pledge(owner_user, pledge_id, "withdrawn", "Because")
            except InvalidInput:
                pass

        rebuilt = replay(list(db.session.scalars(select(PledgeEvent).order_by(PledgeEvent.id))))
        rows = {p.id: p for p in db.session.scalars(select(Pledge))}
        for pledge_id, values in rebuilt.items():
            row = rows[pledge_id]
            assert row.state == values["state"]
            assert {k: v for k, v in row.values().items() if v} == {
                k: v for k, v in values.items() if k != "state" and v
            }
        counted = {pid: v for pid, v in rebuilt.items() if v["state"] in ("offered", "accepted", "delivered")}
        summary = pledges.project_summary(projects.get_project(slug))
        assert summary.money.pledged == sum(v.get("amount") or 0 for v in counted.values())
        assert summary.money.delivered == sum(
            v.get("amount") or 0 for v in counted.values() if v["state"] == "delivered"
        )
        need_days = sum(v.get("days") or 0 for pid, v in counted.items() if rows[pid].need_id == need)
        assert summary.needs[0].pledged == need_days
        assert sum(t.pledged for t in summary.skills) == sum(v.get("hours") or 0 for v in counted.values())
        assert sum(c.pounds for c in summary.councils) == summary.money.pledged
        assert len(rebuilt) == len(rows) and summary.money.pledged > 0


# ---- pages ----------------------------------------------------------------------------------


def test_my_pledges_lists_the_officers_pledges_and_those_to_decide(app, client, pledger, project, team, team_client):
    slug, _ = project
    pledge(client, slug, "money", amount="5000")
    money = only_pledge(app)
    account = client.page("/account")
    assert account.select_one("main a[href='/my-pledges']").get_text() == "Your pledges"
    mine = client.page("/my-pledges")
    assert "Bin collection reminders" in mine.get_text() and "Offered" in mine.get_text()
    links = [a["href"] for a in mine.select(f"a[href^='/pledges/{money.id}/']")]
    assert links == [f"/pledges/{money.id}/change?from=mine", f"/pledges/{money.id}/withdraw?from=mine"]
    decide = team_client.page("/my-pledges")
    assert "Pledges to your projects" in decide.get_text()
    assert decide.select_one(f"a[href='/pledges/{money.id}/accept?from=mine']")
    response = team_client.submit(f"/pledges/{money.id}/accept?from=mine", {}, page=f"/pledges/{money.id}/accept")
    assert response.headers["Location"] == "/my-pledges"


def test_the_council_page_shows_what_it_pledged_and_received(app, client, pledger, project, team, team_client):
    slug, _ = project
    pledge(client, slug, "money", amount="5000")
    pledge(client, slug, "skills", skill="Testing", hours="6")
    act(team_client, only_pledge(app, Pledge.kind == "skills").id, "accept")
    act(team_client, only_pledge(app, Pledge.kind == "skills").id, "mark-delivered")
    given = client.page("/councils/birmingham-city-council").get_text(" ")
    given = " ".join(given.split())
    assert "Pledges Birmingham City Council has made" in given
    assert "In all, £5,000 and 6 hours of skills pledged (2 pledges" in given
    assert "of which £0 and 6 hours delivered" in given
    assert "Bin collection reminders £5,000 Offered" in given
    received = " ".join(client.page("/councils/leeds-city-council").get_text(" ").split())
    assert "Birmingham City Council to Bin collection reminders Testing, 6 hours Delivered" in received
    assert "Leeds City Council has not pledged to any projects yet." in received


def test_needs_board(app, client, pledger, project, team, make_officer):
    slug, project_id = project
    welsh = make_officer("CRF")
    make_project(app, welsh, title="Welsh parking", service_ids=[528], people_needs=[NeedInput("Developer", 4)])
    stopped_slug, stopped_id = make_project(app, team, title="Stopped work", money_target=900)
    with app.app_context():
        projects.change_phase(db.session.get(User, team.id), stopped_id, "stopped", "x", outcome="y", lessons="z")
    make_project(app, team, title="Nothing asked")

    def board(query: str = "") -> dict[str, str]:
        soup = client.page("/needs" + query)
        return {
            card.h2.get_text(strip=True): " ".join(card.select_one("ul").get_text(" ").split())
            for card in soup.select(".app-card")
        }

    found = board()
    assert set(found) == {"Bin collection reminders", "Welsh parking"}
    assert (
        "User researcher : 10 days still needed of 10 days asked for, 1 March 2027 to 30 April 2027"
        in found["Bin collection reminders"]
    )
    assert "Money : £20,000 still needed of £20,000 asked for" in found["Bin collection reminders"]
    assert set(board("?role=developer")) == {"Bin collection reminders", "Welsh parking"}
    assert "Money" not in board("?role=developer")["Bin collection reminders"]
    assert set(board("?service=528")) == {"Welsh parking"}
    assert set(board("?region=Wales")) == {"Welsh parking"}
    assert set(board("?region=Yorkshire+and+The+Humber&role=user+researcher")) == {"Bin collection reminders"}
    assert board("?region=Scotland") == {}
    assert "Try removing some of them" in client.page("/needs?region=Scotland").get_text()
    assert len(board("?role=%27;DROP&service=x&page=abc")) == 0
    client.page("/needs?page=9", status=404)

    pledge(client, slug, "people", need=str(need_id(app, project_id)), days="6")
    pledge(client, slug, "money", amount="20000")
    text = board()["Bin collection reminders"]
    assert "User researcher : 4 days still needed of 10 days asked for" in text and "Money" not in text
    pledge(client, slug, "people", need=str(need_id(app, project_id)), days="4")
    pledge(client, slug, "people", need=str(need_id(app, project_id, "Developer")), days="20")
    assert "Bin collection reminders" not in board()
    # A withdrawn pledge opens the ask again.
    act(client, only_pledge(app, Pledge.kind == "money").id, "withdraw", reason="Sorry")
    assert "Money : £20,000 still needed" in board()["Bin collection reminders"]


def test_the_needs_board_leaves_out_dormant_projects_unless_asked(app, client, project):
    slug, project_id = project

    def board(query: str = "") -> dict[str, str]:
        soup = client.page("/needs" + query)
        return {card.h2.get_text(strip=True): card.get_text(" ", strip=True) for card in soup.select(".app-card")}

    assert "Dormant" not in board()["Bin collection reminders"]
    with app.app_context():
        db.session.get(Project, project_id).active_at = utcnow() - timedelta(days=DORMANT_AFTER_DAYS + 1)
        db.session.commit()

    assert board() == {}
    page = client.page("/needs")
    assert "0 projects need help" in page.get_text()
    include = page.find("a", string="include dormant projects")
    assert include["href"] == "/needs?dormant=include"
    assert "Dormant" in board("?dormant=include")["Bin collection reminders"]
    assert client.page("/needs?dormant=include").select_one("#filter-dormant-include").has_attr("checked")
    # The other filters keep it: a role asked for on the dormant project, with dormant projects included.
    assert set(board("?role=user+researcher&dormant=include")) == {"Bin collection reminders"}
    assert board("?role=user+researcher") == {}
    # Nonsense is the default.
    assert board("?dormant=only") == {}


def test_the_navigation_links_to_the_needs_board(anon):
    nav = anon.page("/").select(".govuk-service-navigation a")
    assert "/needs" in [a["href"] for a in nav]


def test_editing_a_project_keeps_pledges_on_its_needs(app, client, pledger, project, team):
    slug, project_id = project
    pledge(client, slug, "people", need=str(need_id(app, project_id)), days="4")
    with app.app_context():
        user = db.session.get(User, team.id)
        project_row = projects.get_project(slug)
        data = projects.ProjectInput(
            title=project_row.title,
            summary="A new summary",
            problem=project_row.problem,
            money_target=20_000,
            people_needs=[NeedInput("Designer", 2), NeedInput("user researcher", 12)],
        )
        projects.update_project(user, project_id, data)
    assert only_pledge(app).need_id == need_id(app, project_id, "user researcher")
    assert "4 days pledged of 12 days asked for (33%)" in project_text(client, slug)


# ---- speed ----------------------------------------------------------------------------------


def test_statement_counts_do_not_grow_with_pledges(app, client, pledger, project, team, make_officer):
    slug, project_id = project
    others = [make_officer(code) for code in ("MAN", "CRF", "GLG")]
    need = need_id(app, project_id)

    def grow():
        with app.app_context():
            team_user = db.session.get(User, team.id)
            for number, person in enumerate(others * 2):
                user = db.session.get(User, person.id)
                key = f"grow-{person.id}-{number}-{count(app, Pledge)}-padding"
                data = pledges.PledgeInput("people", person.council_id, need_id=need, days=2, idempotency_key=key)
                made = pledges.offer_pledge(user, project_id, data)
                pledges.move_pledge(team_user, made.id, "accepted")
                pledges.change_pledge(user, made.id, pledges.PledgeChange(days=3))
                money = pledges.PledgeInput("money", person.council_id, amount=10, idempotency_key=key + "-m")
                pledges.offer_pledge(user, project_id, money)
                skills = pledges.PledgeInput(
                    "skills", person.council_id, skill=f"S{number}", hours=2, idempotency_key=key + "-s"
                )
                pledges.offer_pledge(user, project_id, skills)

    grow()
    # SQLite counts one more statement per page than PostgreSQL: its BEGIN.
    assert_statement_count_is_flat(client, f"/projects/{slug}", grow, budget=26)
    assert_statement_count_is_flat(client, f"/projects/{slug}/pledges", grow, budget=10)
    assert_statement_count_is_flat(client, "/councils/manchester-city-council", grow, budget=14)
    more_asks = lambda: make_project(app, team, money_target=5, people_needs=[NeedInput("Tester", 2)])  # noqa: E731
    assert_statement_count_is_flat(client, "/needs", more_asks, budget=13)

    def grow_elsewhere():
        """Pledges to more projects, so lists that show pledges to several projects grow too."""
        _, other_id = make_project(app, team, money_target=100)
        with app.app_context():
            for person in [*others, pledger]:
                user = db.session.get(User, person.id)
                key = f"elsewhere-{other_id}-{person.id}-padding"
                data = pledges.PledgeInput("money", person.council_id, amount=5, idempotency_key=key)
                pledges.offer_pledge(user, other_id, data)

    team_client = app.test_client()
    sign_in(team_client, team)
    # One of the eight reads the pledges waiting for their pledger to say whether they move after a merge.
    assert_statement_count_is_flat(team_client, "/my-pledges", grow_elsewhere, budget=8)
    assert_statement_count_is_flat(client, "/my-pledges", grow_elsewhere, budget=8)
    assert_statement_count_is_flat(client, "/councils/leeds-city-council", grow_elsewhere, budget=14)
