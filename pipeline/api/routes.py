"""The read-only JSON API under /api/v1, its OpenAPI document, and the page that documents it."""

import re
from urllib.parse import urlencode

from flask import jsonify, render_template, request

from pipeline.access import public
from pipeline.api import bp, params
from pipeline.api.errors import is_api_request, json_error, open_to_all
from pipeline.api.openapi import openapi_document, operations
from pipeline.services import open_data, project_lists, public_data, statistics
from pipeline.services.errors import InvalidInput, NotFound
from pipeline.services.public_data import ResultPage

API = "/api/v1"
EXAMPLE_PROJECT = "bulky-waste-booking"


@bp.errorhandler(InvalidInput)
def bad_request(error: InvalidInput):
    return json_error(400, error.message)


@bp.errorhandler(NotFound)
def not_found(error: NotFound):
    return json_error(404, error.message)


@bp.after_app_request
def allow_cross_origin_reads(response):
    return open_to_all(response) if is_api_request() else response


def _page_url(number: int) -> str:
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "page"] + [("page", str(number))]
    return f"{request.base_url}?{urlencode(args)}"


def _page(page: ResultPage):
    return jsonify(
        items=page.items,
        page=page.page,
        per_page=page.per_page,
        total=page.total,
        pages=page.pages,
        links={
            "self": _page_url(page.page),
            "next": _page_url(page.page + 1) if page.page < page.pages else None,
            "previous": _page_url(page.page - 1) if page.page > 1 else None,
        },
    )


def _slug(slug: str, what: str) -> str:
    """A slug as Pipeline makes them; anything else cannot name a record."""
    if not re.fullmatch(r"[a-z0-9-]{1,200}", slug):
        raise NotFound(f"There is no {what} at {slug[:200]}.")
    return slug


def _no_parameters() -> None:
    params.read(request.args, [])


def document() -> dict:
    return openapi_document(public_data.regions(), public_data.newest_project_slug() or EXAMPLE_PROJECT)


@bp.get("/api")
@public
def documentation():
    spec = document()
    return render_template("api/documentation.html", document=spec, operations=operations(spec, API))


@bp.get(f"{API}/openapi.json")
@public
def openapi():
    return jsonify(document())


@bp.get(f"{API}/projects")
@public
def projects():
    values = params.read(request.args, params.project_params(public_data.regions()))
    page, per_page = params.page_and_size(values)
    filters = project_lists.ProjectFilters.from_args(request.args)
    filters.page = page
    return _page(public_data.project_page(filters, per_page))


@bp.get(f"{API}/projects/<slug>")
@public
def project(slug: str):
    _no_parameters()
    return jsonify(public_data.project_detail(_slug(slug, "project")))


@bp.get(f"{API}/projects/<slug>/<collection>")
@public
def project_records(slug: str, collection: str):
    """Records that belong to one project (phase changes, and each kind registered in open_data)."""
    page, per_page = params.page_and_size(params.read(request.args, params.PAGINATION))
    record = open_data.record_type(collection)
    if record is None or record.project_column is None:
        raise NotFound(f"Projects have no list called {collection[:100]}.")
    project_id = public_data.find_project_id(_slug(slug, "project"))
    query = record.query().where(record.project_column == project_id)
    return _page(public_data.record_page(query, record.id_column, record.to_public, page, per_page))


@bp.get(f"{API}/councils")
@public
def councils():
    values = params.read(request.args, params.council_params(public_data.regions()))
    page, per_page = params.page_and_size(values)
    nation, region = params.single(values, "nation", ""), params.single(values, "region", "")
    return _page(public_data.council_page(nation, region, page, per_page))


@bp.get(f"{API}/councils/<slug>")
@public
def council(slug: str):
    _no_parameters()
    return jsonify(public_data.council_detail(_slug(slug, "council")))


@bp.get(f"{API}/services")
@public
def services():
    values = params.read(request.args, params.SERVICE_PARAMS)
    page, per_page = params.page_and_size(values)
    function = params.single(values, "function")
    return _page(public_data.service_page(int(function) if function else None, page, per_page))


@bp.get(f"{API}/services/<int(max={params.MAX_ID}):lgsl_id>")
@public
def service(lgsl_id: int):
    _no_parameters()
    return jsonify(public_data.service_detail(lgsl_id))


@bp.get(f"{API}/statistics")
@public
def statistics_figures():
    _no_parameters()
    return jsonify(statistics.figures_record(statistics.figures()))


@bp.get(f"{API}/<collection>")
@public
def records(collection: str):
    """A list of every record of a registered kind (phase changes, and each kind registered in open_data)."""
    page, per_page = params.page_and_size(params.read(request.args, params.PAGINATION))
    record = open_data.record_type(collection)
    if record is None or not record.api_list:
        raise NotFound(f"The API has no list called {collection[:100]}.")
    return _page(public_data.record_page(record.query(), record.id_column, record.to_public, page, per_page))
