"""`flask demo-data`: realistic, repeatable demo data in bulk, searchable as soon as it is in."""

from sqlalchemy import func, select, text

from pipeline.extensions import db
from pipeline.models import PhaseChange, Project, ProjectCouncil, ProjectService, SearchDocument, User
from pipeline.services import project_lists
from pipeline.services.project_lists import ProjectFilters

SCALE = "0.0005"  # 50 projects, 25 officers


def snapshot(app) -> list[tuple]:
    with app.app_context():
        rows = db.session.execute(
            select(Project.title, Project.problem, Project.phase, Project.lead_council_id).order_by(Project.id)
        )
        return [tuple(row) for row in rows]


def empty_projects(app) -> None:
    with app.app_context():
        for model in (SearchDocument, Project, User):
            db.session.execute(model.__table__.delete())
        db.session.commit()


def test_demo_data_is_realistic_repeatable_and_searchable(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo-data", "--scale", SCALE, "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "projects: 50" in result.output and "search documents: 50" in result.output
    first = snapshot(app)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 25
        assert db.session.scalar(select(func.count()).select_from(ProjectService)) >= 50
        assert db.session.scalar(select(func.count()).select_from(ProjectCouncil)) >= 50
        # Every project's timeline starts when it was posted and ends in its phase.
        last_phases = db.session.execute(
            select(PhaseChange.project_id, PhaseChange.to_phase).order_by(PhaseChange.project_id, PhaseChange.id)
        ).all()
        final = dict(last_phases)
        assert all(
            final[project_id] == phase for project_id, phase in db.session.execute(select(Project.id, Project.phase))
        )
        waste = project_lists.list_projects(ProjectFilters(q="waste", sort="relevance"))
        assert waste.total > 0 and waste.hits
        if db.engine.dialect.name == "postgresql":
            # The planner's statistics count the rows that went in, so it plans for them (not for empty tables), and
            # the vacuum marked their pages all visible.
            planned = text("SELECT reltuples, relallvisible FROM pg_class WHERE oid = 'projects'::regclass")
            rows, all_visible = db.session.execute(planned).one()
            assert rows == 50 and all_visible > 0

    # A database with projects is refused.
    again = runner.invoke(args=["demo-data", "--scale", SCALE, "--seed", "3"])
    assert again.exit_code != 0
    assert "already has projects" in again.output

    # The same seed makes the same data; another seed does not.
    empty_projects(app)
    runner.invoke(args=["demo-data", "--scale", SCALE, "--seed", "3"])
    assert snapshot(app) == first
    empty_projects(app)
    runner.invoke(args=["demo-data", "--scale", SCALE, "--seed", "4"])
    assert snapshot(app) != first


def test_demo_data_refuses_a_silly_scale(app):
    result = app.test_cli_runner().invoke(args=["demo-data", "--scale", "0", "--seed", "1"])
    assert result.exit_code != 0
    assert "Scale must be more than 0" in result.output
