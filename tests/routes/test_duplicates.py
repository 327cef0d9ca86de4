"""Suspected duplicates: the scan and the queue, linking as related, not duplicates, and merging one project
into another (redirect, history on both, what moves, pledges moving only when their council agrees)."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from pipeline.extensions import db
from pipeline.models import (
    AuditEntry,
    Comment,
    Follow,
    JoinRequest,
    Pledge,
    PledgeEvent,
    PledgeMove,
    Project,
    ProjectCouncil,
    ProjectMember,
    ProjectUpdate,
    User,
)
from pipeline.services import duplicates, pledges, teams
from pipeline.timeutil import utcnow
from tests.conftest import sign_in
from tests.conversation_factories import comment, follow
from tests.conversation_factories import update as post_update
from tests.factories import make_project
from tests.mail import body, links
from tests.pages import assert_statement_count_is_flat, error_messages, soup_of
from tests.routes.test_curation import set_up_two_factor

BULKY_WASTE = 528


@pytest.fixture
def organiser(make_officer, client):
    person = make_officer("LDS", name="Olu Organiser", role="organiser")
    person.secret = set_up_two_factor(client, person)
    return person


@pytest.fixture
def pair(app, make_officer):
    """Two open projects on bulky waste that read alike, and one on the same service that does not."""
    priya, marta = make_officer("BIR", name="Priya Owner"), make_officer("MAN", name="Marta Owner")
    target = make_project(
        app,
        priya,
        title="Book a bulky waste collection online",
        problem="Residents phone us to book bulky waste collections.",
        service_ids=[BULKY_WASTE],
    )
    source = make_project(
        app,
        marta,
        title="Bulky waste collection booking",
        problem="Residents cannot book a bulky waste collection online.",
        service_ids=[BULKY_WASTE],
        money_target=10_000,
    )
    make_project(
        app, priya, title="Fridge recycling", problem="Old fridges are left in streets.", service_ids=[BULKY_WASTE]
    )
    return target, source, priya, marta


def audit(app) -> list[tuple[str, str]]:
    with app.app_context():
        return [(e.action, e.reason) for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def scan(client):
    assert client.submit("/organise/duplicates/scan", {}, page="/organise").status_code == 302


def pledge(app, officer, project_id: int, **values) -> int:
    with app.app_context():
        user = db.session.get(User, officer.id)
        data = pledges.PledgeInput(
            council_id=officer.council_id, idempotency_key=f"idempotency-key-{officer.id}-{project_id}", **values
        )
        return pledges.offer_pledge(user, project_id, data).id


def test_suspected_duplicates_are_queued_and_linked_as_related(app, client, anon, organiser, pair):
    (target_slug, _), (source_slug, _), _, _ = pair
    scan(client)
    workbench = client.page("/organise")
    [card] = workbench.select("#duplicates ~ .app-card")
    assert "Book a bulky waste collection online" in card.h3.get_text()
    assert "Bulky waste collection booking" in card.h3.get_text()
    assert "Same service: Bulky household waste collections" in card.get_text()
    assert "Similar words" in card.get_text()
    assert "Fridge recycling" not in workbench.select_one("#duplicates").parent.get_text()
    assert workbench.select_one("a[href='#duplicates'] span").get_text() == "1"

    form = card.select_one("form")
    response = client.submit(
        form["action"],
        {"project": form.select_one("input[name=project]")["value"], "reason": "Same idea", "next": "/organise"},
        page="/organise",
    )
    assert response.status_code == 302
    assert not client.page("/organise").select("#duplicates ~ .app-card")
    for here, there in ((target_slug, source_slug), (source_slug, target_slug)):
        related = anon.page(f"/projects/{here}").select_one("#related + ul")
        assert related.select_one(f"a[href='/projects/{there}']")
    assert audit(app)[-1] == ("projects_linked", "Same idea")

    again = client.submit(f"/organise/projects/{target_slug}/related", {"project": source_slug}, page="/organise")
    assert again.status_code == 302
    assert "are already linked as related" in client.page("/organise").get_text()
    assert [a for a, _ in audit(app)].count("projects_linked") == 1

    page = f"/projects/{target_slug}"
    unlink = client.page(page).select_one(
        f"form[action='/organise/projects/{target_slug}/related/{source_slug}/remove']"
    )
    assert client.submit(unlink["action"], {}, page=page).status_code == 302
    assert not anon.page(page).select("#related")
    assert audit(app)[-1][0] == "projects_unlinked"


def test_not_duplicates_stay_out_of_the_queue(app, client, organiser, pair):
    (target_slug, target_id), (source_slug, source_id), _, _ = pair
    scan(client)
    url = f"/organise/projects/{source_slug}/not-duplicates"
    assert client.submit(url, {"project": target_slug, "reason": "Different councils' pilots"}, page="/organise")
    assert not client.page("/organise").select("#duplicates ~ .app-card")
    # Changing a project makes the scan look again; the decision still stands.
    with app.app_context():
        db.session.execute(update(Project).values(updated_at=utcnow() + timedelta(seconds=5)))
        db.session.commit()
    scan(client)
    assert not client.page("/organise").select("#duplicates ~ .app-card")
    before = audit(app)
    client.submit(url, {"project": target_slug}, page="/organise")
    assert "are already marked as not duplicates" in client.page("/organise").get_text()
    assert audit(app) == before
    assert before[-1] == ("duplicates_dismissed", "Different councils' pilots")
    # Bad input: no such project, or the project itself.
    client.submit(url, {"project": "no-such-project"}, page="/organise")
    assert "Enter the web address or short name of a project on Pipeline" in client.page("/organise").get_text()
    client.submit(url, {"project": source_slug}, page="/organise")
    assert "a project cannot be paired with itself" in client.page("/organise").get_text()
    assert audit(app) == before
    # Related says more than not duplicates, so an organiser may still link them.
    client.submit(f"/organise/projects/{target_slug}/related", {"project": source_slug}, page="/organise")
    assert audit(app)[-1][0] == "projects_linked"


def test_merging_moves_the_conversation_team_followers_and_councils_and_asks_pledgers(
    app, client, anon, organiser, pair, make_officer, mailbox
):
    (target_slug, target_id), (source_slug, source_id), priya, marta = pair
    owen, faye, jo = make_officer("LDS", name="Owen Member"), make_officer("CRF", name="Faye Follower"), None
    gwen, cara = make_officer("GLG", name="Gwen Glasgow"), make_officer("CRF", name="Cara Cardiff")
    jo = make_officer("BRD", name="Jo Joiner")
    with app.app_context():
        db.session.add_all(
            [
                ProjectMember(project_id=source_id, user_id=owen.id, role="member"),
                ProjectMember(project_id=source_id, user_id=priya.id, role="member"),  # on both teams
                ProjectCouncil(project_id=source_id, council_id=faye.council_id, role="observer", state="interested"),
            ]
        )
        db.session.commit()
        teams.request_to_join(db.session.get(User, jo.id), source_id, "May I help?")
    top = comment(app, owen, source_id, "We tried **three** suppliers")
    comment(app, marta, source_id, "And the fourth?", parent_id=top)
    post_update(app, marta, source_id, "Weeknotes 1 from Manchester", "Supplier research")
    follow(app, faye, "project", source_id)
    follow(app, priya, "project", source_id)  # already follows the target, which she posted
    money = pledge(app, gwen, source_id, kind="money", amount=5000)
    skills = pledge(app, cara, source_id, kind="skills", skill="Service design", hours=20)
    assert "Bulky waste collection booking" in anon.page("/needs").get_text()
    mailbox.clear()

    plan = client.page(f"/organise/projects/{source_slug}/merge?into={target_slug}")
    facts = {
        row.select_one("dt").get_text(strip=True): row.select_one("dd").get_text(" ", strip=True)
        for row in plan.select(".govuk-summary-list__row")
    }
    assert facts["Comments"] == "2" and facts["Updates"] == "1" and facts["Pledges"].startswith("2")
    assert facts["Team members"].startswith("2")  # Marta and Owen; Priya is on both teams already
    response = client.submit(
        f"/organise/projects/{source_slug}/merge",
        {"into": target_slug, "reason": "Same project, two councils", "submit": "y"},
        page=f"/organise/projects/{source_slug}/merge?into={target_slug}",
    )
    assert response.status_code == 302 and response.headers["Location"] == f"/projects/{target_slug}#timeline"

    # The old address leads to the project that carries on, and so do its comments' addresses.
    assert anon.get(f"/projects/{source_slug}").headers["Location"] == f"/projects/{target_slug}"
    moved = anon.get(f"/projects/{source_slug}/comments/{top}")
    assert moved.status_code == 302 and moved.headers["Location"] == f"/projects/{target_slug}/comments/{top}"
    assert "three" in anon.page(moved.headers["Location"]).get_text()

    page = anon.page(f"/projects/{target_slug}")
    assert "We tried" in page.get_text() and "Weeknotes 1 from Manchester" in page.get_text()
    merged = page.select_one("#merged-in + ol")
    assert "Bulky waste collection booking was merged into this project" in merged.get_text()
    assert "Same project, two councils" in merged.get_text()
    history = anon.page(merged.select_one("a")["href"])
    assert "Moved from discovery to stopped" in history.select_one("#timeline + ol").get_text()
    assert "Merged into Book a bulky waste collection online" in history.get_text()

    with app.app_context():
        members = db.session.execute(
            select(ProjectMember.user_id, ProjectMember.role).where(ProjectMember.project_id == target_id)
        ).all()
        assert sorted(members) == sorted([(priya.id, "owner"), (marta.id, "member"), (owen.id, "member")])
        followers = db.session.scalars(
            select(Follow.user_id).where(
                Follow.target_type == "project", Follow.target_id == target_id, Follow.unfollowed_at.is_(None)
            )
        ).all()
        # Pledging followed the merged project too; nobody follows it twice.
        assert sorted(followers) == sorted({priya.id, marta.id, owen.id, faye.id, gwen.id, cara.id})
        councils = db.session.execute(
            select(ProjectCouncil.council_id, ProjectCouncil.role).where(ProjectCouncil.project_id == target_id)
        ).all()
        assert (marta.council_id, "partner") in councils and (faye.council_id, "observer") in councils
        assert db.session.scalar(select(JoinRequest.project_id).where(JoinRequest.user_id == jo.id)) == target_id
        source = db.session.get(Project, source_id)
        assert source.phase == "stopped" and source.merged_into_id == target_id
        assert db.session.scalar(select(func.count()).where(Comment.project_id == target_id)) == 2
        assert db.session.scalar(select(func.count()).where(ProjectUpdate.project_id == target_id)) == 1
        # Pledges stay until their councils agree.
        assert db.session.scalars(select(Pledge.project_id)).all() == [source_id, source_id]
    assert audit(app)[-1] == ("project_merged", "Same project, two councils")

    # The merged project leaves lists, facets and the needs board.
    assert "Bulky waste collection booking" not in anon.page("/projects?dormant=include").get_text()
    assert "Bulky waste collection booking" not in anon.page("/needs").get_text()
    assert "Bulky waste collection booking" not in anon.page(f"/services/{BULKY_WASTE}").get_text()
    council_projects = anon.page("/councils/manchester-city-council").select(".app-card-list .app-card h3")
    assert [card.get_text(strip=True) for card in council_projects] == ["Book a bulky waste collection online"]

    # Each pledger is asked by email, and answers on their pledges page.
    [asked] = mailbox.wait_for(gwen.email)
    assert (
        asked["Subject"]
        == "Move your pledge from Bulky waste collection booking to Book a bulky waste collection online?"
    )
    assert any(link.endswith("/my-pledges#moves") for link in links(asked))
    assert "£5,000" in body(asked)
    mailbox.wait_for(cara.email)
    gwen_client, cara_client = app.test_client(), app.test_client()
    sign_in(gwen_client, gwen)
    sign_in(cara_client, cara)
    mine = gwen_client.page("/my-pledges")
    form = mine.select_one("#moves ~ .app-card form")
    assert form.select_one("button[value=move]").get_text(strip=True).startswith("Move it to Book a bulky")
    assert gwen_client.submit(form["action"], {"decision": "move"}, page="/my-pledges").status_code == 302
    cara_form = cara_client.page("/my-pledges").select_one("#moves ~ .app-card form")["action"]
    assert cara_client.submit(cara_form, {"decision": "stay"}, page="/my-pledges").status_code == 302
    # Someone else's pledge is not theirs to move; a second answer changes nothing.
    token = gwen_client.csrf_token("/my-pledges")
    refused = gwen_client.post(
        cara_form, data={"csrf_token": token, "decision": "move"}, headers={"Referer": "https://localhost/my-pledges"}
    )
    assert refused.status_code == 403
    cara_client.submit(cara_form, {"decision": "move"}, page="/my-pledges")
    assert (
        "You have already decided: the pledge is on Bulky waste collection booking"
        in cara_client.page("/my-pledges").get_text()
    )
    with app.app_context():
        assert db.session.get(Pledge, money).project_id == target_id
        assert db.session.get(Pledge, skills).project_id == source_id
        assert db.session.scalars(select(PledgeMove.state).order_by(PledgeMove.id)).all() == ["accepted", "declined"]
        assert (
            db.session.scalar(select(func.count()).where(PledgeEvent.pledge_id == money, PledgeEvent.action == "moved"))
            == 2
        )
    ledger = anon.page(f"/projects/{target_slug}/pledges")
    assert "Glasgow City Council moved its pledge of £5,000" in ledger.get_text()
    assert "Moved from Bulky waste collection booking" in ledger.get_text()


@pytest.mark.parametrize(
    ("source", "into", "message"),
    [
        ("source", "source", "You cannot merge a project into itself. Choose another project"),
        ("source", "no-such-project", "Enter the web address or short name of the project to merge into"),
        ("source", "merged", "Old idea has already been merged into Book a bulky waste collection online."),
        ("merged", "target", "Old idea has already been merged into Book a bulky waste collection online"),
        ("source", "stopped", "Stopped pilot has stopped, so nothing can be merged into it."),
        ("stopped", "target", "Stopped pilot has stopped, so it cannot be merged."),
    ],
)
def test_merges_that_cannot_happen_are_refused_and_write_nothing(app, client, organiser, pair, source, into, message):
    (target_slug, target_id), (source_slug, source_id), priya, _ = pair
    merged_slug, merged_id = make_project(app, priya, title="Old idea")
    stopped_slug, stopped_id = make_project(app, priya, title="Stopped pilot")
    client.submit(
        f"/organise/projects/{merged_slug}/merge",
        {"into": target_slug, "submit": "y"},
        page=f"/organise/projects/{merged_slug}/merge",
    )
    with app.app_context():
        db.session.execute(update(Project).where(Project.id == stopped_id).values(phase="stopped"))
        db.session.commit()
    slugs = {"source": source_slug, "target": target_slug, "merged": merged_slug, "stopped": stopped_slug}
    before = audit(app)
    url = f"/organise/projects/{slugs[source]}/merge"
    response = client.submit(url, {"into": slugs.get(into, into), "submit": "y"})
    assert response.status_code == 200
    assert any(m.startswith(message) for m in error_messages(response)), error_messages(response)
    assert audit(app) == before
    with app.app_context():
        assert db.session.get(Project, source_id).merged_into_id is None
        assert db.session.scalar(select(func.count()).select_from(PledgeMove)) == 0


def test_a_project_merged_away_says_so_and_projects_merged_into_it_follow_it(app, client, anon, organiser, pair):
    (target_slug, target_id), (source_slug, source_id), priya, _ = pair
    third_slug, third_id = make_project(app, priya, title="Third take on bulky waste")
    client.submit(
        f"/organise/projects/{third_slug}/merge",
        {"into": source_slug, "submit": "y"},
        page=f"/organise/projects/{third_slug}/merge",
    )
    client.submit(
        f"/organise/projects/{source_slug}/merge",
        {"into": target_slug, "submit": "y"},
        page=f"/organise/projects/{source_slug}/merge",
    )
    # The first merged project now leads straight to where the work goes on.
    assert anon.get(f"/projects/{third_slug}").headers["Location"] == f"/projects/{target_slug}"
    page = client.page(f"/organise/projects/{source_slug}/merge")
    assert "has already been merged into Book a bulky waste collection online" in page.get_text()
    assert not page.select("input[name=into]")


def test_every_new_organiser_route_refuses_officers_and_sends_others_to_sign_in(app, client, anon, pair, make_officer):
    (target_slug, _), (source_slug, _), _, marta = pair
    sign_in(client, marta)  # the owner of the project, not an organiser
    token = client.csrf_token("/account")
    headers = {"Referer": "https://localhost/account"}
    posts = [
        f"/organise/projects/{source_slug}/related",
        f"/organise/projects/{source_slug}/not-duplicates",
        f"/organise/projects/{source_slug}/related/{target_slug}/remove",
        f"/organise/projects/{source_slug}/merge",
        "/organise/duplicates/scan",
    ]
    for url in posts:
        response = client.post(
            url, data={"csrf_token": token, "project": target_slug, "into": target_slug, "submit": "y"}, headers=headers
        )
        assert response.status_code == 403, url
    assert client.get(f"/organise/projects/{source_slug}/merge").status_code == 403
    assert anon.get(f"/organise/projects/{source_slug}/merge").status_code == 302
    assert count(app, AuditEntry) == 0
    assert count(app, Project, Project.merged_into_id.is_not(None)) == 0


def test_the_workbench_and_project_page_read_in_a_fixed_number_of_statements(
    app, client, organiser, pair, make_officer
):
    (target_slug, target_id), _, priya, _ = pair
    made = []

    def more_pairs():
        for _ in range(3):
            for council in ("GLG", "CRF"):
                owner = make_officer(council)
                slug, _ = make_project(
                    app,
                    owner,
                    title=f"Garden waste subscription {len(made)} {council}",
                    problem="Residents renew their garden waste subscription by phone.",
                    service_ids=[BULKY_WASTE],
                )
                made.append(slug)
        with app.app_context():
            duplicates.scan()

    more_pairs()
    assert_statement_count_is_flat(client, "/organise", more_pairs, budget=22)

    def more_relations():
        for _ in range(2):
            slug, _ = make_project(app, priya, title=f"Related work {len(made)}")
            made.append(slug)
            client.submit(f"/organise/projects/{target_slug}/related", {"project": slug}, page="/organise")
            other, _ = make_project(app, priya, title=f"Merged work {len(made)}")
            made.append(other)
            client.submit(
                f"/organise/projects/{other}/merge",
                {"into": target_slug, "submit": "y"},
                page=f"/organise/projects/{other}/merge",
            )

    more_relations()
    count_on_page = assert_statement_count_is_flat(client, f"/projects/{target_slug}", more_relations)
    assert soup_of(client.get(f"/projects/{target_slug}")).select("#merged-in + ol li")
    assert count_on_page <= 28
