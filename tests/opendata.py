"""Sample projects for the open data tests: made through the service layer, as officers would."""

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from pipeline.extensions import db
from pipeline.models import Council, PeopleNeed, ProjectCouncil, User
from pipeline.services import comments, pledges, projects
from pipeline.services.pledges import PledgeChange, PledgeInput
from tests.conversation_factories import comment, update
from tests.factories import LinkInput, NeedInput, make_project

BULKY_WASTE = 528
HOUSEHOLD_WASTE = 524


@dataclass
class Sample:
    leeds_officer: object
    birmingham_officer: object
    bulky: tuple[str, int]  # slug, id
    tipping: tuple[str, int]
    formula: tuple[str, int]
    deleted_comment: str = ""  # the text of a comment its author deleted: published nowhere


def make_sample(app, make_officer) -> Sample:
    """Three projects across councils, services and tags, with phase changes, asks and a pending partner."""
    leeds = make_officer("LDS", name="Alex Leeds")
    birmingham = make_officer("BIR", name="Sam Birmingham")
    bulky = make_project(
        app,
        leeds,
        title="Book a bulky waste collection online",
        summary="Residents book and pay without phoning",
        service_ids=[BULKY_WASTE],
        tags=["waste", "online payments"],
        links=[LinkInput("report", "Discovery report", "https://example.org/report")],
        money_target=25_000,
        people_needs=[NeedInput("User researcher", 10), NeedInput("Developer", 20)],
        phase="discovery",
    )
    tipping = make_project(
        app,
        birmingham,
        title="Report fly-tipping with photos",
        service_ids=[HOUSEHOLD_WASTE, BULKY_WASTE],
        tags=["waste"],
        phase="idea",
    )
    formula = make_project(
        app,
        birmingham,
        title='=HYPERLINK("https://evil.example", "click")',
        summary="+1 then -1 and @SUM(A1)",
        problem="-starts with a minus",
        phase="alpha",
    )
    with app.app_context():
        user = db.session.get(User, leeds.id)
        projects.change_phase(user, bulky[1], "alpha", "Discovery showed demand.", "https://example.org/assessment")
        # Birmingham asked to join the Leeds project and nobody has said yes: never shown in public.
        manchester = db.session.scalar(select(Council).where(Council.code == "MAN"))
        db.session.add(ProjectCouncil(project_id=bulky[1], council_id=manchester.id, role="partner", state="requested"))
        db.session.commit()
    sample = Sample(leeds, birmingham, bulky, tipping, formula)
    add_pledges(app, sample)
    add_conversation(app, sample)
    return sample


def offer(app, officer, project_id: int, kind: str, **values) -> int:
    """Pledge on behalf of the officer's council through the service; returns the pledge's id."""
    with app.app_context():
        user = db.session.get(User, officer.id)
        data = PledgeInput(kind=kind, council_id=user.council_id, idempotency_key=uuid.uuid4().hex, **values)
        return pledges.offer_pledge(user, project_id, data).id


def move(app, officer, pledge_id: int, to_state: str, reason: str = "") -> None:
    with app.app_context():
        pledges.move_pledge(db.session.get(User, officer.id), pledge_id, to_state, reason)


def add_pledges(app, sample: Sample) -> None:
    """Pledges in every state, with a change, reasons, and text that a spreadsheet would run as a formula.

    Counted: £5,000 (delivered) and 12 days (offered) to the bulky waste project. Not counted: £1,000
    (declined) to it, and 12 hours of skills (withdrawn) to the formula project.
    """
    leeds, birmingham = sample.leeds_officer, sample.birmingham_officer
    bulky = sample.bulky[1]
    money = offer(app, birmingham, bulky, "money", amount=5_000)
    move(app, leeds, money, "accepted")
    move(app, leeds, money, "delivered", "Received in full.")
    with app.app_context():
        researcher = db.session.scalar(select(PeopleNeed.id).where(PeopleNeed.project_id == bulky))
    people = offer(
        app,
        birmingham,
        bulky,
        "people",
        need_id=researcher,
        days=10,
        start_date=date(2027, 3, 1),
        end_date=date(2027, 4, 30),
        note="Our researcher can start in March.",
    )
    with app.app_context():
        change = PledgeChange(days=12, start_date=date(2027, 3, 1), end_date=date(2027, 4, 30), reason="Two more days")
        pledges.change_pledge(db.session.get(User, birmingham.id), people, change)
    declined = offer(app, birmingham, bulky, "money", amount=1_000)
    move(app, leeds, declined, "declined", "We have the money we need for alpha.")
    skills = offer(
        app, leeds, sample.formula[1], "skills", skill="Accessibility testing", hours=12, note="=SUM(A1:A9) hours"
    )
    move(app, leeds, skills, "withdrawn", "-We no longer have the time.")


def add_conversation(app, sample: Sample) -> None:
    """An update, a thread with an edited comment and an official reply, and a comment its author deleted;
    and a comment on the fly-tipping project."""
    leeds, birmingham = sample.leeds_officer, sample.birmingham_officer
    bulky = sample.bulky[1]
    update(app, leeds, bulky, "Weeknotes 1", "We tested the booking form with **five** residents.")
    comment(app, leeds, sample.tipping[1], "We see the same problem in Leeds.")
    top = comment(app, birmingham, bulky, "Have you looked at our booking form?")
    reply = comment(app, leeds, bulky, "Yes: we borrowed its questions.", parent_id=top)
    sample.deleted_comment = "A comment its author thought better of"
    gone = comment(app, birmingham, bulky, sample.deleted_comment)
    with app.app_context():
        comments.edit_comment(db.session.get(User, birmingham.id), top, "Have you looked at our booking form yet?")
        comments.set_official(db.session.get(User, leeds.id), reply, True)
        comments.delete_comment(db.session.get(User, birmingham.id), gone)


def add_projects(app, officer, count: int, *, services=(BULKY_WASTE, HOUSEHOLD_WASTE)) -> list[tuple[str, int]]:
    """More projects with everything a project can have, each moved on a phase: rows for statement-count tests."""
    with app.app_context():
        manchester = db.session.scalar(select(Council.id).where(Council.code == "MAN"))
    made = []
    for number in range(count):
        slug, project_id = make_project(
            app,
            officer,
            # Every other project is led by Manchester, so it has two councils.
            lead_council_id=manchester if number % 2 else None,
            service_ids=list(services),
            tags=[f"extra tag {number}", "waste"],
            links=[LinkInput("code", f"Code {number}", f"https://example.org/code/{number}")],
            money_target=1000 * (number + 1),
            people_needs=[NeedInput("Developer", 5 + number)],
            phase="discovery",
        )
        with app.app_context():
            user = db.session.get(User, officer.id)
            projects.change_phase(user, project_id, "alpha", f"Moving on {number}")
        made.append((slug, project_id))
    return made


def move_on(app, officer, project_id: int) -> None:
    """Another step on a project's timeline: alpha and beta in turn."""
    with app.app_context():
        user = db.session.get(User, officer.id)
        phase = projects.get_project_by_id(project_id).phase
        projects.change_phase(user, project_id, "beta" if phase != "beta" else "alpha", "Another step")


def add_conversation_and_pledges(app, team, outsider, project_id: int, count: int = 3) -> None:
    """More of every kind of record on one project (of `team`'s officer): rows for statement-count tests."""
    for number in range(count):
        pledge_id = offer(app, outsider, project_id, "skills", skill=f"Skill {number}", hours=number + 1)
        move(app, team, pledge_id, "accepted")
        update(app, team, project_id, f"Weeknotes {number + 2}", f"Week {number + 2} in **Markdown**.")
        top = comment(app, outsider, project_id, f"Question {number}")
        comment(app, team, project_id, f"Answer {number}", parent_id=top)
        gone = comment(app, team, project_id, f"Deleted {number}")
        with app.app_context():
            comments.delete_comment(db.session.get(User, team.id), gone)
