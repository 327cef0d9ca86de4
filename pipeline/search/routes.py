"""Saved searches, and the Atom feed of any search of the projects list."""

from urllib.parse import urlencode

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from pipeline.access import public, signed_in
from pipeline.search import bp
from pipeline.search.forms import DeleteSavedSearchForm, SaveSearchForm
from pipeline.services import feeds, project_lists, saved_searches, search
from pipeline.services.errors import InvalidInput, NotFound
from pipeline.timeutil import utcnow


@bp.get("/saved-searches")
@signed_in
def saved():
    return render_template("search/saved.html", searches=saved_searches.saved_searches(current_user))


@bp.post("/saved-searches")
@signed_in
def save():
    """Save the search and filters given in the query string."""
    filters = project_lists.ProjectFilters.from_args(request.args)
    form = SaveSearchForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        _, created = saved_searches.save_search(current_user, filters)
    except InvalidInput as error:
        flash(error.message)
        return redirect(url_for("projects.index", **filters.to_args()))
    if created:
        flash("Your search has been saved. We will tell you about new projects that match it.")
    else:
        flash("You had already saved this search.")
    return redirect(url_for("search.saved"))


@bp.post("/saved-searches/<token>/delete")
@signed_in
def delete(token: str):
    form = DeleteSavedSearchForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        saved_searches.delete_saved_search(current_user, token)
    except NotFound:
        abort(404)
    flash("The saved search has been deleted.")
    return redirect(url_for("search.saved"))


@bp.get("/projects/feed.atom")
@public
def feed():
    """The newest projects matching a search and filters (the projects list's arguments), as Atom 1.0."""
    filters = project_lists.ProjectFilters.from_args(request.args)
    args = filters.to_args(page=1)
    projects = project_lists.newest(filters)
    description = project_lists.describe(filters, project_lists.filter_choices())
    body = render_template(
        "search/feed.xml",
        title=search.xml_text(f"Pipeline projects: {description}"),
        projects=projects,
        text=search.xml_text,
        self_url=url_for("search.feed", _external=True, **args),
        feed_id=feeds.tag_uri("search:" + urlencode(args, doseq=True)),
        entry_id=lambda project: feeds.tag_uri(f"project:{project.id}"),
        html_url=url_for("projects.index", _external=True, **args),
        updated=max((p.updated_at for p in projects), default=utcnow()),
    )
    return Response(body, mimetype="application/atom+xml")
