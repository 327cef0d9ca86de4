"""Error pages: an expired form, a database that is down, and unexpected errors."""

from config import TestConfig
from pipeline import create_app
from tests.pages import PageCheckingClient, soup_of


def test_a_form_without_its_token_explains_it_expired(client):
    response = client.post("/sign-in", data={"email": "a@leeds.gov.uk", "password": "x"})
    assert response.status_code == 400
    assert soup_of(response).h1.get_text(strip=True) == "The form you sent has expired"


def test_a_database_that_is_down_gives_a_503_page_not_a_stack_trace():
    class Config(TestConfig):
        # Nothing listens on port 1.
        SQLALCHEMY_DATABASE_URI = "postgresql+psycopg://postgres@127.0.0.1:1/pipeline"
        SQLALCHEMY_ENGINE_OPTIONS = {"connect_args": {"connect_timeout": 2}}

    app = create_app(Config)
    app.test_client_class = PageCheckingClient
    client = app.test_client()
    response = client.get("/councils")
    assert response.status_code == 503
    assert soup_of(response).h1.get_text(strip=True) == "Sorry, the service is unavailable"
    assert "Traceback" not in response.get_data(as_text=True)
    health = client.get("/healthcheck")
    assert health.status_code == 503 and health.json["database"] == "unreachable"


def test_an_unexpected_error_shows_the_500_page(app):
    app_with_bug = create_app(
        type("Config", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
    )
    app_with_bug.test_client_class = PageCheckingClient
    app_with_bug.config["PROPAGATE_EXCEPTIONS"] = False  # behave as in production

    @app_with_bug.get("/__boom")
    def boom():
        raise RuntimeError("a bug")

    boom.access_rule = "public"
    response = app_with_bug.test_client().get("/__boom")
    assert response.status_code == 500
    assert soup_of(response).h1.get_text(strip=True) == "Sorry, there is a problem with the service"


def test_nul_characters_are_refused_not_a_server_error(client):
    for url in ["/projects/%00", "/councils/%00", "/projects?council=%00", "/services/search?q=%00"]:
        assert client.get(url).status_code == 400, url
    response = client.post("/sign-in", data={"email": "a\x00@leeds.gov.uk", "password": "x"})
    assert response.status_code == 400
