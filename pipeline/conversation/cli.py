"""`flask digests send daily|weekly`: what a scheduler runs to send the digests (see the README for cron)."""

import click

from pipeline.conversation import bp
from pipeline.services import digests, outbox


@bp.cli.group("digests")
def digests_group():
    """Daily and weekly digest emails."""


@digests_group.command("send")
@click.argument("frequency", type=click.Choice(digests.DIGEST_FREQUENCIES))
@click.option(
    "--period",
    "day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="A day in the period to send (default: yesterday for daily, last week for weekly).",
)
@click.option("--deliver/--no-deliver", default=True, show_default=True, help="Send the queued email now.")
def send_command(frequency: str, day, deliver: bool):
    """Build and queue the digests for a period; running it again for the same period sends nothing twice."""
    period = digests.period_for(frequency, day.date() if day else None)
    run = digests.send_digests(period)
    click.echo(
        f"{frequency} digest {period.description}: {run.sent} queued with {run.items} items"
        f" ({run.already_sent} already sent)"
    )
    if deliver:
        sent = failed = 0
        while True:
            batch_sent, batch_failed = outbox.deliver_pending()
            sent, failed = sent + batch_sent, failed + batch_failed
            if not batch_sent:
                break
        click.echo(f"{sent} sent, {failed} failed")
