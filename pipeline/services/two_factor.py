"""Two-factor sign-in for organisers and admins: TOTP codes from an authenticator app, and recovery codes."""

import hashlib
import io
import secrets
import time

import pyotp
import qrcode
import qrcode.image.svg
from flask import current_app
from markupsafe import Markup

from pipeline.database import begin_write
from pipeline.extensions import db
from pipeline.models import SignInAttempt, User
from pipeline.services import audit
from pipeline.services.accounts import recent_failures
from pipeline.services.errors import InvalidInput, RateLimited
from pipeline.timeutil import utcnow

RECOVERY_CODES = 10
ISSUER = "Pipeline"


def _hash(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").replace(" ", "").lower().encode()).hexdigest()


def start_setup(user: User) -> str:
    """Give the user a new secret to add to their authenticator app (not yet turned on)."""
    begin_write()
    user = db.session.get(User, user.id)
    user.totp_secret = pyotp.random_base32()
    db.session.commit()
    return user.totp_secret


def provisioning_uri(user: User) -> str:
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_code_svg(uri: str) -> Markup:
    """The setup link as an SVG QR code for the page (made here, so no image service sees the secret)."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    svg = svg[svg.index("<svg") :].replace("<svg", '<svg role="img" aria-label="QR code for your authenticator app"', 1)
    return Markup(svg)


def _check_rate(user: User, address: str | None) -> None:
    key = f"2fa:{user.email}"
    if recent_failures(SignInAttempt.email, key) >= current_app.config["SIGN_IN_MAX_FAILURES_PER_ACCOUNT"]:
        minutes = current_app.config["SIGN_IN_WINDOW_SECONDS"] // 60
        raise RateLimited(f"Too many wrong codes. Wait {minutes} minutes, then try again.")


def _fail(user: User, address: str | None, message: str) -> None:
    begin_write()
    db.session.add(SignInAttempt(email=f"2fa:{user.email}", address=(address or "unknown")[:64]))
    db.session.commit()
    raise InvalidInput(message, field="code")


def _accepted_step(secret: str, code: str, last_step: int | None) -> int | None:
    """The time step a code belongs to (allowing one step of clock drift), if valid and not used before."""
    code = code.replace(" ", "")
    if not code.isdigit() or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    now = int(time.time()) // totp.interval
    for step in (now, now - 1, now + 1):
        if secrets.compare_digest(totp.at(step * totp.interval), code):
            if last_step is not None and step <= last_step:
                return None
            return step
    return None


def confirm_setup(user: User, code: str, address: str | None) -> list[str]:
    """Turn two-factor sign-in on with a first code from the app; return recovery codes to show once."""
    user = db.session.get(User, user.id)
    _check_rate(user, address)
    step = _accepted_step(user.totp_secret or "", code, None)
    if step is None:
        _fail(user, address, "Enter the 6-digit code your authenticator app shows now")
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
    begin_write()
    user = db.session.get(User, user.id)
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    user.recovery_code_hashes = [_hash(c) for c in codes]
    audit.record(user, "two_factor_enabled", "user", user.id, user.name)
    db.session.commit()
    return codes


def verify(user: User, code: str, address: str | None) -> None:
    """Accept a current code or an unused recovery code; raise InvalidInput or RateLimited otherwise."""
    user = db.session.get(User, user.id)
    _check_rate(user, address)
    cleaned = code.strip()
    step = _accepted_step(user.totp_secret or "", cleaned, user.totp_last_step)
    if step is not None:
        begin_write()
        user = db.session.get(User, user.id)
        if user.totp_last_step is not None and step <= user.totp_last_step:
            _fail(user, address, "That code has already been used. Wait for a new code")
        user.totp_last_step = step
        db.session.commit()
        return
    hashed = _hash(cleaned)
    if hashed in (user.recovery_code_hashes or []):
        begin_write()
        user = db.session.get(User, user.id)
        remaining = [h for h in user.recovery_code_hashes if h != hashed]
        if len(remaining) == len(user.recovery_code_hashes):
            _fail(user, address, "That recovery code has already been used")
        user.recovery_code_hashes = remaining
        db.session.commit()
        return
    if cleaned.isdigit() and pyotp.TOTP(user.totp_secret or pyotp.random_base32()).verify(cleaned, valid_window=1):
        _fail(user, address, "That code has already been used. Wait for a new code")
    _fail(user, address, "Enter the 6-digit code your authenticator app shows now, or a recovery code")
