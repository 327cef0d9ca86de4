"""Officers' accounts and the sign-in attempts that rate-limit them."""

import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pipeline.extensions import db
from pipeline.models.council import Council
from pipeline.timeutil import utcnow

ROLES = ("officer", "organiser", "admin")


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    job_title: Mapped[str] = mapped_column(String(100), default="")
    council_id: Mapped[int] = mapped_column(ForeignKey("councils.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), default="officer")
    email_verified_at: Mapped[datetime | None]
    # Part of every session cookie: changing it ends all of the user's sessions.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Suspended accounts cannot sign in or act; what they wrote stays unless hidden.
    suspended_at: Mapped[datetime | None]
    # Two-factor sign-in (TOTP) for organisers and admins.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None]
    # The last time step whose code was accepted, so a code cannot be used twice.
    totp_last_step: Mapped[int | None]
    # SHA-256 hashes of the unused recovery codes.
    recovery_code_hashes: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")

    council: Mapped[Council] = relationship()

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def is_active(self) -> bool:
        return self.email_verified_at is not None and self.suspended_at is None

    @property
    def needs_two_factor(self) -> bool:
        return self.role in ("organiser", "admin")

    @property
    def is_organiser(self) -> bool:
        return self.role in ("organiser", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def __repr__(self) -> str:
        return f"<User {self.id}>"


class SignInAttempt(db.Model):
    """A failed sign-in, counted per account and per address to slow guessing."""

    __tablename__ = "sign_in_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
