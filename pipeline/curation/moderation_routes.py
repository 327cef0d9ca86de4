"""Organisers hide and restore comments and updates, and dismiss reports about them."""

from urllib.parse import urlsplit

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from pipeline.access import organiser
from pipeline.curation import bp
from pipeline.curation.forms import DismissReportsForm, HideForm, RestoreForm
from pipeline.services import moderation
from pipeline.services.errors import InvalidInput, NotFound


def safe_next(target: str | None, fallback: str) -> str:
    """Only go back to a page on this site."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return fallback


def item_url(kind: str, item, project) -> str:
    """Where the public sees a comment or an update."""
    if kind == "comment":
        return url_for("conversation.thread", slug=project.slug, comment_id=item.id, _anchor=f"comment-{item.id}")
    return url_for("conversation.update", slug=project.slug, update_id=item.id)


def _item_or_404(kind: str, item_id: int):
    try:
        return moderation.get_item(kind, item_id)
    except NotFound:
        abort(404)


def _moderate(kind: str, item_id: int, hiding: bool):
    item, project = _item_or_404(kind, item_id)
    form = HideForm() if hiding else RestoreForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next"), "")
    if form.validate_on_submit():
        action = moderation.hide if hiding else moderation.restore
        try:
            action(current_user, kind, item.id, form.reason.data or "")
        except InvalidInput as error:
            form.add_service_error(error)
        else:
            flash(f"The {kind} is hidden. Its author has been told why." if hiding else f"The {kind} is restored.")
            return redirect(safe_next(form.next.data, item_url(kind, item, project)))
    return render_template(
        "curation/moderate.html",
        form=form,
        kind=kind,
        item=item,
        project=project,
        hiding=hiding,
        back=safe_next(form.next.data, item_url(kind, item, project)),
    )


@bp.route("/organise/comments/<int:item_id>/hide", methods=["GET", "POST"])
@organiser
def hide_comment(item_id: int):
    return _moderate("comment", item_id, hiding=True)


@bp.route("/organise/comments/<int:item_id>/restore", methods=["GET", "POST"])
@organiser
def restore_comment(item_id: int):
    return _moderate("comment", item_id, hiding=False)


@bp.post("/organise/comments/<int:item_id>/dismiss-reports")
@organiser
def dismiss_comment_reports(item_id: int):
    return _dismiss("comment", item_id)


@bp.route("/organise/updates/<int:item_id>/hide", methods=["GET", "POST"])
@organiser
def hide_update(item_id: int):
    return _moderate("update", item_id, hiding=True)


@bp.route("/organise/updates/<int:item_id>/restore", methods=["GET", "POST"])
@organiser
def restore_update(item_id: int):
    return _moderate("update", item_id, hiding=False)


@bp.post("/organise/updates/<int:item_id>/dismiss-reports")
@organiser
def dismiss_update_reports(item_id: int):
    return _dismiss("update", item_id)


def _dismiss(kind: str, item_id: int):
    form = DismissReportsForm()
    back = safe_next(form.next.data, url_for("curation.workbench", _anchor="reported"))
    if not form.validate_on_submit():
        for message in form.error_summary():
            flash(message["text"])
        return redirect(back)
    try:
        closed = moderation.dismiss_reports(current_user, kind, item_id, form.seen_up_to(), form.reason.data or "")
    except NotFound:
        abort(404)
    except InvalidInput as error:
        flash(error.message)
    else:
        flash(f"Dismissed {closed} report{'s' if closed != 1 else ''} about the {kind}. It stays as it is.")
    return redirect(back)
