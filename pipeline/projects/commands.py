"""`flask projects daily`: the freshness jobs cron runs once a day."""

import click

from pipeline.projects import bp
from pipeline.services import outbox, teams


@bp.cli.command("daily")
def daily_command():
    """Ask the owners of dormant projects whether they are still active, and remind owners of waiting join requests."""
    report = teams.run_daily()
    sent, failed = outbox.deliver_pending()
    click.echo(
        f"{report.dormant_projects} dormant project(s) asked if still active, "
        f"{report.join_reminders} join request(s) reminded; email: {sent} sent, {failed} failed"
    )
