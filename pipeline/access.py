"""Who may open a page. Every view carries exactly one of these; the route audit test checks it."""

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import abort, redirect, request, session, url_for
from flask_login import current_user

F = TypeVar("F", bound=Callable)

PUBLIC = "public"
SIGNED_IN = "signed_in"
ORGANISER = "organiser"
ADMIN = "admin"
SIGNED_OUT = "signed_out"


def _mark(view: Callable, rule: str) -> None:
    view.access_rule = rule


def public(view: F) -> F:
    """Anyone may open this page, signed in or not."""
    _mark(view, PUBLIC)
    return view


def signed_out_only(view: F) -> F:
    """Pages for people who are not signed in (register, sign in); others go to their account."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_user.is_authenticated:
            return redirect(url_for("auth.account"))
        return view(*args, **kwargs)

    _mark(wrapped, SIGNED_OUT)
    return wrapped


def _sign_in_redirect():
    return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))


def signed_in(view: F) -> F:
    """A signed-in officer, organiser or admin."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return _sign_in_redirect()
        return view(*args, **kwargs)

    _mark(wrapped, SIGNED_IN)
    return wrapped


TWO_FACTOR_DONE = "two_factor_verified"


def _two_factor_redirect():
    """Organiser pages open only once this session has passed two-factor sign-in."""
    if session.get(TWO_FACTOR_DONE):
        return None
    if current_user.totp_enabled_at is None:
        return redirect(url_for("auth.two_factor_setup", next=request.full_path.rstrip("?")))
    return redirect(url_for("auth.two_factor", next=request.full_path.rstrip("?")))


def organiser(view: F) -> F:
    """An organiser or an admin, signed in with two factors."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return _sign_in_redirect()
        if not current_user.is_organiser:
            abort(403)
        return _two_factor_redirect() or view(*args, **kwargs)

    _mark(wrapped, ORGANISER)
    return wrapped


def admin(view: F) -> F:
    """An admin only, signed in with two factors."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return _sign_in_redirect()
        if not current_user.is_admin:
            abort(403)
        return _two_factor_redirect() or view(*args, **kwargs)

    _mark(wrapped, ADMIN)
    return wrapped


def access_rule(view: Callable) -> str | None:
    """The access rule a view was declared with, or None."""
    return getattr(view, "access_rule", None)
