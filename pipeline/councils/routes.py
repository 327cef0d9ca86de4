"""Public pages about councils."""

from flask import abort, render_template

from pipeline.access import public
from pipeline.councils import bp
from pipeline.services import councils, pledges, project_lists
from pipeline.services.errors import NotFound


@bp.get("/councils")
@public
def index():
    return render_template("councils/index.html", nations=councils.councils_by_nation_and_region())


@bp.get("/councils/<slug>")
@public
def show(slug: str):
    try:
        council = councils.get_council(slug)
    except NotFound:
        abort(404)
    leads, partners = project_lists.council_projects(council)
    return render_template(
        "councils/show.html",
        council=council,
        leads=leads,
        partners=partners,
        council_pledges=pledges.council_pledges(council),
    )
