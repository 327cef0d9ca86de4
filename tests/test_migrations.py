"""Migrations: one head, the models match the migrated schema, and down-and-up works, on each database."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from config import TestConfig
from pipeline import create_app
from pipeline.database import include_in_schema_comparison
from pipeline.extensions import db
from tests.conftest import database_kinds


@pytest.fixture(params=database_kinds())
def empty_app(request, make_database):
    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = make_database(request.param)

    app = create_app(Config)
    yield app
    with app.app_context():
        db.engine.dispose()


def test_there_is_a_single_head(empty_app):
    with empty_app.app_context():
        config = empty_app.extensions["migrate"].migrate.get_config()
        script = ScriptDirectory.from_config(config)
        assert len(script.get_heads()) == 1


def _differences(app) -> list:
    with app.app_context(), db.engine.connect() as connection:
        options = {"compare_type": True, "include_name": include_in_schema_comparison}
        context = MigrationContext.configure(connection, opts=options)
        return compare_metadata(context, db.metadata)


def test_upgrade_to_head_matches_the_models(empty_app):
    with empty_app.app_context():
        upgrade()
    assert _differences(empty_app) == []


def test_downgrade_to_base_and_back(empty_app):
    with empty_app.app_context():
        upgrade()
        downgrade(revision="base")
        tables = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert tables == set()
        upgrade()
    assert _differences(empty_app) == []
