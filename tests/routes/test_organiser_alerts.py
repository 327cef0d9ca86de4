"""`flask organisers daily`: organisers are emailed what is new in the workbench's queues, never twice."""

from datetime import timedelta

from sqlalchemy import select, update

from pipeline.extensions import db
from pipeline.models import DomainRequest, JoinRequest, Project, User
from pipeline.services import comments
from pipeline.timeutil import utcnow
from tests.conversation_factories import comment
from tests.factories import make_project
from tests.mail import body, links

BULKY_WASTE = 528


def run_daily(app) -> str:
    result = app.test_cli_runner().invoke(args=["organisers", "daily"])
    assert result.exit_code == 0, result.output
    return result.output


def daily_emails(mailbox, person) -> list:
    return [m for m in mailbox.to(person.email) if m["Subject"].startswith("Organiser workbench")]


def test_organisers_hear_once_of_each_new_item_and_nothing_when_nothing_is_new(app, make_officer, mailbox):
    olu = make_officer("LDS", name="Olu Organiser", role="organiser")
    ada = make_officer("BIR", name="Ada Admin", role="admin")
    officer = make_officer("MAN")
    suspended = make_officer("CRF", role="organiser")
    with app.app_context():
        db.session.get(User, suspended.id).suspended_at = utcnow()
        db.session.commit()
    mailbox.clear()

    assert "nothing new" in run_daily(app)
    assert daily_emails(mailbox, olu) == []

    # Something in four queues: a report, a dormant project, an old join request, a domain request.
    owner = make_officer("BIR", name="Priya Owner")
    slug, project_id = make_project(app, owner, title="Forgotten project")
    said = comment(app, officer, project_id, "Rude words")
    with app.app_context():
        comments.report_comment(db.session.get(User, owner.id), said, "Rude")
        db.session.execute(
            update(Project).where(Project.id == project_id).values(active_at=utcnow() - timedelta(days=100))
        )
        db.session.add(JoinRequest(project_id=project_id, user_id=officer.id, created_at=utcnow() - timedelta(days=8)))
        db.session.add(DomainRequest(email="sam@harbour.gov.uk", domain="harbour.gov.uk", council_name="Harbour"))
        db.session.commit()
    output = run_daily(app)
    assert "1 reported, 1 domain requests, 1 waiting joins, 1 dormant; 2 organiser(s) emailed" in output
    [message] = daily_emails(mailbox, olu)
    assert message["Subject"] == "Organiser workbench: 4 new items to look at"
    text = body(message)
    assert "Reported comments and updates: 1 new" in text and "Rude" in text
    assert "Dormant projects: 1 new" in text and "Forgotten project" in text
    assert "Officers waiting on an email domain: 1 new" in text and "Harbour (harbour.gov.uk)" in text
    assert "Join requests waiting more than 7 days: 1 new" in text
    assert any(link.endswith("/organise") for link in links(message))
    assert len(daily_emails(mailbox, ada)) == 1
    assert daily_emails(mailbox, officer) == [] and daily_emails(mailbox, suspended) == []

    # Run again: the same items are not news.
    mailbox.clear()
    assert "nothing new" in run_daily(app)
    assert daily_emails(mailbox, olu) == []

    # Suspected duplicates found by the same command are news; only they are told.
    make_project(
        app, owner, title="Book bulky waste online", problem="Book a bulky waste collection", service_ids=[BULKY_WASTE]
    )
    make_project(
        app, officer, title="Bulky waste booking", problem="Book a bulky waste collection", service_ids=[BULKY_WASTE]
    )
    output = run_daily(app)
    assert "1 duplicates" in output
    [message] = daily_emails(mailbox, olu)
    assert message["Subject"] == "Organiser workbench: 1 new item to look at"
    assert "Suspected duplicate projects: 1 new" in body(message) and "Dormant" not in body(message)


def test_a_project_dormant_again_is_news_again(app, make_officer, mailbox):
    olu = make_officer("LDS", role="organiser")
    _, project_id = make_project(app, make_officer("BIR"), title="On and off")

    def go_quiet(days: int):
        with app.app_context():
            db.session.execute(
                update(Project).where(Project.id == project_id).values(active_at=utcnow() - timedelta(days=days))
            )
            db.session.commit()

    go_quiet(100)
    run_daily(app)
    assert len(daily_emails(mailbox, olu)) == 1
    go_quiet(95)  # a check-in, then quiet again for more than 90 days
    mailbox.clear()
    run_daily(app)
    assert "On and off" in body(daily_emails(mailbox, olu)[0])


def test_nothing_is_claimed_while_there_is_no_organiser_to_tell(app, make_officer, mailbox):
    with app.app_context():
        db.session.add(DomainRequest(email="sam@harbour.gov.uk", domain="harbour.gov.uk", council_name="Harbour"))
        db.session.commit()
    assert "0 organiser(s) emailed" in run_daily(app)
    olu = make_officer("LDS", role="organiser")
    run_daily(app)
    assert "harbour.gov.uk" in body(daily_emails(mailbox, olu)[0])
    with app.app_context():
        assert db.session.scalar(select(DomainRequest.resolved_at)) is None
