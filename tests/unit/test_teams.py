"""Team changes sent twice at the same moment (a double click, two owners at once) happen once."""

import threading

from sqlalchemy import func, select

from pipeline.extensions import db
from pipeline.models import JoinRequest, OutboxMessage, ProjectMember, User
from pipeline.services import teams
from pipeline.services.errors import InvalidInput
from tests.factories import make_project


def at_once(app, work, times: int = 2) -> list:
    """Run work() in `times` threads that start together, each in its own app context; return what each did."""
    barrier = threading.Barrier(times)
    outcomes = [None] * times

    def run(index: int):
        with app.app_context():
            barrier.wait()
            try:
                outcomes[index] = work()
            except InvalidInput as error:
                outcomes[index] = error.message
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_asking_to_join_twice_at_once_makes_one_request(app, make_officer):
    owner = make_officer("LDS")
    _, project_id = make_project(app, owner)
    joiner = make_officer("BIR")

    def ask():
        user = db.session.get(User, joiner.id)
        return teams.request_to_join(user, project_id, "Please let me join").id

    outcomes = at_once(app, ask)
    assert sorted(isinstance(o, int) for o in outcomes) == [False, True], outcomes
    assert "You have already asked to join this project. The team has not decided yet" in outcomes
    assert count(app, JoinRequest) == 1
    assert count(app, OutboxMessage, OutboxMessage.subject.like("% asked to join %")) == 1


def test_two_owners_accepting_at_once_add_one_member_and_send_one_email(app, make_officer):
    owner = make_officer("LDS")
    second_owner = make_officer("LDS")
    _, project_id = make_project(app, owner)
    joiner = make_officer("BIR")
    with app.app_context():
        db.session.add(ProjectMember(project_id=project_id, user_id=second_owner.id, role="owner"))
        db.session.commit()
        request_id = teams.request_to_join(db.session.get(User, joiner.id), project_id, "Hello").id
    deciders = iter([owner.id, second_owner.id])
    lock = threading.Lock()

    def accept():
        with lock:
            decider = next(deciders)
        return teams.decide_join_request(db.session.get(User, decider), project_id, request_id, accept=True).state

    outcomes = at_once(app, accept)
    assert sorted(outcomes) == ["This request has already been accepted", "accepted"], outcomes
    assert count(app, ProjectMember, ProjectMember.user_id == joiner.id) == 1
    assert count(app, OutboxMessage, OutboxMessage.subject.like("Your request to join %")) == 1


def test_two_daily_runs_at_once_ask_once(app, make_officer):
    from datetime import timedelta

    from pipeline.models import Project
    from pipeline.timeutil import utcnow

    owner = make_officer("LDS")
    _, project_id = make_project(app, owner)
    with app.app_context():
        db.session.get(Project, project_id).active_at = utcnow() - timedelta(days=100)
        db.session.commit()

    outcomes = at_once(app, teams.ask_dormant_projects)
    assert sorted(outcomes) == [0, 1]
    assert count(app, OutboxMessage, OutboxMessage.subject.like("Is % still active?")) == 1
