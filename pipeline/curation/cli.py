"""`flask organisers daily`: what cron runs once a day to look for duplicates and tell organisers what is new."""

import click

from pipeline.curation import bp
from pipeline.services import duplicates, organiser_alerts, outbox


@bp.cli.command("daily")
@click.option("--deliver/--no-deliver", default=True, show_default=True, help="Send the queued email now.")
def daily_command(deliver: bool):
    """Look for duplicate projects, then email organisers what is new in the workbench's queues (never twice)."""
    scan = duplicates.scan()
    run = organiser_alerts.send_daily()
    new = ", ".join(f"{len(items)} {queue.replace('_', ' ')}" for queue, items in run.new.items()) or "nothing new"
    click.echo(f"{scan.checked} project(s) compared for duplicates; {new}; {run.recipients} organiser(s) emailed")
    if deliver:
        sent = failed = 0
        while True:
            batch_sent, batch_failed = outbox.deliver_pending()
            sent, failed = sent + batch_sent, failed + batch_failed
            if not batch_sent:
                break
        click.echo(f"email: {sent} sent, {failed} failed")
