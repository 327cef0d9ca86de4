"""The organiser workbench and the pages behind it; public theme pages."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from pipeline.access import organiser, public
from pipeline.curation import bp
from pipeline.curation.forms import (
    AddRequestedDomainForm,
    DomainForm,
    OrganisationForm,
    ReasonForm,
    RequiredReasonForm,
    RoleForm,
    ThemeForm,
    ThemeProjectForm,
)
from pipeline.forms import Form, choices
from pipeline.markdown import render_markdown
from pipeline.services import audit, councils, curation, projects
from pipeline.services import workbench as workbench_queues
from pipeline.services.errors import InvalidInput, NotFound, PermissionDenied


def _or_404(function, *args):
    try:
        return function(*args)
    except NotFound:
        abort(404)


def _attempt(form, action, *args, success: str, **kwargs) -> bool:
    """Run a service action for a form; show its message on the form or the 403 page if refused."""
    try:
        action(current_user, *args, **kwargs)
    except InvalidInput as error:
        form.add_service_error(error)
        return False
    except PermissionDenied as error:
        abort(403, error.message)
    flash(success)
    return True


@bp.get("/organise")
@organiser
def workbench():
    queues = workbench_queues.queues()
    council_choices = choices((c.id, c.name) for c in projects.all_councils())
    return render_template(
        "curation/workbench.html",
        queues=queues,
        labels=workbench_queues.QUEUE_LABELS,
        council_choices=council_choices,
        scan_form=Form(),
    )


@bp.post("/organise/domain-requests/<int:request_id>/add")
@organiser
def add_requested_domain(request_id: int):
    form = AddRequestedDomainForm()
    waiting = _or_404(curation.get_domain_request, request_id)
    if form.validate_on_submit() and str(form.council.data).isdigit():
        if _attempt(
            form, curation.add_domain, int(form.council.data), waiting.domain, success=f"Added {waiting.domain}."
        ):
            return redirect(url_for("curation.workbench"))
    for message in form.error_summary():
        flash(f"Could not add {waiting.domain}: {message['text']}")
    return redirect(url_for("curation.workbench"))


@bp.post("/organise/domain-requests/<int:request_id>/dismiss")
@organiser
def dismiss_domain_request(request_id: int):
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            curation.dismiss_domain_request(current_user, request_id, form.reason.data or "")
        except NotFound:
            abort(404)
        except InvalidInput as error:
            flash(error.message)
        else:
            flash("Request dismissed.")
    return redirect(url_for("curation.workbench"))


@bp.get("/organise/audit")
@organiser
def audit_log():
    action = request.args.get("action", "")
    action = action if action in audit.ACTIONS else ""
    actor = request.args.get("person", "")
    actor_id = int(actor) if actor.isdigit() and len(actor) < 10 else None
    page_arg = request.args.get("page", "1")
    page_number = int(page_arg) if page_arg.isdigit() and len(page_arg) < 6 else 1
    page = audit.entries(action, actor_id, max(page_number, 1))
    return render_template(
        "curation/audit.html",
        page=page,
        actions=audit.ACTIONS,
        actors=audit.actors(),
        action=action,
        actor_id=actor_id,
    )


@bp.get("/organise/councils")
@organiser
def councils_index():
    return render_template("curation/councils.html", councils=projects.all_councils())


@bp.route("/organise/councils/<slug>", methods=["GET", "POST"])
@organiser
def council_domains(slug: str):
    council = _or_404(councils.get_council, slug)
    form = DomainForm()
    if form.validate_on_submit():
        added = _attempt(
            form,
            curation.add_domain,
            council.id,
            form.domain.data,
            shared=form.shared.data,
            reason=form.reason.data or "",
            success=f"Added {form.domain.data.strip().lower()} to {council.name}.",
        )
        if added:
            return redirect(url_for("curation.council_domains", slug=slug))
    return render_template("curation/council.html", council=council, form=form, remove=ReasonForm(prefix="remove"))


@bp.post("/organise/councils/<slug>/domains/<domain>/remove")
@organiser
def remove_domain(slug: str, domain: str):
    council = _or_404(councils.get_council, slug)
    form = ReasonForm(prefix="remove")
    if form.validate_on_submit():
        try:
            curation.remove_domain(current_user, council.id, domain, form.reason.data or "")
        except InvalidInput as error:
            flash(error.message)
        else:
            flash(f"Removed {domain} from {council.name}.")
    return redirect(url_for("curation.council_domains", slug=slug))


@bp.route("/organise/organisations/new", methods=["GET", "POST"])
@organiser
def new_organisation():
    form = OrganisationForm()
    if form.validate_on_submit():
        try:
            organisation = curation.add_organisation(
                current_user,
                form.name.data,
                form.nation.data,
                form.region.data or "",
                form.domain.data or "",
                form.reason.data or "",
            )
        except InvalidInput as error:
            form.add_service_error(error)
        else:
            flash(f"Added {organisation.name}.")
            return redirect(url_for("curation.council_domains", slug=organisation.slug))
    return render_template("curation/new_organisation.html", form=form)


@bp.get("/organise/people")
@organiser
def people():
    query = request.args.get("q", "")[:200]
    return render_template("curation/people.html", query=query, people=curation.find_people(query))


@bp.route("/organise/people/<int:user_id>", methods=["GET", "POST"])
@organiser
def person(user_id: int):
    person = _or_404(curation.get_person, user_id)
    role_form = RoleForm(prefix="role")
    suspend_form = RequiredReasonForm(prefix="suspend")
    restore_form = ReasonForm(prefix="restore")
    if role_form.submit.data and role_form.validate_on_submit():
        changed = _attempt(
            role_form,
            curation.set_role,
            person.id,
            role_form.role.data,
            reason=role_form.reason.data or "",
            success=f"{person.name} is now {role_form.role.data}.",
        )
        if changed:
            return redirect(url_for("curation.person", user_id=person.id))
    elif suspend_form.submit.data and suspend_form.validate_on_submit():
        if _attempt(suspend_form, curation.suspend, person.id, suspend_form.reason.data, success="Account suspended."):
            return redirect(url_for("curation.person", user_id=person.id))
    elif restore_form.submit.data and restore_form.validate_on_submit():
        if _attempt(
            restore_form, curation.restore, person.id, restore_form.reason.data or "", success="Account restored."
        ):
            return redirect(url_for("curation.person", user_id=person.id))
    if request.method == "GET":
        role_form.role.data = person.role
    form = next((f for f in (role_form, suspend_form, restore_form) if f.has_errors), role_form)
    return render_template(
        "curation/person.html",
        person=person,
        form=form,
        role_form=role_form,
        suspend_form=suspend_form,
        restore_form=restore_form,
    )


@bp.post("/organise/projects/<slug>/feature")
@organiser
def feature(slug: str):
    return _feature(slug, True)


@bp.post("/organise/projects/<slug>/unfeature")
@organiser
def unfeature(slug: str):
    return _feature(slug, False)


def _feature(slug: str, featured: bool):
    project = _or_404(projects.find_project, slug)
    form = ReasonForm(prefix="feature")
    if form.validate_on_submit():
        try:
            curation.set_featured(current_user, project.id, featured, form.reason.data or "")
        except InvalidInput as error:
            flash(error.message)
        else:
            flash("The project is featured on the home page." if featured else "The project is no longer featured.")
    return redirect(url_for("projects.show", slug=slug))


@bp.route("/organise/themes", methods=["GET", "POST"])
@organiser
def manage_themes():
    form = ThemeForm()
    if form.validate_on_submit():
        try:
            theme = curation.create_theme(current_user, form.title.data, form.description.data or "")
        except InvalidInput as error:
            form.add_service_error(error)
        else:
            flash(f"Created the theme {theme.title}.")
            return redirect(url_for("curation.edit_theme", slug=theme.slug))
    return render_template("curation/themes.html", form=form, themes=curation.themes())


@bp.route("/organise/themes/<slug>", methods=["GET", "POST"])
@organiser
def edit_theme(slug: str):
    theme = _or_404(curation.get_theme, slug)
    form = ThemeForm(prefix="theme", obj=theme if request.method == "GET" else None)
    add = ThemeProjectForm(prefix="add")
    if form.submit.data and form.validate_on_submit():
        if _attempt(
            form, curation.edit_theme, theme.id, form.title.data, form.description.data or "", success="Saved."
        ):
            return redirect(url_for("curation.edit_theme", slug=slug))
    elif add.submit.data and add.validate_on_submit():
        if _attempt(add, curation.set_theme_project, theme.id, add.slug(), True, success="Project added."):
            return redirect(url_for("curation.edit_theme", slug=slug))
    main_form = add if add.has_errors else form
    return render_template(
        "curation/theme_edit.html",
        theme=theme,
        form=main_form,
        theme_form=form,
        add=add,
        remove=ReasonForm(prefix="rm"),
    )


@bp.post("/organise/themes/<slug>/projects/<project_slug>/remove")
@organiser
def remove_theme_project(slug: str, project_slug: str):
    theme = _or_404(curation.get_theme, slug)
    form = ReasonForm(prefix="rm")
    if form.validate_on_submit():
        try:
            curation.set_theme_project(current_user, theme.id, project_slug, False)
        except InvalidInput as error:
            flash(error.message)
        else:
            flash("Project removed from the theme.")
    return redirect(url_for("curation.edit_theme", slug=slug))


@bp.get("/themes")
@public
def themes():
    return render_template("curation/public_themes.html", themes=curation.themes())


@bp.get("/themes/<slug>")
@public
def theme(slug: str):
    theme = _or_404(curation.get_theme, slug)
    return render_template("curation/theme.html", theme=theme, description=render_markdown(theme.description))
