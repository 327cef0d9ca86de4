"""Lists of projects: the filters people share as URLs, council and service pages, the home page."""

import re
from array import array
from collections import defaultdict
from dataclasses import dataclass, field, fields
from datetime import datetime
from functools import cached_property, lru_cache
from math import ceil

from sqlalchemy import (
    Integer,
    Select,
    Text,
    any_,
    case,
    cast,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict

from pipeline.database import MOST_PROJECTS_LOGGED, kept_counts, wrote_to_lists
from pipeline.extensions import db
from pipeline.models import (
    ACTIVE_PHASES,
    NATIONS,
    PHASES,
    Council,
    Function,
    ListingChange,
    ListingVersion,
    PeopleNeed,
    Project,
    ProjectCouncil,
    ProjectService,
    ProjectTag,
    Service,
    Tag,
)
from pipeline.models.project import PHASE_LABELS
from pipeline.services import search
from pipeline.services.projects import dormant_before, listed, not_dormant

PER_PAGE = 20
# Most of what can be typed into a URL, before the search's own (shorter) limit cuts it with a message.
MAX_Q_LENGTH = 1000
SORTS = {"relevance": "Best match", "updated": "Recently updated", "newest": "Newest", "title": "Title A to Z"}
DORMANCY = {"hide": "Hide dormant projects", "include": "Include dormant projects", "only": "Only dormant projects"}
SEEKING = {"money": "Seeking money", "people": "Seeking people"}
FACETS = ("phase", "nation", "region", "function")
# A list of this many projects or fewer is read by their ids, worked out from what the process keeps for the facet
# counts (`Facets.ids`), rather than by its filters, which the database would check on project after project. A search
# with no filter is read by its ids only when it finds fewer, as the full-text index gives its newest matches in
# order: measured on PostgreSQL at 100,000 projects, a word found in 1,000 projects is read in half the time by their
# ids, one found in 5,000 a little more slowly. SQLite reads a search's page no more quickly by ids
# (`SqliteSearch.pages_by_ids`) unless they all fit in the ranking window (`_names_few`).
FEW_TO_NAME = 5_000
FEW_FOUND_TO_NAME = 2_000
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def _text(value: str | None, limit: int) -> str:
    """A URL value as text the database accepts: no control characters (PostgreSQL refuses NUL)."""
    return " ".join(CONTROL_CHARACTERS.sub(" ", value or "").split())[:limit]


@dataclass
class ProjectFilters:
    """What a projects list is searched for, filtered and sorted by; every value comes from and goes back to the URL."""

    q: str = ""
    phase: list[str] = field(default_factory=list)
    council: str = ""
    nation: str = ""
    region: str = ""
    service: int | None = None
    function: int | None = None
    tag: str = ""
    seeking: list[str] = field(default_factory=list)
    dormant: str = "hide"
    sort: str = "updated"
    page: int = 1

    @classmethod
    def from_args(cls, args: MultiDict) -> "ProjectFilters":
        """Read filters from a query string, ignoring values that make no sense rather than failing."""

        def number(name: str) -> int | None:
            value = args.get(name, "").strip()
            return int(value) if value.isdigit() and len(value) < 10 else None

        q = _text(args.get("q"), MAX_Q_LENGTH)
        sort = args.get("sort") if args.get("sort") in SORTS else ""
        if not sort or (sort == "relevance" and search.parse_query(q).empty):
            sort = default_sort(q)
        return cls(
            q=q,
            phase=[p for p in args.getlist("phase") if p in PHASES],
            council=_text(args.get("council"), 200),
            nation=args.get("nation", "") if args.get("nation") in NATIONS else "",
            region=_text(args.get("region"), 60),
            service=number("service"),
            function=number("function"),
            tag=_text(args.get("tag"), 60),
            seeking=[s for s in args.getlist("seeking") if s in SEEKING],
            dormant=args.get("dormant") if args.get("dormant") in DORMANCY else "hide",
            sort=sort,
            page=max(1, min(number("page") or 1, 100_000)),
        )

    def to_args(self, **changes) -> dict:
        """The filters as URL arguments (defaults left out), with some changed."""
        values = {f.name: getattr(self, f.name) for f in fields(self)} | changes
        defaults = ProjectFilters(sort=default_sort(values["q"]))
        return {k: v for k, v in values.items() if v not in (None, "", []) and v != getattr(defaults, k)}

    @cached_property
    def text_query(self) -> search.TextQuery:
        return search.parse_query(self.q)

    @property
    def active(self) -> bool:
        """Whether anything narrows the list: a search or a filter."""
        return bool(self.to_args(page=1, sort=default_sort(self.q)))

    @property
    def filtered(self) -> bool:
        """Whether a filter (not the search) narrows the list."""
        return bool(self.to_args(page=1, sort=default_sort(""), q=""))

    def counted_by(self) -> tuple:
        """What the facet counts depend on: every filter and the search as parsed, not the page or the order."""
        values = [self.text_query.clauses]
        for f in fields(self):
            if f.name not in ("q", "page", "sort"):
                value = getattr(self, f.name)
                values.append(tuple(value) if isinstance(value, list) else value)
        return tuple(values)

    def matched_by(self) -> tuple:
        """Which projects the facets count, apart from the facets' own filters and dormancy: the search as parsed
        and the other filters."""
        return (self.text_query.clauses, self.council, self.service, self.tag, tuple(self.seeking))

    @property
    def ranked(self) -> bool:
        return self.sort == "relevance" and not self.text_query.empty


def default_sort(q: str) -> str:
    """Best match when there is something to search for, otherwise the most recently updated first."""
    return "updated" if search.parse_query(q).empty else "relevance"


@dataclass
class Page:
    items: list[Project]
    total: int
    page: int
    per_page: int
    # For a search: each project's best-matching text, highlighted.
    hits: dict[int, search.Hit] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))


def _conditions(
    filters: ProjectFilters, skip: frozenset[str] | set[str] = frozenset(), among: list[int] | None = None
) -> list:
    """The WHERE conditions for the filters, leaving out those named in `skip` (for facet counts); only among
    these projects, if given."""
    conditions = [listed()] if among is None else [listed(), Project.id.in_(among)]
    if "text" not in skip and not filters.text_query.empty:
        conditions.append(Project.id.in_(search.engine().project_ids(filters.text_query, among=among)))
    if filters.phase and "phase" not in skip:
        conditions.append(Project.phase.in_(filters.phase))
    taking_part = ProjectCouncil.state != "requested"
    if filters.council:
        conditions.append(
            exists().where(
                ProjectCouncil.project_id == Project.id,
                taking_part,
                ProjectCouncil.council_id
                == select(Council.id).where(Council.slug == filters.council).scalar_subquery(),
            )
        )
    place = [Council.nation == filters.nation] if filters.nation and "nation" not in skip else []
    place += [Council.region == filters.region] if filters.region and "region" not in skip else []
    if place:
        conditions.append(
            exists()
            .where(ProjectCouncil.project_id == Project.id, taking_part, ProjectCouncil.council_id == Council.id)
            .where(*place)
        )
    if filters.service:
        conditions.append(
            exists().where(ProjectService.project_id == Project.id, ProjectService.service_id == filters.service)
        )
    if filters.function and "function" not in skip:
        in_function = select(Service.id).join(Function, Service.function_id == Function.id, isouter=True)
        in_function = in_function.where(or_(Function.id == filters.function, Function.parent_id == filters.function))
        conditions.append(
            exists().where(ProjectService.project_id == Project.id, ProjectService.service_id.in_(in_function))
        )
    if filters.tag:
        conditions.append(
            exists().where(
                ProjectTag.project_id == Project.id,
                ProjectTag.tag_id == select(Tag.id).where(Tag.slug == filters.tag).scalar_subquery(),
            )
        )
    if "money" in filters.seeking:
        conditions += [Project.money_target > 0, Project.phase.in_(ACTIVE_PHASES)]
    if "people" in filters.seeking:
        conditions += [exists().where(PeopleNeed.project_id == Project.id), Project.phase.in_(ACTIVE_PHASES)]
    if filters.dormant == "hide" and "dormant" not in skip:
        conditions.append(not_dormant())
    elif filters.dormant == "only" and "dormant" not in skip:
        conditions.append(~not_dormant())
    return conditions


def _filtered(filters: ProjectFilters, skip: frozenset[str] | set[str] = frozenset()):
    return select(Project).where(*_conditions(filters, skip))


# Each order leads with merged_into_id, which every listed project has empty, so it changes nothing but tells the
# database that an index of it and the order (ix_projects_listed_by_*) gives the listed projects in order.
ORDER = {
    "updated": (Project.merged_into_id.desc(), Project.updated_at.desc(), Project.id.desc()),
    "newest": (Project.merged_into_id.desc(), Project.created_at.desc(), Project.id.desc()),
    "title": (Project.merged_into_id, Project.title, Project.id),
}


def card_options():
    """What a project card shows, loaded in a fixed number of statements for the whole list."""
    return (selectinload(Project.councils).selectinload(ProjectCouncil.council),)


def list_projects(filters: ProjectFilters, per_page: int = PER_PAGE, counted: "Facets | None" = None) -> Page:
    """One page of projects matching the search and filters, with the total and, for a search, highlights.

    Always the same statements for a page, however many rows: the total (unless the caller has counted it, with
    `facet_counts`), the page, its cards' councils, and for a search the highlights. When the counts name the few
    projects that pass (`Facets.ids`), the page is read by their ids instead of by the filters.
    """
    if counted is None:
        total = db.session.scalar(select(func.count(Project.id)).where(*_conditions(filters)))
    else:
        total = counted.total
    if counted is not None and counted.ids is not None:
        conditions = [_one_of(Project.id, counted.ids)]
    else:
        conditions = _conditions(filters, skip={"text"} if filters.ranked else frozenset())
    offset = (filters.page - 1) * per_page
    if filters.ranked:
        items = _best_matches(filters, conditions, per_page, offset, counted)
    else:
        query = select(Project).where(*conditions).order_by(*ORDER.get(filters.sort, ORDER["updated"]))
        items = list(db.session.scalars(query.options(*card_options()).limit(per_page).offset(offset)))
    highlights = search.best_hits(filters.text_query, [project.id for project in items])
    return Page(items, total, filters.page, per_page, highlights)


def _one_of(column, ids: array):
    """The condition that a column is one of these ids, as one bound text however many there are, which the
    database reads as an array: the driver would adapt a list of numbers one by one (5 ms for 4,000 on PostgreSQL)."""
    listed = ",".join(map(str, ids))
    if db.engine.dialect.name == "postgresql":
        return column == any_(cast(literal("{" + listed + "}", Text), ARRAY(Integer)))
    each = func.json_each(literal("[" + listed + "]", Text)).table_valued("value")
    return column.in_(select(each.c.value))


def _best_matches(
    filters: ProjectFilters, conditions: list, per_page: int, offset: int, counted: "Facets | None" = None
) -> list[Project]:
    """A page of a search sorted by best match, among the projects that pass the conditions: by score within the
    ranking window, then in the cheap order (see `search.RANK_WINDOW`). The window is whole pages, so no page is
    part scored and part not.

    Where the counts know the first projects of the cheap order (`_first_known`), the window, or a page past it,
    is read by their ids. Otherwise the database walks the matches in the cheap order (`search.first_order`),
    which reads every match of a common word when few pass the filters."""
    query = filters.text_query
    window_size = ceil(search.RANK_WINDOW / per_page) * per_page
    first = _first_known(counted, window_size, offset + per_page)
    if first is not None and offset + per_page > window_size:
        shown = first[offset : offset + per_page]
        found = db.session.scalars(select(Project).where(_one_of(Project.id, shown)).options(*card_options()))
        by_id = {project.id: project for project in found}
        return [by_id[project_id] for project_id in shown if project_id in by_id]  # one deleted since is gone
    if offset + per_page <= window_size:
        if first is not None:
            window = select(Project.id.label("project_id")).where(_one_of(Project.id, first)).cte("window")
        else:
            window = search.first_order(query, conditions, window_size).cte("window")
        scores = search.engine().window_scores(query, window).subquery("scores")
        ordered = (
            select(Project)
            .join(scores, scores.c.project_id == Project.id)
            .order_by(scores.c.score.desc(), *ORDER["updated"])
        )
    else:
        window = search.first_order(query, conditions, offset + per_page).subquery("window")
        ordered = (
            select(Project)
            .join(window, window.c.project_id == Project.id)
            .order_by(window.c.in_title.desc(), Project.id.desc())
        )
    return list(db.session.scalars(ordered.options(*card_options()).limit(per_page).offset(offset)))


def _first_known(counted: "Facets | None", window_size: int, size: int) -> array | None:
    """The first projects of a search's cheap order (`search.first_order`), as many as the window or `size` if more,
    where the counts know them; None where they do not.

    Read from the masks the counts keep (`Facets.in_title`): those that pass with the words in their own title,
    newest first, then the others that pass, newest first. Or, where the counts name every project that passes
    and they all fit in the window, simply them: the window is all there is, and the order only chooses what goes
    in it."""
    if counted is None:
        return None
    if counted.in_title is not None:
        size = max(window_size, size)
        first = _newest(counted.in_title, size)
        return first + _newest(counted.passing & ~counted.in_title, size - len(first)) if len(first) < size else first
    if counted.ids is not None and len(counted.ids) <= window_size:
        return counted.ids
    return None


@dataclass
class Facets:
    """How many projects each value of a filter would give, with the search and the other filters applied."""

    phase: dict[str, int]
    nation: dict[str, int]
    region: dict[str, int]
    function: dict[int, int]
    # How many projects pass every filter: the list's total, without counting again.
    total: int = 0
    # The ids of the projects that pass every filter, newest first, when few do (`_names_few`) and they were worked
    # out from what the process keeps (`facet_counts`); None otherwise.
    ids: array | None = field(default=None, compare=False)
    # For a search (with no filter but the facets) whose matches the process keeps (`facet_counts`): the masks
    # (`search.mask_of`) of the projects that pass every filter and of those of them with the words in their own
    # title, from which a page sorted by best match reads the cheap order (`_first_known`); None otherwise.
    passing: int | None = field(default=None, compare=False)
    in_title: int | None = field(default=None, compare=False)

    @classmethod
    def none(cls) -> "Facets":
        """No projects counted: every phase and nation at nought."""
        return cls(phase=dict.fromkeys(PHASES, 0), nation=dict.fromkeys(NATIONS, 0), region={}, function={})

    def copy(self) -> "Facets":
        # The ids and masks are never changed, only replaced, so the copy shares them.
        counts = (dict(self.phase), dict(self.nation), dict(self.region), dict(self.function))
        return Facets(*counts, self.total, self.ids, self.passing, self.in_title)


# Every project, in a mask: all bits set, so that a mask ANDed with it is the mask itself (no filter).
EVERY = -1
# How many of a mask's bits `_newest` reads at a time, from the top.
NEWEST_SPAN = 4096


def _newest(mask: int, count: int) -> array:
    """The `count` highest (newest) ids a mask holds, highest first: its bits read from the top, a span of
    NEWEST_SPAN at a time, taking the highest bit of the span until it has none (each step a small number, not the
    whole mask)."""
    found, end = array("I"), mask.bit_length()
    while end > 0 and len(found) < count:
        start = max(0, end - NEWEST_SPAN)
        span = (mask >> start) & ((1 << (end - start)) - 1)
        while span and len(found) < count:
            highest = span.bit_length() - 1
            found.append(start + highest)
            span ^= 1 << highest
        end = start
    return found


def _bytes(mask: int) -> int:
    return (mask.bit_length() + 7) // 8


@dataclass(frozen=True)
class ProjectGroups:
    """Every listed project's group at a listing version, kept per process and brought up to date from the listing
    changes, as masks (`search.mask_of`): the projects in each phase, dormant or not; with a council taking part in each
    place (nation and region); and with a service in each function. Every facet count is a count of the bits
    that the masks of a search's matches, the filters and one value share."""

    version: tuple[str, int]
    by_phase: dict[tuple[str, bool], int]
    by_place: dict[tuple[str, str], int]
    by_function: dict[int, int]

    @property
    def weight(self) -> int:
        """What the process holds for these groups, in bytes, roughly."""
        return sum(
            _bytes(mask) for masks in (self.by_phase, self.by_place, self.by_function) for mask in masks.values()
        )


NO_GROUPS = ProjectGroups(("", 0), {}, {}, {})


def _grouped(
    version: tuple[str, int],
    by_group: dict[tuple[str, str | None, bool], list[int]],
    groups: ProjectGroups = NO_GROUPS,
    changed: list[int] | tuple[int, ...] = (),
) -> ProjectGroups:
    """The groups with the changed projects taken out, and these projects (listed by phase, facet key and whether
    dormant) put in. A new entry, as other threads may be reading the old one."""
    phases, places, functions = defaultdict(list), defaultdict(list), defaultdict(list)
    for (phase, key, dormant), ids in by_group.items():
        parsed = search.parse_facet_key(key)
        phases[phase, bool(dormant)] += ids
        for place in parsed.places:
            places[place] += ids
        for function in parsed.functions:
            functions[function] += ids
    leaving = ~search.mask_of(changed)

    def put_in(old: dict, new: dict) -> dict:
        masks = {value: mask & leaving for value, mask in old.items()}
        for value, ids in new.items():
            masks[value] = masks.get(value, 0) | search.mask_of(ids)
        return {value: mask for value, mask in masks.items() if mask}

    return ProjectGroups(
        version, put_in(groups.by_phase, phases), put_in(groups.by_place, places), put_in(groups.by_function, functions)
    )


@dataclass(frozen=True)
class Matching:
    """The projects that pass a search and the filters other than the facets' and dormancy, at a listing version,
    as a mask (`search.mask_of`); for a search alone, also those whose own title has the words (None otherwise)."""

    version: tuple[str, int]
    mask: int
    in_title: int | None = None

    @property
    def weight(self) -> int:
        return _bytes(self.mask) + _bytes(self.in_title or 0)


@dataclass(frozen=True)
class KeptFacets:
    """Facet counts as counted at a listing version."""

    version: tuple[str, int]
    facets: Facets


def facet_counts(filters: ProjectFilters) -> Facets:
    """Counts per phase, nation, region and function, and the list's total, counted here from what the process
    keeps: each listed project's group (`ProjectGroups`) and, for a search or a filter that is not a facet, the
    projects that pass it (`Matching`), all as masks. Both are brought up to date from the listing changes by
    reading only the projects changed.

    One statement when nothing has changed (the listing version); after a change, one more for each of the two
    that reads the changed projects alone; for a search nobody has asked for since the process started, one that
    reads the matching ids from the full-text index, not the projects. Everything is read afresh when the changes
    are not all logged (too many, made by hand, or too long ago), and the groups when the dormancy cut-off moves
    (once a day). Not kept from a transaction that has written to what lists count: its counts could include
    writes that are later rolled back, so it counts in SQL (`_count_facets`).

    When few projects pass (`_names_few`), the counts also name them (`Facets.ids`), from the same masks, so that
    `list_projects` reads its page by their ids.
    """
    if wrote_to_lists():
        return _count_facets(filters)
    kept, cut_off, matched_by = kept_counts(db.engine), dormant_before(), filters.matched_by()
    counted_key, groups_key, matching_key = ("facets", cut_off, filters.counted_by()), ("groups", cut_off), None
    groups, matching = kept.get(groups_key), None
    if any(matched_by):
        matching_key = ("matching", matched_by)
        matching = kept.get(matching_key)
    since = [entry.version for entry in (groups, matching) if entry is not None]
    now, changes = _changes_since(min(since) if since else None)
    if now is None:  # nothing written yet: no version to keep anything under
        return _count_facets(filters)
    counted = kept.get(counted_key)
    if counted is not None and counted.version == now:
        return counted.facets.copy()  # the caller's to change
    changed = _changed_since_kept(groups, now, changes)
    if changed is None:
        groups = _read_groups(now)
    elif groups.version != now:
        groups = _groups_brought_up_to_date(groups, now, changed)
    kept.put(groups_key, groups, groups.weight)
    if matching_key is not None:
        changed = _changed_since_kept(matching, now, changes)
        if changed is None:
            matching = Matching(now, *_matching(filters))
        elif matching.version != now:
            mask, in_title = _matching(filters, among=changed)
            leaving = ~search.mask_of(changed)
            if in_title is not None:
                in_title |= matching.in_title & leaving
            matching = Matching(now, (matching.mask & leaving) | mask, in_title)
        kept.put(matching_key, matching, matching.weight)
    facets, passing = _count_groups(filters, groups, EVERY if matching is None else matching.mask)
    weight = 0
    if _names_few(filters, facets.total):
        facets.ids = _newest(passing, facets.total)
        weight += facets.ids.itemsize * len(facets.ids)
    if matching is not None and matching.in_title is not None:  # whatever the order: the counts serve every order
        facets.passing, facets.in_title = passing, passing & matching.in_title
        weight += _bytes(passing) + _bytes(facets.in_title)
    kept.put(counted_key, KeptFacets(now, facets), weight)
    return facets.copy()


def _names_few(filters: ProjectFilters, total: int) -> bool:
    """Whether the counts name the projects that pass (`Facets.ids`): few enough of them for the database to read
    the page more quickly by their ids. FEW_TO_NAME, or FEW_FOUND_TO_NAME for a search with no filter; for a search
    where the engine reads a page no faster by ids (`pages_by_ids`), only those that all fit in the ranking window."""
    most = FEW_TO_NAME if filters.filtered else FEW_FOUND_TO_NAME
    if not filters.text_query.empty and not search.engine().pages_by_ids:
        most = min(most, search.RANK_WINDOW)  # all in the ranking window, read by their ids (`_best_matches`)
    return total <= most


def forget_kept_searches() -> None:
    """Forget what this process kept for each search and its counts, keeping every project's group: as a search
    nobody has asked for finds it (for benchmarks)."""
    kept_counts(db.engine).clear(keep=lambda key: key[0] == "groups")


def _changes_since(since: tuple[str, int] | None) -> tuple[tuple[str, int] | None, list | None]:
    """The listing version now and, if a version is given, the changes logged since it: (version, project id)
    pairs, or None unless every version since is logged. In one statement."""
    if since is None:
        now = db.session.execute(select(ListingVersion.token, ListingVersion.version).where(ListingVersion.id == 1))
        row = now.first()
        return (None, None) if row is None else (tuple(row), None)
    token, number = since
    rows = db.session.execute(
        select(ListingVersion.token, ListingVersion.version, ListingChange.version, ListingChange.project_id)
        .outerjoin(ListingChange, ListingChange.version > number)
        .where(ListingVersion.id == 1)
        .order_by(ListingChange.version)
        .limit(MOST_PROJECTS_LOGGED + 1)
    ).all()
    if not rows:
        return None, None
    now = (rows[0][0], rows[0][1])
    logged = [(version, project_id) for _, _, version, project_id in rows if version is not None]
    # Every version logs at least one row, so the versions since are all here if as many of them are.
    every_version = len({version for version, _ in logged}) == now[1] - number
    if now[0] != token or len(rows) > MOST_PROJECTS_LOGGED or not every_version:
        return now, None
    return now, logged


def _changed_since_kept(entry, now: tuple[str, int], changes: list | None) -> list[int] | None:
    """The projects changed since a kept entry's version, from the changes read since that version or an earlier
    one; None when the entry must be read afresh: none kept, a new run of versions, changes not all logged, or
    a change that could have been to any project."""
    if entry is None or changes is None or entry.version[0] != now[0]:
        return None
    changed = {project_id for number, project_id in changes if number > entry.version[1]}
    return None if None in changed else sorted(changed)


def _group_rows(among: list[int] | None = None) -> Select:
    """Each listed project with its group: id, phase, facet key and whether it is dormant (only among these, if
    given)."""
    dormant = case((not_dormant(), False), else_=True).label("dormant")
    query = select(Project.id, Project.phase, Project.facets, dormant).where(listed())
    return query if among is None else query.where(Project.id.in_(among))


def _read_groups(version: tuple[str, int]) -> ProjectGroups:
    """Every listed project's group, read in one statement: on SQLite the database lists each group's projects;
    PostgreSQL sorts to do that, which costs more than reading each project's row and grouping here."""
    if db.engine.dialect.name == "sqlite":
        rows = _group_rows().subquery()
        group = (rows.c.phase, rows.c.facets, rows.c.dormant)
        grouped = select(*group, func.group_concat(rows.c.id)).group_by(*group)
        by_group = {
            (phase, key, bool(dormant)): [int(i) for i in joined.split(",")]
            for phase, key, dormant, joined in db.session.execute(grouped)
        }
    else:
        by_group = _by_group(db.session.execute(_group_rows()))
    return _grouped(version, by_group)


def _by_group(rows) -> dict[tuple[str, str | None, bool], list[int]]:
    by_group: dict[tuple[str, str | None, bool], list[int]] = {}
    for project_id, phase, key, dormant in rows:
        by_group.setdefault((phase, key, dormant), []).append(project_id)
    return by_group


def _groups_brought_up_to_date(groups: ProjectGroups, version: tuple[str, int], changed: list[int]) -> ProjectGroups:
    """The groups with the changed projects taken out and put back as they are now, read in one statement."""
    return _grouped(version, _by_group(db.session.execute(_group_rows(among=changed))), groups, changed)


def _matching(filters: ProjectFilters, among: list[int] | None = None) -> tuple[int, int | None]:
    """The projects that pass the search and the filters other than the facets' and dormancy, as a mask, and for a
    search alone those whose own title has the words (None otherwise), in one statement. Only among these projects,
    if given.

    A search alone reads only the full-text index (`search.SearchEngine.matching`: projects not listed are in no
    group, so they count for nothing); with other filters, the ids come as a list Python reads at C speed
    (`search.id_list`)."""
    if not any(filters.matched_by()[1:]):
        return search.engine().matching(filters.text_query, among=among)
    query = select(Project.id).where(*_conditions(filters, skip={*FACETS, "dormant"}, among=among))
    return search.mask_of(search.read_ids(db.session.scalar(select(search.id_list(query.subquery().c[0]))))), None


def _dormancy(filters: ProjectFilters) -> tuple[bool, ...]:
    """Which groups the dormancy filter counts: those not dormant, those dormant, or both."""
    return {"hide": (False,), "only": (True,)}.get(filters.dormant, (False, True))


def _count_groups(filters: ProjectFilters, groups: ProjectGroups, matching: int) -> tuple[Facets, int]:
    """The facet counts of the matching projects (a mask), in the dormancy asked for, and the mask of those that
    pass every filter.

    Each facet leaves out its own filter: a phase counts those in the function and the place asked for; a nation
    or region those in the phases and the function; a function those in the phases and the place. A nation counts
    those with a council in it (in the region asked for, if any), and a region those with a council in it (in the
    nation asked for, if any)."""
    wanted = _dormancy(filters)
    by_phase = {
        phase: matching & search.union_of(groups.by_phase.get((phase, dormant), 0) for dormant in wanted)
        for phase in PHASES
    }
    in_phases = search.union_of(by_phase[phase] for phase in filters.phase or PHASES)
    in_place = EVERY
    if filters.nation or filters.region:
        in_place = search.union_of(mask for place, mask in groups.by_place.items() if _in_place(filters, (place,)))
    in_function = groups.by_function.get(filters.function, 0) if filters.function else EVERY

    facets = Facets.none()
    for phase, mask in by_phase.items():
        facets.phase[phase] = (mask & in_place & in_function).bit_count()
    nations, regions = defaultdict(list), defaultdict(list)
    for place, mask in groups.by_place.items():
        in_nations, in_regions = _counted_places(frozenset([place]), filters.nation, filters.region)
        for nation in in_nations:
            nations[nation].append(mask)
        for region in in_regions:
            regions[region].append(mask)
    counted = in_phases & in_function
    for counts, masks in ((facets.nation, nations), (facets.region, regions)):
        for value, each in masks.items():
            count = (counted & search.union_of(each)).bit_count()
            if count:
                counts[value] = count
    counted = in_phases & in_place
    for function, mask in groups.by_function.items():
        count = (counted & mask).bit_count()
        if count:
            facets.function[function] = count
    passing = in_phases & in_place & in_function
    facets.total = passing.bit_count()
    return facets, passing


def _facet_groups(filters: ProjectFilters):
    return (
        select(Project.phase, Project.facets, func.count())
        .where(*_conditions(filters, skip=set(FACETS)))
        .group_by(Project.phase, Project.facets)
    )


def _count_facets(filters: ProjectFilters) -> Facets:
    """Counts per phase, nation, region and function, and the list's total, from one statement whatever the data,
    for a transaction that has written (see `facet_counts`).

    Each facet leaves out its own filter, so that ticking "alpha" still shows how many are in beta.
    The database groups the matching projects by phase and facet key (their councils' places and
    their services' functions: `Project.facets`), reading both from an index, and the facet filters are
    applied here to those groups rather than to every project in SQL; the groups that pass them all make the total.
    """
    facets = Facets.none()
    phases = set(filters.phase or PHASES)
    for phase, key, count in db.session.execute(_facet_groups(filters)):
        key = search.parse_facet_key(key)
        in_place, in_function = _in_place(filters, key.places), _in_function(filters, key.functions)
        if in_place and in_function:
            facets.phase[phase] = facets.phase.get(phase, 0) + count
        if phase not in phases:
            continue
        if in_place and in_function:
            facets.total += count
        if in_function:
            nations, regions = _counted_places(key.places, filters.nation, filters.region)
            for nation in nations:
                facets.nation[nation] = facets.nation.get(nation, 0) + count
            for region in regions:
                facets.region[region] = facets.region.get(region, 0) + count
        if in_place:
            for function in key.functions:
                facets.function[function] = facets.function.get(function, 0) + count
    return facets


@lru_cache(maxsize=50_000)
def _counted_places(
    places: frozenset[tuple[str, str]], nation: str, region: str
) -> tuple[frozenset[str], frozenset[str]]:
    """The nations a set of places counts for, in the region asked for if any, and the regions, in the nation asked
    for if any. Many projects share a set of places, so each is worked out once."""
    return (
        frozenset(n for n, r in places if not region or r == region),
        frozenset(r for n, r in places if not nation or n == nation),
    )


def _in_function(filters: ProjectFilters, functions: frozenset[int]) -> bool:
    return not filters.function or filters.function in functions


def _in_place(filters: ProjectFilters, places: frozenset[tuple[str, str]]) -> bool:
    """Whether one council taking part is in both the nation and the region asked for (or there is no ask)."""
    if not (filters.nation or filters.region):
        return True
    return any(
        (not filters.nation or n == filters.nation) and (not filters.region or r == filters.region) for n, r in places
    )


def matching_since(filters: ProjectFilters, since: datetime, limit: int = 100) -> list[Project]:
    """Projects posted since a time that match a search and filters, oldest first."""
    return list(
        db.session.scalars(
            _filtered(filters)
            .options(*card_options())
            .where(Project.created_at >= since)
            .order_by(Project.created_at, Project.id)
            .limit(limit)
        )
    )


# Filters checked per statement: SQLite allows 500 selects in one UNION.
FILTERS_PER_STATEMENT = 200


def new_project_passes_filters(many: list[ProjectFilters], project_id: int) -> set[int]:
    """Which of many filters (their positions in the list) a newly posted project passes, leaving the
    searches' words aside (the caller matches those: see `search.SearchEngine.queries_matching_own_document`).

    One statement for up to FILTERS_PER_STATEMENT filters, each reading that project's rows only.
    """
    passed: set[int] = set()
    for start in range(0, len(many), FILTERS_PER_STATEMENT):
        checks = [
            select(literal_column(str(position))).where(Project.id == project_id, *_conditions(filters, skip={"text"}))
            for position, filters in enumerate(many[start : start + FILTERS_PER_STATEMENT], start)
        ]
        passed.update(db.session.scalars(union_all(*checks) if len(checks) > 1 else checks[0]))
    return passed


def newest(filters: ProjectFilters, limit: int = 20) -> list[Project]:
    """The most recently posted projects matching a search and filters, for a feed."""
    return list(
        db.session.scalars(
            _filtered(filters)
            .options(*card_options(), selectinload(Project.lead_council))
            .order_by(*ORDER["newest"])
            .limit(limit)
        )
    )


@dataclass
class FilterChoices:
    councils: list[tuple[str, str]]
    regions: list[tuple[str, str]]
    services: list[tuple[int, str]]
    functions: list[tuple[int, str]]
    tags: list[tuple[str, str]]


def filter_choices() -> FilterChoices:
    """The values worth offering in the filters: only those some listed project uses, plus regions and functions."""
    councils = db.session.execute(
        select(Council.slug, Council.name)
        .where(Council.id.in_(_used(ProjectCouncil.council_id, ProjectCouncil.project_id)))
        .order_by(Council.name)
    ).all()
    regions = db.session.execute(select(Council.region, Council.nation).distinct().order_by(Council.region)).all()
    services = db.session.execute(
        select(Service.id, Service.label)
        .where(Service.id.in_(_used(ProjectService.service_id, ProjectService.project_id)))
        .order_by(Service.label)
    ).all()
    functions = db.session.execute(
        select(Function.id, Function.label).where(Function.parent_id.is_(None)).order_by(Function.label)
    ).all()
    tags = db.session.execute(
        select(Tag.slug, Tag.name).where(Tag.id.in_(_used(ProjectTag.tag_id, ProjectTag.project_id))).order_by(Tag.name)
    ).all()
    return FilterChoices(
        councils=[tuple(r) for r in councils],
        regions=[(r.region, r.region) for r in regions if r.region != r.nation]
        + [(n, n) for n in NATIONS if n != "England"],
        services=[tuple(r) for r in services],
        functions=[tuple(r) for r in functions],
        tags=[tuple(r) for r in tags],
    )


def _used(value_column, project_column) -> Select:
    """The values of a link column (a council, service or tag id) that some listed project has.

    Found by skipping through the column's index from each value to the next one with a listed project on
    it (a loose index scan): one lookup per value used, not one per link. Asked as "is there a listed
    project on this value?" for every value instead, PostgreSQL joins every link to its project first.
    """

    def next_after(value):
        with_listed_project = exists().where(Project.id == project_column, listed())
        query = select(value_column).where(with_listed_project).order_by(value_column).limit(1)
        return query.where(value_column > value) if value is not None else query

    used = select(next_after(None).scalar_subquery().label("value")).cte("used", recursive=True)
    used = used.union_all(select(next_after(used.c.value).scalar_subquery()).where(used.c.value.is_not(None)))
    return select(used.c.value)


def phase_counts() -> dict[str, int]:
    """How many projects are in each phase."""
    rows = db.session.execute(select(Project.phase, func.count()).where(listed()).group_by(Project.phase)).all()
    counts = dict.fromkeys(PHASES, 0)
    counts.update(dict(rows))
    return counts


def recently_updated(limit: int = 6) -> list[Project]:
    query = _filtered(ProjectFilters())
    return list(db.session.scalars(query.options(*card_options()).order_by(*ORDER["updated"]).limit(limit)))


def council_projects(council: Council) -> tuple[list[Project], list[Project]]:
    """The projects a council leads, and those it is a partner or observer on."""
    rows = db.session.execute(
        select(Project, ProjectCouncil.role)
        .join(ProjectCouncil, ProjectCouncil.project_id == Project.id)
        .options(*card_options())
        .where(ProjectCouncil.council_id == council.id, ProjectCouncil.state != "requested", listed())
        .order_by(Project.updated_at.desc())
    ).all()
    leads = [project for project, role in rows if role == "lead"]
    partners = [project for project, role in rows if role != "lead"]
    return leads, partners


def get_service(lgsl_id: int) -> Service | None:
    return db.session.scalar(select(Service).options(selectinload(Service.function)).where(Service.id == lgsl_id))


def service_projects(service: Service) -> list[Project]:
    return list(
        db.session.scalars(
            select(Project)
            .options(*card_options())
            .where(
                exists().where(ProjectService.project_id == Project.id, ProjectService.service_id == service.id),
                listed(),
            )
            .order_by(Project.updated_at.desc())
        )
    )


@dataclass
class AppliedFilter:
    """One filter in force, in words, with the URL arguments that would remove it."""

    label: str
    without: dict


def applied_filters(filters: ProjectFilters, choices: FilterChoices) -> list[AppliedFilter]:
    """The filters in force (not the search), each with a way to remove it: for "no results" and descriptions."""
    names = {
        "council": dict(choices.councils),
        "service": dict(choices.services),
        "function": dict(choices.functions),
        "tag": dict(choices.tags),
    }
    applied = []
    for phase in filters.phase:
        remaining = [p for p in filters.phase if p != phase]
        applied.append(AppliedFilter(f"Phase: {PHASE_LABELS[phase]}", filters.to_args(page=1, phase=remaining)))
    for ask in filters.seeking:
        remaining = [s for s in filters.seeking if s != ask]
        applied.append(AppliedFilter(SEEKING[ask], filters.to_args(page=1, seeking=remaining)))
    singles = [
        ("council", "Council"),
        ("nation", "Nation"),
        ("region", "Region"),
        ("function", "Function"),
        ("service", "Service"),
        ("tag", "Tag"),
    ]
    for name, label in singles:
        value = getattr(filters, name)
        if value:
            text = names[name].get(value, str(value)) if name in names else value
            applied.append(AppliedFilter(f"{label}: {text}", filters.to_args(page=1, **{name: None})))
    if filters.dormant != "hide":
        applied.append(AppliedFilter(DORMANCY[filters.dormant], filters.to_args(page=1, dormant="hide")))
    return applied


def describe(filters: ProjectFilters, choices: FilterChoices) -> str:
    """A search and its filters in words: "‘bulky waste’; Phase: Alpha; Nation: Wales"."""
    parts = [f"‘{filters.text_query.text}’"] if not filters.text_query.empty else []
    parts += [applied.label for applied in applied_filters(filters, choices)]
    return "; ".join(parts) or "All projects"
