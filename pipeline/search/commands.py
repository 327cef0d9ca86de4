"""`flask search ...`: operators' commands for the search index."""

import click

from pipeline.search import bp
from pipeline.services import search


@bp.cli.command("rebuild")
def rebuild_command():
    """Make the search index again from every project. Safe to run at any time, and again."""
    report = search.rebuild()
    click.echo(", ".join(f"{count} {what}" for what, count in report.items()) + " search documents")
