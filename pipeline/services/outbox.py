"""The outbox: email is queued with the change that caused it and sent from here with retries."""

import smtplib
import sys
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app, g, has_request_context
from sqlalchemy import or_, select, update

from pipeline.database import begin_write
from pipeline.extensions import db
from pipeline.models import OutboxMessage
from pipeline.timeutil import utcnow

CLAIM_SECONDS = 120


def queue_email(recipient: str, subject: str, body: str, headers: dict | None = None) -> OutboxMessage:
    """Add a message to the outbox in the caller's transaction (the caller commits)."""
    message = OutboxMessage(recipient=recipient, subject=subject, body=body, headers=headers or {})
    db.session.add(message)
    db.session.flush()
    if has_request_context():
        g.setdefault("outbox_ids", []).append(message.id)
    return message


def deliver_request_messages() -> None:
    """Send the messages the current request queued, once it has committed them."""
    ids = g.pop("outbox_ids", None)
    if ids and current_app.config["OUTBOX_DELIVER_AFTER_REQUEST"]:
        db.session.rollback()  # anything uncommitted by now was not meant to be sent
        deliver_pending(ids=ids)


def deliver_pending(ids: list[int] | None = None, limit: int = 200) -> tuple[int, int]:
    """Send due messages (or just `ids`); return (sent, failed). Safe to run in several processes."""
    now = utcnow()
    query = select(OutboxMessage.id).where(
        OutboxMessage.sent_at.is_(None),
        OutboxMessage.attempts < current_app.config["OUTBOX_MAX_ATTEMPTS"],
        OutboxMessage.next_attempt_at <= now,
        or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
    )
    if ids is not None:
        query = query.where(OutboxMessage.id.in_(ids))
    candidates = db.session.scalars(query.order_by(OutboxMessage.id).limit(limit)).all()
    db.session.commit()
    sent = failed = 0
    for message_id in candidates:
        message = _claim(message_id)
        if message is None:
            continue
        try:
            _send(message)
        except (OSError, smtplib.SMTPException) as error:
            failed += 1
            _record_failure(message_id, error)
        else:
            sent += 1
            # A write of its own: upgrading the read that loaded the message fails at once on
            # SQLite ("database is locked") if another process wrote in between.
            begin_write()
            db.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id)
                .values(sent_at=utcnow(), attempts=OutboxMessage.attempts + 1, claimed_until=None, last_error=None)
            )
            db.session.commit()
    return sent, failed


def _claim(message_id: int) -> OutboxMessage | None:
    begin_write()
    now = utcnow()
    claimed = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.sent_at.is_(None),
            or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
        )
        .values(claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
    ).rowcount
    db.session.commit()
    if not claimed:
        return None
    return db.session.get(OutboxMessage, message_id)


def _record_failure(message_id: int, error: Exception) -> None:
    begin_write()
    message = db.session.get(OutboxMessage, message_id)
    message.attempts += 1
    # Back off: 1, 2, 4, 8 ... minutes, up to a day.
    message.next_attempt_at = utcnow() + timedelta(minutes=min(2 ** (message.attempts - 1), 1440))
    message.claimed_until = None
    message.last_error = f"{type(error).__name__}: {error}"[:2000]
    db.session.commit()
    current_app.logger.warning("Email %s not sent (attempt %s): %s", message_id, message.attempts, error)


def _build(message: OutboxMessage) -> EmailMessage:
    email = EmailMessage()
    email["From"] = current_app.config["MAIL_FROM"]
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Message-ID"] = make_msgid(idstring=f"outbox-{message.id}", domain="pipeline.localgov.digital")
    for name, value in (message.headers or {}).items():
        email[name] = value
    email.set_content(message.body)
    return email


def _send(message: OutboxMessage) -> None:
    email = _build(message)
    config = current_app.config
    if config["MAIL_BACKEND"] == "console":
        print(f"\n----- email to {message.recipient} -----\n{email}\n----- end of email -----\n", file=sys.stderr)
        return
    with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=config["SMTP_TIMEOUT"]) as smtp:
        if config["SMTP_STARTTLS"]:
            smtp.starttls()
        if config["SMTP_USERNAME"]:
            smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
        smtp.send_message(email)
