"""Register, receive the email, confirm, sign in and sign out, in a real browser."""

from tests.mail import links


def test_register_confirm_sign_in_and_out(journey, mailbox):
    journey.goto("/")
    journey.click("Create an account", role="link")
    assert journey.heading() == "Create a Pipeline account"

    # A mistake first: the error summary appears and what was typed is kept.
    journey.fill("Full name", "Morgan Reid")
    journey.fill("Work email address", "morgan.reid@example.com")
    journey.fill("Create a password", "a perfectly long passphrase")
    journey.click("Create account")
    assert journey.page.title().startswith("Error: ")
    assert "no council uses the email domain example.com" in journey.page.locator(".govuk-error-summary").inner_text()
    assert journey.page.get_by_label("Full name", exact=True).input_value() == "Morgan Reid"

    journey.fill("Work email address", "morgan.reid@leeds.gov.uk")
    journey.fill("Create a password", "a perfectly long passphrase")
    journey.click("Create account")
    assert journey.heading() == "Check your email"

    [message] = mailbox.wait_for("morgan.reid@leeds.gov.uk")
    [link] = [link for link in links(message) if "/confirm-email/" in link]
    journey.goto(link)
    assert journey.heading() == "Sign in to Pipeline"
    assert "Your email address is confirmed" in journey.page.content()

    journey.fill("Email address", "morgan.reid@leeds.gov.uk")
    journey.fill("Password", "a perfectly long passphrase")
    journey.click("Sign in")
    assert journey.heading() == "Your account"
    assert "Leeds City Council" in journey.page.content()

    journey.click("Sign out")
    assert journey.heading() == "Pipeline: find and share council projects"
    journey.goto("/account")
    assert journey.heading() == "Sign in to Pipeline"


def test_public_pages_pass_axe(journey):
    pages = ["/", "/councils", "/councils/leeds-city-council", "/accessibility", "/privacy", "/cookies", "/missing"]
    for path in pages:
        journey.goto(path)


def test_sign_in_works_by_keyboard_alone(journey, make_officer):
    person = make_officer("LDS")
    journey.goto("/sign-in")
    page = journey.page
    page.get_by_label("Email address", exact=True).focus()
    page.keyboard.type(person.email)
    page.keyboard.press("Tab")
    page.keyboard.type(person.password)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    journey.check()
    assert journey.heading() == "Your account"
