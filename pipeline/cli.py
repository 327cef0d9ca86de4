"""`flask` commands for operators: reference data, roles, and the email outbox."""

import time

import click
from flask import Flask

from pipeline.services import accounts, demo_data, outbox
from pipeline.services.errors import ServiceError
from pipeline.services.reference_data import load_reference_data


def register_commands(app: Flask) -> None:
    @app.cli.command("load-reference-data")
    def load_reference_data_command():
        """Load (or refresh) councils, email domains, LGSL services and LGFL functions."""
        for table, report in load_reference_data().items():
            click.echo(f"{table}: {report}")

    @app.cli.command("grant-role")
    @click.argument("email")
    @click.argument("role", type=click.Choice(["officer", "organiser", "admin"]))
    def grant_role_command(email: str, role: str):
        """Give the account with EMAIL a ROLE: officer, organiser or admin."""
        try:
            user = accounts.grant_role(email, role)
        except ServiceError as error:
            raise click.ClickException(error.message) from None
        click.echo(f"{user.email} is now {user.role}")

    @app.cli.command("demo-data")
    @click.option("--scale", default=0.01, show_default=True, help="1 is 100,000 projects and 50,000 officers.")
    @click.option("--seed", default=1, show_default=True, help="The same seed and scale make the same data.")
    def demo_data_command(scale: float, seed: int):
        """Fill an empty database with realistic demo officers and projects, for trying out and benchmarks."""
        if app.config["ENV_NAME"] == "production":
            raise click.ClickException("Demo data is not for production: set PIPELINE_ENV=development")
        try:
            counts = demo_data.generate(scale, seed, echo=click.echo)
        except ServiceError as error:
            raise click.ClickException(error.message) from None
        for table, count in counts.items():
            click.echo(f"{table}: {count:,}")

    @app.cli.group("outbox")
    def outbox_group():
        """The email outbox."""

    @outbox_group.command("deliver")
    @click.option("--watch", is_flag=True, help="Keep running, sending new messages every few seconds.")
    @click.option("--interval", default=5.0, show_default=True, help="Seconds between passes with --watch.")
    def deliver_command(watch: bool, interval: float):
        """Send queued email, retrying messages that failed before."""
        while True:
            sent, failed = outbox.deliver_pending()
            if sent or failed or not watch:
                click.echo(f"{sent} sent, {failed} failed")
            if not watch:
                return
            time.sleep(interval)
