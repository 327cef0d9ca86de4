"""Making projects for tests through the service layer, as an officer would."""

from pipeline.extensions import db
from pipeline.models import User
from pipeline.services import projects
from pipeline.services.projects import LinkInput, NeedInput, ProjectInput

_counter = iter(range(1, 1_000_000))


def project_input(**changes) -> ProjectInput:
    number = next(_counter)
    values = {
        "title": f"Shared project number {number}",
        "summary": f"A one-line summary of project {number}",
        "problem": f"Residents wait too long for outcome {number}.",
        "description": "",
        "service_ids": [],
        "tags": [],
        "phase": "discovery",
    }
    values.update(changes)
    return ProjectInput(**values)


def make_project(app, officer, **changes):
    """Post a project as `officer` (an Officer from the conftest); returns its slug and id."""
    with app.app_context():
        user = db.session.get(User, officer.id)
        project = projects.create_project(user, project_input(**changes))
        return project.slug, project.id


__all__ = ["LinkInput", "NeedInput", "make_project", "project_input"]
