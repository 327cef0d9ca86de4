"""The outbox keeps email through an SMTP outage and sends each message once."""

from datetime import timedelta

from sqlalchemy import select

from pipeline.extensions import db
from pipeline.models import OutboxMessage
from pipeline.services.outbox import deliver_pending, queue_email
from pipeline.timeutil import utcnow
from tests.mail import free_port


def test_a_message_survives_an_smtp_outage_and_is_retried(app, client, mailbox):
    working_port = app.config["SMTP_PORT"]
    app.config["SMTP_PORT"] = free_port()  # nothing listens here
    try:
        response = client.submit(
            "/register",
            {"name": "Ana", "email": "ana@leeds.gov.uk", "password": "a long enough passphrase"},
        )
        assert response.status_code == 302  # the person is not held up by the outage
    finally:
        app.config["SMTP_PORT"] = working_port
    with app.app_context():
        [message] = db.session.scalars(select(OutboxMessage)).all()
        assert message.sent_at is None and message.attempts == 1
        assert "ConnectionRefusedError" in message.last_error
        assert message.next_attempt_at > utcnow()

        assert deliver_pending() == (0, 0)  # not due yet: it backs off
        message.next_attempt_at = utcnow() - timedelta(seconds=1)
        db.session.commit()

    result = app.test_cli_runner().invoke(args=["outbox", "deliver"])
    assert result.output.strip() == "1 sent, 0 failed"
    [received] = mailbox.wait_for("ana@leeds.gov.uk")
    assert received["Subject"] == "Confirm your email address for Pipeline"
    assert app.test_cli_runner().invoke(args=["outbox", "deliver"]).output.strip() == "0 sent, 0 failed"
    assert len(mailbox.to("ana@leeds.gov.uk")) == 1


def test_a_message_is_not_sent_if_its_transaction_rolls_back(app, mailbox):
    with app.app_context():
        queue_email("rolled.back@leeds.gov.uk", "Never", "Never sent")
        db.session.rollback()
        assert deliver_pending() == (0, 0)
        assert db.session.scalars(select(OutboxMessage)).all() == []


def test_a_claimed_message_is_not_sent_twice(app, mailbox):
    with app.app_context():
        message = queue_email("once@leeds.gov.uk", "Once", "Only once")
        message.claimed_until = utcnow() + timedelta(minutes=1)  # another sender has it
        db.session.commit()
        assert deliver_pending() == (0, 0)
        message.claimed_until = None
        db.session.commit()
        assert deliver_pending() == (1, 0)
        assert deliver_pending() == (0, 0)
    assert len(mailbox.wait_for("once@leeds.gov.uk")) == 1
