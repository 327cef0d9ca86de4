"""Comments: posting, replies, edits with versions, deletion markers, official responses, reports and paging."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from pipeline.extensions import db
from pipeline.models import Activity, Comment, CommentReport, CommentVersion, Follow
from pipeline.timeutil import utcnow
from tests.conftest import sign_in
from tests.conversation_factories import bulk_comments, comment
from tests.factories import make_project
from tests.pages import assert_statement_count_is_flat, error_messages, soup_of


def rows(app, model, *where):
    with app.app_context():
        return list(db.session.scalars(select(model).where(*where).order_by(model.id)))


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def project(app, make_officer):
    """A project posted by an officer of Birmingham, the owner; returns (slug, id, owner)."""
    owner = make_officer("BIR", name="Priya Owner")
    slug, project_id = make_project(app, owner, title="Bulky waste booking")
    return slug, project_id, owner


def test_post_a_comment_that_everyone_can_read(client, anon, officer, app, project):
    slug, project_id, _ = project
    response = client.submit(f"/projects/{slug}/comments/new", {"body": "Have you tried **Granicus**?"})
    [posted] = rows(app, Comment)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/projects/{slug}/comments/{posted.id}#comment-{posted.id}"
    page = anon.page(f"/projects/{slug}")  # anonymous: no email address may appear
    thread = page.select_one(f"#comment-{posted.id}")
    assert thread.select_one("strong").get_text() == officer.name
    assert "Leeds City Council" in thread.get_text()
    assert thread.select_one(".app-markdown strong").get_text() == "Granicus"
    assert "Comments (1)" in page.get_text()
    assert "Sign in" in [
        a.get_text()
        for a in page.select("#comments ~ * a[href^='/sign-in?next='], a[href^='/sign-in?next='][href$='%23comments']")
    ]
    assert not page.select("textarea")
    # The comment was recorded as activity, and the commenter now follows the project.
    with app.app_context():
        assert db.session.scalars(select(Activity.kind).order_by(Activity.id)).all() == [
            "project_posted",
            "comment_posted",
        ]
    assert [(f.user_id, f.target_type, f.target_id) for f in rows(app, Follow, Follow.user_id == officer.id)] == [
        (officer.id, "project", project_id)
    ]


def test_the_project_page_form_posts_a_comment(client, officer, app, project):
    slug, _, _ = project
    page = client.page(f"/projects/{slug}")
    form = page.select_one("form[action$='/comments/new']")
    assert form.select_one("textarea#comment-body")
    response = client.submit(f"/projects/{slug}/comments/new", {"body": "From the page"}, page=f"/projects/{slug}")
    assert response.status_code == 302
    assert count(app, Comment) == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "Enter your comment"),
        ("   \n  ", "Enter your comment"),
        ("x" * 5001, "Comment must be 5,000 characters or fewer"),
    ],
)
def test_empty_or_long_comments_are_explained_and_nothing_is_written(client, officer, app, project, body, message):
    slug, _, _ = project
    response = client.submit(f"/projects/{slug}/comments/new", {"body": body})
    assert response.status_code == 200
    assert message in error_messages(response)
    assert soup_of(response).title.get_text().startswith("Error: ")
    assert count(app, Comment) == 0


def test_markdown_with_script_renders_harmless(client, anon, officer, app, project):
    slug, _, _ = project
    evil = (
        '<script>alert(1)</script><img src=x onerror="alert(2)"> '
        '[click](javascript:alert(3)) <a href="#" onclick="x()">a</a> <svg onload=alert(4)>'
    )
    client.submit(f"/projects/{slug}/comments/new", {"body": evil})
    markdown = str(anon.page(f"/projects/{slug}").select_one(".app-comment .app-markdown"))
    assert "click" in markdown  # the rest is shown, harmlessly
    for bad in ("<script", "onerror", "javascript:", "onclick", "<img", "<svg", "onload"):
        assert bad not in markdown


def test_replies_are_one_level_deep(client, officer, app, project, make_officer):
    slug, project_id, owner = project
    top = comment(app, owner, project_id, "Top comment")
    response = client.submit(f"/projects/{slug}/comments/{top}/reply", {"body": "A reply"})
    assert response.status_code == 302
    [first_reply] = rows(app, Comment, Comment.parent_id == top)
    # A reply to a reply joins the thread of the top comment.
    response = client.submit(f"/projects/{slug}/comments/{first_reply.id}/reply", {"body": "A reply to the reply"})
    assert response.status_code == 302
    replies = rows(app, Comment, Comment.parent_id == top)
    assert [r.body for r in replies] == ["A reply", "A reply to the reply"]
    assert not rows(app, Comment, Comment.parent_id == first_reply.id)
    # The project page shows the thread with its replies, and a reply form for it.
    page = client.page(f"/projects/{slug}")
    thread = page.select_one(".app-thread")
    assert [p.get_text() for p in thread.select(".app-thread__replies .app-markdown p")] == [
        "A reply",
        "A reply to the reply",
    ]
    assert thread.select_one(f"form[action='/projects/{slug}/comments/{top}/reply'] textarea#reply-{top}")
    with app.app_context():
        kinds = db.session.scalars(select(Activity.kind).order_by(Activity.id)).all()
    assert kinds == ["project_posted", "comment_posted", "reply_posted", "reply_posted"]


def add_replies(app, project_id: int, top: int, author_id: int, number: int) -> int:
    """Add replies to a thread in bulk; returns the last one's id."""
    with app.app_context():
        base = utcnow() - timedelta(hours=1)
        db.session.add_all(
            Comment(project_id=project_id, parent_id=top, author_id=author_id, body=f"Reply {i}",
                    created_at=base + timedelta(seconds=i), active_at=base)
            for i in range(number)
        )  # fmt: skip
        db.session.commit()
        return db.session.scalar(select(func.max(Comment.id)))


def test_a_reply_permalink_leads_to_its_place_in_the_thread(client, officer, app, project):
    slug, project_id, owner = project
    top = comment(app, owner, project_id, "Top")
    last = add_replies(app, project_id, top, owner.id, 60)
    response = client.get(f"/projects/{slug}/comments/{last}")
    assert response.headers["Location"] == f"/projects/{slug}/comments/{top}?page=2#comment-{last}"
    page = client.page(f"/projects/{slug}/comments/{top}?page=2")
    assert page.select_one(f"#comment-{last}")
    assert "60 replies" in page.get_text()
    assert len(page.select(".app-thread__replies > li")) == 10
    client.page(f"/projects/{slug}/comments/{top}?page=3", status=404)


def test_replying_to_a_deleted_comment_is_refused(client, officer, app, project):
    slug, project_id, _ = project
    top = comment(app, officer, project_id, "Soon gone")
    client.submit(f"/projects/{slug}/comments/{top}/delete", {"submit": "y"})
    response = client.submit(f"/projects/{slug}/comments/{top}/reply", {"body": "Too late"}, page=f"/projects/{slug}")
    assert response.status_code == 200
    assert "You cannot reply to a deleted comment" in error_messages(response)
    assert count(app, Comment) == 1
    thread = client.page(f"/projects/{slug}/comments/{top}")
    assert "You cannot reply to a deleted comment." in thread.get_text()
    assert not thread.select("textarea")


def test_editing_keeps_earlier_versions(client, anon, officer, app, project):
    slug, project_id, _ = project
    posted = comment(app, officer, project_id, "First version")
    edit = f"/projects/{slug}/comments/{posted}/edit"
    assert client.page(edit).select_one("textarea").get_text().strip() == "First version"
    assert client.submit(edit, {"body": "Second version"}).status_code == 302
    assert client.submit(edit, {"body": "Third *version*"}).status_code == 302
    client.submit(edit, {"body": "Third *version*"})  # unchanged: no new version
    assert [v.body for v in rows(app, CommentVersion)] == ["First version", "Second version"]

    page = anon.page(f"/projects/{slug}")
    mark = page.select_one(f"#comment-{posted} a[href='/projects/{slug}/comments/{posted}/history']")
    assert mark.get_text().startswith("edited")
    history = anon.page(f"/projects/{slug}/comments/{posted}/history")
    texts = [" ".join(div.get_text().split()) for div in history.select(".app-markdown")]
    assert texts == ["Third version", "Second version", "First version"]
    response = client.submit(edit, {"body": ""})
    assert "Enter your comment" in error_messages(response)


def test_only_the_author_edits_or_deletes(client, app, officer, project, make_officer):
    slug, project_id, owner = project
    posted = comment(app, officer, project_id, "Mine")
    other = app.test_client()
    sign_in(other, make_officer("BIR"))
    for action in ("edit", "delete"):
        assert other.get(f"/projects/{slug}/comments/{posted}/{action}").status_code == 403
        token = other.csrf_token(f"/projects/{slug}")
        response = other.post(
            f"/projects/{slug}/comments/{posted}/{action}",
            data={"csrf_token": token, "body": "Hijacked", "submit": "y"},
            headers={"Referer": "https://localhost/"},
        )
        assert response.status_code == 403
    [unchanged] = rows(app, Comment)
    assert unchanged.body == "Mine" and unchanged.deleted_at is None
    page = other.page(f"/projects/{slug}")
    assert not page.select(f"a[href='/projects/{slug}/comments/{posted}/edit']")
    # A comment on another project cannot be reached through this one.
    other_slug, _ = make_project(app, owner, title="Another project")
    client.page(f"/projects/{other_slug}/comments/{posted}/edit", status=404)


def test_deleting_leaves_a_marker_and_keeps_the_replies(client, anon, app, officer, project):
    slug, project_id, owner = project
    top = comment(app, officer, project_id, "Regrettable")
    comment(app, owner, project_id, "An answer", parent_id=top)
    client.submit(f"/projects/{slug}/comments/{top}/edit", {"body": "Still regrettable"})
    response = client.submit(f"/projects/{slug}/comments/{top}/delete", {"submit": "y"})
    assert response.status_code == 302
    page = anon.page(f"/projects/{slug}")
    thread = page.select_one(".app-thread")
    assert thread.select_one(".app-comment__deleted").get_text() == "Comment deleted"
    assert "An answer" in thread.get_text()
    assert "regrettable" not in page.get_text().lower()
    [deleted] = rows(app, Comment, Comment.id == top)
    assert deleted.body == "" and deleted.deleted_at is not None
    assert count(app, CommentVersion) == 0
    assert "was deleted" in anon.page(f"/projects/{slug}/comments/{top}/history").get_text()
    # Deleting again is harmless; editing a deleted comment is not possible.
    assert client.get(f"/projects/{slug}/comments/{top}/delete").status_code == 302
    client.page(f"/projects/{slug}/comments/{top}/edit", status=404)


def test_the_team_marks_one_official_response(client, app, officer, project, make_officer):
    slug, project_id, owner = project
    top = comment(app, officer, project_id, "Will this work in Wales?")
    first = comment(app, officer, project_id, "Asking again", parent_id=top)
    second = comment(app, owner, project_id, "Yes, it will", parent_id=top)
    team = app.test_client()
    sign_in(team, owner)
    page = team.page(f"/projects/{slug}")
    assert page.select_one(f"form[action='/projects/{slug}/comments/{second}/official']")
    assert not page.select(f"form[action='/projects/{slug}/comments/{top}/official']")  # not a top comment
    team.submit(f"/projects/{slug}/comments/{first}/official", {"official": "yes"}, page=f"/projects/{slug}")
    team.submit(f"/projects/{slug}/comments/{second}/official", {"official": "yes"}, page=f"/projects/{slug}")
    official = [c.id for c in rows(app, Comment, Comment.official_at.is_not(None))]
    assert official == [second]
    tag = client.page(f"/projects/{slug}").select_one(f"#comment-{second} .govuk-tag")
    assert tag.get_text() == "Official response"
    # Someone outside the team cannot mark one, nor can a top comment be marked.
    response = client.submit(
        f"/projects/{slug}/comments/{first}/official", {"official": "yes"}, page=f"/projects/{slug}"
    )
    assert response.status_code == 403
    response = team.submit(f"/projects/{slug}/comments/{top}/official", {"official": "yes"}, page=f"/projects/{slug}")
    assert response.status_code == 400
    team.submit(f"/projects/{slug}/comments/{second}/official", {"official": "no"}, page=f"/projects/{slug}")
    assert not rows(app, Comment, Comment.official_at.is_not(None))


def test_anyone_signed_in_reports_a_comment_with_a_reason(client, anon, app, officer, project):
    slug, project_id, owner = project
    posted = comment(app, owner, project_id, "Buy cheap watches")
    url = f"/projects/{slug}/comments/{posted}/report"
    assert anon.get(url).status_code == 302
    response = client.submit(url, {"reason": ""})
    assert "Enter why you are reporting this comment" in error_messages(response)
    response = client.submit(url, {"reason": "x" * 1001})
    assert "Reason must be 1,000 characters or fewer" in error_messages(response)
    response = client.submit(url, {"reason": "Spam"}, follow_redirects=True)
    assert "An organiser will look at it" in response.get_data(as_text=True)
    response = client.submit(url, {"reason": "Still spam"}, follow_redirects=True)
    assert "You have already reported this comment" in response.get_data(as_text=True)
    assert [(r.reporter_id, r.reason) for r in rows(app, CommentReport)] == [(officer.id, "Spam")]
    own = comment(app, officer, project_id, "My own words")
    response = client.submit(f"/projects/{slug}/comments/{own}/report", {"reason": "Oops"})
    assert "You cannot report your own comment. You can edit or delete it" in error_messages(response)


def test_long_threads_are_paged(client, anon, app, officer, project):
    slug, project_id, owner = project
    bulk_comments(app, project_id, owner.id, threads=25, replies_each=5)
    page = anon.page(f"/projects/{slug}")
    threads = page.select(".app-thread")
    assert len(threads) == 20
    assert "Thread 24" in threads[0].get_text()  # the most recently active first
    first = threads[0]
    assert [p.get_text() for p in first.select(".app-thread__replies .app-markdown p")] == [
        "Reply 2",
        "Reply 3",
        "Reply 4",
    ]
    assert "See all 5 replies" in first.get_text()
    assert page.select_one(f"a[href='/projects/{slug}/comments?page=2']").get_text() == "Older comments"
    second = anon.page(f"/projects/{slug}/comments?page=2")
    assert len(second.select(".app-thread")) == 5
    assert "Thread 0 with" in second.get_text()
    anon.page(f"/projects/{slug}/comments?page=3", status=404)


def test_a_reply_brings_its_thread_to_the_top(client, app, officer, project):
    slug, project_id, owner = project
    old = comment(app, owner, project_id, "Old thread")
    comment(app, owner, project_id, "Newer thread")
    comment(app, officer, project_id, "Revived", parent_id=old)
    first = client.page(f"/projects/{slug}").select_one(".app-thread")
    assert "Old thread" in first.get_text()


def test_a_project_page_with_1000_comments_runs_a_fixed_number_of_statements(client, app, officer, project):
    slug, project_id, owner = project
    top = comment(app, officer, project_id, "One comment")
    comment(app, owner, project_id, "One reply", parent_id=top)

    def add_rows():
        bulk_comments(app, project_id, owner.id, threads=200, replies_each=4)

    assert_statement_count_is_flat(client, f"/projects/{slug}", add_rows)
    assert count(app, Comment) == 1002
    assert_statement_count_is_flat(client, f"/projects/{slug}/comments?page=2", lambda: None)
    assert_statement_count_is_flat(
        client, f"/projects/{slug}/comments/{top}", lambda: add_replies(app, project_id, top, owner.id, 300)
    )
