"""The API's query parameters: each written down once, then both documented and checked from that.

The web list forgives odd values in its URLs; the API refuses them with a 400 and says why,
so a typo in a filter is never mistaken for "no filter".
"""

import re
from dataclasses import dataclass, field

from werkzeug.datastructures import MultiDict

from pipeline.models import NATIONS, PHASES
from pipeline.services import project_lists
from pipeline.services.errors import InvalidInput
from pipeline.services.public_data import DEFAULT_PER_PAGE, MAX_PER_PAGE

MAX_PAGE = 100_000
MAX_ID = 2_147_483_647
# The web list's filters read ids of up to nine digits (ProjectFilters.from_args).
MAX_FILTER_ID = 999_999_999
SLUG = "[a-z0-9-]+"


@dataclass(frozen=True)
class Param:
    name: str
    description: str
    kind: str = "string"  # or "integer"
    choices: tuple = ()
    pattern: str = ""  # the whole value must match
    max_length: int = 200
    minimum: int = 1
    maximum: int = MAX_ID
    many: bool = False
    default: object = None
    examples: list = field(default_factory=list)

    def schema(self) -> dict:
        """JSON Schema for the OpenAPI document."""
        if self.kind == "integer":
            value = {"type": "integer", "minimum": self.minimum, "maximum": self.maximum}
        elif self.choices:
            value = {"type": "string", "enum": list(self.choices)}
        else:
            value = {"type": "string", "minLength": 1, "maxLength": self.max_length}
            if self.pattern:
                value["pattern"] = f"^{self.pattern}$"
        if self.default is not None:
            value["default"] = self.default
        if self.many:
            return {"type": "array", "items": value, "uniqueItems": False}
        return value

    def openapi(self) -> dict:
        parameter = {
            "name": self.name,
            "in": "query",
            "required": False,
            "description": self.description,
            "schema": self.schema(),
        }
        if self.many:
            parameter |= {"style": "form", "explode": True}
        if self.examples:
            parameter["example"] = self.examples if self.many else self.examples[0]
        return parameter

    def check(self, value: str) -> None:
        """Raise InvalidInput, saying what is allowed, unless the value is one."""
        if self.kind == "integer":
            if not re.fullmatch(r"[0-9]{1,10}", value) or not self.minimum <= int(value) <= self.maximum:
                raise InvalidInput(
                    f"{self.name} must be a whole number from {self.minimum} to {self.maximum:,}", field=self.name
                )
        elif self.choices:
            if value not in self.choices:
                raise InvalidInput(f"{self.name} must be one of: {', '.join(self.choices)}", field=self.name)
        elif not 0 < len(value) <= self.max_length or (self.pattern and not re.fullmatch(self.pattern, value)):
            what = "lower-case letters, digits and hyphens" if self.pattern else "characters"
            raise InvalidInput(f"{self.name} must be 1 to {self.max_length} {what}", field=self.name)


PAGE = Param("page", "Which page of the list, from 1.", kind="integer", maximum=MAX_PAGE, default=1)
PER_PAGE = Param(
    "per_page",
    f"How many items a page holds, up to {MAX_PER_PAGE}.",
    kind="integer",
    maximum=MAX_PER_PAGE,
    default=DEFAULT_PER_PAGE,
)
PAGINATION = [PAGE, PER_PAGE]


def region_param(regions: list[str]) -> Param:
    return Param("region", "Councils in this region (the nation outside England).", choices=tuple(regions))


def project_params(regions: list[str]) -> list[Param]:
    """The web list's filters (ProjectFilters), as API parameters, with their names and values unchanged."""
    return [
        Param(
            "q",
            'Words to search for, ranked by relevance: "quoted phrases" and -word work, as on the website.',
            max_length=200,
            examples=["bulky waste"],
        ),
        Param("phase", "Projects in any of these phases.", choices=PHASES, many=True, examples=["alpha", "beta"]),
        Param(
            "council",
            "Projects a council takes part in, by its slug.",
            pattern=SLUG,
            examples=["leeds-city-council"],
        ),
        Param("nation", "Projects with a council in this nation taking part.", choices=NATIONS),
        Param("region", "Projects with a council in this region taking part.", choices=tuple(regions), max_length=60),
        Param(
            "service",
            "Projects working on this LGSL service, by its id.",
            kind="integer",
            maximum=MAX_FILTER_ID,
            examples=[528],
        ),
        Param(
            "function",
            "Projects on any service in this LGFL function (or its children).",
            kind="integer",
            maximum=MAX_FILTER_ID,
        ),
        Param("tag", "Projects with this tag, by its slug.", pattern=SLUG, max_length=60),
        Param(
            "seeking",
            "Open projects asking for money, people, or both.",
            choices=tuple(project_lists.SEEKING),
            many=True,
        ),
        Param(
            "dormant",
            "Dormant projects: hidden by default, as on the website.",
            choices=tuple(project_lists.DORMANCY),
            default="hide",
        ),
        Param(
            "sort",
            "Order: recently updated (the default), best match (for a search), newest, or title A to Z.",
            choices=tuple(project_lists.SORTS),
            default="updated",
        ),
        *PAGINATION,
    ]


def council_params(regions: list[str]) -> list[Param]:
    return [
        Param("nation", "Councils in this nation.", choices=NATIONS),
        region_param(regions),
        *PAGINATION,
    ]


SERVICE_PARAMS = [
    Param("function", "Services in this LGFL function (or its children), by its id.", kind="integer"),
    *PAGINATION,
]


def read(args: MultiDict, params: list[Param]) -> dict[str, list[str]]:
    """Check a query string against the parameters an endpoint takes: unknown or bad values raise InvalidInput."""
    known = {p.name: p for p in params}
    unknown = sorted(set(args) - set(known))
    if unknown:
        allowed = ", ".join(known) if known else "none"
        raise InvalidInput(f"Unknown parameter {unknown[0]!r}: this address takes {allowed}.", field=unknown[0])
    values = {}
    for name, param in known.items():
        given = args.getlist(name)
        if len(given) > 1 and not param.many:
            raise InvalidInput(f"Give {name} once", field=name)
        for value in given:
            param.check(value)
        values[name] = given
    return values


def single(values: dict[str, list[str]], name: str, default=None):
    given = values.get(name) or []
    return given[0] if given else default


def page_and_size(values: dict[str, list[str]]) -> tuple[int, int]:
    return int(single(values, "page", 1)), int(single(values, "per_page", DEFAULT_PER_PAGE))
