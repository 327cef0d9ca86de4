"""The test harness: a real database (SQLite, and PostgreSQL when TEST_DATABASE_URL is set),
a real SMTP server, a page-checking client, and signed-in officers."""

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import delete, func, select
from sqlalchemy.engine import make_url

from config import TestConfig
from pipeline import create_app
from pipeline.extensions import db
from pipeline.models import Council, CouncilDomain, User
from pipeline.services import accounts
from pipeline.timeutil import utcnow
from tests.mail import Mailbox, start_smtp_server
from tests.pages import PageCheckingClient

# Tables the reference data loader fills once per run; every other table is emptied after each test.
REFERENCE_TABLES = {"councils", "council_domains", "functions", "services", "alembic_version"}
PASSWORD = "correct horse battery staple"


def database_kinds() -> list[str]:
    kinds = ["sqlite"]
    if os.environ.get("TEST_DATABASE_URL"):
        kinds.append("postgresql")
    return kinds


@pytest.fixture(scope="session")
def smtp_server():
    controller, mailbox = start_smtp_server()
    yield controller, mailbox
    controller.stop()


def _postgres_server_url() -> str:
    return os.environ["TEST_DATABASE_URL"]


def create_postgres_database() -> str:
    """Create an empty database for this run on the TEST_DATABASE_URL server; return its URL."""
    server = make_url(_postgres_server_url()).set(drivername="postgresql")
    name = f"pipeline_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return server.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    target = make_url(url)
    server = target.set(drivername="postgresql", database=make_url(_postgres_server_url()).database or "postgres")
    with psycopg.connect(server.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')


@pytest.fixture(scope="session")
def make_database(tmp_path_factory):
    """Makes empty databases of a kind; drops them all at the end of the run."""
    made: list[str] = []

    def make(kind: str) -> str:
        if kind == "sqlite":
            path = tmp_path_factory.mktemp("db") / "pipeline.db"
            url = f"sqlite:///{path}"
        else:
            url = create_postgres_database()
        made.append(url)
        return url

    yield make
    for url in made:
        if url.startswith("postgresql"):
            drop_postgres_database(url)


def config_for(url: str, smtp_port: int) -> type[TestConfig]:
    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = url
        SMTP_HOST = "127.0.0.1"
        SMTP_PORT = smtp_port

    return Config


@pytest.fixture(scope="session", params=database_kinds())
def app(request, make_database, smtp_server) -> Flask:
    """The app on a fresh database upgraded to the latest migration, with reference data loaded."""
    controller, _ = smtp_server
    app = create_app(config_for(make_database(request.param), controller.port))
    app.test_client_class = PageCheckingClient
    with app.app_context():
        upgrade()
    result = app.test_cli_runner().invoke(args=["load-reference-data"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        app.reference_high_water = {
            model.__tablename__: db.session.scalar(select(func.max(model.id))) for model in (Council, CouncilDomain)
        }
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_between_tests(request, smtp_server):
    """Empty every non-reference table and the mailbox after each test."""
    _, mailbox = smtp_server
    mailbox.clear()
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        db.session.remove()
        tables = [t for t in reversed(db.metadata.sorted_tables) if t.name not in REFERENCE_TABLES]
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.exec_driver_sql(
                    "TRUNCATE " + ", ".join(f'"{t.name}"' for t in tables) + " RESTART IDENTITY CASCADE"
                )
        else:
            with db.engine.begin() as conn:
                for table in tables:
                    conn.execute(delete(table))
        # Councils and domains that a test added (organisers can add them) go too.
        with db.engine.begin() as conn:
            for model in (CouncilDomain, Council):
                conn.execute(delete(model).where(model.id > app.reference_high_water[model.__tablename__]))
    mailbox.clear()


@pytest.fixture
def mailbox(smtp_server) -> Mailbox:
    return smtp_server[1]


@pytest.fixture
def client(app) -> PageCheckingClient:
    return app.test_client()


@pytest.fixture
def anon(app) -> PageCheckingClient:
    """A second client, for someone not signed in."""
    return app.test_client()


@dataclass
class Officer:
    id: int
    email: str
    name: str
    council_id: int
    council_name: str
    password: str = PASSWORD


@pytest.fixture
def make_officer(app):
    """Create a verified account on a council (by code) through the service layer."""
    counter = iter(range(1, 10_000))

    def make(council_code: str = "LDS", name: str | None = None, role: str = "officer") -> Officer:
        number = next(counter)
        with app.app_context():
            council = db.session.scalar(select(Council).where(Council.code == council_code))
            domain = council.domains[0].domain
            email = f"officer{number}.{council_code.lower()}@{domain}"
            user = accounts.register(
                name=name or f"Officer {number} of {council.name}",
                email=email,
                password=PASSWORD,
                council_id=council.id,
            )
            user.email_verified_at = utcnow()
            user.role = role
            db.session.commit()
            return Officer(user.id, user.email, user.name, council.id, council.name)

    return make


def sign_in(client: PageCheckingClient, officer: Officer) -> None:
    response = client.submit("/sign-in", {"email": officer.email, "password": officer.password})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    client.signed_in = True


@pytest.fixture
def officer(make_officer, client, mailbox) -> Officer:
    """A signed-in officer of Leeds City Council, using `client`."""
    person = make_officer("LDS")
    sign_in(client, person)
    mailbox.clear()
    return person


def user_row(app, user_id: int) -> User:
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        return user


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    path = Path(__file__).resolve().parent.parent / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path


def pytest_report_header(config):
    kinds = ", ".join(database_kinds())
    return f"databases under test: {kinds}"
