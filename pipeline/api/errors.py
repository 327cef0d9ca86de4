"""Errors from the API are JSON, whatever raised them: a status and a message that says what to change."""

from flask import Response, jsonify, request
from werkzeug.exceptions import HTTPException

PREFIX = "/api/v1/"
MESSAGES = {
    400: "The request could not be understood.",
    404: "There is nothing at this address. The API's addresses are listed at /api/v1/openapi.json.",
    405: "The API is read only: use GET.",
    429: "Too many requests: wait a minute and try again.",
    500: "Something went wrong on our side. Try again later.",
    503: "The service is unavailable. Try again later.",
}


def is_api_request() -> bool:
    return request.path.startswith(PREFIX)


def open_to_all(response: Response) -> Response:
    """Let any website read the response (CORS); open data has nothing to hide from other origins."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def json_error(status: int, message: str | None = None, headers: dict | None = None) -> Response:
    response = jsonify(status=status, message=message or MESSAGES.get(status, MESSAGES[400]))
    response.status_code = status
    response.headers.update(headers or {})
    return open_to_all(response)


def http_error_as_json(error: HTTPException) -> Response:
    """A 404, 405 or other HTTP error on an API address, as JSON (with the Allow header of a 405)."""
    message = error.description if error.description != type(error).description else None
    allow = {name: value for name, value in error.get_headers() if name == "Allow"}
    return json_error(error.code or 500, message, allow)
