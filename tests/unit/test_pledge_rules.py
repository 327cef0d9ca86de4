"""The pledge service's own checks, for callers that do not come through the form."""

import pytest
from sqlalchemy import func, select

from pipeline.extensions import db
from pipeline.models import Pledge, User
from pipeline.models.pledge import describe, format_value
from pipeline.services import pledges
from pipeline.services.errors import InvalidInput
from tests.factories import make_project

KEY = "a-unit-test-idempotency-key"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"amount": 12.5}, "Enter the amount as a whole number of pounds, like 5000"),
        ({"amount": True}, "Enter the amount as a whole number of pounds, like 5000"),
        ({"amount": -5}, "Enter an amount of £1 or more"),
        ({"amount": 0}, "Enter an amount of £1 or more"),
        ({"amount": 100_000_001}, "Amount must be £100,000,000 or less"),
        ({"kind": "people", "role": "Developer", "days": 2.5}, "Enter the number of days as a whole number, like 10"),
        ({"kind": "people", "role": "Developer", "days": 10_001}, "Days must be between 1 and 10,000"),
        ({"kind": "people", "role": "x" * 101, "days": 1}, "Role must be 100 characters or fewer"),
        ({"kind": "skills", "skill": "Law", "hours": 0}, "Hours must be between 1 and 80,000"),
        ({"kind": "gold"}, "Select what you are pledging: money, people or skills"),
        ({"idempotency_key": "short"}, "This form is out of date. Check your answers and send it again."),
        (
            {"idempotency_key": "spaces are not allowed in keys"},
            "This form is out of date. Check your answers and send it again.",
        ),
    ],
)
def test_the_service_refuses_what_the_form_would(app, make_officer, changes, message):
    team = make_officer("LDS")
    pledger = make_officer("BIR")
    _, project_id = make_project(app, team)
    values = {"kind": "money", "council_id": pledger.council_id, "amount": 50, "idempotency_key": KEY} | changes
    with app.app_context():
        with pytest.raises(InvalidInput) as refused:
            pledges.offer_pledge(db.session.get(User, pledger.id), project_id, pledges.PledgeInput(**values))
        assert refused.value.message == message
        assert db.session.scalar(select(func.count()).select_from(Pledge)) == 0


def test_a_refused_write_leaves_no_transaction_open(app, make_officer):
    team = make_officer("LDS")
    _, project_id = make_project(app, team)
    with app.app_context():
        user = db.session.get(User, team.id)
        data = pledges.PledgeInput("money", council_id=999_999, amount=5, idempotency_key=KEY)
        with pytest.raises(InvalidInput):
            pledges.offer_pledge(user, project_id, data)
        assert not db.session().in_transaction()


def test_descriptions_read_naturally():
    assert describe("money", amount=5000) == "£5,000"
    assert describe("people", role="User researcher", days=1) == "User researcher, 1 day"
    assert describe("skills", skill="Legal advice", hours=12) == "Legal advice, 12 hours"
    assert format_value("amount", 100_000) == "£100,000"
    assert format_value("start_date", "2027-03-01") == "1 March 2027"
    assert format_value("end_date", None) == "(none)"


def test_every_refusal_says_why():
    assert pledges.refusal("delivered", "offered") == (
        "This pledge has been delivered, so it cannot be offered or changed any more"
    )
    assert pledges.refusal("offered", "delivered") == "Accept the pledge before marking it delivered"
    assert pledges.refusal("accepted", "accepted") == "This pledge is already accepted"
    for from_state in ("offered", "accepted"):
        for to_state in ("accepted", "declined", "delivered", "withdrawn"):
            if (from_state, to_state) not in pledges.TRANSITIONS and from_state != to_state:
                assert pledges.refusal(from_state, to_state)
