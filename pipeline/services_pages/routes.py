"""A page per LGSL service listing its projects, and the service search behind the service picker."""

from flask import abort, jsonify, render_template, request

from pipeline.access import public
from pipeline.services import project_lists, projects
from pipeline.services_pages import bp


@bp.get("/services/<int:lgsl_id>")
@public
def show(lgsl_id: int):
    service = project_lists.get_service(lgsl_id)
    if service is None:
        abort(404)
    return render_template("services/show.html", service=service, projects=project_lists.service_projects(service))


@bp.get("/services/search")
@public
def search():
    """Services whose label contains the words typed, as JSON for the service picker."""
    query = request.args.get("q", "")[:100]
    found = projects.search_services(query)
    return jsonify(services=[{"id": s.id, "label": s.label} for s in found])
