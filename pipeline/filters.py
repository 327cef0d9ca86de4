"""Jinja filters for GOV.UK-style dates and numbers."""

from datetime import date, datetime

from flask import Flask
from markupsafe import Markup


def format_date(value: date | datetime | None) -> str:
    """'3 March 2026', as GOV.UK writes dates."""
    if value is None:
        return ""
    return f"{value.day} {value:%B %Y}"


def format_datetime(value: datetime | None) -> str:
    """'3 March 2026 at 2:05pm'."""
    if value is None:
        return ""
    hour = value.hour % 12 or 12
    suffix = "am" if value.hour < 12 else "pm"
    return f"{format_date(value)} at {hour}:{value:%M}{suffix}"


def format_number(value: int | None) -> str:
    return f"{value or 0:,}"


def paragraphs(text: str | None) -> Markup:
    """Plain text as GOV.UK paragraphs: a blank line starts a new one, and the text is escaped."""
    blocks = [b.strip() for b in (text or "").replace("\r\n", "\n").split("\n\n") if b.strip()]
    return Markup("").join(Markup('<p class="govuk-body">{}</p>').format(block) for block in blocks)


def register_filters(app: Flask) -> None:
    app.jinja_env.filters["paragraphs"] = paragraphs
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.filters["number"] = format_number
