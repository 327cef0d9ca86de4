"""Open data: the downloads page and data dictionaries, the files themselves, Atom feeds and the dashboard."""

import re

from flask import Response, abort, render_template, stream_with_context

from pipeline import charts
from pipeline.access import public
from pipeline.api.errors import open_to_all
from pipeline.api.params import MAX_ID
from pipeline.opendata import bp
from pipeline.services import downloads, feeds, open_data, statistics
from pipeline.services.errors import NotFound
from pipeline.services.public_data import timestamp

# Characters XML 1.0 does not allow, even escaped: a feed with one would not parse.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@bp.app_template_filter("xml_text")
def xml_text(value) -> str:
    return NOT_XML.sub("", str(value))


@bp.app_template_filter("rfc3339")
def rfc3339(value) -> str:
    return timestamp(value)


@bp.get("/data")
@public
def index():
    return render_template(
        "opendata/index.html",
        downloads=open_data.downloads(),
        record_types=open_data.RECORD_TYPES,
        licences=open_data.LICENCES,
    )


def _download(path: str) -> open_data.RecordType:
    record = open_data.record_type(path)
    if record is None or not record.columns:
        abort(404)
    return record


@bp.get("/data/<path>")
@public
def dictionary(path: str):
    record = _download(path)
    return render_template(
        "opendata/dictionary.html",
        record=record,
        columns=open_data.columns_of(record),
        licence=open_data.LICENCES[record.licence],
    )


def _stream(lines, mimetype: str, filename: str) -> Response:
    response = Response(stream_with_context(lines), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return open_to_all(response)


@bp.get("/data/<path>.csv")
@public
def download(path: str):
    record = _download(path)
    return _stream(downloads.csv_lines(record), "text/csv", f"pipeline-{record.path}.csv")


@bp.get("/data/pipeline.jsonl")
@public
def everything():
    return _stream(downloads.json_lines(), "application/x-ndjson", "pipeline.jsonl")


def _atom(load, *args):
    if any(isinstance(arg, str) and not re.fullmatch(r"[a-z0-9-]{1,200}", arg) for arg in args):
        abort(404)  # not a slug Pipeline would make
    try:
        feed = load(*args)
    except NotFound:
        abort(404)
    xml = render_template("feeds/feed.xml", feed=feed)
    return open_to_all(Response(xml, mimetype="application/atom+xml"))


@bp.get("/feeds/projects.atom")
@public
def new_projects_feed():
    return _atom(feeds.new_projects_feed)


@bp.get("/feeds/projects/<slug>.atom")
@public
def project_feed(slug: str):
    return _atom(feeds.project_feed, slug)


@bp.get("/feeds/councils/<slug>.atom")
@public
def council_feed(slug: str):
    return _atom(feeds.council_feed, slug)


@bp.get(f"/feeds/services/<int(max={MAX_ID}):lgsl_id>.atom")
@public
def service_feed(lgsl_id: int):
    return _atom(feeds.service_feed, lgsl_id)


@bp.get("/feeds/tags/<slug>.atom")
@public
def tag_feed(slug: str):
    return _atom(feeds.tag_feed, slug)


@bp.get("/dashboard")
@public
def dashboard():
    figures = statistics.figures()
    return render_template(
        "opendata/dashboard.html",
        figures=figures,
        funnel=charts.funnel(figures.phases),
        months=charts.months(figures.months),
        regions=charts.regions(figures.regions),
        services=charts.services(figures.services),
        delivery=charts.delivery(figures.pledges.totals),
        pledge_months=charts.months(figures.pledges.months, "pledge", "made"),
    )
