"""Every endpoint declares who may use it, so a new unprotected route fails here."""

from pipeline.access import ADMIN, ORGANISER, PUBLIC, SIGNED_IN, SIGNED_OUT, access_rule

# Endpoints with no access decorator, each for a reason.
UNDECORATED = {"static": "Flask's static files: public assets"}


def test_every_endpoint_declares_an_access_rule(app):
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in UNDECORATED:
            continue
        declared = access_rule(app.view_functions[rule.endpoint])
        if declared not in {PUBLIC, SIGNED_IN, SIGNED_OUT, ORGANISER, ADMIN}:
            missing.append(f"{rule.endpoint} ({rule.rule})")
    assert not missing, "endpoints with no access rule: " + ", ".join(sorted(missing))


def test_pages_for_signed_in_people_send_others_to_sign_in(app, client):
    """Every parameter-free GET page that needs a sign-in redirects anonymous visitors to sign in."""
    for rule in app.url_map.iter_rules():
        if rule.arguments or "GET" not in rule.methods:
            continue
        declared = access_rule(app.view_functions.get(rule.endpoint))
        if declared in {SIGNED_IN, ORGANISER, ADMIN}:
            response = client.get(rule.rule)
            assert response.status_code == 302, rule.rule
            assert response.headers["Location"].startswith("/sign-in?next="), rule.rule


def test_organiser_pages_refuse_officers(app, client, officer):
    for rule in app.url_map.iter_rules():
        if rule.arguments or "GET" not in rule.methods:
            continue
        if access_rule(app.view_functions.get(rule.endpoint)) in {ORGANISER, ADMIN}:
            assert client.get(rule.rule).status_code == 403, rule.rule


def test_every_form_post_needs_a_csrf_token(app, client, officer):
    """With no token, every POST route is refused with the 'form expired' page and changes nothing."""
    checked = 0
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods:
            continue
        url = rule.rule
        for argument in rule.arguments:
            url = url.replace(f"<{argument}>", "x").replace(f"<int:{argument}>", "1")
        for converter in ("<int:", "<"):
            assert converter not in url, url
        response = client.post(url, data={}, headers={"Referer": "https://localhost/"})
        assert response.status_code == 400, url
        assert "The form you sent has expired" in response.get_data(as_text=True), url
        checked += 1
    assert checked >= 4
