"""Comments, updates, following, notifications, email settings and one-click unsubscribe."""

from urllib.parse import urlsplit

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from pipeline.access import public, signed_in
from pipeline.conversation import bp
from pipeline.conversation.forms import (
    CommentForm,
    DeleteCommentForm,
    EditCommentForm,
    ReplyForm,
    ReportForm,
    ReportUpdateForm,
    SettingsForm,
    UpdateForm,
)
from pipeline.extensions import csrf
from pipeline.forms import Form, choices
from pipeline.markdown import plain_text, render_markdown
from pipeline.models import FREQUENCIES
from pipeline.services import comments, follows, notifications, permissions, projects, updates
from pipeline.services.errors import InvalidInput, NotFound, PermissionDenied


@bp.app_context_processor
def conversation_helpers():
    """What shared templates call: the project page's conversation, follow buttons, the unread count."""
    return {
        "project_conversation": lambda project: comments.conversation(project, current_user),
        "follow_state": lambda target_type, key: follows.following(current_user, target_type, key),
        "unread_notification_count": _unread_label,
        "email_frequencies": FREQUENCIES,
    }


def _unread_label() -> str:
    """The navigation's count of unseen notifications: "" for none, at most "99+"; counted once a request."""
    if "unread_notifications" not in g:
        g.unread_notifications = notifications.unread_count(current_user)
    count = g.unread_notifications
    return "" if not count else str(count) if count <= notifications.UNREAD_CAP else f"{notifications.UNREAD_CAP}+"


@bp.app_template_filter("markdown")
def markdown_filter(text: str | None):
    return render_markdown(text)


@bp.app_template_filter("excerpt")
def excerpt_filter(text: str | None, limit: int = 300) -> str:
    return plain_text(text, limit)


def _project_or_404(slug: str):
    try:
        project = projects.find_project(slug)
    except NotFound:
        abort(404)
    if project.is_merged and request.method == "GET":
        # Its comments and updates moved with the merge: the same page on the project it went into.
        destination = projects.merged_destination(project)
        values = {**request.args.to_dict(), **request.view_args, "slug": destination.slug}
        abort(redirect(url_for(request.endpoint, **values)))
    return project


def _comment_or_404(project, comment_id: int):
    try:
        return comments.get_comment(project, comment_id)
    except NotFound:
        abort(404)


def _page_number() -> int:
    value = request.args.get("page", "1")
    return max(1, min(int(value), 100_000)) if value.isdigit() and len(value) < 7 else 1


def _safe_next(target: str | None, fallback: str) -> str:
    """Only follow a `next` that stays on this site."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return fallback


def _comment_url(project, comment) -> str:
    """A comment's permalink: a reply's sends you on to the page of its thread that shows it."""
    return url_for("conversation.thread", slug=project.slug, comment_id=comment.id, _anchor=f"comment-{comment.id}")


# ---- comments -------------------------------------------------------------------------------


@bp.get("/projects/<slug>/comments")
@public
def comment_list(slug: str):
    project = _project_or_404(slug)
    page = comments.thread_page(project, _page_number())
    if page.page > page.pages:
        abort(404)
    return render_template(
        "conversation/comments.html",
        project=project,
        threads=page,
        can_mark_official=permissions.can_edit_project(current_user, project),
    )


@bp.route("/projects/<slug>/comments/new", methods=["GET", "POST"])
@signed_in
def new_comment(slug: str):
    project = _project_or_404(slug)
    form = CommentForm()
    if form.validate_on_submit():
        try:
            comment = comments.post_comment(current_user, project.id, form.body.data)
        except InvalidInput as error:
            form.add_service_error(error)
        else:
            flash("Your comment has been posted.")
            return redirect(_comment_url(project, comment))
    return render_template("conversation/new_comment.html", project=project, form=form)


@bp.get("/projects/<slug>/comments/<int:comment_id>")
@public
def thread(slug: str, comment_id: int):
    project = _project_or_404(slug)
    comment = _comment_or_404(project, comment_id)
    if comment.parent_id is not None:
        top = _comment_or_404(project, comment.parent_id)
        page = comments.reply_page(top, comment.id)
        return redirect(
            url_for(
                "conversation.thread",
                slug=slug,
                comment_id=top.id,
                page=page if page > 1 else None,
                _anchor=f"comment-{comment.id}",
            )
        )
    replies = comments.thread(project, comment, _page_number())
    if replies.page > replies.pages:
        abort(404)
    return render_template(
        "conversation/thread.html",
        project=project,
        replies=replies,
        reply_form=ReplyForm() if current_user.is_authenticated else None,
        can_mark_official=permissions.can_edit_project(current_user, project),
    )


@bp.route("/projects/<slug>/comments/<int:comment_id>/reply", methods=["GET", "POST"])
@signed_in
def reply(slug: str, comment_id: int):
    project = _project_or_404(slug)
    comment = _comment_or_404(project, comment_id)
    form = ReplyForm()
    if form.validate_on_submit():
        try:
            posted = comments.post_comment(current_user, project.id, form.body.data, parent_id=comment.id)
        except InvalidInput as error:
            form.add_service_error(error)
        else:
            flash("Your reply has been posted.")
            return redirect(_comment_url(project, posted))
    return render_template("conversation/reply.html", project=project, comment=comment, form=form)


@bp.route("/projects/<slug>/comments/<int:comment_id>/edit", methods=["GET", "POST"])
@signed_in
def edit_comment(slug: str, comment_id: int):
    project = _project_or_404(slug)
    comment = _comment_or_404(project, comment_id)
    if comment.author_id != current_user.id:
        abort(403, "Only the person who wrote a comment can edit it.")
    if comment.is_deleted:
        abort(404)
    form = EditCommentForm(data={"body": comment.body}) if request.method == "GET" else EditCommentForm()
    if form.validate_on_submit():
        try:
            comments.edit_comment(current_user, comment.id, form.body.data)
        except InvalidInput as error:
            form.add_service_error(error)
        else:
            flash("Your comment has been changed.")
            return redirect(_comment_url(project, comment))
    return render_template("conversation/edit_comment.html", project=project, comment=comment, form=form)


@bp.get("/projects/<slug>/comments/<int:comment_id>/history")
@public
def comment_history(slug: str, comment_id: int):
    project = _project_or_404(slug)
    comment = _comment_or_404(project, comment_id)
    return render_template(
        "conversation/history.html", project=project, comment=comment, versions=comments.versions(comment)
    )


@bp.route("/projects/<slug>/comments/<int:comment_id>/delete", methods=["GET", "POST"])
@signed_in
def delete_comment(slug: str, comment_id: int):
    project = _project_or_404(slug)
    comment = _comment_or_404(project, comment_id)
    if comment.author_id != current_user.id:
        abort(403, "Only the person who wrote a comment can delete it.")
    if comment.is_deleted:
        return redirect(_comment_url(project, comment))
    form = DeleteCommentForm()
    if form.validate_on_submit():
        comments.delete_comment(current_user, comment.id)
        flash("Your comment has been deleted.")
        return redirect(_comment_url(project, comment))
    return render_template("conversation/delete_comment.html", project=project, comment=comment, form=form)


@bp.post("/projects/<slug>/comments/<int:comment_id>/official")
@signed_in
def official(slug: str, comment_id: int):
    project = _project_or_404(slug)
    comment = _comment_or_404(project, comment_id)
    marking = request.form.get("official") != "no"
    try:
        comments.set_official(current_user, comment.id, marking)
    except PermissionDenied as error:
        abort(403, error.message)
    except InvalidInput as error:
        abort(400, error.message)
    flash("The reply is marked as the official response." if marking else "The reply is no longer marked as official.")
    return redirect(_comment_url(project, comment))


@bp.route("/projects/<slug>/comments/<int:comment_id>/report", methods=["GET", "POST"])
@signed_in
def report_comment(slug: str, comment_id: int):
    project = _project_or_404(slug)
    comment = _comment_or_404(project, comment_id)
    form = ReportForm()
    if form.validate_on_submit():
        try:
            report = comments.report_comment(current_user, comment.id, form.reason.data)
        except InvalidInput as error:
            form.add_service_error(error)
        else:
            if report is None:
                flash("You have already reported this comment. An organiser will look at it.")
            else:
                flash("Thank you for reporting the comment. An organiser will look at it.")
            return redirect(_comment_url(project, comment))
    return render_template("conversation/report.html", project=project, comment=comment, form=form)


# ---- updates --------------------------------------------------------------------------------


@bp.get("/projects/<slug>/updates")
@public
def update_list(slug: str):
    project = _project_or_404(slug)
    page = updates.list_updates(project, _page_number())
    if page.page > page.pages:
        abort(404)
    return render_template(
        "conversation/updates.html",
        project=project,
        page=page,
        can_post_update=permissions.is_team_member(current_user, project),
    )


@bp.route("/projects/<slug>/updates/new", methods=["GET", "POST"])
@signed_in
def new_update(slug: str):
    project = _project_or_404(slug)
    if not permissions.is_team_member(current_user, project):
        abort(403, "Only the project team can post updates.")
    form = UpdateForm()
    if form.validate_on_submit():
        try:
            posted = updates.post_update(current_user, project.id, form.kind.data, form.title.data, form.body.data)
        except InvalidInput as error:
            form.add_service_error(error)
        except PermissionDenied as error:
            abort(403, error.message)
        else:
            flash("Your update has been posted.")
            return redirect(url_for("conversation.update", slug=slug, update_id=posted.id))
    return render_template("conversation/new_update.html", project=project, form=form)


@bp.get("/projects/<slug>/updates/<int:update_id>")
@public
def update(slug: str, update_id: int):
    project = _project_or_404(slug)
    try:
        found = updates.get_update(project, update_id)
    except NotFound:
        abort(404)
    return render_template("conversation/update.html", project=project, update=found)


@bp.route("/projects/<slug>/updates/<int:update_id>/report", methods=["GET", "POST"])
@signed_in
def report_update(slug: str, update_id: int):
    project = _project_or_404(slug)
    try:
        found = updates.get_update(project, update_id)
    except NotFound:
        abort(404)
    form = ReportUpdateForm()
    if form.validate_on_submit():
        try:
            report = updates.report_update(current_user, found.id, form.reason.data)
        except InvalidInput as error:
            form.add_service_error(error)
        else:
            if report is None:
                flash("You have already reported this update. An organiser will look at it.")
            else:
                flash("Thank you for reporting the update. An organiser will look at it.")
            return redirect(url_for("conversation.update", slug=slug, update_id=found.id))
    return render_template("conversation/report_update.html", project=project, update=found, form=form)


# ---- following ------------------------------------------------------------------------------


@bp.post("/follow")
@signed_in
def follow():
    back = _safe_next(request.form.get("next"), url_for("conversation.settings"))
    try:
        _, target = follows.follow(
            current_user, request.form.get("target_type", ""), request.form.get("target", "")[:200]
        )
    except NotFound:
        abort(404)
    flash(f"You are following {target.description}. We will tell you what happens.")
    return redirect(back)


@bp.route("/follows/<int:follow_id>/unfollow", methods=["GET", "POST"])
@signed_in
def unfollow(follow_id: int):
    back = _safe_next(request.form.get("next"), url_for("conversation.settings"))
    if request.method == "POST":
        try:
            target = follows.unfollow(current_user, follow_id)
        except NotFound:
            abort(404)
        flash(f"You have stopped following {target.description if target else 'it'}.")
        return redirect(back)
    row = next((row for row in follows.user_follows(current_user) if row.follow.id == follow_id), None)
    if row is None:
        abort(404)
    return render_template("conversation/unfollow.html", row=row, form=Form())


# ---- notifications and email settings -------------------------------------------------------


@bp.get("/notifications")
@signed_in
def notifications_page():
    page = notifications.notifications_page(current_user, _page_number())
    if page.page > page.pages:
        abort(404)
    notifications.mark_seen(current_user, page.newest_id)
    return render_template("conversation/notifications.html", page=page)


@bp.route("/notifications/settings", methods=["GET", "POST"])
@signed_in
def settings():
    rows = follows.user_follows(current_user)
    current = follows.settings_for(current_user.id)
    if request.method == "GET":
        data = {
            "frequency": current.frequency,
            "follows": [{"follow_id": str(r.follow.id), "frequency": r.follow.frequency or ""} for r in rows],
        }
        form = SettingsForm(data=data)
    else:
        form = SettingsForm()
    for entry in form.follows:
        entry.form.frequency.choices = choices([("", "As above"), *FREQUENCIES.items()])
    if form.validate_on_submit():
        try:
            follows.save_settings(current_user, form.frequency.data, form.follow_frequencies())
        except InvalidInput as error:
            form.add_service_error(error)
        else:
            flash("Your email settings have been saved.")
            return redirect(url_for("conversation.settings"))
    names = {row.follow.id: row for row in rows}
    return render_template("conversation/settings.html", form=form, rows=names)


# ---- one-click unsubscribe ------------------------------------------------------------------


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt
@public
def unsubscribe(token: str):
    """Works without signing in: the signed token is the permission, for its own follow (or digest) only.

    A GET only asks (mail scanners follow links); the POST unsubscribes. Mail programs send RFC 8058
    one-click POSTs with no CSRF token; anything else must carry one.
    """
    if request.method == "POST" and request.form.get("List-Unsubscribe") != "One-Click":
        csrf.protect()
    try:
        found = follows.unsubscribe(token) if request.method == "POST" else follows.read_unsubscribe_token(token)
    except InvalidInput as error:
        return render_template("conversation/unsubscribe_problem.html", message=error.message), 400
    if request.method == "POST":
        return render_template("conversation/unsubscribed.html", found=found)
    return render_template("conversation/unsubscribe.html", found=found, form=Form())
