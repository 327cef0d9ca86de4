"""Duplicate projects: link as related, not duplicates, merge one into another; pledges asked to move."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from pipeline.access import organiser, signed_in
from pipeline.curation import bp
from pipeline.curation.forms import MergeForm, PairForm, ReasonForm
from pipeline.curation.moderation_routes import safe_next
from pipeline.forms import Form
from pipeline.services import duplicates, merges, projects
from pipeline.services.errors import InvalidInput, NotFound, PermissionDenied


@bp.app_template_global()
def project_relations(project):
    """The project page's related projects and the projects merged into it."""
    return duplicates.relations(project)


@bp.app_template_global()
def merged_destination(project):
    """The project a merged project went into."""
    return projects.merged_destination(project)


@bp.app_template_global()
def pledge_moves_waiting():
    """The signed-in officer's pledges waiting for them to say whether they move, for "Your pledges"."""
    return merges.waiting_moves(current_user)


def _project_or_404(slug: str):
    try:
        return projects.find_project(slug)
    except NotFound:
        abort(404)


def _pair_action(slug: str, action, success: str):
    project = _project_or_404(slug)
    form = PairForm()
    back = safe_next(form.next.data, url_for("projects.show", slug=project.slug))
    if form.validate_on_submit():
        try:
            action(current_user, project.id, form.slug(), form.reason.data or "")
        except InvalidInput as error:
            flash(error.message)
        else:
            flash(success)
    else:
        for message in form.error_summary():
            flash(message["text"])
    return redirect(back)


@bp.post("/organise/projects/<slug>/related")
@organiser
def link_related(slug: str):
    return _pair_action(slug, duplicates.link_related, "The projects are linked as related. Each page shows the other.")


@bp.post("/organise/projects/<slug>/not-duplicates")
@organiser
def not_duplicates(slug: str):
    return _pair_action(
        slug, duplicates.dismiss_pair, "Marked as not duplicates. The pair will not be suggested again."
    )


@bp.post("/organise/projects/<slug>/related/<other>/remove")
@organiser
def unlink_related(slug: str, other: str):
    project = _project_or_404(slug)
    form = ReasonForm(prefix="unlink")
    if form.validate_on_submit():
        try:
            duplicates.unlink_related(current_user, project.id, other, form.reason.data or "")
        except InvalidInput as error:
            flash(error.message)
        else:
            flash("The projects are no longer linked as related.")
    return redirect(url_for("projects.show", slug=project.slug, _anchor="related"))


@bp.route("/organise/projects/<slug>/merge", methods=["GET", "POST"])
@organiser
def merge(slug: str):
    project = _project_or_404(slug)
    form = MergeForm()
    if request.method == "GET":
        form.into.data = request.args.get("into", "")[:300]
    plan = problem = None
    if form.submit.data and form.validate_on_submit():
        try:
            done = merges.merge(current_user, project.id, form.into.data, form.reason.data or "")
        except InvalidInput as error:
            form.add_service_error(error)
        else:
            flash(f"{project.title} is merged into {done.target.title}. Its address now leads here.")
            return redirect(url_for("projects.show", slug=done.target.slug, _anchor="timeline"))
    elif (form.check.data and form.validate_on_submit()) or (request.method == "GET" and form.into.data):
        target = merges.find_target(form.into.data)
        try:
            merges.check_merge(project, target)
        except InvalidInput as error:
            form.add_service_error(error)
        else:
            plan = merges.plan(project, target)
    if request.method == "GET" and project.is_merged:
        problem = f"{project.title} has already been merged into {projects.merged_destination(project).title}."
    return render_template("curation/merge.html", project=project, form=form, plan=plan, problem=problem)


@bp.post("/organise/duplicates/scan")
@organiser
def scan_duplicates():
    form = Form()
    if form.validate_on_submit():
        report = duplicates.scan()
        flash(f"Compared {report.checked} project{'s' if report.checked != 1 else ''} that changed since last time.")
    return redirect(url_for("curation.workbench", _anchor="duplicates"))


@bp.post("/my-pledges/moves/<int:move_id>")
@signed_in
def decide_pledge_move(move_id: int):
    accept = request.form.get("decision") == "move"
    if request.form.get("decision") not in ("move", "stay"):
        abort(400)
    try:
        move = merges.decide_move(current_user, move_id, accept)
    except NotFound:
        abort(404)
    except PermissionDenied as error:
        abort(403, error.message)
    except InvalidInput as error:
        flash(error.message)
    else:
        if accept:
            flash(f"Your pledge has moved to {move.to_project.title}.")
        else:
            flash(f"Your pledge stays on {move.from_project.title}.")
    return redirect(url_for("pledges.mine"))
