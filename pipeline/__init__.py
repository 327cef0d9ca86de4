"""Pipeline: a collaboration platform for UK councils."""

import secrets
from pathlib import Path

from flask import Flask, abort, g, request
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader
from werkzeug.middleware.proxy_fix import ProxyFix

from config import Config, config_for_environment
from pipeline.extensions import csrf, db, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(config_class: type[Config] | None = None) -> Flask:
    """Build the Flask app for the given configuration (chosen by PIPELINE_ENV when None)."""
    config_class = config_class or config_for_environment()
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    app.config.from_object(config_class)
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError("SECRET_KEY must be set: Pipeline will not start without it outside development.")
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:"):
        Path(app.instance_path).mkdir(exist_ok=True)

    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(str(ROOT / "templates")),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    if app.config["TRUST_PROXY_HEADERS"]:
        # Behind a TLS-terminating proxy: take the scheme and client address from it.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

    db.init_app(app)
    from pipeline.database import include_in_schema_comparison

    migrate.init_app(
        app,
        db,
        directory=str(ROOT / "migrations"),
        render_as_batch=True,
        compare_type=True,
        include_name=include_in_schema_comparison,
    )
    csrf.init_app(app)
    login_manager.init_app(app)
    WTFormsHelpers(app)

    from pipeline.database import configure_engine

    configure_engine(app)

    from pipeline import (
        api,
        auth,
        conversation,
        councils,
        curation,
        main,
        opendata,
        pledges,
        projects,
        search,
        services_pages,
    )

    app.register_blueprint(main.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(councils.bp)
    app.register_blueprint(projects.bp)
    app.register_blueprint(services_pages.bp)
    app.register_blueprint(curation.bp)
    app.register_blueprint(pledges.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(opendata.bp)
    app.register_blueprint(conversation.bp)
    app.register_blueprint(search.bp)

    from pipeline.cli import register_commands
    from pipeline.errors import register_error_handlers
    from pipeline.filters import register_filters

    register_error_handlers(app)
    register_filters(app)
    register_commands(app)
    _register_request_hooks(app)
    return app


def _register_request_hooks(app: Flask) -> None:
    from pipeline.services.outbox import deliver_request_messages

    @app.before_request
    def make_nonce():
        g.csp_nonce = secrets.token_urlsafe(16)

    @app.before_request
    def refuse_nul_characters():
        # No text anyone types contains NUL, and PostgreSQL refuses it in queries: stop it at the door
        # (the API answers in JSON, see errors.py).
        values = [request.path, *request.args.values()]
        if request.method == "POST" and request.mimetype in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            values += request.form.values()
        if any("\x00" in value for value in values):
            abort(400, "Remove the NUL character (%00): no address or form on Pipeline takes one.")

    @app.context_processor
    def template_globals():
        return {"cspNonce": g.get("csp_nonce"), "service_name": app.config["SERVICE_NAME"]}

    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers.setdefault(
            "Content-Security-Policy",
            f"default-src 'self'; script-src 'self' 'nonce-{g.get('csp_nonce', '')}'; "
            "img-src 'self' data:; style-src 'self'; object-src 'none'; base-uri 'self'; "
            "form-action 'self'; frame-ancestors 'none'",
        )
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Permissions-Policy", "geolocation=(), camera=(), microphone=()")
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if "Cache-Control" not in headers and request.cookies.get(app.config["SESSION_COOKIE_NAME"]):
            headers["Cache-Control"] = "no-store"
        if app.config["SQL_COUNT_HEADER"]:
            headers["X-SQL-Count"] = str(g.get("sql_count", 0))
        return response

    @app.teardown_request
    def send_queued_email(error):
        if error is None:
            try:
                deliver_request_messages()
            except Exception:  # a failure here must not lose the response; the outbox retries
                app.logger.exception("Delivering queued email failed; it stays in the outbox")
