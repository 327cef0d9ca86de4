"""Pledging to a project, the project's public ledger, acting on a pledge, my pledges, and the needs board."""

from dataclasses import dataclass

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from pipeline.access import public, signed_in
from pipeline.forms import choices
from pipeline.models import PLEDGE_KINDS
from pipeline.models.project import DORMANT_AFTER_DAYS
from pipeline.pledges import bp
from pipeline.pledges.forms import KIND_HINTS, ActionForm, ChangeForm, KindForm, PledgeForm, new_idempotency_key
from pipeline.services import needs, permissions, pledges
from pipeline.services.errors import InvalidInput, NotFound, PermissionDenied


@bp.app_template_global()
def project_pledge_summary(project):
    """The pledge totals the project page's pledges section shows (its people needs are already loaded)."""
    return pledges.project_summary(project)


def _project_or_404(slug: str):
    try:
        return pledges.pledge_page_project(slug)
    except NotFound:
        abort(404)


def _pledge_or_404(pledge_id: int):
    try:
        return pledges.get_pledge(pledge_id)
    except NotFound:
        abort(404)


def _need_choices(form: PledgeForm, summary: pledges.PledgeSummary) -> None:
    options = []
    for tally in summary.needs:
        days = f"{tally.asked} day{'s' if tally.asked != 1 else ''} asked for, {tally.pledged} pledged"
        options.append((tally.need.id, f"{tally.label} ({days})"))
    form.need.choices = choices([*options, ("other", "Another role")]) if options else []


@bp.route("/projects/<slug>/pledge", methods=["GET", "POST"])
@signed_in
def new(slug: str):
    project = _project_or_404(slug)
    kind = request.form.get("kind") if request.method == "POST" else request.args.get("kind")
    if kind not in PLEDGE_KINDS or (project.is_closed and request.method == "GET"):
        if request.method == "POST":
            return redirect(url_for("pledges.new", slug=slug))
        form = KindForm(formdata=request.args if "choose" in request.args else None)
        if "choose" in request.args:
            form.validate()
        return render_template("pledges/choose.html", project=project, form=form, hints=KIND_HINTS)
    summary = pledges.project_summary(project)
    if request.method == "GET":
        form = PledgeForm(data={"kind": kind, "council_id": str(current_user.council_id)})
        form.idempotency_key.data = new_idempotency_key()
        if request.args.get("need", "").isdigit():
            form.need.data = request.args["need"]
    else:
        form = PledgeForm()
    _need_choices(form, summary)
    if form.validate_on_submit():
        try:
            pledge = pledges.offer_pledge(current_user, project.id, form.to_input())
        except InvalidInput as error:
            form.add_service_error(error)
            if not form.idempotency_key.data:
                form.idempotency_key.data = new_idempotency_key()
        else:
            flash(f"You pledged {pledge.description} to {project.title}. The project team will accept or decline it.")
            return redirect(url_for("projects.show", slug=project.slug))
    return render_template("pledges/new.html", project=project, form=form, kind=kind, summary=summary)


@bp.get("/projects/<slug>/pledges")
@public
def ledger(slug: str):
    project = _project_or_404(slug)
    current = pledges.project_pledges(project)
    return render_template(
        "pledges/ledger.html",
        project=project,
        pledges=current,
        events=pledges.ledger(project),
        summary=pledges.project_summary(project),
        actions={pledge.id: pledges.allowed_actions(current_user, pledge, project) for pledge in current},
    )


@bp.get("/my-pledges")
@signed_in
def mine():
    own = pledges.my_pledges(current_user)
    to_decide = pledges.pledges_to_decide(current_user)
    return render_template(
        "pledges/mine.html",
        pledges=own,
        to_decide=to_decide,
        actions={pledge.id: pledges.allowed_actions(current_user, pledge) for pledge in [*own, *to_decide]},
    )


def _back(pledge) -> str:
    """Back to My pledges when the action started there, otherwise to the project's pledges."""
    if request.args.get("from") == "mine":
        return url_for("pledges.mine")
    return url_for("pledges.ledger", slug=pledge.project.slug, _anchor=f"pledge-{pledge.id}")


@dataclass(frozen=True)
class Action:
    to_state: str
    heading: str
    button: str
    reason_label: str | None
    reason_hint: str
    done: str


ACTIONS = {
    "accept": Action("accepted", "Accept this pledge", "Accept pledge", None, "", "You accepted the pledge from {}."),
    "decline": Action(
        "declined",
        "Decline this pledge",
        "Decline pledge",
        "Why are you declining it?",
        "The council that pledged is told, and the reason shows on the project's pledges page.",
        "You declined the pledge from {}.",
    ),
    "deliver": Action(
        "delivered",
        "Mark this pledge delivered",
        "Mark as delivered",
        "Note (optional)",
        "For example, what was delivered and when. It shows on the project's pledges page.",
        "You marked the pledge from {} delivered.",
    ),
    "withdraw": Action(
        "withdrawn",
        "Withdraw your pledge",
        "Withdraw pledge",
        "Why are you withdrawing it?",
        "The project team is told, and the reason shows on the project's pledges page.",
        "You withdrew your pledge.",
    ),
}


def _act(pledge_id: int, name: str):
    pledge = _pledge_or_404(pledge_id)
    action = ACTIONS[name]
    form = ActionForm()
    form.reason.label.text = action.reason_label or ""
    form.reason.description = action.reason_hint
    form.submit.label.text = action.button
    if form.validate_on_submit():
        try:
            pledges.move_pledge(current_user, pledge.id, action.to_state, form.reason.data or "")
        except PermissionDenied as error:
            abort(403, error.message)
        except InvalidInput as error:
            form.add_service_error(error)
        else:
            flash(action.done.format(pledge.council.name))
            return redirect(_back(pledge))
    refused = None
    if request.method == "GET":
        if pledges.MOVED_BY[action.to_state] == "team":
            allowed = permissions.can_decide_pledges(current_user, pledge.project)
        else:
            allowed = permissions.is_pledger(current_user, pledge)
        if not allowed:
            abort(403)
        if name not in pledges.allowed_actions(current_user, pledge):
            refused = pledges.refusal(pledge.state, action.to_state)
    return render_template("pledges/action.html", pledge=pledge, action=action, name=name, form=form, refused=refused)


@bp.route("/pledges/<int:pledge_id>/accept", methods=["GET", "POST"])
@signed_in
def accept(pledge_id: int):
    return _act(pledge_id, "accept")


@bp.route("/pledges/<int:pledge_id>/decline", methods=["GET", "POST"])
@signed_in
def decline(pledge_id: int):
    return _act(pledge_id, "decline")


@bp.route("/pledges/<int:pledge_id>/mark-delivered", methods=["GET", "POST"])
@signed_in
def mark_delivered(pledge_id: int):
    return _act(pledge_id, "deliver")


@bp.route("/pledges/<int:pledge_id>/withdraw", methods=["GET", "POST"])
@signed_in
def withdraw(pledge_id: int):
    return _act(pledge_id, "withdraw")


@bp.route("/pledges/<int:pledge_id>/change", methods=["GET", "POST"])
@signed_in
def change(pledge_id: int):
    pledge = _pledge_or_404(pledge_id)
    if not permissions.is_pledger(current_user, pledge):
        abort(403, "Only the officer who made the pledge can change it.")
    if request.method == "GET":
        values = {
            "amount": str(pledge.amount or ""),
            "days": str(pledge.days or ""),
            "hours": str(pledge.hours or ""),
            "start_date": pledge.start_date,
            "end_date": pledge.end_date,
        }
        form = ChangeForm(data=values, kind=pledge.kind)
    else:
        form = ChangeForm(kind=pledge.kind)
    if form.validate_on_submit():
        try:
            pledges.change_pledge(current_user, pledge.id, form.to_change())
        except PermissionDenied as error:
            abort(403, error.message)
        except InvalidInput as error:
            form.add_service_error(error)
        else:
            flash("Your pledge has been changed. The project team has been told.")
            return redirect(_back(pledge))
    refused = None
    if request.method == "GET" and pledge.state not in pledges.CHANGEABLE_STATES:
        refused = f"This pledge has been {pledge.state}, so it can no longer be changed"
    return render_template("pledges/change.html", pledge=pledge, form=form, refused=refused)


@bp.get("/needs")
@public
def needs_board():
    filters = needs.NeedFilters.from_args(request.args)
    page = needs.needs_board(filters)
    if filters.page > page.pages:
        abort(404)
    return render_template(
        "pledges/needs.html",
        filters=filters,
        page=page,
        choices=needs.needs_filter_choices(),
        dormancy=needs.DORMANCY,
        dormant_after_days=DORMANT_AFTER_DAYS,
    )
