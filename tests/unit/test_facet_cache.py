"""Facet counts are kept, per process, until something they count changes, in this process or in another.

Every test here runs once per database.
"""

from sqlalchemy import create_engine, select, text, update

from pipeline import create_app
from pipeline.extensions import db
from pipeline.models import ListingVersion, Project, User
from pipeline.services import project_lists, projects
from pipeline.services.project_lists import ProjectFilters
from tests.conftest import config_for
from tests.factories import make_project
from tests.pages import soup_of, statement_count


def phase_counts(response) -> dict[str, str]:
    page = soup_of(response)
    labels = page.select("label[for^=filter-phase-]")
    return {label["for"].removeprefix("filter-phase-"): " ".join(label.get_text().split()) for label in labels}


def discovery_and_alpha(app) -> tuple[int, int]:
    with app.app_context():
        counts = project_lists.facet_counts(ProjectFilters()).phase
        db.session.rollback()
        return counts["discovery"], counts["alpha"]


def test_the_projects_page_counts_again_only_after_a_change(client, app, officer):
    _, project_id = make_project(app, officer, title="Bin collection day finder")
    first = client.get("/projects")
    again = client.get("/projects")
    assert phase_counts(again) == phase_counts(first)
    assert phase_counts(first)["discovery"] == "Discovery (1)"
    # The counts were kept: the second page read the listing version instead of counting.
    assert statement_count(again) == statement_count(first) - 1

    with app.app_context():
        user = db.session.get(User, officer.id)
        projects.change_phase(user, project_id, "alpha", "User research is done")
    moved = client.get("/projects")
    assert phase_counts(moved)["discovery"] == "Discovery (0)"
    assert phase_counts(moved)["alpha"] == "Alpha (1)"
    assert statement_count(moved) == statement_count(first)

    make_project(app, officer, title="Garden waste subscriptions")
    assert phase_counts(client.get("/projects"))["discovery"] == "Discovery (1)"


def test_a_change_made_by_another_process_is_counted(app, officer):
    make_project(app, officer, title="Bin collection day finder")
    assert discovery_and_alpha(app) == (1, 0)
    # Another process (a second worker, or a command) on the same database, with its own engine and cache.
    other = create_app(config_for(app.config["SQLALCHEMY_DATABASE_URI"], app.config["SMTP_PORT"]))
    try:
        make_project(other, officer, title="Garden waste subscriptions")
        with other.app_context():
            finder = Project.title == "Bin collection day finder"
            db.session.execute(update(Project).where(finder).values(phase="alpha"))
            db.session.commit()
    finally:
        with other.app_context():
            db.engine.dispose()
    assert discovery_and_alpha(app) == (1, 1)


def test_writes_in_any_form_change_the_version_and_a_rollback_does_not(app, officer):
    make_project(app, officer, title="Bin collection day finder")
    with app.app_context():
        token = db.session.scalar(select(ListingVersion.token))
        db.session.execute(text("UPDATE projects SET phase = 'beta'"))
        db.session.rollback()
        assert db.session.scalar(select(ListingVersion.token)) == token
        db.session.execute(text("UPDATE projects SET phase = 'beta'"))
        db.session.commit()
        changed = db.session.scalar(select(ListingVersion.token))
        assert changed != token
        # Writing to what lists do not count (an account) leaves the version alone.
        db.session.execute(update(User).values(name="Someone else"))
        db.session.commit()
        assert db.session.scalar(select(ListingVersion.token)) == changed
        assert project_lists.facet_counts(ProjectFilters()).phase["beta"] == 1


def test_counts_from_a_transaction_that_wrote_are_not_kept(app, officer):
    make_project(app, officer, title="Bin collection day finder")
    with app.app_context():
        db.session.execute(update(Project).values(phase="alpha"))
        # This transaction sees its own write...
        assert project_lists.facet_counts(ProjectFilters()).phase["alpha"] == 1
        db.session.rollback()
    # ...which nobody else ever sees.
    assert discovery_and_alpha(app) == (1, 0)


def test_rebuilding_the_search_index_counts_again_after_changes_by_hand(app, officer):
    make_project(app, officer, title="Bin collection day finder")
    assert discovery_and_alpha(app) == (1, 0)
    # By hand: straight to the database, not through the app.
    by_hand = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with by_hand.begin() as connection:
            connection.execute(text("UPDATE projects SET phase = 'alpha'"))
    finally:
        by_hand.dispose()
    assert discovery_and_alpha(app) == (1, 0)  # kept, as nothing the app did changed the lists
    result = app.test_cli_runner().invoke(args=["search", "rebuild"])
    assert result.exit_code == 0, result.output
    assert discovery_and_alpha(app) == (0, 1)
