"""Posting a project, its page, editing it, moving its phase, and its edit history."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from pipeline.access import public, signed_in
from pipeline.forms import choices
from pipeline.markdown import render_markdown
from pipeline.models.project import PHASE_LABELS
from pipeline.projects import bp
from pipeline.projects.forms import PhaseForm, ProjectForm
from pipeline.projects.team_routes import project_page_context
from pipeline.services import permissions, project_lists, projects, similar
from pipeline.services.errors import InvalidInput, NotFound, PermissionDenied


def _project_or_404(slug: str):
    try:
        return projects.get_project(slug)
    except NotFound:
        abort(404)


def _prepare(form: ProjectForm, *, editing: bool) -> None:
    """Fill the form's choices: councils, and the services ticked or found by the service search."""
    form.lead_council_id.choices = choices((c.id, c.name) for c in projects.all_councils())
    selected = projects.services_by_ids(form.service_ids())
    found = []
    if form.find_services.data and (form.service_query.data or "").strip():
        found = [s for s in projects.search_services(form.service_query.data) if s not in selected]
    form.found_services = found
    form.searched = bool(form.find_services.data)
    form.services.choices = choices((s.id, s.label) for s in [*selected, *found])
    if editing:
        del form.phase


def _extra_rows_requested(form: ProjectForm) -> bool:
    """Handle the no-JavaScript buttons that change the form rather than send it."""
    if form.add_link.data:
        form.links.append_entry()
        return True
    if form.add_need.data:
        form.people_needs.append_entry()
        return True
    return bool(form.find_services.data)


def _form_page(template: str, form: ProjectForm, **context):
    return render_template(
        template, form=form, popular_tags=projects.popular_tags(), phase_labels=PHASE_LABELS, **context
    )


@bp.get("/projects")
@public
def index():
    filters = project_lists.ProjectFilters.from_args(request.args)
    facets = project_lists.facet_counts(filters)
    page = project_lists.list_projects(filters, counted=facets)
    if filters.page > page.pages:
        abort(404)
    choices = project_lists.filter_choices()
    return render_template(
        "projects/index.html",
        filters=filters,
        page=page,
        choices=choices,
        facets=facets,
        applied=project_lists.applied_filters(filters, choices) if not page.total else [],
        feed_url=url_for("search.feed", **filters.to_args(page=1)),
        phase_labels=PHASE_LABELS,
        sorts=project_lists.SORTS,
        dormancy=project_lists.DORMANCY,
        seeking=project_lists.SEEKING,
    )


@bp.route("/projects/new", methods=["GET", "POST"])
@signed_in
def new():
    form = ProjectForm()
    if request.method == "GET":
        form.lead_council_id.data = str(current_user.council_id)
    _prepare(form, editing=False)
    duplicates = []
    if request.method == "POST" and not _extra_rows_requested(form) and form.validate():
        data = form.to_input()
        if not form.post_anyway.data:
            duplicates = projects.possible_duplicates(data.title, data.problem, data.service_ids)
        if not duplicates:
            try:
                project = projects.create_project(current_user, data)
            except InvalidInput as error:
                form.add_service_error(error)
            else:
                flash("Your project has been posted.")
                return redirect(url_for("projects.show", slug=project.slug))
    return _form_page("projects/new.html", form, duplicates=duplicates)


@bp.get("/projects/<slug>")
@public
def show(slug: str):
    project = _project_or_404(slug)
    if project.is_merged:
        return redirect(url_for("projects.show", slug=projects.merged_destination(project).slug))
    return render_template(
        "projects/show.html",
        project=project,
        description=render_markdown(project.description),
        can_edit=permissions.can_edit_project(current_user, project),
        is_member=permissions.is_team_member(current_user, project),
        dormant=projects.is_dormant(project),
        **project_page_context(project),
        similar=similar.similar_to(project),
    )


def _edit_data(project) -> dict:
    return {
        "title": project.title,
        "summary": project.summary,
        "problem": project.problem,
        "description": project.description,
        "lead_council_id": str(project.lead_council_id),
        "services": [str(s.id) for s in project.services],
        "tags": ", ".join(t.name for t in project.tags),
        "links": [{"kind": link.kind, "title": link.title, "url": link.url} for link in project.links] or [{}],
        "money_target": "" if project.money_target is None else str(project.money_target),
        "people_needs": [
            {"role": n.role, "days": str(n.days), "start_date": n.start_date, "end_date": n.end_date}
            for n in project.people_needs
        ]
        or [{}],
    }


@bp.route("/projects/<slug>/edit", methods=["GET", "POST"])
@signed_in
def edit(slug: str):
    project = _project_or_404(slug)
    if not permissions.can_edit_project(current_user, project):
        abort(403, "Only the project team can edit this project.")
    form = ProjectForm(data=_edit_data(project)) if request.method == "GET" else ProjectForm()
    _prepare(form, editing=True)
    if request.method == "POST" and not _extra_rows_requested(form) and form.validate():
        try:
            projects.update_project(current_user, project.id, form.to_input())
        except InvalidInput as error:
            form.add_service_error(error)
        except PermissionDenied as error:
            abort(403, error.message)
        else:
            flash("Your changes have been saved.")
            return redirect(url_for("projects.show", slug=project.slug))
    return _form_page("projects/edit.html", form, project=project)


@bp.route("/projects/<slug>/phase", methods=["GET", "POST"])
@signed_in
def change_phase(slug: str):
    project = _project_or_404(slug)
    if not permissions.can_edit_project(current_user, project):
        abort(403, "Only the project team can change the project's phase.")
    form = PhaseForm()
    form.to_phase.choices = choices((p, PHASE_LABELS[p]) for p in projects.allowed_next_phases(project))
    if form.validate_on_submit():
        try:
            change = projects.change_phase(
                current_user,
                project.id,
                form.to_phase.data,
                form.note.data,
                form.evidence_url.data or "",
                form.outcome.data or "",
                form.lessons.data or "",
            )
        except InvalidInput as error:
            form.add_service_error(error)
        except PermissionDenied as error:
            abort(403, error.message)
        else:
            flash(f"The project is now in {PHASE_LABELS[change.to_phase].lower()}.")
            return redirect(url_for("projects.show", slug=project.slug, _anchor="timeline"))
    return render_template("projects/phase.html", project=project, form=form)


@bp.get("/projects/<slug>/history")
@public
def history(slug: str):
    try:
        project = projects.find_project(slug)
    except NotFound:
        abort(404)
    return render_template("projects/history.html", project=project, edits=projects.edit_history(project))
