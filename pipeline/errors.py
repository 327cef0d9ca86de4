"""GOV.UK-style error pages: never a stack trace."""

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from pipeline.api.errors import http_error_as_json, is_api_request, json_error
from pipeline.extensions import db

PAGES = {
    400: "errors/400.html",
    403: "errors/403.html",
    404: "errors/404.html",
    405: "errors/404.html",
    429: "errors/429.html",
}


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def form_expired(error):
        return render_template("errors/form_expired.html"), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if is_api_request():
            return http_error_as_json(error)
        template = PAGES.get(error.code)
        if template is None:
            return error
        # Show a description only when the code gave one, not Werkzeug's default text.
        message = error.description if error.description != type(error).description else None
        return render_template(template, message=message), error.code

    @app.errorhandler(OperationalError)
    def database_unavailable(error):
        app.logger.exception("Database unavailable")
        _discard_session()
        return json_error(503) if is_api_request() else (render_template("errors/503.html", plain_layout=True), 503)

    @app.errorhandler(DBAPIError)
    def database_error(error):
        if error.connection_invalidated:
            _discard_session()
            return json_error(503) if is_api_request() else (render_template("errors/503.html", plain_layout=True), 503)
        return server_error(error)

    @app.errorhandler(500)
    def server_error(error):
        app.logger.exception("Unhandled error")
        _discard_session()
        return json_error(500) if is_api_request() else (render_template("errors/500.html", plain_layout=True), 500)


def _discard_session() -> None:
    try:
        db.session.rollback()
    except Exception:  # the connection may be gone; the page still renders
        db.session.close()
