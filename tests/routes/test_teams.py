"""Co-owning a project: joining the team, owners, partner councils, check-ins and the daily reminders."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from pipeline.extensions import db
from pipeline.models import Activity, Council, JoinRequest, Project, ProjectCouncil, ProjectMember, User
from pipeline.services import teams
from pipeline.timeutil import utcnow
from tests.conftest import sign_in
from tests.factories import make_project
from tests.mail import body, links
from tests.pages import assert_statement_count_is_flat, error_messages, soup_of


@pytest.fixture
def project(app, officer):
    """A Leeds project owned by `officer` (signed in on `client`): (slug, id)."""
    return make_project(app, officer, title="Bulky waste booking")


@pytest.fixture
def signed_in_as(app):
    """A new client signed in as the given officer."""

    def make(person):
        other = app.test_client()
        sign_in(other, person)
        return other

    return make


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def ask_to_join(client, slug, message="I run bulky waste in Birmingham and we want to share the work."):
    return client.submit(f"/projects/{slug}/join", {"join-message": message}, page=f"/projects/{slug}")


def join_request_id(app, user_id) -> int:
    with app.app_context():
        return db.session.scalar(select(JoinRequest.id).where(JoinRequest.user_id == user_id))


def member_id(app, project_id, user_id) -> int:
    with app.app_context():
        return db.session.scalar(
            select(ProjectMember.id).where(ProjectMember.project_id == project_id, ProjectMember.user_id == user_id)
        )


def partner_id(app, project_id, council_id) -> int:
    with app.app_context():
        return db.session.scalar(
            select(ProjectCouncil.id).where(
                ProjectCouncil.project_id == project_id, ProjectCouncil.council_id == council_id
            )
        )


def councils_of(app, project_id) -> list[tuple[str, str, str]]:
    with app.app_context():
        rows = db.session.scalars(
            select(ProjectCouncil).where(ProjectCouncil.project_id == project_id).order_by(ProjectCouncil.id)
        )
        return [(p.council.code, p.role, p.state) for p in rows]


def kinds(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(Activity.kind).order_by(Activity.id)))


def shift(app, model, row_id, **times):
    """Move a row's times into the past: shift(app, JoinRequest, 3, created_at=8) is 8 days ago."""
    with app.app_context():
        row = db.session.get(model, row_id)
        for name, days in times.items():
            setattr(row, name, utcnow() - timedelta(days=days))
        db.session.commit()


# ---- joining the team -----------------------------------------------------------------------


def test_an_officer_of_another_council_asks_to_join_and_is_accepted(
    client, app, officer, project, make_officer, signed_in_as, mailbox
):
    slug, project_id = project
    brum = make_officer("BIR", name="Sam Lee")
    other = signed_in_as(brum)
    mailbox.clear()

    section = other.page(f"/projects/{slug}").select_one("#join")
    assert section.h2.get_text(strip=True) == "Ask to join this project"
    assert section.select_one("textarea[name='join-message']") is not None

    response = ask_to_join(other, slug)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/projects/{slug}#join"
    [email] = mailbox.wait_for(officer.email)
    assert email["Subject"] == "Sam Lee asked to join Bulky waste booking"
    assert email["Reply-To"] == brum.email
    assert "we want to share the work" in body(email)
    assert f"http://localhost/projects/{slug}/team#requests" in links(email)
    assert "You asked to join on" in other.page(f"/projects/{slug}").select_one("#join").get_text()

    # The owner sees the request, with its message, on the team page and a count on the project page.
    assert "1 request to join waiting" in client.page(f"/projects/{slug}").get_text()
    requests = client.page(f"/projects/{slug}/team").select_one("#requests").find_next("ul")
    assert "Sam Lee" in requests.get_text() and "we want to share the work" in requests.get_text()

    request_id = join_request_id(app, brum.id)
    response = client.submit(f"/projects/{slug}/join-requests/{request_id}/accept", {}, page=f"/projects/{slug}/team")
    assert response.status_code == 302
    [decision] = mailbox.wait_for(brum.email)
    assert decision["Subject"] == "Your request to join Bulky waste booking was accepted"
    assert "You are now on the team" in body(decision)

    with app.app_context():
        project_row = db.session.get(Project, project_id)
        assert [(m.user.name, m.role) for m in project_row.members] == [(officer.name, "owner"), ("Sam Lee", "member")]
        accepted = db.session.scalars(select(Activity).where(Activity.kind == "member_joined")).one()
        assert accepted.actor_id == brum.id and accepted.data == {"accepted_by": officer.id}
        council_joined = db.session.scalars(select(Activity).where(Activity.kind == "council_joined")).one()
        assert council_joined.actor_id == officer.id and council_joined.data == {"council_id": brum.council_id}
    assert councils_of(app, project_id) == [("LDS", "lead", "committed"), ("BIR", "partner", "interested")]
    assert kinds(app) == ["project_posted", "join_requested", "member_joined", "council_joined"]

    # Now on the team: the new member edits and sees the team's buttons, and the join section is gone.
    page = other.page(f"/projects/{slug}")
    assert page.select_one("#join") is None
    assert page.select_one(f"a[href='/projects/{slug}/edit']") is not None
    assert other.get(f"/projects/{slug}/edit").status_code == 200


def test_a_declined_officer_is_told_and_can_ask_again_after_30_days(
    client, app, project, make_officer, signed_in_as, mailbox
):
    slug, project_id = project
    brum = make_officer("BIR")
    other = signed_in_as(brum)
    ask_to_join(other, slug)
    request_id = join_request_id(app, brum.id)
    response = client.submit(f"/projects/{slug}/join-requests/{request_id}/decline", {}, page=f"/projects/{slug}/team")
    assert response.status_code == 302
    [decision] = mailbox.wait_for(brum.email)
    assert decision["Subject"] == "Your request to join Bulky waste booking was declined"
    assert count(app, ProjectMember) == 1
    assert councils_of(app, project_id) == [("LDS", "lead", "committed")]

    assert "You can ask again from" in other.page(f"/projects/{slug}").select_one("#join").get_text()
    response = ask_to_join(other, slug)
    assert response.status_code == 200
    assert any(
        m.startswith("The team declined your request to join. You can ask again from") for m in error_messages(response)
    )
    assert count(app, JoinRequest) == 1

    shift(app, JoinRequest, request_id, decided_at=31)
    assert ask_to_join(other, slug).status_code == 302
    assert count(app, JoinRequest, JoinRequest.state == "pending") == 1


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ("", "Enter a short message to the team saying why you want to join"),
        ("   ", "Enter a short message to the team saying why you want to join"),
        ("x" * 501, "Message must be 500 characters or fewer"),
    ],
)
def test_bad_join_messages_are_explained_and_nothing_is_written(
    app, project, make_officer, signed_in_as, mailbox, message, error
):
    slug, _ = project
    other = signed_in_as(make_officer("BIR"))
    mailbox.clear()
    response = ask_to_join(other, slug, message)
    assert response.status_code == 200
    assert error in error_messages(response)
    soup = soup_of(response)
    assert soup.title.get_text().startswith("Error: ")
    assert soup.select_one("textarea[name='join-message']").get_text().strip() == message.strip()[:501]
    assert count(app, JoinRequest) == 0
    assert mailbox.messages == []


def test_joining_twice_or_when_already_on_the_team_is_refused(
    client, app, officer, project, make_officer, signed_in_as
):
    slug, project_id = project
    other = signed_in_as(make_officer("BIR"))
    assert ask_to_join(other, slug).status_code == 302
    response = ask_to_join(other, slug)
    assert "You have already asked to join this project. The team has not decided yet" in error_messages(response)
    assert count(app, JoinRequest) == 1

    response = client.submit(f"/projects/{slug}/join", {"join-message": "Me too"}, page=f"/projects/{slug}/join")
    assert "You are already on this project's team" in error_messages(response)
    assert count(app, JoinRequest) == 1


def test_an_officer_withdraws_their_request(app, project, make_officer, signed_in_as):
    slug, _ = project
    brum = make_officer("BIR")
    other = signed_in_as(brum)
    ask_to_join(other, slug)
    response = other.submit(f"/projects/{slug}/join/withdraw", {}, page=f"/projects/{slug}")
    assert response.status_code == 302
    assert count(app, JoinRequest, JoinRequest.state == "withdrawn") == 1
    # Withdrawing twice explains itself; asking again is allowed at once.
    response = other.submit(f"/projects/{slug}/join/withdraw", {}, page=f"/projects/{slug}/join")
    assert "You have no request to join this project waiting" in error_messages(response)
    assert ask_to_join(other, slug).status_code == 302


def test_a_closed_project_takes_no_new_members(client, app, project, make_officer, signed_in_as):
    slug, _ = project
    client.submit(
        f"/projects/{slug}/phase",
        {"to_phase": "stopped", "note": "Ended", "outcome": "No money", "lessons": "Find funding first"},
    )
    other = signed_in_as(make_officer("BIR"))
    section = other.page(f"/projects/{slug}").select_one("#join")
    assert "not taking new team members" in section.get_text() and section.select_one("form") is None
    response = other.submit(f"/projects/{slug}/join", {"join-message": "Hello"}, page=f"/projects/{slug}/join")
    assert "This project has stopped, so it is not taking new team members" in error_messages(response)
    assert count(app, JoinRequest) == 0


def test_deciding_a_request_twice_is_refused(client, app, project, make_officer, signed_in_as, mailbox):
    slug, _ = project
    brum = make_officer("BIR")
    ask_to_join(signed_in_as(brum), slug)
    request_id = join_request_id(app, brum.id)
    team = f"/projects/{slug}/team"
    client.submit(f"/projects/{slug}/join-requests/{request_id}/accept", {}, page=team)
    mailbox.wait_for(brum.email)
    for decision in ("accept", "decline"):
        response = client.submit(f"/projects/{slug}/join-requests/{request_id}/{decision}", {}, page=team)
        assert response.status_code == 200
        assert "This request has already been accepted" in error_messages(response)
    assert count(app, ProjectMember) == 2
    assert len(mailbox.to(brum.email)) == 1


def test_the_public_sees_the_join_section_and_team_page_but_no_requests(anon, app, project, make_officer, signed_in_as):
    slug, _ = project
    ask_to_join(signed_in_as(make_officer("BIR")), slug, "A private note to the owners")
    section = anon.page(f"/projects/{slug}").select_one("#join")
    assert section.select_one(f"a[href='/sign-in?next=/projects/{slug}/join']").get_text() == "Sign in to ask to join"
    team = anon.page(f"/projects/{slug}/team")
    assert "Leeds City Council" in team.get_text()
    assert team.select_one("#requests") is None and "A private note" not in team.get_text()
    assert team.select("main form") == []
    assert anon.get(f"/projects/{slug}/join").status_code == 302


# ---- permissions ----------------------------------------------------------------------------


def test_only_owners_and_organisers_decide_join_requests(
    client, app, officer, project, make_officer, signed_in_as, mailbox
):
    slug, project_id = project
    team = f"/projects/{slug}/team"
    brum = make_officer("BIR")
    ask_to_join(signed_in_as(brum), slug)
    request_id = join_request_id(app, brum.id)

    # Another council's officer, and the requester themselves, cannot decide it.
    outsider = signed_in_as(make_officer("CRF"))
    requester = signed_in_as(brum)
    for someone in (outsider, requester):
        for decision in ("accept", "decline"):
            response = someone.submit(f"/projects/{slug}/join-requests/{request_id}/{decision}", {}, page=team)
            assert response.status_code == 403
    # A team member who is not an owner cannot either; they see the request but no buttons.
    member = make_officer("LDS")
    with app.app_context():
        db.session.add(ProjectMember(project_id=project_id, user_id=member.id, role="member"))
        db.session.commit()
    member_client = signed_in_as(member)
    page = member_client.page(team)
    assert "Only the project’s owners can accept or decline requests." in page.get_text()
    assert page.select_one("#requests").find_next("ul").select("button") == []
    response = member_client.submit(f"/projects/{slug}/join-requests/{request_id}/accept", {}, page=team)
    assert response.status_code == 403
    assert count(app, JoinRequest, JoinRequest.state == "pending") == 1

    # A request id from another project is not found through this one.
    other_slug, _ = make_project(app, officer, title="Another project")
    response = client.submit(f"/projects/{other_slug}/join-requests/{request_id}/accept", {}, page=team)
    assert response.status_code == 404

    organiser = signed_in_as(make_officer("CRF", role="organiser"))
    assert organiser.submit(f"/projects/{slug}/join-requests/{request_id}/accept", {}, page=team).status_code == 302
    assert count(app, ProjectMember, ProjectMember.project_id == project_id) == 3


def test_only_owners_make_owners_and_remove_members(client, app, officer, project, make_officer, signed_in_as):
    slug, project_id = project
    team = f"/projects/{slug}/team"
    member = make_officer("BIR", name="Ali Member")
    with app.app_context():
        db.session.add(ProjectMember(project_id=project_id, user_id=member.id, role="member"))
        db.session.commit()
    owner_member_id = member_id(app, project_id, officer.id)
    other_member_id = member_id(app, project_id, member.id)

    outsider = signed_in_as(make_officer("CRF"))
    member_client = signed_in_as(member)
    for someone in (outsider, member_client):
        assert (
            someone.submit(f"/projects/{slug}/members/{other_member_id}/make-owner", {}, page=team).status_code == 403
        )
        assert someone.submit(f"/projects/{slug}/members/{owner_member_id}/remove", {}, page=team).status_code == 403
    assert outsider.submit(f"/projects/{slug}/members/{other_member_id}/remove", {}, page=team).status_code == 403

    # The last owner cannot be removed, nor leave.
    response = client.submit(f"/projects/{slug}/members/{owner_member_id}/remove", {}, page=team)
    assert "A project must always have an owner. Make someone else an owner first" in error_messages(response)

    assert client.submit(f"/projects/{slug}/members/{other_member_id}/make-owner", {}, page=team).status_code == 302
    response = client.submit(f"/projects/{slug}/members/{other_member_id}/make-owner", {}, page=team)
    assert "Ali Member is already an owner" in error_messages(response)
    # With two owners, the first may leave; the second is then the last owner.
    assert client.submit(f"/projects/{slug}/members/{owner_member_id}/remove", {}, page=team).status_code == 302
    response = member_client.submit(f"/projects/{slug}/members/{other_member_id}/remove", {}, page=team)
    assert "A project must always have an owner. Make someone else an owner first" in error_messages(response)
    with app.app_context():
        assert [(m.user_id, m.role) for m in db.session.get(Project, project_id).members] == [(member.id, "owner")]


def test_a_member_can_leave_the_team(app, project, make_officer, signed_in_as):
    slug, project_id = project
    member = make_officer("BIR")
    with app.app_context():
        db.session.add(ProjectMember(project_id=project_id, user_id=member.id, role="member"))
        db.session.commit()
    member_client = signed_in_as(member)
    page = member_client.page(f"/projects/{slug}/team")
    assert "Leave the team" in [b.get_text(strip=True) for b in page.select("#members ~ table button")]
    mid = member_id(app, project_id, member.id)
    response = member_client.submit(f"/projects/{slug}/members/{mid}/remove", {}, page=f"/projects/{slug}/team")
    assert response.status_code == 302
    assert count(app, ProjectMember) == 1


# ---- partner councils -----------------------------------------------------------------------


def test_the_team_adds_a_council_and_only_its_officers_commit_or_withdraw_it(
    client, app, officer, project, make_officer, signed_in_as
):
    slug, project_id = project
    team = f"/projects/{slug}/team"
    with app.app_context():
        birmingham_id = db.session.scalar(select(Council.id).where(Council.code == "BIR"))

    outsider = signed_in_as(make_officer("CRF"))
    response = outsider.submit(
        f"/projects/{slug}/councils/add",
        {"add-council_id": str(birmingham_id), "add-role": "partner"},
        page=team,
    )
    assert response.status_code == 403
    assert len(councils_of(app, project_id)) == 1

    response = client.submit(
        f"/projects/{slug}/councils/add", {"add-council_id": str(birmingham_id), "add-role": "observer"}, page=team
    )
    assert response.status_code == 302
    assert councils_of(app, project_id) == [("LDS", "lead", "committed"), ("BIR", "observer", "interested")]
    assert kinds(app)[-1] == "council_joined"
    bir_partner = partner_id(app, project_id, birmingham_id)
    lds_partner = partner_id(app, project_id, officer.council_id)

    # The team (of Leeds) cannot commit or withdraw Birmingham; nor can Cardiff. Birmingham can.
    for someone in (client, outsider):
        for verb in ("commit", "withdraw"):
            assert someone.submit(f"/projects/{slug}/councils/{bir_partner}/{verb}", {}, page=team).status_code == 403
    brum = signed_in_as(make_officer("BIR"))
    assert outsider.submit(f"/projects/{slug}/councils/{lds_partner}/withdraw", {}, page=team).status_code == 403
    assert brum.submit(f"/projects/{slug}/councils/{lds_partner}/commit", {}, page=team).status_code == 403

    buttons = [b.get_text(" ", strip=True) for b in brum.page(team).select("#councils ~ table button")]
    assert buttons == ["Mark as committed Birmingham City Council", "Withdraw Birmingham City Council from the project"]
    assert brum.submit(f"/projects/{slug}/councils/{bir_partner}/commit", {}, page=team).status_code == 302
    assert councils_of(app, project_id)[1] == ("BIR", "observer", "committed")
    response = brum.submit(f"/projects/{slug}/councils/{bir_partner}/commit", {}, page=team)
    assert "Birmingham City Council is already committed to this project" in error_messages(response)
    assert brum.submit(f"/projects/{slug}/councils/{bir_partner}/withdraw", {}, page=team).status_code == 302
    assert councils_of(app, project_id) == [("LDS", "lead", "committed")]

    # The lead council cannot withdraw, even by its own officers.
    response = client.submit(f"/projects/{slug}/councils/{lds_partner}/withdraw", {}, page=team)
    assert error_messages(response)[0].startswith("Leeds City Council leads this project.")
    assert len(councils_of(app, project_id)) == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"add-council_id": "", "add-role": "partner"}, "Select a council"),
        ({"add-council_id": "99999999", "add-role": "partner"}, "Select a council"),
        ({"add-council_id": "abc", "add-role": "partner"}, "Select a council"),
        ({"add-role": "lead", "add-council_id": "1"}, "Select whether the council is a partner or an observer"),
        ({"add-council_id": "1"}, "Select whether the council is a partner or an observer"),
    ],
)
def test_adding_a_council_with_bad_input(client, app, project, data, message):
    slug, project_id = project
    response = client.submit(f"/projects/{slug}/councils/add", data, page=f"/projects/{slug}/team")
    assert response.status_code == 200
    assert message in error_messages(response)
    assert len(councils_of(app, project_id)) == 1


def test_adding_a_council_already_taking_part(client, app, officer, project):
    slug, project_id = project
    data = {"add-council_id": str(officer.council_id), "add-role": "partner"}
    response = client.submit(f"/projects/{slug}/councils/add", data, page=f"/projects/{slug}/team")
    assert "Leeds City Council is already taking part in this project" in error_messages(response)


def test_an_officer_asks_for_their_council_to_take_part(
    client, app, officer, project, make_officer, signed_in_as, mailbox
):
    slug, project_id = project
    team = f"/projects/{slug}/team"
    brum = make_officer("BIR", name="Sam Lee")
    other = signed_in_as(brum)
    mailbox.clear()
    response = other.submit(f"/projects/{slug}/councils/ask", {"ask-role": "partner"}, page=team)
    assert response.status_code == 302
    [email] = mailbox.wait_for(officer.email)
    assert email["Subject"] == "Birmingham City Council asked to take part in Bulky waste booking"
    assert "as a partner" in body(email)
    assert councils_of(app, project_id)[1] == ("BIR", "partner", "requested")
    # Requested is not taking part: not on the project page's list of councils.
    assert (
        "Birmingham City Council"
        not in client.page(f"/projects/{slug}").select_one(".govuk-grid-column-one-third").get_text()
    )
    assert "asked to take part on" in other.page(team).select_one("#take-part").find_parent("div").get_text()

    response = other.submit(f"/projects/{slug}/councils/ask", {"ask-role": "partner"}, page=team)
    assert "Birmingham City Council has already asked to take part. The team has not decided yet" in error_messages(
        response
    )
    response = other.submit(f"/projects/{slug}/councils/ask", {"ask-role": "boss"}, page=team)
    assert "Select whether the council is a partner or an observer" in error_messages(response)
    bir_partner = partner_id(app, project_id, brum.council_id)
    # The requester cannot accept their own council's request, nor commit it before the team has.
    assert other.submit(f"/projects/{slug}/councils/{bir_partner}/accept", {}, page=team).status_code == 403
    response = other.submit(f"/projects/{slug}/councils/{bir_partner}/commit", {}, page=team)
    assert "The team has not yet accepted Birmingham City Council's request to take part" in error_messages(response)

    requests = client.page(team).select_one("#council-requests").find_next("ul").get_text(" ")
    assert "Birmingham City Council" in requests and "Sam Lee" in requests
    assert client.submit(f"/projects/{slug}/councils/{bir_partner}/accept", {}, page=team).status_code == 302
    [decision] = mailbox.wait_for(brum.email)
    assert decision["Subject"] == "Birmingham City Council's request to take part in Bulky waste booking was accepted"
    assert councils_of(app, project_id)[1] == ("BIR", "partner", "interested")
    response = client.submit(f"/projects/{slug}/councils/{bir_partner}/decline", {}, page=team)
    assert "Birmingham City Council's request has already been accepted" in error_messages(response)


def test_the_team_declines_a_council_request(client, app, officer, project, make_officer, signed_in_as, mailbox):
    slug, project_id = project
    team = f"/projects/{slug}/team"
    brum = make_officer("BIR")
    signed_in_as(brum).submit(f"/projects/{slug}/councils/ask", {"ask-role": "observer"}, page=team)
    bir_partner = partner_id(app, project_id, brum.council_id)
    outsider = signed_in_as(make_officer("CRF"))
    assert outsider.submit(f"/projects/{slug}/councils/{bir_partner}/decline", {}, page=team).status_code == 403
    assert client.submit(f"/projects/{slug}/councils/{bir_partner}/decline", {}, page=team).status_code == 302
    [decision] = mailbox.wait_for(brum.email)
    assert decision["Subject"].endswith("was declined")
    assert councils_of(app, project_id) == [("LDS", "lead", "committed")]
    assert "council_joined" not in kinds(app)


def test_accepting_a_member_settles_their_councils_request(client, app, project, make_officer, signed_in_as):
    slug, project_id = project
    team = f"/projects/{slug}/team"
    brum = make_officer("BIR")
    other = signed_in_as(brum)
    other.submit(f"/projects/{slug}/councils/ask", {"ask-role": "observer"}, page=team)
    ask_to_join(other, slug)
    client.submit(f"/projects/{slug}/join-requests/{join_request_id(app, brum.id)}/accept", {}, page=team)
    assert councils_of(app, project_id)[1] == ("BIR", "observer", "interested")


# ---- freshness ------------------------------------------------------------------------------


def make_dormant(app, project_id, days=91):
    with app.app_context():
        project = db.session.get(Project, project_id)
        project.active_at = project.updated_at = utcnow() - timedelta(days=days)
        db.session.commit()


def run_daily(app) -> str:
    result = app.test_cli_runner().invoke(args=["projects", "daily"])
    assert result.exit_code == 0, result.output
    return result.output.strip()


def still_active_emails(mailbox, officer):
    # The command also sends whatever else was waiting in the outbox (here, the test accounts' confirmations).
    return [m for m in mailbox.to(officer.email) if m["Subject"].endswith("still active?")]


def test_the_team_checks_in_from_the_project_page(client, app, officer, project, make_officer, signed_in_as):
    slug, project_id = project
    make_dormant(app, project_id)
    outsider = signed_in_as(make_officer("BIR"))
    assert outsider.page(f"/projects/{slug}").find("button", string="Check in") is None
    assert outsider.submit(f"/projects/{slug}/check-in", {}, page=f"/projects/{slug}").status_code == 403
    assert "Dormant" in client.page(f"/projects/{slug}").get_text()

    page = client.page(f"/projects/{slug}")
    assert page.select_one(".govuk-button-group form button").get_text(strip=True) == "Check in"
    response = client.submit(f"/projects/{slug}/check-in", {}, page=f"/projects/{slug}")
    assert response.status_code == 302
    page = client.page(f"/projects/{slug}")
    assert "The project is marked as still active." in page.get_text()
    assert "Dormant" not in page.get_text()
    with app.app_context():
        checked = db.session.scalars(select(Activity).where(Activity.kind == "checked_in")).one()
        assert checked.actor_id == officer.id
        assert db.session.get(Project, project_id).active_at > utcnow() - timedelta(minutes=1)


def test_the_daily_command_asks_owners_of_dormant_projects_once(client, app, officer, make_officer, mailbox, anon):
    slug, project_id = make_project(app, officer, title="Quiet project")
    make_project(app, officer, title="Busy project")
    stopped_slug, stopped_id = make_project(app, officer, title="Stopped project")
    with app.app_context():
        db.session.get(Project, stopped_id).phase = "stopped"
        db.session.commit()
    make_dormant(app, project_id)
    make_dormant(app, stopped_id)
    mailbox.clear()

    assert run_daily(app).startswith("1 dormant project(s) asked if still active, 0 join request(s) reminded")
    [email] = still_active_emails(mailbox, officer)
    assert email["Subject"] == "Is Quiet project still active?"
    [link] = [link for link in links(email) if "/check-in/" in link]
    assert run_daily(app).startswith("0 dormant project(s)")
    assert len(still_active_emails(mailbox, officer)) == 1

    # Opening the link (as a mail scanner would) changes nothing: it shows one button.
    path = link.removeprefix("http://localhost")
    response = anon.get(path)
    assert response.headers["Referrer-Policy"] == "no-referrer" and response.headers["Cache-Control"] == "no-store"
    page = soup_of(response)
    assert page.h1.get_text(strip=True) == "Is Quiet project still active?"
    assert [b.get_text(strip=True) for b in page.select("main form button")] == ["Yes, it’s still active"]
    assert count(app, Activity, Activity.kind == "checked_in") == 0

    # The button works without signing in.
    response = anon.submit(path, {})
    assert response.status_code == 302 and response.headers["Location"] == f"/projects/{slug}"
    assert "Quiet project is marked as still active" in anon.page(f"/projects/{slug}").get_text()
    with app.app_context():
        checked = db.session.scalars(select(Activity).where(Activity.kind == "checked_in")).one()
        assert checked.actor_id == officer.id
    assert "Quiet project" in client.page("/projects").get_text()

    # Using the link again does nothing more.
    assert "already updated or checked in" in anon.page(path).get_text()
    assert anon.submit(path, {}, page="/sign-in").status_code == 302  # a second click, from a page still open
    assert count(app, Activity, Activity.kind == "checked_in") == 1

    # Another 90 quiet days after the check-in: a new dormant spell, so the owners are asked again.
    make_dormant(app, project_id)
    shift(app, Project, project_id, dormancy_notified_at=92)
    assert run_daily(app).startswith("1 dormant project(s)")
    assert len(still_active_emails(mailbox, officer)) == 2


def test_check_in_links_that_are_bad_expired_or_no_longer_yours(app, officer, project, anon, make_officer):
    slug, project_id = project
    make_dormant(app, project_id)
    with app.app_context():
        project_row = db.session.get(Project, project_id)
        user = db.session.get(User, officer.id)
        token = teams.check_in_token(project_row, user)
    response = anon.get(f"/check-in/{token}x")
    assert response.status_code == 400 and "This link is not valid" in response.get_data(as_text=True)
    response = anon.post(f"/check-in/{token}x", data={"csrf_token": anon.csrf_token(f"/check-in/{token}")})
    assert response.status_code == 400

    original = teams.CHECK_IN_LINK_DAYS
    teams.CHECK_IN_LINK_DAYS = -1
    try:
        response = anon.get(f"/check-in/{token}")
        assert response.status_code == 400 and "This link has expired" in response.get_data(as_text=True)
    finally:
        teams.CHECK_IN_LINK_DAYS = original

    # Someone who has left the team can no longer use their link.
    other = make_officer("BIR")
    with app.app_context():
        project_row = db.session.get(Project, project_id)
        project_row.members.append(ProjectMember(user_id=other.id, role="owner"))
        db.session.commit()
        token = teams.check_in_token(project_row, db.session.get(User, other.id))
        project_row.members = [m for m in project_row.members if m.user_id != other.id]
        db.session.commit()
    assert anon.get(f"/check-in/{token}").status_code == 403
    assert count(app, Activity, Activity.kind == "checked_in") == 0


def test_a_request_waiting_7_days_is_highlighted_and_reminded_once(
    client, app, officer, project, make_officer, signed_in_as, mailbox
):
    slug, _ = project
    brum = make_officer("BIR", name="Sam Lee")
    ask_to_join(signed_in_as(brum), slug)
    request_id = join_request_id(app, brum.id)
    assert run_daily(app).startswith("0 dormant project(s) asked if still active, 0 join request(s) reminded")
    assert client.page(f"/projects/{slug}/team").select(".app-card--waiting") == []

    shift(app, JoinRequest, request_id, created_at=8)
    assert run_daily(app).startswith("0 dormant project(s) asked if still active, 1 join request(s) reminded")
    subject = "Sam Lee is still waiting to join Bulky waste booking"
    assert [m["Subject"] for m in mailbox.to(officer.email)].count(subject) == 1
    assert run_daily(app).startswith("0 dormant project(s) asked if still active, 0 join request(s) reminded")
    assert [m["Subject"] for m in mailbox.to(officer.email)].count(subject) == 1

    [card] = client.page(f"/projects/{slug}/team").select(".app-card--waiting")
    assert "Waiting more than 7 days" in card.get_text()
    assert "1 waiting more than 7 days" in client.page(f"/projects/{slug}").get_text()


# ---- speed ----------------------------------------------------------------------------------


def test_the_team_page_runs_a_fixed_number_of_statements(client, app, officer, project, make_officer):
    slug, project_id = project

    def grow():
        with app.app_context():
            councils = db.session.scalars(
                select(Council).where(~Council.id.in_(select(ProjectCouncil.council_id))).limit(3)
            ).all()
        for council in councils:
            person = make_officer(council.code)
            with app.app_context():
                db.session.add(ProjectMember(project_id=project_id, user_id=person.id, role="member"))
                db.session.add(ProjectCouncil(project_id=project_id, council_id=council.id, added_by_id=person.id))
                db.session.add(JoinRequest(project_id=project_id, user_id=make_officer(council.code).id, message="Hi"))
                db.session.add(
                    ProjectCouncil(
                        project_id=project_id,
                        council_id=db.session.scalar(
                            select(Council.id)
                            .where(~Council.id.in_(select(ProjectCouncil.council_id)))
                            .order_by(Council.name.desc())
                            .limit(1)
                        ),
                        state="requested",
                        added_by_id=person.id,
                    )
                )
                db.session.commit()

    grow()  # one of everything first, so the second size differs only in how many
    assert_statement_count_is_flat(client, f"/projects/{slug}/team", grow, budget=17)
    assert_statement_count_is_flat(client, f"/projects/{slug}", grow, budget=26)
