"""Registering, confirming, signing in and out, password resets, and account details."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from pipeline.extensions import db
from pipeline.models import OutboxMessage, SignInAttempt, User
from pipeline.timeutil import utcnow
from tests.conftest import PASSWORD, sign_in
from tests.mail import body, links
from tests.pages import error_messages, soup_of

REGISTRATION = {
    "name": "Priya Shah",
    "job_title": "Service designer",
    "email": "priya.shah@leeds.gov.uk",
    "password": PASSWORD,
}


def count_users(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def register(client, **changes):
    return client.submit("/register", {**REGISTRATION, **changes})


def test_register_confirm_and_sign_in(client, app, mailbox):
    response = register(client)
    assert response.status_code == 302
    assert response.headers["Location"] == "/register/check-your-email"
    assert "priya.shah@leeds.gov.uk" in client.page("/register/check-your-email").get_text()

    [message] = mailbox.wait_for("priya.shah@leeds.gov.uk")
    assert message["Subject"] == "Confirm your email address for Pipeline"
    [link] = [link for link in links(message) if "/confirm-email/" in link]

    # Not confirmed yet: signing in is refused and a fresh link is sent.
    refused = client.submit("/sign-in", {"email": "priya.shah@leeds.gov.uk", "password": PASSWORD})
    assert "You need to confirm your email address" in " ".join(error_messages(refused))
    mailbox.wait_for("priya.shah@leeds.gov.uk", count=2)

    confirmed = client.get(link.removeprefix("http://localhost"), follow_redirects=True)
    assert confirmed.status_code == 200
    assert "Your email address is confirmed" in confirmed.get_data(as_text=True)

    signed_in = client.submit("/sign-in", {"email": "Priya.Shah@leeds.gov.uk", "password": PASSWORD})
    assert signed_in.status_code == 302
    client.signed_in = True
    soup = client.page("/account")
    assert "Leeds City Council" in soup.get_text()
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "priya.shah@leeds.gov.uk"))
        assert user.name == "Priya Shah" and user.job_title == "Service designer"
        assert user.password_hash.startswith("$argon2id$")


def test_registration_from_an_unknown_domain_is_refused_with_an_explanation(client, app):
    response = register(client, email="someone@example.com")
    assert response.status_code == 200
    [message] = [m for m in error_messages(response) if "example.com" in m]
    assert "Pipeline is for officers of UK councils" in message
    assert "ask an organiser" in message
    soup = soup_of(response)
    assert soup.title.get_text().startswith("Error: ")
    assert soup.select_one("input[name=name]")["value"] == "Priya Shah"  # what was typed is kept
    assert count_users(app) == 0


def test_a_shared_domain_asks_which_council(client, app):
    response = register(client, email="sam@adur-worthing.gov.uk")
    assert "Select the council you work for" in error_messages(response)
    options = {
        i.find_next("label").get_text(strip=True): i["value"] for i in soup_of(response).select("input[name=council]")
    }
    assert set(options) == {"Adur District Council", "Worthing Borough Council"}
    assert count_users(app) == 0

    response = register(client, email="sam@adur-worthing.gov.uk", council=options["Worthing Borough Council"])
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "sam@adur-worthing.gov.uk"))
        assert user.council.name == "Worthing Borough Council"


def test_a_subdomain_of_a_council_domain_is_that_council(client, app):
    assert register(client, email="jo@staff.leeds.gov.uk").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "jo@staff.leeds.gov.uk")).council.code == "LDS"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": ""}, "Enter your full name"),
        ({"name": "x" * 101}, "Name must be 100 characters or fewer"),
        ({"email": ""}, "Enter your work email address"),
        ({"email": "not-an-email"}, "Enter an email address in the correct format, like name@council.gov.uk"),
        ({"password": ""}, "Enter a password"),
        ({"password": "short pass"}, "Password must be 12 characters or more"),
        ({"password": "x" * 129}, "Password must be 128 characters or fewer"),
        ({"password": "password1234"}, "Choose a password that is harder to guess"),
        ({"password": "aaaaaaaaaaaaaaa"}, "Choose a password that is harder to guess"),
    ],
)
def test_registration_bad_input(client, app, changes, message):
    response = register(client, **changes)
    assert response.status_code == 200
    assert any(m.startswith(message) for m in error_messages(response)), error_messages(response)
    assert count_users(app) == 0


def test_long_passphrases_are_accepted(client, app):
    assert register(client, password="a long passphrase of many words " * 2).status_code == 302
    assert count_users(app) == 1


def test_registering_an_existing_address_reveals_nothing(client, app, make_officer, mailbox):
    existing = make_officer("LDS")
    mailbox.clear()
    response = register(client, email=existing.email)
    assert response.status_code == 302 and response.headers["Location"] == "/register/check-your-email"
    [message] = mailbox.wait_for(existing.email)
    assert message["Subject"] == "You already have a Pipeline account"
    assert count_users(app) == 1


def test_a_tampered_confirmation_link_is_refused(client):
    soup = client.page("/confirm-email/not-a-real-token", status=400)
    assert "This link is not valid" in soup.get_text()


def test_sign_in_with_a_wrong_password(client, make_officer):
    person = make_officer("LDS")
    response = client.submit("/sign-in", {"email": person.email, "password": "wrong password entirely"})
    assert response.status_code == 200
    assert "Enter a correct email address and password" in error_messages(response)
    assert soup_of(response).select_one("input[name=email]")["value"] == person.email
    assert client.get("/account").status_code == 302


def test_sign_in_is_rate_limited_per_account(client, app, make_officer):
    person = make_officer("LDS")
    for _ in range(app.config["SIGN_IN_MAX_FAILURES_PER_ACCOUNT"]):
        client.submit("/sign-in", {"email": person.email, "password": "wrong password entirely"})
    # Even the right password is refused until the window passes.
    response = client.submit("/sign-in", {"email": person.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed attempts to sign in" in " ".join(error_messages(response))
    with app.app_context():
        old = utcnow() - timedelta(seconds=app.config["SIGN_IN_WINDOW_SECONDS"] + 1)
        for attempt in db.session.scalars(select(SignInAttempt)):
            attempt.created_at = old
        db.session.commit()
    assert client.submit("/sign-in", {"email": person.email, "password": PASSWORD}).status_code == 302


def test_sign_in_is_rate_limited_per_address(client, app, make_officer):
    person = make_officer("LDS")
    for i in range(app.config["SIGN_IN_MAX_FAILURES_PER_ADDRESS"]):
        client.submit("/sign-in", {"email": f"guess{i}@leeds.gov.uk", "password": "wrong password entirely"})
    response = client.submit("/sign-in", {"email": person.email, "password": PASSWORD})
    assert response.status_code == 429


def test_session_cookie_is_secure_httponly_and_samesite(client, make_officer):
    person = make_officer("LDS")
    response = client.submit("/sign-in", {"email": person.email, "password": PASSWORD})
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("__Host-session="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Domain" not in cookie


def test_signed_in_pages_are_not_cached(client, officer):
    assert client.get("/account").headers["Cache-Control"] == "no-store"


def test_signing_out_ends_every_session(app, officer, client):
    other_device = app.test_client()
    sign_in(other_device, officer)
    assert other_device.get("/account").status_code == 200
    stolen_cookie = client.get_cookie("__Host-session").value

    response = client.submit("/sign-out", {}, page="/account")
    assert response.status_code == 302
    client.signed_in = False
    assert client.get("/account").status_code == 302
    assert other_device.get("/account").status_code == 302

    # Replaying the old cookie does not bring the session back.
    replay = app.test_client()
    replay.set_cookie("__Host-session", stolen_cookie)
    assert replay.get("/account").status_code == 302


def test_password_reset_is_single_use_and_ends_sessions(app, client, make_officer, mailbox, anon):
    person = make_officer("LDS")
    other_device = app.test_client()
    sign_in(other_device, person)

    response = anon.submit("/reset-password", {"email": person.email})
    assert "If" in soup_of(response).get_text() and response.status_code == 200
    [message] = mailbox.wait_for(person.email)
    [link] = [link for link in links(message) if "/reset-password/" in link]
    path = link.removeprefix("http://localhost")

    bad = anon.submit(path, {"password": "short"})
    assert "Password must be 12 characters or more" in error_messages(bad)

    done = anon.submit(path, {"password": "a brand new passphrase"})
    assert done.status_code == 302
    assert other_device.get("/account").status_code == 302  # signed out everywhere
    soup = anon.page(path, status=400)
    assert "already been used" in soup.get_text()

    assert client.submit("/sign-in", {"email": person.email, "password": PASSWORD}).status_code == 200
    assert client.submit("/sign-in", {"email": person.email, "password": "a brand new passphrase"}).status_code == 302


def test_password_reset_for_an_unknown_address_says_the_same(anon, mailbox, app):
    response = anon.submit("/reset-password", {"email": "nobody@leeds.gov.uk"})
    assert response.status_code == 200
    assert "If" in soup_of(response).get_text()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_change_name_and_job_title(client, officer, app):
    response = client.submit("/account", {"name": "New Name", "job_title": "Head of digital"})
    assert response.status_code == 302
    assert "Your details have been saved" in client.get("/account").get_data(as_text=True)
    with app.app_context():
        user = db.session.get(User, officer.id)
        assert (user.name, user.job_title) == ("New Name", "Head of digital")


def test_change_details_bad_input_changes_nothing(client, officer, app):
    response = client.submit("/account", {"name": "", "job_title": "x" * 101})
    assert set(error_messages(response)) >= {"Enter your full name", "Job title must be 100 characters or fewer"}
    with app.app_context():
        assert db.session.get(User, officer.id).name == officer.name


def test_next_only_follows_local_paths(client, make_officer):
    person = make_officer("LDS")
    response = client.submit(
        "/sign-in?next=https://evil.example/x", {"email": person.email, "password": PASSWORD}, page="/sign-in"
    )
    assert response.headers["Location"] == "/account"


def test_signed_in_people_skip_the_sign_in_page(client, officer):
    assert client.get("/sign-in").headers["Location"] == "/account"


def test_grant_role_command(app, make_officer):
    person = make_officer("LDS")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["grant-role", person.email, "organiser"])
    assert result.exit_code == 0 and "is now organiser" in result.output
    with app.app_context():
        assert db.session.get(User, person.id).role == "organiser"
    assert runner.invoke(args=["grant-role", "nobody@leeds.gov.uk", "admin"]).exit_code == 1
    assert runner.invoke(args=["grant-role", person.email, "emperor"]).exit_code == 2


def test_no_email_address_in_the_confirmation_email_subject_or_public_pages(client, anon, officer):
    for url in ["/", "/councils", "/councils/leeds-city-council"]:
        assert not re.search(re.escape(officer.email), anon.get(url).get_data(as_text=True))


def test_email_text_carries_the_recipient_name(client, mailbox):
    register(client)
    [message] = mailbox.wait_for("priya.shah@leeds.gov.uk")
    assert body(message).startswith("Hello Priya Shah,")


def test_account_page_links_to_the_council(client, officer):
    link = client.page("/account").select_one(".govuk-summary-list a[href='/councils/leeds-city-council']")
    assert link is not None and link.get_text() == "Leeds City Council"
