"""Markdown written by people, rendered safely: Python-Markdown, then the nh3 sanitiser, with GOV.UK classes."""

import re

import markdown as python_markdown
import nh3
from markupsafe import Markup

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "a", "ul", "ol", "li", "blockquote", "code", "pre",
    "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
CLASSES = {
    "p": {"class": "govuk-body"},
    "a": {"class": "govuk-link"},
    "ul": {"class": "govuk-list govuk-list--bullet"},
    "ol": {"class": "govuk-list govuk-list--number"},
    "h3": {"class": "govuk-heading-s"},
    "h4": {"class": "govuk-heading-s"},
    "h5": {"class": "govuk-heading-s"},
    "h6": {"class": "govuk-heading-s"},
    "blockquote": {"class": "govuk-inset-text"},
    "table": {"class": "govuk-table"},
    "th": {"class": "govuk-table__header"},
    "td": {"class": "govuk-table__cell"},
    "hr": {"class": "govuk-section-break govuk-section-break--m govuk-section-break--visible"},
}
HEADING = re.compile(r"<(/?)h([1-6])\b")


def _demote_headings(html: str) -> str:
    # A page has one h1 and its own h2s; people's headings start at h3.
    return HEADING.sub(lambda m: f"<{m.group(1)}h{min(int(m.group(2)) + 2, 6)}", html)


def render_markdown(text: str | None) -> Markup:
    """Turn Markdown into HTML with no script, no event handlers, no javascript: links and no raw HTML."""
    if not text:
        return Markup("")
    html = python_markdown.markdown(text, extensions=["tables", "sane_lists"], output_format="html")
    clean = nh3.clean(
        _demote_headings(html),
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        set_tag_attribute_values=CLASSES,
        strip_comments=True,
    )
    return Markup(clean)


def plain_text(text: str | None, limit: int = 200) -> str:
    """The text of some Markdown without its markup, cut to `limit` characters at a word boundary."""
    words = nh3.clean(python_markdown.markdown(text or ""), tags=set()).split()
    flat = " ".join(words)
    if len(flat) <= limit:
        return flat
    return flat[:limit].rsplit(" ", 1)[0] + "…"
