"""Script put into every field a person can fill in never runs, in a real browser (CONSUL's check)."""

from tests.factories import LinkInput, NeedInput, make_project

PAYLOAD = '<script>document.body.remove()</script><img src=x onerror="document.body.remove()">'
MARKDOWN = PAYLOAD + ' [click me](javascript:document.body.remove()) <svg onload="document.body.remove()">'


def test_script_in_project_fields_does_not_run(journey, app, make_officer):
    dialogs = []
    journey.page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    owner = make_officer("LDS", name="Eve " + PAYLOAD[:60])
    slug, _ = make_project(
        app,
        owner,
        title="Title " + PAYLOAD[:100],
        summary="Summary " + PAYLOAD[:150],
        problem="Problem " + PAYLOAD,
        description=MARKDOWN,
        tags=["tag " + PAYLOAD[:30]],
        links=[LinkInput("report", "Link " + PAYLOAD[:100], "https://example.org/")],
        people_needs=[NeedInput("Role " + PAYLOAD[:80], 3)],
    )
    for path in ["/", "/projects", f"/projects/{slug}", f"/projects/{slug}/history", "/councils/leeds-city-council"]:
        journey.goto(path)
        assert journey.page.locator("body").count() == 1, f"script ran on {path}"
        assert journey.page.locator("main").inner_text().strip(), f"empty page at {path}"
        assert journey.page.locator("main script").count() == 0
    assert dialogs == []
