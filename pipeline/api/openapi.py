"""The OpenAPI 3.1 document that describes the API: built from the same parameters, schemas and
registry the endpoints use, so the two cannot drift apart."""

from pipeline.api.params import MAX_ID, PAGINATION, SERVICE_PARAMS, Param, council_params, project_params
from pipeline.services import open_data, statistics
from pipeline.services.public_data import MAX_PER_PAGE
from pipeline.services.public_schemas import SCHEMAS, integer, list_of, record, ref, text

VERSION = "1.0.0"
EXAMPLE_COUNCIL = "leeds-city-council"
EXAMPLE_SERVICE = 528

DESCRIPTION = f"""Everything public on Pipeline, as JSON: projects, the councils taking part, the Local Government
Services List, phase changes, pledges and their ledger, updates, comments, and the figures on the dashboard.

- No sign-in and no key. Any website may read it (`Access-Control-Allow-Origin: *`).
- Read only: every address answers GET.
- Lists come a page at a time: `page` from 1, `per_page` up to {MAX_PER_PAGE}. Each page says
  the `total` and links to the `next` and `previous` pages.
- Errors are JSON with a `status` and a `message` that says what to change: 400 for a parameter
  the address does not take or a value it cannot use (a page past the end, say), 404 for
  something that does not exist.
- Times are RFC 3339 in UTC. Money is in whole pounds.
- People appear by their council, never by name or email address.
- Pipeline's data is under the Open Government Licence v3.0; council and LGSL reference data
  keep their own licences (see the open data page).
- Version 1 only ever gains fields and addresses; anything that breaks a reader goes into version 2."""

SLUG = {"type": "string", "pattern": "^[a-z0-9-]+$", "minLength": 1, "maxLength": 200}
CORS_HEADER = {
    "Access-Control-Allow-Origin": {
        "description": "Any website may read the response.",
        "schema": {"type": "string", "enum": ["*"]},
    }
}


def page_of(item: dict, description: str) -> dict:
    link = {"type": ["string", "null"], "format": "uri"}
    return record(
        {
            "items": list_of(item, description),
            "page": integer("This page's number.", minimum=1),
            "per_page": integer("Items a page holds.", minimum=1, maximum=MAX_PER_PAGE),
            "total": integer("Items in the whole list.", minimum=0),
            "pages": integer("Pages in the whole list.", minimum=1),
            "links": record(
                {
                    "self": text("This page.", format="uri"),
                    "next": {**link, "description": "The next page; null on the last."},
                    "previous": {**link, "description": "The previous page; null on the first."},
                }
            ),
        }
    )


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "headers": CORS_HEADER, "content": {"application/json": {"schema": schema}}}


def _operation(
    operation_id: str,
    tag: str,
    summary: str,
    description: str,
    schema: dict,
    params: list[Param] = (),
    path_params: list[dict] = (),
) -> dict:
    responses = {
        "200": _json(schema, summary),
        "400": _json(ref("Error"), "A parameter the address does not take, or a value it cannot use."),
    }
    if path_params:
        responses["404"] = _json(ref("Error"), "Nothing exists with that identifier.")
    return {
        "get": {
            "operationId": operation_id,
            "tags": [tag],
            "summary": summary,
            "description": description,
            "parameters": [*path_params, *(p.openapi() for p in params)],
            "responses": responses,
        }
    }


def _slug(what: str, example: str) -> dict:
    return {
        "name": "slug",
        "in": "path",
        "required": True,
        "description": f"The {what}'s slug, as in its address on the website.",
        "schema": SLUG,
        "example": example,
    }


def openapi_document(regions: list[str], example_project: str) -> dict:
    """The whole document; `example_project` is a real project's slug, so the examples work."""
    project_slug = _slug("project", example_project)
    paths = {
        "/projects": _operation(
            "listProjects",
            "Projects",
            "Projects",
            "Projects, filtered and sorted with the same parameters as the projects page on the website. "
            "As there, dormant projects are left out unless dormant is include or only.",
            page_of(ref("ProjectSummary"), "Projects on this page."),
            project_params(regions),
        ),
        "/projects/{slug}": _operation(
            "getProject",
            "Projects",
            "A project",
            "A project's whole public record: councils with their roles, services, tags, links, asks, phase "
            "history and pledge totals.",
            ref("Project"),
            path_params=[project_slug],
        ),
    }
    for collection in open_data.project_collections():
        paths[f"/projects/{{slug}}/{collection.path}"] = _operation(
            f"listProject{_camel(collection.path)}",
            "Projects",
            f"A project's {collection.label.lower()}",
            f"{collection.description} Only those of one project, newest first.",
            page_of(ref(collection.schema), f"{collection.label} on this page."),
            PAGINATION,
            path_params=[project_slug],
        )
    paths |= {
        "/councils": _operation(
            "listCouncils",
            "Councils",
            "Councils",
            "The UK principal councils, A to Z, with how many projects each takes part in.",
            page_of(ref("Council"), "Councils on this page."),
            council_params(regions),
        ),
        "/councils/{slug}": _operation(
            "getCouncil",
            "Councils",
            "A council",
            "A council and the projects it takes part in.",
            ref("CouncilDetail"),
            path_params=[_slug("council", EXAMPLE_COUNCIL)],
        ),
        "/services": _operation(
            "listServices",
            "Services",
            "LGSL services",
            "The Local Government Services List, by LGSL id, with how many projects work on each service.",
            page_of(ref("Service"), "Services on this page."),
            SERVICE_PARAMS,
        ),
        "/services/{lgsl_id}": _operation(
            "getService",
            "Services",
            "An LGSL service",
            "An LGSL service, its function, and the projects working on it.",
            ref("ServiceDetail"),
            path_params=[
                {
                    "name": "lgsl_id",
                    "in": "path",
                    "required": True,
                    "description": "The service's id in the Local Government Services List.",
                    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                    "example": EXAMPLE_SERVICE,
                }
            ],
        ),
    }
    for listed in (r for r in open_data.RECORD_TYPES if r.api_list):
        paths[f"/{listed.path}"] = _operation(
            f"list{_camel(listed.path)}",
            "Projects",
            listed.label,
            f"{listed.description} Newest first.",
            page_of(ref(listed.schema), f"{listed.label} on this page."),
            PAGINATION,
        )
    paths["/statistics"] = _operation(
        "getStatistics",
        "Statistics",
        "The dashboard's figures",
        "The figures the dashboard shows, computed the same way.",
        ref("Statistics"),
    )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Pipeline API",
            "version": VERSION,
            "description": DESCRIPTION,
            "license": {
                "name": "Open Government Licence v3.0",
                "url": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
            },
        },
        "servers": [{"url": "/api/v1"}],
        "tags": [
            {"name": "Projects", "description": "Shared problems councils are working on together."},
            {"name": "Councils", "description": "The UK principal councils."},
            {"name": "Services", "description": "The Local Government Services List (LGSL)."},
            {"name": "Statistics", "description": "Figures across every project."},
        ],
        "paths": paths,
        "components": {
            "schemas": {**SCHEMAS, "Project": open_data.project_schema(), "Statistics": statistics.FIGURES_SCHEMA},
        },
    }


def _camel(path: str) -> str:
    return "".join(part.capitalize() for part in path.split("-"))


# ---- the documentation page -----------------------------------------------------------------


def _resolve(schema: dict, components: dict) -> dict:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def type_text(schema: dict, components: dict) -> str:
    """A schema's type in words: 'text', 'whole number or null', 'one of: a, b', 'list of objects'."""
    schema = _resolve(schema, components)
    types = schema.get("type", "object")
    types = types if isinstance(types, list) else [types]
    words = []
    for kind in types:
        if kind == "array":
            words.append("list of " + _plural_type(type_text(schema.get("items", {}), components)))
        elif kind == "string" and schema.get("enum"):
            words.append("one of: " + ", ".join(str(v) for v in schema["enum"] if v is not None))
        elif kind == "string" and schema.get("format") in FORMATS:
            words.append(FORMATS[schema["format"]])
        elif kind != "null" or len(types) == 1:
            words.append(TYPES.get(kind, kind))
    if "null" in types and len(types) > 1:
        words.append("null")
    return " or ".join(words)


TYPES = {"string": "text", "integer": "whole number", "boolean": "true or false", "object": "object", "null": "null"}
FORMATS = {"date-time": "date and time", "date": "date", "uri": "web address"}


def _plural_type(text: str) -> str:
    return {"text": "text", "whole number": "whole numbers", "object": "objects"}.get(text, text)


def fields(schema: dict, components: dict, prefix: str = "", depth: int = 0) -> list[tuple[str, str, str]]:
    """Every field of a response, flattened: ('items[].councils[].role', 'one of: lead, ...', 'The council's role.')."""
    schema = _resolve(schema, components)
    rows = []
    for name, prop in schema.get("properties", {}).items():
        path = f"{prefix}{name}"
        resolved = _resolve(prop, components)
        rows.append((path, type_text(prop, components), resolved.get("description", "")))
        if depth >= 4:  # a function's parent's parent: deep enough
            continue
        if "properties" in resolved:
            rows += fields(resolved, components, f"{path}.", depth + 1)
        elif "array" in _types(resolved):
            rows += fields(resolved.get("items", {}), components, f"{path}[].", depth + 1)
    return rows


def _types(schema: dict) -> list:
    kind = schema.get("type", "object")
    return kind if isinstance(kind, list) else [kind]


def example_url(base: str, path: str, operation: dict) -> str:
    """The operation's address with its example values filled in."""
    for parameter in operation["parameters"]:
        if parameter["in"] == "path":
            path = path.replace("{" + parameter["name"] + "}", str(parameter["example"]))
    return base + path


def operations(document: dict, base: str) -> list[dict]:
    """What the documentation page shows for each operation, in the document's order."""
    components = document["components"]["schemas"]
    found = []
    for path, methods in document["paths"].items():
        operation = methods["get"]
        found.append(
            {
                "id": operation["operationId"],
                "tag": operation["tags"][0],
                "summary": operation["summary"],
                "description": operation["description"],
                "path": base + path,
                "example_url": example_url(base, path, operation),
                "parameters": [
                    {
                        "name": p["name"],
                        "in": "path" if p["in"] == "path" else "query",
                        "type": type_text(p["schema"], components),
                        "description": p["description"],
                    }
                    for p in operation["parameters"]
                ],
                "responses": [(code, r["description"]) for code, r in operation["responses"].items()],
                "fields": fields(operation["responses"]["200"]["content"]["application/json"]["schema"], components),
            }
        )
    return found
