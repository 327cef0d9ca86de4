"""The registry of what Pipeline publishes as open data, in one place.

The API, the CSV downloads, the JSON Lines file, the feeds and the dashboard read these
lists rather than naming each kind of record, so a new kind of record is published by
adding an entry here:

- `RECORD_TYPES`: a kind of public record. Each is in the JSON Lines file; with `columns`
  it is also a CSV download with a data dictionary; with `project_column` it is listed per
  project at /api/v1/projects/{slug}/{path}; with `api_list` it is listed at /api/v1/{path}.
- `PROJECT_FIELDS`: a figure added to each project's whole record (pledge totals, say):
  in the API's project detail, the JSON Lines file and, with `columns`, the projects CSV.
- `FEED_HIDDEN_KINDS` and `FEED_HIDDEN_SUBJECTS`: activity the feeds leave out. Feeds show
  every other activity kind, so new kinds appear in them with no feed code change.
- `FEED_ANCHORS`: the page (and place on it) a feed entry about a kind of subject links to.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from pipeline.models import Comment, Council, PhaseChange, Pledge, PledgeEvent, Project, ProjectUpdate, Service
from pipeline.services import comments, pledges, public_data, public_schemas, updates
from pipeline.services.pledges import Totals
from pipeline.services.projects import is_dormant
from pipeline.services.public_data import timestamp

LICENCES = {
    "ogl": {
        "name": "Open Government Licence v3.0",
        "url": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
        "attribution": "Contains public sector information from Pipeline licensed under the Open Government "
        "Licence v3.0.",
    },
    "councils": {
        "name": "Creative Commons Attribution 4.0 (CC BY 4.0) and the Open Government Licence v3.0",
        "url": "https://creativecommons.org/licenses/by/4.0/",
        "attribution": "Contains data from mySociety's UK Local Authority Names and Codes (CC BY 4.0) and public "
        "sector information from GOV.UK (Local Links Manager) licensed under the Open Government Licence v3.0. "
        "Project counts are Pipeline's, under the Open Government Licence v3.0.",
    },
    "lgsl": {
        "name": "Open Government Licence v3.0",
        "url": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
        "attribution": "Contains Local Government Services List and Local Government Functions List data from the "
        "esd-toolkit programme (LG Inform Plus), licensed under the Open Government Licence v3.0.",
    },
}


@dataclass(frozen=True)
class Column:
    """A CSV column and its entry in the data dictionary."""

    name: str
    type: str
    meaning: str
    example: str


def _text(name: str, meaning: str, example: str) -> Column:
    return Column(name, "Text", meaning, example)


def _code(name: str, meaning: str, example: str) -> Column:
    return Column(name, "Text (a fixed code)", meaning, example)


def _number(name: str, meaning: str, example: str) -> Column:
    return Column(name, "Whole number", meaning, example)


def _moment(name: str, meaning: str, example: str = "2027-03-01T09:30:00Z") -> Column:
    return Column(name, "Date and time (RFC 3339, UTC)", meaning, example)


def _list(name: str, meaning: str, example: str) -> Column:
    return Column(name, "List of text, separated by '; '", meaning, example)


LIST_SEPARATOR = "; "


@dataclass(frozen=True)
class RecordType:
    """A kind of public record, and each place open data publishes it."""

    name: str  # "phase_change": the record's "type" in the JSON Lines file
    path: str  # "phase-changes": its segment in addresses (/data/phase-changes.csv, /api/v1/phase-changes)
    label: str  # "Phase changes"
    description: str  # one sentence for the downloads page and the API documentation
    licence: str  # a key of LICENCES
    query: Callable[[], Any]  # a select() of every public row, with its loader options, not ordered
    id_column: Any  # the row's key: lists are newest first by it, exports read in batches by it
    to_public: Callable[[list], list[dict]]  # rows -> public records, in a fixed number of statements
    schema: str = ""  # the record's schema name in the OpenAPI document (per-project and global lists)
    project_column: Any = None  # set: listed per project at /api/v1/projects/{slug}/{path}
    api_list: bool = False  # listed at /api/v1/{path}
    columns: tuple[Column, ...] = ()  # a CSV download, with a data dictionary page
    to_csv: Callable[[list], list[list]] | None = None  # rows -> CSV rows, in the order of `columns`


@dataclass(frozen=True)
class ProjectField:
    """A figure added to each project's whole record, like pledge totals."""

    name: str
    schema: dict  # JSON Schema of the value
    load: Callable[[list[int]], dict[int, Any]]  # project ids -> values, in a fixed number of statements
    default: Any = None  # the value for a project `load` left out
    columns: tuple[Column, ...] = ()  # extra columns in the projects CSV
    to_csv: Callable[[Any], list] = field(default=lambda value: [])  # the value -> cells for `columns`


# ---- projects -------------------------------------------------------------------------------

PLEDGE_TOTAL_COLUMNS = (
    _number("pledge_count", "Pledges that count: offered, accepted or delivered (not withdrawn or declined).", "3"),
    _number("money_pledged", "Money pledged, in whole pounds.", "15000"),
    _number("money_delivered", "Money delivered, in whole pounds (part of money_pledged).", "5000"),
    _number("people_days_pledged", "Days of people's time pledged.", "30"),
    _number("people_days_delivered", "Days of people's time delivered (part of people_days_pledged).", "10"),
    _number("skill_hours_pledged", "Hours of skills pledged.", "12"),
    _number("skill_hours_delivered", "Hours of skills delivered (part of skill_hours_pledged).", "0"),
)


def _pledge_totals(project_ids: list[int]) -> dict[int, dict]:
    return {pid: public_data.pledge_totals(t) for pid, t in pledges.totals_by_project(project_ids).items()}


# Figures added to each project's whole record, each read for a page of projects at once.
PROJECT_FIELDS: list[ProjectField] = [
    ProjectField(
        "pledge_totals",
        public_schemas.PLEDGE_TOTALS,
        load=_pledge_totals,
        default=public_data.pledge_totals(Totals()),
        columns=PLEDGE_TOTAL_COLUMNS,
        to_csv=lambda totals: [totals["count"], *(totals[c.name] for c in PLEDGE_TOTAL_COLUMNS[1:])],
    ),
]

PROJECT_COLUMNS = (
    _number("id", "Pipeline's number for the project; never reused.", "12"),
    _code("slug", "The project's identifier in its address: /projects/{slug}. Never changes.", "bulky-waste-booking"),
    _text("title", "The project's title.", "Book a bulky waste collection online"),
    _text("summary", "One-line summary.", "Residents book and pay without phoning"),
    _code("phase", "Phase now: idea, discovery, alpha, beta, live, retired or stopped.", "discovery"),
    Column("dormant", "true or false", "An open project with no update, phase change or check-in in 90 days.", "false"),
    _code("lead_council_code", "Three-letter code of the council leading the project.", "LDS"),
    _text("lead_council_name", "Name of the council leading the project.", "Leeds City Council"),
    _list("partner_council_codes", "Codes of the other councils taking part.", "BIR; MAN"),
    _list("partner_council_names", "Names of the other councils taking part.", "Birmingham City Council; Manchester"),
    _list("lgsl_ids", "Local Government Services List ids of the services the project works on.", "528; 524"),
    _list("service_labels", "LGSL labels of those services, in the same order.", "Bulky household waste collections"),
    _list("tags", "Free tags, A to Z.", "online payments; waste"),
    Column("money_target", "Whole number (pounds), or empty", "Money the project asks for; empty if none.", "25000"),
    _number("people_days_needed", "Days of people's time the project asks for, all roles added up.", "30"),
    _list("people_roles_needed", "The roles the project asks for.", "User researcher; Developer"),
    _text("problem", "The problem the project is trying to solve.", "Residents phone us to book collections."),
    _text("description", "About the project (Markdown).", "We have **two** ideas."),
    _text("outcome", "Outcome, once stopped or retired.", "Adopted by three councils"),
    _text("lessons", "Lessons learnt, once stopped or retired.", "Start with the booking data"),
    _moment("created_at", "When the project was posted."),
    _moment("updated_at", "When the project last changed."),
    _moment("active_at", "The project's last sign of life: an update, phase change or check-in."),
    Column("url", "Web address", "The project's page.", "https://pipeline.example/projects/bulky-waste-booking"),
)


def _projects_query():
    return select(Project).options(*public_data.project_options(detail=True))


def _project_csv_rows(projects: list[Project]) -> list[list]:
    extras = {f.name: f.load([p.id for p in projects]) for f in PROJECT_FIELDS}
    rows = []
    for p in projects:
        partners = [c for c in public_data.taking_part(p) if c.role != "lead"]
        row = [
            p.id,
            p.slug,
            p.title,
            p.summary,
            p.phase,
            "true" if is_dormant(p) else "false",
            p.lead_council.code,
            p.lead_council.name,
            LIST_SEPARATOR.join(c.council.code for c in partners),
            LIST_SEPARATOR.join(c.council.name for c in partners),
            LIST_SEPARATOR.join(str(s.id) for s in p.services),
            LIST_SEPARATOR.join(s.label for s in p.services),
            LIST_SEPARATOR.join(t.name for t in p.tags),
            p.money_target,
            sum(n.days for n in p.people_needs),
            LIST_SEPARATOR.join(n.role for n in p.people_needs),
            p.problem,
            p.description,
            p.outcome,
            p.lessons,
            timestamp(p.created_at),
            timestamp(p.updated_at),
            timestamp(p.active_at),
            public_data.absolute_url("projects.show", slug=p.slug),
        ]
        for f in PROJECT_FIELDS:
            row += f.to_csv(extras[f.name].get(p.id, f.default))
        rows.append(row)
    return rows


# ---- councils -------------------------------------------------------------------------------

COUNCIL_COLUMNS = (
    _code("code", "Three-letter local authority code.", "LDS"),
    _code("gss_code", "ONS Government Statistical Service code; empty if none.", "E08000035"),
    _text("name", "The council's name.", "Leeds City Council"),
    _code("slug", "The council's identifier in its address: /councils/{slug}.", "leeds-city-council"),
    _text("type", "The kind of council.", "Metropolitan district"),
    _text("nation", "England, Scotland, Wales or Northern Ireland.", "England"),
    _text("region", "Region in England (ITL1); the nation elsewhere.", "Yorkshire and The Humber"),
    _text("website_domain", "The council's website domain.", "leeds.gov.uk"),
    _number("project_count", "How many projects the council takes part in (lead, partner or observer).", "3"),
    Column("url", "Web address", "The council's page.", "https://pipeline.example/councils/leeds-city-council"),
)


def _council_csv_rows(councils: list[Council]) -> list[list]:
    counts = public_data.council_project_counts(c.id for c in councils)
    return [
        [
            c.code,
            c.gss_code,
            c.name,
            c.slug,
            c.type,
            c.nation,
            c.region,
            c.website_domain,
            counts.get(c.id, 0),
            public_data.absolute_url("councils.show", slug=c.slug),
        ]
        for c in councils
    ]


# ---- phase changes --------------------------------------------------------------------------

PHASE_CHANGE_COLUMNS = (
    _number("id", "Pipeline's number for the phase change.", "40"),
    _number("project_id", "The project's number (the id column of the projects file).", "12"),
    _code("project_slug", "The project's identifier in its address.", "bulky-waste-booking"),
    _text("project_title", "The project's title now.", "Book a bulky waste collection online"),
    _code("from_phase", "Phase before; empty for the phase a project was posted in.", "discovery"),
    _code("to_phase", "Phase after.", "alpha"),
    _text("note", "Why the phase changed, as the team wrote it.", "Discovery showed demand."),
    _text("evidence_url", "A link to evidence for the change; empty if none.", "https://example.org/assessment"),
    _moment("changed_at", "When the phase changed."),
)


def _phase_change_csv_rows(changes: list[PhaseChange]) -> list[list]:
    return [
        [
            c.id,
            c.project_id,
            c.project.slug,
            c.project.title,
            c.from_phase,
            c.to_phase,
            c.note,
            c.evidence_url,
            timestamp(c.changed_at),
        ]
        for c in changes
    ]


# ---- pledges ---------------------------------------------------------------------------------

PLEDGE_COLUMNS = (
    _number("id", "Pipeline's number for the pledge.", "31"),
    _number("project_id", "The project's number (the id column of the projects file).", "12"),
    _code("project_slug", "The project's identifier in its address.", "bulky-waste-booking"),
    _text("project_title", "The project's title now.", "Book a bulky waste collection online"),
    _code("council_code", "Three-letter code of the council that pledged.", "BIR"),
    _text("council_name", "Name of the council that pledged.", "Birmingham City Council"),
    _code("kind", "What is pledged: money, people or skills.", "people"),
    _code("state", "Where the pledge stands: offered, accepted, delivered, withdrawn or declined.", "accepted"),
    _text("description", "The pledge in a few words, as the ledger shows it.", "User researcher, 10 days"),
    Column("amount", "Whole number (pounds), or empty", "Money pledged; empty unless the kind is money.", "5000"),
    _text("role", "The role of the people pledged; empty unless the kind is people.", "User researcher"),
    Column("days", "Whole number, or empty", "Days of people's time; empty unless the kind is people.", "10"),
    _text("skill", "The skill pledged; empty unless the kind is skills.", "Accessibility testing"),
    Column("hours", "Whole number, or empty", "Hours of the skill; empty unless the kind is skills.", "12"),
    Column("start_date", "Date (YYYY-MM-DD), or empty", "People: from, if given.", "2027-03-01"),
    Column("end_date", "Date (YYYY-MM-DD), or empty", "People: to, if given.", "2027-04-30"),
    _text("note", "The note the council gave with its offer.", "Sam can start in March."),
    _moment("created_at", "When the pledge was offered."),
    _moment("updated_at", "When the pledge last changed (accepted, delivered, changed, ...)."),
    Column(
        "url",
        "Web address",
        "The pledge on the project's public ledger, with every change to it.",
        "https://pipeline.example/projects/bulky-waste-booking/pledges#pledge-31",
    ),
)


def _pledge_csv_rows(rows: list[Pledge]) -> list[list]:
    return [
        [
            p["id"],
            p["project"]["id"],
            p["project"]["slug"],
            p["project"]["title"],
            p["council"]["code"],
            p["council"]["name"],
            p["kind"],
            p["state"],
            p["description"],
            p["amount"],
            p["role"],
            p["days"],
            p["skill"],
            p["hours"],
            p["start_date"],
            p["end_date"],
            p["note"],
            p["created_at"],
            p["updated_at"],
            p["url"],
        ]
        for p in public_data.pledge_records(rows)
    ]


# ---- the registry ---------------------------------------------------------------------------

RECORD_TYPES: list[RecordType] = [
    RecordType(
        name="project",
        path="projects",
        label="Projects",
        description="Every project: its councils, services, tags, asks, phase and outcome.",
        licence="ogl",
        query=_projects_query,
        id_column=Project.id,
        to_public=public_data.project_details,
        columns=PROJECT_COLUMNS,
        to_csv=_project_csv_rows,
    ),
    RecordType(
        name="phase_change",
        path="phase-changes",
        label="Phase changes",
        description="Every step on every project's timeline: from, to, when, why and the evidence.",
        licence="ogl",
        query=lambda: select(PhaseChange).options(selectinload(PhaseChange.project)),
        id_column=PhaseChange.id,
        to_public=public_data.phase_change_records,
        schema="PhaseChange",
        project_column=PhaseChange.project_id,
        api_list=True,
        columns=PHASE_CHANGE_COLUMNS,
        to_csv=_phase_change_csv_rows,
    ),
    RecordType(
        name="pledge",
        path="pledges",
        label="Pledges",
        description="Every council's pledge of money, people or skills to a project, and where it stands now.",
        licence="ogl",
        query=lambda: select(Pledge).options(*public_data.PLEDGE_OPTIONS),
        id_column=Pledge.id,
        to_public=public_data.pledge_records,
        schema="Pledge",
        project_column=Pledge.project_id,
        api_list=True,
        columns=PLEDGE_COLUMNS,
        to_csv=_pledge_csv_rows,
    ),
    RecordType(
        name="pledge_event",
        path="pledge-events",
        label="Pledge ledger",
        description="Every entry in a project's pledge ledger: each offer, change, acceptance, decline, "
        "delivery and withdrawal, with when and why.",
        licence="ogl",
        query=lambda: select(PledgeEvent).options(*public_data.PLEDGE_EVENT_OPTIONS),
        id_column=PledgeEvent.id,
        to_public=public_data.pledge_event_records,
        schema="PledgeEvent",
        project_column=PledgeEvent.project_id,
    ),
    RecordType(
        name="update",
        path="updates",
        label="Updates",
        description="Every update projects' teams have posted: weeknotes, show and tells and decisions.",
        licence="ogl",
        query=lambda: select(ProjectUpdate).where(updates.public_condition()),
        id_column=ProjectUpdate.id,
        to_public=public_data.update_records,
        schema="Update",
        project_column=ProjectUpdate.project_id,
        api_list=True,
    ),
    RecordType(
        name="comment",
        path="comments",
        label="Comments",
        description="Every comment and reply on projects. A comment its author deleted is only a marker, "
        "with no text and no author, as on the project's page.",
        licence="ogl",
        query=lambda: select(Comment),
        id_column=Comment.id,
        to_public=public_data.comment_records,
        schema="Comment",
        project_column=Comment.project_id,
        api_list=True,
    ),
    RecordType(
        name="council",
        path="councils",
        label="Councils",
        description="The UK principal councils, with how many projects each takes part in.",
        licence="councils",
        query=lambda: select(Council),
        id_column=Council.id,
        to_public=public_data.council_records,
        columns=COUNCIL_COLUMNS,
        to_csv=_council_csv_rows,
    ),
    RecordType(
        name="service",
        path="services",
        label="LGSL services",
        description="The Local Government Services List, with how many projects work on each service.",
        licence="lgsl",
        query=lambda: select(Service).options(*public_data.SERVICE_OPTIONS),
        id_column=Service.id,
        to_public=public_data.service_records,
    ),
]


def record_type(path: str) -> RecordType | None:
    return next((r for r in RECORD_TYPES if r.path == path), None)


def downloads() -> list[RecordType]:
    """Record types published as CSV files."""
    return [r for r in RECORD_TYPES if r.columns]


def project_collections() -> list[RecordType]:
    """Record types listed per project in the API."""
    return [r for r in RECORD_TYPES if r.project_column is not None]


def project_schema() -> dict:
    return public_schemas.project_detail_schema({f.name: f.schema for f in PROJECT_FIELDS})


def project_columns() -> tuple[Column, ...]:
    return PROJECT_COLUMNS + tuple(c for f in PROJECT_FIELDS for c in f.columns)


def columns_of(record: RecordType) -> tuple[Column, ...]:
    return project_columns() if record.name == "project" else record.columns


# ---- feeds ----------------------------------------------------------------------------------

# Activity kinds no feed shows: a request to join is between the officer and the team until it is accepted.
FEED_HIDDEN_KINDS = {"join_requested"}

# subject_type -> function(subject ids) -> the ids no longer public, so feeds leave their activities out.
# Deleted and hidden comments, and hidden updates: the rule lives in the comments and updates services.
FEED_HIDDEN_SUBJECTS: dict[str, Callable[[Iterable[int]], set[int]]] = {
    "comment": comments.not_public_ids,
    "update": updates.not_public_ids,
}


@dataclass(frozen=True)
class FeedLink:
    """The page a feed entry about a kind of subject links to: a page of its project, perhaps at an anchor."""

    endpoint: str = "projects.show"  # takes the project's slug
    anchor: str = ""  # formatted with the subject's id: "pledge-{id}"
    id_argument: str = ""  # the endpoint's argument that takes the subject's id, if it has one


# subject_type -> where an activity's entry links; any other activity links to its project's page.
FEED_ANCHORS = {
    "phase_change": FeedLink(anchor="timeline"),
    "pledge": FeedLink("pledges.ledger", anchor="pledge-{id}"),
    "update": FeedLink("conversation.update", id_argument="update_id"),
    "comment": FeedLink("conversation.thread", id_argument="comment_id"),
}
