"""Registering, verifying, signing in and out, resetting passwords, and roles."""

import hashlib
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app, render_template
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from pipeline.database import begin_write
from pipeline.extensions import db
from pipeline.models import ROLES, Council, CouncilDomain, SignInAttempt, User
from pipeline.models.user import new_session_token
from pipeline.services.errors import InvalidInput, NotFound, RateLimited
from pipeline.services.outbox import queue_email
from pipeline.services.passwords import DUMMY_HASH, check_password, hash_password, password_problem
from pipeline.timeutil import utcnow

VERIFY_SALT = "verify-email"
RESET_SALT = "reset-password"


def normalise_email(email: str) -> str:
    """Check an address's form and return it in lower case; raise InvalidInput if it is not one."""
    try:
        result = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError:
        raise InvalidInput(
            "Enter an email address in the correct format, like name@council.gov.uk", field="email"
        ) from None
    return result.normalized.lower()


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[1].lower()


def councils_for_email(email: str) -> list[Council]:
    """The councils whose email domains cover this address (its domain or a parent of it)."""
    labels = email_domain(email).split(".")
    candidates = [".".join(labels[i:]) for i in range(len(labels) - 1)]
    return list(
        db.session.scalars(
            select(Council)
            .join(CouncilDomain)
            .where(CouncilDomain.domain.in_(candidates))
            .order_by(Council.name)
            .distinct()
        )
    )


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _link(endpoint_path: str) -> str:
    return current_app.config["BASE_URL"].rstrip("/") + endpoint_path


def _queue_template(recipient: str, subject: str, template: str, **context) -> None:
    body = render_template(f"email/{template}.txt", base_url=current_app.config["BASE_URL"], **context)
    queue_email(recipient, subject, body)


def _queue_verification(user: User) -> None:
    token = _serializer(VERIFY_SALT).dumps({"user": user.id, "email": user.email})
    _queue_template(
        user.email,
        "Confirm your email address for Pipeline",
        "verify_email",
        user=user,
        link=_link(f"/confirm-email/{token}"),
    )


def register(name: str, email: str, password: str, job_title: str = "", council_id: int | None = None) -> User | None:
    """Create an unverified account and queue its confirmation email.

    Returns None when the address already has an account: that person is told
    by email instead, so the page never reveals who is registered.
    """
    email = normalise_email(email)
    councils = councils_for_email(email)
    if not councils:
        raise InvalidInput(
            f"Pipeline is for officers of UK councils, and no council uses the email domain "
            f"{email_domain(email)}. Use your council email address, or ask an organiser to add your "
            f"council's domain",
            field="email",
        )
    if council_id is None and len(councils) == 1:
        council_id = councils[0].id
    if council_id is None:
        raise InvalidInput("Select the council you work for", field="council")
    if council_id not in {council.id for council in councils}:
        raise InvalidInput("Select one of the councils that use your email domain", field="council")
    problem = password_problem(password, email)
    if problem:
        raise InvalidInput(problem, field="password")

    password_hash = hash_password(password)
    begin_write()
    existing = db.session.scalar(select(User).where(User.email == email))
    if existing is not None:
        _queue_template(email, "You already have a Pipeline account", "already_registered", user=existing)
        db.session.commit()
        return None
    user = User(
        name=name.strip(),
        email=email,
        job_title=job_title.strip(),
        council_id=council_id,
        password_hash=password_hash,
    )
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:
        # Someone registered the same address a moment ago: treat it as existing.
        db.session.rollback()
        return None
    _queue_verification(user)
    db.session.commit()
    return user


def confirm_email(token: str) -> User:
    """Mark the account in a valid confirmation link as verified."""
    try:
        data = _serializer(VERIFY_SALT).loads(token, max_age=current_app.config["EMAIL_TOKEN_MAX_AGE"])
    except SignatureExpired:
        raise InvalidInput("This link has expired. Sign in to get a new one.") from None
    except BadSignature:
        raise InvalidInput("This link is not valid. Check you copied the whole link from the email.") from None
    begin_write()
    user = db.session.get(User, data.get("user"))
    if user is None or user.email != data.get("email"):
        raise InvalidInput("This link is not valid. Check you copied the whole link from the email.")
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    db.session.commit()
    return user


def _address_key(address: str | None) -> str:
    return (address or "unknown")[:64]


def recent_failures(column, value: str) -> int:
    since = utcnow() - timedelta(seconds=current_app.config["SIGN_IN_WINDOW_SECONDS"])
    return db.session.scalar(
        select(func.count()).select_from(SignInAttempt).where(column == value, SignInAttempt.created_at >= since)
    )


def authenticate(email: str, password: str, address: str | None) -> User:
    """Check a sign-in; raise InvalidInput or RateLimited, or return the verified user."""
    address = _address_key(address)
    email = email.strip().lower()
    config = current_app.config
    if (
        recent_failures(SignInAttempt.email, email) >= config["SIGN_IN_MAX_FAILURES_PER_ACCOUNT"]
        or recent_failures(SignInAttempt.address, address) >= config["SIGN_IN_MAX_FAILURES_PER_ADDRESS"]
    ):
        minutes = config["SIGN_IN_WINDOW_SECONDS"] // 60
        raise RateLimited(f"Too many failed attempts to sign in. Wait {minutes} minutes, then try again.")
    user = db.session.scalar(select(User).where(User.email == email))
    if not check_password(user.password_hash if user else DUMMY_HASH, password) or user is None:
        begin_write()
        db.session.add(SignInAttempt(email=email, address=address))
        db.session.commit()
        raise InvalidInput("Enter a correct email address and password", field="email")
    if user.suspended_at is not None:
        raise InvalidInput(
            "Your account has been suspended by an organiser. Email "
            f"{current_app.config['ORGANISER_CONTACT']} if you think this is a mistake.",
            field="email",
        )
    if user.email_verified_at is None:
        begin_write()
        user = db.session.get(User, user.id)
        _queue_verification(user)
        db.session.commit()
        raise InvalidInput(
            "You need to confirm your email address before you can sign in. We have sent you a new link.",
            field="email",
        )
    return user


def load_session_user(session_id: str) -> User | None:
    """The user a session cookie names, if its session token is still current."""
    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.scalar(select(User).options(selectinload(User.council)).where(User.id == int(user_id)))
    if user is None or user.session_token != token:
        return None
    return user


def end_all_sessions(user: User) -> None:
    """Sign the user out everywhere by changing the token every session cookie carries."""
    begin_write()
    user = db.session.get(User, user.id)
    user.session_token = new_session_token()
    db.session.commit()


def _reset_fingerprint(user: User) -> str:
    # Changes when the password does, so a reset link works once.
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def request_password_reset(email: str) -> None:
    """Queue a reset link if the address has an account; say nothing either way."""
    email = email.strip().lower()
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        return
    begin_write()
    token = _serializer(RESET_SALT).dumps({"user": user.id, "fp": _reset_fingerprint(user)})
    _queue_template(
        user.email, "Reset your Pipeline password", "reset_password", user=user, link=_link(f"/reset-password/{token}")
    )
    db.session.commit()


def user_for_reset_token(token: str) -> User:
    """The user a reset link is for; raise InvalidInput if it is expired, used or altered."""
    try:
        data = _serializer(RESET_SALT).loads(token, max_age=current_app.config["RESET_TOKEN_MAX_AGE"])
    except SignatureExpired:
        raise InvalidInput("This link has expired. Ask for a new password reset email.") from None
    except BadSignature:
        raise InvalidInput("This link is not valid. Ask for a new password reset email.") from None
    user = db.session.get(User, data.get("user"))
    if user is None or data.get("fp") != _reset_fingerprint(user):
        raise InvalidInput("This link has already been used. Ask for a new password reset email.")
    return user


def reset_password(token: str, password: str) -> User:
    """Set a new password from a reset link, confirm the address, and end every session."""
    user = user_for_reset_token(token)
    problem = password_problem(password, user.email)
    if problem:
        raise InvalidInput(problem, field="password")
    password_hash = hash_password(password)
    begin_write()
    user = user_for_reset_token(token)  # again, inside the write: a link works once
    user.password_hash = password_hash
    user.session_token = new_session_token()
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()  # the link arrived at the address, which proves it
    db.session.commit()
    return user


def update_profile(user: User, name: str, job_title: str) -> User:
    """Change the signed-in user's own name and job title."""
    begin_write()
    user = db.session.get(User, user.id)
    user.name = name.strip()
    user.job_title = job_title.strip()
    db.session.commit()
    return user


def grant_role(email: str, role: str) -> User:
    """Give an account a role (officer, organiser or admin)."""
    if role not in ROLES:
        raise InvalidInput(f"Role must be one of {', '.join(ROLES)}")
    begin_write()
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFound(f"No account has the email address {email}")
    user.role = role
    db.session.commit()
    return user
