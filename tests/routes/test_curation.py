"""Organisers: two-factor sign-in, the workbench, domains, organisations, roles, suspensions, featuring, themes."""

import time

import pyotp
import pytest
from sqlalchemy import func, select

from pipeline.access import ADMIN, ORGANISER, access_rule
from pipeline.extensions import db
from pipeline.models import AuditEntry, CouncilDomain, DomainRequest, Project, User
from tests.conftest import PASSWORD, sign_in
from tests.factories import make_project
from tests.mail import links
from tests.pages import error_messages, soup_of


def set_up_two_factor(client, person) -> str:
    """Sign in, add Pipeline to an 'authenticator app', and return its secret."""
    sign_in(client, person)
    client.submit("/account/two-factor", {"start-submit": "y"})
    secret = client.page("/account/two-factor").select_one("#totp-secret").get_text(strip=True)
    response = client.submit("/account/two-factor", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200
    assert len(soup_of(response).select("#recovery-codes li")) == 10
    return secret


@pytest.fixture
def organiser(make_officer, client):
    person = make_officer("LDS", name="Olu Organiser", role="organiser")
    person.secret = set_up_two_factor(client, person)
    return person


def audit_actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_organiser_pages_need_two_factor_set_up_first(client, make_officer):
    person = make_officer("LDS", role="organiser")
    sign_in(client, person)
    response = client.get("/organise")
    assert response.status_code == 302 and response.headers["Location"].startswith("/account/two-factor")


def test_two_factor_sign_in(app, make_officer, client, anon):
    person = make_officer("LDS", role="organiser")
    secret = set_up_two_factor(client, person)
    assert client.get("/organise").status_code == 200

    # Next time: password, then code.
    response = anon.submit("/sign-in", {"email": person.email, "password": PASSWORD})
    assert response.headers["Location"].startswith("/sign-in/two-factor")
    assert anon.get("/account").status_code == 302  # not signed in until the code
    wrong = anon.submit("/sign-in/two-factor", {"code": "000000"})
    assert "Enter the 6-digit code your authenticator app shows now, or a recovery code" in error_messages(wrong)
    # A code already used (the one used at set-up, if still current) is refused.
    totp = pyotp.TOTP(secret)
    with app.app_context():
        last = db.session.get(User, person.id).totp_last_step
    reused = anon.submit("/sign-in/two-factor", {"code": totp.at(last * totp.interval)})
    assert "already been used" in " ".join(error_messages(reused))
    next_code = totp.at((last + 1) * totp.interval) if last >= int(time.time()) // 30 else totp.now()
    done = anon.submit("/sign-in/two-factor", {"code": next_code})
    assert done.status_code == 302
    anon.signed_in = True
    assert anon.get("/organise").status_code == 200


def test_recovery_codes_work_once(app, make_officer, client, anon):
    person = make_officer("LDS", role="admin")
    sign_in(client, person)
    client.submit("/account/two-factor", {"start-submit": "y"})
    secret = client.page("/account/two-factor").select_one("#totp-secret").get_text(strip=True)
    codes_page = client.submit("/account/two-factor", {"code": pyotp.TOTP(secret).now()})
    code = soup_of(codes_page).select_one("#recovery-codes code").get_text()

    anon.submit("/sign-in", {"email": person.email, "password": PASSWORD})
    assert anon.submit("/sign-in/two-factor", {"code": code}).status_code == 302
    other = app.test_client()
    other.submit("/sign-in", {"email": person.email, "password": PASSWORD})
    again = other.submit("/sign-in/two-factor", {"code": code})
    assert again.status_code == 200 and error_messages(again)


def test_wrong_codes_are_rate_limited(app, make_officer, client, anon):
    person = make_officer("LDS", role="organiser")
    set_up_two_factor(client, person)
    anon.submit("/sign-in", {"email": person.email, "password": PASSWORD})
    for _ in range(app.config["SIGN_IN_MAX_FAILURES_PER_ACCOUNT"]):
        anon.submit("/sign-in/two-factor", {"code": "123456"})
    assert anon.submit("/sign-in/two-factor", {"code": "123456"}).status_code == 429


def test_every_workbench_route_is_organiser_only(app, client, officer, anon):
    organiser_rules = [
        rule
        for rule in app.url_map.iter_rules()
        if access_rule(app.view_functions[rule.endpoint]) in {ORGANISER, ADMIN}
    ]
    assert len(organiser_rules) >= 12
    for rule in organiser_rules:
        url = rule.rule
        for argument in rule.arguments:
            url = url.replace(f"<int:{argument}>", "1").replace(f"<{argument}>", "leeds-city-council")
        method = "POST" if "POST" in rule.methods and "GET" not in rule.methods else "GET"
        data = {"csrf_token": client.csrf_token("/account")} if method == "POST" else None
        response = client.open(url, method=method, data=data, headers={"Referer": "https://localhost/"})
        assert response.status_code == 403, f"officer reached {url}"
        anonymous = anon.open(url, method="GET") if method == "GET" else None
        if anonymous is not None:
            assert anonymous.status_code == 302, f"anonymous reached {url}"


def test_a_waiting_officer_can_register_once_the_domain_is_added(app, organiser, client, anon, mailbox):
    refused = anon.submit(
        "/register", {"name": "Nia", "email": "nia@newcouncil.gov.uk", "password": "long enough passphrase"}
    )
    link = soup_of(refused).select_one("a[href^='/register/request-domain']")["href"]
    anon.own_emails.add("nia@newcouncil.gov.uk")
    page = anon.page(link)
    assert page.select_one("input[name=email]")["value"] == "nia@newcouncil.gov.uk"
    assert "We have your request" in anon.submit(
        "/register/request-domain", {"name": "Nia", "email": "nia@newcouncil.gov.uk", "council_name": "New Council"}
    ).get_data(as_text=True)

    workbench = client.page("/organise")
    assert "nia@newcouncil.gov.uk" in workbench.get_text()
    with app.app_context():
        request_id = db.session.scalar(select(DomainRequest.id))
        leeds = db.session.scalar(select(CouncilDomain.council_id).where(CouncilDomain.domain == "leeds.gov.uk"))
    response = client.submit(f"/organise/domain-requests/{request_id}/add", {"council": str(leeds)}, page="/organise")
    assert response.status_code == 302
    [message] = mailbox.wait_for("nia@newcouncil.gov.uk")
    assert any(link.endswith("/register") for link in links(message))
    assert (
        anon.submit(
            "/register", {"name": "Nia", "email": "nia@newcouncil.gov.uk", "password": "long enough passphrase"}
        ).status_code
        == 302
    )
    assert "domain_added" in audit_actions(app)


@pytest.mark.parametrize(
    ("domain", "shared", "message"),
    [
        ("not a domain", None, "Enter a domain like leeds.gov.uk, without @ or https://"),
        ("https://x.gov.uk/", None, "Enter a domain like leeds.gov.uk, without @ or https://"),
        ("leeds.gov.uk", None, "Leeds City Council already has the domain leeds.gov.uk"),
        ("bradford.gov.uk", None, "bradford.gov.uk already belongs to City of Bradford Metropolitan District Council"),
    ],
)
def test_bad_domains_are_refused(app, organiser, client, domain, shared, message):
    response = client.submit("/organise/councils/leeds-city-council", {"domain": domain})
    assert any(m.startswith(message) for m in error_messages(response)), error_messages(response)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CouncilDomain)) == 382
    assert audit_actions(app) == ["two_factor_enabled"]


def test_add_and_remove_a_domain(app, organiser, client):
    url = "/organise/councils/leeds-city-council"

    def domains() -> str:
        return client.page("/councils/leeds-city-council").select_one(".govuk-summary-list").get_text()

    assert client.submit(url, {"domain": "@LeedsExtra.gov.uk", "reason": "Alias"}).status_code == 302
    assert "leedsextra.gov.uk" in domains()
    assert client.submit(url + "/domains/leedsextra.gov.uk/remove", {}, page=url).status_code == 302
    assert "leedsextra.gov.uk" not in domains()
    assert audit_actions(app)[-2:] == ["domain_added", "domain_removed"]
    # A domain another council has needs saying it is shared.
    assert client.submit(url, {"domain": "bradford.gov.uk", "shared": "y"}).status_code == 302
    assert "bradford.gov.uk" in domains()


def test_add_an_organisation(app, organiser, client):
    response = client.submit(
        "/organise/organisations/new",
        {"name": "Local Government Association", "nation": "England", "domain": "lga.gov.uk"},
    )
    assert response.status_code == 302
    assert "Local Government Association" in client.page("/councils").get_text()
    again = client.submit("/organise/organisations/new", {"name": "Local Government Association", "nation": "England"})
    assert "There is already an organisation called Local Government Association" in error_messages(again)
    assert "Select the nation the organisation works in" in error_messages(
        client.submit("/organise/organisations/new", {"name": "Another body"})
    )


def test_roles_and_the_last_admin(app, organiser, client, make_officer):
    person = make_officer("BIR")
    url = f"/organise/people/{person.id}"
    assert client.submit(url, {"role-role": "organiser", "role-submit": "y"}).status_code == 302
    refused = client.submit(url, {"role-role": "admin", "role-submit": "y"})
    assert refused.status_code == 403  # only an admin makes admins

    admin = make_officer("LDS", role="admin")
    admin_client = app.test_client()
    admin.secret = set_up_two_factor(admin_client, admin)
    response = admin_client.submit(f"/organise/people/{admin.id}", {"role-role": "officer", "role-submit": "y"})
    assert "Pipeline must keep at least one admin. Make someone else an admin first" in error_messages(response)
    with app.app_context():
        assert db.session.get(User, admin.id).role == "admin"
        assert db.session.get(User, person.id).role == "organiser"


def test_suspending_ends_sessions_and_stops_sign_in(app, organiser, client, make_officer):
    person = make_officer("BIR")
    their_client = app.test_client()
    sign_in(their_client, person)
    url = f"/organise/people/{person.id}"
    missing = client.submit(url, {"suspend-submit": "y", "suspend-reason": ""})
    assert "Enter the reason" in error_messages(missing)
    assert client.submit(url, {"suspend-submit": "y", "suspend-reason": "Spam"}).status_code == 302
    assert their_client.get("/account").status_code == 302
    refused = their_client.submit("/sign-in", {"email": person.email, "password": PASSWORD})
    assert "Your account has been suspended" in " ".join(error_messages(refused))
    again = client.submit(url, {"suspend-submit": "y", "suspend-reason": "Again"})
    assert error_messages(again) == [] or "Restore" in again.get_data(as_text=True)
    assert client.submit(url, {"restore-submit": "y"}).status_code == 302
    their_client.signed_in = False
    assert their_client.submit("/sign-in", {"email": person.email, "password": PASSWORD}).status_code == 302
    assert audit_actions(app)[-2:] == ["account_suspended", "account_restored"]


def test_feature_a_project_and_curate_a_theme(app, organiser, client, make_officer, anon):
    slug, _ = make_project(app, make_officer("BIR"), title="Digital inclusion hubs")
    assert client.submit(f"/organise/projects/{slug}/feature", {}, page=f"/projects/{slug}").status_code == 302
    assert "Digital inclusion hubs" in anon.page("/").select_one("#featured").get_text()
    again = client.submit(f"/organise/projects/{slug}/feature", {}, page=f"/projects/{slug}")
    assert again.status_code == 302

    assert (
        client.submit(
            "/organise/themes", {"title": "Adult social care", "description": "Care **projects**"}
        ).status_code
        == 302
    )
    assert "Enter a title for the theme" in error_messages(client.submit("/organise/themes", {"title": ""}))
    response = client.submit(
        "/organise/themes/adult-social-care",
        {"add-project": f"https://pipeline.example/projects/{slug}", "add-submit": "y"},
    )
    assert response.status_code == 302
    theme_page = anon.page("/themes/adult-social-care")
    assert "Digital inclusion hubs" in theme_page.get_text()
    assert theme_page.select_one(".app-markdown strong").get_text() == "projects"
    missing = client.submit("/organise/themes/adult-social-care", {"add-project": "no-such-project", "add-submit": "y"})
    assert "Enter the web address or short name of a project on Pipeline" in error_messages(missing)
    assert audit_actions(app)[-3:] == ["project_featured", "theme_created", "theme_project_added"]


def test_audit_log_filters(app, organiser, client, make_officer):
    slug, _ = make_project(app, make_officer("BIR"))
    client.submit(f"/organise/projects/{slug}/feature", {}, page=f"/projects/{slug}")
    client.submit(f"/organise/projects/{slug}/unfeature", {}, page=f"/projects/{slug}")
    page = client.page("/organise/audit?action=project_featured")
    rows = page.select("tbody tr")
    assert len(rows) == 1 and "Featured a project" in rows[0].get_text()
    assert len(client.page(f"/organise/audit?person={organiser.id}").select("tbody tr")) == 3
    assert client.page("/organise/audit?action=nonsense&person=x&page=-1").select("tbody tr")


def test_workbench_lists_dormant_projects_and_old_join_requests(app, organiser, client, make_officer):
    from datetime import timedelta

    from pipeline.models import JoinRequest
    from pipeline.timeutil import utcnow

    owner = make_officer("BIR")
    slug, project_id = make_project(app, owner, title="Forgotten project")
    asker = make_officer("CRF")
    with app.app_context():
        project = db.session.get(Project, project_id)
        project.active_at = utcnow() - timedelta(days=100)
        db.session.add(JoinRequest(project_id=project_id, user_id=asker.id, created_at=utcnow() - timedelta(days=8)))
        db.session.commit()
    page = client.page("/organise")
    assert "Forgotten project" in page.select_one("#dormant ~ ul").get_text()
    assert asker.name in page.get_text()
