"""A project's team: asking to join, deciding requests, owners and members, partner councils, and check-ins."""

from collections.abc import Callable

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from pipeline.access import public, signed_in
from pipeline.forms import Form, choices
from pipeline.projects import bp
from pipeline.projects.team_forms import AddCouncilForm, AskCouncilForm, JoinForm
from pipeline.services import projects, teams
from pipeline.services.errors import InvalidInput, NotFound, PermissionDenied


def project_page_context(project) -> dict:
    """What the project page needs to show its team panel and the "Ask to join" section."""
    return {"viewer": teams.viewer(current_user, project), "join_form": JoinForm(formdata=None)}


def _project(slug: str):
    try:
        return projects.find_project(slug)
    except NotFound:
        abort(404)


def _team_page(slug: str, form: Form | None = None, add_form=None, ask_form=None):
    try:
        page = teams.team_page(current_user, slug)
    except NotFound:
        abort(404)
    if add_form is None:
        add_form = AddCouncilForm(formdata=None)
    add_form.council_id.choices = choices([("", "Select a council"), *((c.id, c.name) for c in page.councils)])
    return render_template(
        "projects/team.html",
        page=page,
        project=page.project,
        form=form,
        add_form=add_form,
        ask_form=ask_form or AskCouncilForm(formdata=None),
        is_waiting_long=teams.is_waiting_long,
    )


def _act(slug: str, action: Callable[[int], str], anchor: str):
    """Run a team action from a button: back to the team page with what happened, or with why it could not."""
    project = _project(slug)
    try:
        done = action(project.id)
    except PermissionDenied as error:
        abort(403, error.message)
    except NotFound:
        abort(404)
    except InvalidInput as error:
        form = Form(formdata=None)
        form.add_service_error(error)
        return _team_page(slug, form=form)
    flash(done)
    return redirect(url_for("projects.team", slug=project.slug, _anchor=anchor))


@bp.get("/projects/<slug>/team")
@public
def team(slug: str):
    return _team_page(slug)


# ---- joining the team -----------------------------------------------------------------------


@bp.route("/projects/<slug>/join", methods=["GET", "POST"])
@signed_in
def join(slug: str):
    project = _project(slug)
    form = JoinForm()
    if form.validate_on_submit():
        try:
            teams.request_to_join(current_user, project.id, form.message.data)
        except InvalidInput as error:
            form.add_service_error(error)
        else:
            flash("Your request to join has been sent to the project's owners. We will email you when they decide.")
            return redirect(url_for("projects.show", slug=project.slug, _anchor="join"))
    project = projects.get_project(slug)
    return render_template("projects/join.html", project=project, form=form, **project_page_context(project))


@bp.post("/projects/<slug>/join/withdraw")
@signed_in
def withdraw_join_request(slug: str):
    project = _project(slug)
    try:
        teams.withdraw_join_request(current_user, project.id)
    except InvalidInput as error:
        form = JoinForm(formdata=None)
        form.add_service_error(error)
        project = projects.get_project(slug)
        return render_template("projects/join.html", project=project, form=form, **project_page_context(project))
    flash("You have withdrawn your request to join.")
    return redirect(url_for("projects.show", slug=project.slug, _anchor="join"))


@bp.post("/projects/<slug>/join-requests/<int:request_id>/accept")
@signed_in
def accept_join_request(slug: str, request_id: int):
    def accept(project_id: int) -> str:
        join_request = teams.decide_join_request(current_user, project_id, request_id, accept=True)
        return f"{join_request.user.name} is now on the team. We have emailed them to say so."

    return _act(slug, accept, "members")


@bp.post("/projects/<slug>/join-requests/<int:request_id>/decline")
@signed_in
def decline_join_request(slug: str, request_id: int):
    def decline(project_id: int) -> str:
        join_request = teams.decide_join_request(current_user, project_id, request_id, accept=False)
        return f"You declined {join_request.user.name}'s request to join. We have emailed them to say so."

    return _act(slug, decline, "requests")


@bp.post("/projects/<slug>/members/<int:member_id>/make-owner")
@signed_in
def make_owner(slug: str, member_id: int):
    def promote(project_id: int) -> str:
        member = teams.make_owner(current_user, project_id, member_id)
        return f"{member.user.name} is now an owner of the project."

    return _act(slug, promote, "members")


@bp.post("/projects/<slug>/members/<int:member_id>/remove")
@signed_in
def remove_member(slug: str, member_id: int):
    def remove(project_id: int) -> str:
        member = teams.remove_member(current_user, project_id, member_id)
        if member.user_id == current_user.id:
            return "You have left the team."
        return f"{member.user.name} is no longer on the team."

    return _act(slug, remove, "members")


# ---- partner councils -----------------------------------------------------------------------


@bp.post("/projects/<slug>/councils/add")
@signed_in
def add_council(slug: str):
    project = _project(slug)
    form = AddCouncilForm()
    if form.validate_on_submit():
        try:
            partner = teams.add_council(current_user, project.id, form.council(), form.role.data)
        except PermissionDenied as error:
            abort(403, error.message)
        except InvalidInput as error:
            form.add_service_error(error)
        else:
            flash(f"{partner.council.name} is now taking part as {partner.role}. Its officers can mark it committed.")
            return redirect(url_for("projects.team", slug=project.slug, _anchor="councils"))
    return _team_page(slug, form=form, add_form=form)


@bp.post("/projects/<slug>/councils/ask")
@signed_in
def ask_for_council(slug: str):
    project = _project(slug)
    form = AskCouncilForm()
    if form.validate_on_submit():
        try:
            partner = teams.ask_for_council(current_user, project.id, form.role.data)
        except InvalidInput as error:
            form.add_service_error(error)
        else:
            flash(f"You have asked for {partner.council.name} to take part. We will email you when the team decides.")
            return redirect(url_for("projects.team", slug=project.slug, _anchor="councils"))
    return _team_page(slug, form=form, ask_form=form)


@bp.post("/projects/<slug>/councils/<int:partner_id>/accept")
@signed_in
def accept_council(slug: str, partner_id: int):
    def accept(project_id: int) -> str:
        partner = teams.decide_council_request(current_user, project_id, partner_id, accept=True)
        return f"{partner.council.name} is now taking part as {partner.role}."

    return _act(slug, accept, "councils")


@bp.post("/projects/<slug>/councils/<int:partner_id>/decline")
@signed_in
def decline_council(slug: str, partner_id: int):
    def decline(project_id: int) -> str:
        partner = teams.decide_council_request(current_user, project_id, partner_id, accept=False)
        return f"You declined {partner.council.name}'s request to take part."

    return _act(slug, decline, "councils")


@bp.post("/projects/<slug>/councils/<int:partner_id>/commit")
@signed_in
def commit_council(slug: str, partner_id: int):
    def commit(project_id: int) -> str:
        partner = teams.commit_council(current_user, project_id, partner_id)
        return f"{partner.council.name} is now committed to the project."

    return _act(slug, commit, "councils")


@bp.post("/projects/<slug>/councils/<int:partner_id>/withdraw")
@signed_in
def withdraw_council(slug: str, partner_id: int):
    def withdraw(project_id: int) -> str:
        partner = teams.withdraw_council(current_user, project_id, partner_id)
        return f"{partner.council.name} is no longer taking part in the project."

    return _act(slug, withdraw, "councils")


# ---- checking in ----------------------------------------------------------------------------


@bp.post("/projects/<slug>/check-in")
@signed_in
def check_in(slug: str):
    project = _project(slug)
    try:
        teams.check_in(current_user, project.id)
    except PermissionDenied as error:
        abort(403, error.message)
    except InvalidInput as error:
        return _check_in_problem("You cannot check this project in", error.message)
    flash("Thank you. The project is marked as still active.")
    return redirect(url_for("projects.show", slug=project.slug))


# A GET only shows the button: mail scanners and link previews open links, and must not check a project in.
@bp.route("/check-in/<token>", methods=["GET", "POST"])
@public
def check_in_link(token: str):
    posted = request.method == "POST"
    try:
        link = teams.check_in_with_token(token) if posted else teams.read_check_in_token(token)
    except PermissionDenied as error:
        abort(403, error.message)
    except InvalidInput as error:
        return _check_in_problem("There is a problem with this link", error.message)
    if posted:
        flash(f"Thank you. {link.project.title} is marked as still active.")
        return redirect(url_for("projects.show", slug=link.project.slug))
    response = make_response(render_template("projects/check_in.html", link=link, token=token))
    # The token in this page's address is a key: keep it out of Referer headers and caches.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def _check_in_problem(heading: str, message: str):
    return render_template("projects/check_in_problem.html", heading=heading, message=message), 400
