"""Similar projects: the same LGSL services, the same tags, similar words; for project pages and posting."""

import re
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import Select, func, literal_column, select, true, union, union_all
from sqlalchemy.orm import joinedload

from pipeline.extensions import db
from pipeline.models import Project, ProjectCouncil, ProjectService, ProjectTag, Service, Tag
from pipeline.services import search

CANDIDATES_PER_REASON = 30
# Links read per shared service or tag, newest first: a project sharing two of them is found among the
# newest this many projects on each.
LINKS_PER_VALUE = 500
# Projects sharing words that are scored for the best CANDIDATES_PER_REASON.
TEXT_WINDOW = 200
SERVICE_POINTS = 10
TAG_POINTS = 4
TITLE_WORD_POINTS = 2
SUMMARY_WORD_POINTS = 1
# What it takes to be shown: on a project page, a shared tag or two shared words in the titles; when
# posting, a shared service or tag (or as many words), so the check does not stop people for nothing.
PANEL_MIN_SCORE = 3
DUPLICATE_MIN_SCORE = 4

# Words that say nothing about what a council project is about.
COMMON_WORDS = set(
    "council councils project projects service services new residents resident people make making "
    "using use better help work working local digital online system systems improve improving shared share time "
    "see one design staff want need needs way ways every without within across also still".split()
)


@dataclass
class SimilarProject:
    project: Project
    reasons: list[str]
    score: int


@lru_cache(maxsize=50_000)
def root(word: str) -> str:
    """A rough stem, so "bins" and "bin" or "collection" and "collecting" count as the same word."""
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("es") and word[:-2].endswith(("s", "x", "z", "ch", "sh")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        word = word[:-1]
    for suffix in ("ation", "ion", "ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def distinctive_words(text: str, limit: int, shortest: int = 3) -> list[str]:
    """The words of a text that say what it is about, in order, without repeats."""
    words = [w for w in re.findall(r"[^\W_]+", text.lower()) if len(w) >= shortest and not w.isdigit()]
    kept: dict[str, str] = {}
    for word in words:
        if word in search.STOP_WORDS or word in COMMON_WORDS:
            continue
        kept.setdefault(root(word), word)
    return list(kept.values())[:limit]


def _roots(text: str) -> set[str]:
    return {root(w) for w in re.findall(r"[^\W_]+", text.lower())}


def _sharing_most(link_project, each_value: list) -> Select:
    """The projects with the most of these links (to services or tags), newest first among equals, from the
    newest LINKS_PER_VALUE links to each value: read backwards from the link table's (value, project) index,
    so a service on thousands of projects costs no more than one on a few.
    """
    newest = [
        select(link_project.label("project_id")).where(is_value).order_by(link_project.desc()).limit(LINKS_PER_VALUE)
        for is_value in each_value
    ]
    links = union_all(*[select(part.subquery().c.project_id) for part in newest]).subquery("links")
    return (
        select(links.c.project_id)
        .group_by(links.c.project_id)
        .order_by(func.count().desc(), links.c.project_id.desc())
        .limit(CANDIDATES_PER_REASON)
    )


def similar_projects(
    *,
    title: str,
    text: str = "",
    service_ids: list[int] | tuple[int, ...] = (),
    tags: list[str] | tuple[str, ...] = (),
    exclude_id: int | None = None,
    limit: int = 5,
    min_score: int = PANEL_MIN_SCORE,
) -> list[SimilarProject]:
    """The projects most like the one described, best first, each with the reasons it is similar.

    Runs two statements whatever it finds: one for the candidates (shared services, shared tags, best text
    matches) with what they share, and one for the cards of the best; none when there is nothing to compare.
    A project merged into another is never offered: its work goes on in the other, which is offered on its
    own merits.
    """
    from pipeline.services.projects import listed  # projects uses this module for its duplicate check

    service_ids = list(dict.fromkeys(service_ids))
    tags = list(dict.fromkeys(tags))
    words = distinctive_words(title, 8)
    words += [w for w in distinctive_words(text, 12, shortest=5) if root(w) not in {root(x) for x in words}][:4]

    # A reason with nothing to share (no services, no tags, only common words) is left out.
    asked = []
    if service_ids:
        asked.append(_sharing_most(ProjectService.project_id, [ProjectService.service_id == s for s in service_ids]))
    if tags:
        tag_ids = [select(Tag.id).where(Tag.name == name).scalar_subquery() for name in tags]
        asked.append(_sharing_most(ProjectTag.project_id, [ProjectTag.tag_id == tag_id for tag_id in tag_ids]))
    query = search.any_of(words)
    if not query.empty:
        # Ranked in two steps, as a search is (see search.RANK_WINDOW): the newest projects with the words
        # in their titles, then with them anywhere, and only those scored. Projects are alike in what they
        # are, not in their news, so updates are not read.
        window = search.first_order(query, [], TEXT_WINDOW, updates=False).cte("window")
        hits = search.engine().window_scores(query, window, kinds=("project",)).subquery("hits")
        asked.append(
            select(hits.c.project_id.label("project_id"))
            .order_by(hits.c.score.desc(), hits.c.project_id.desc())
            .limit(CANDIDATES_PER_REASON)
        )
    if not asked:
        return []
    parts = [select(part.subquery().c.project_id) for part in asked]
    candidates = union(*parts).cte("candidates")
    in_candidates = select(candidates.c.project_id)
    others = Project.id != exclude_id if exclude_id is not None else true()
    # One statement: each candidate's title and summary, and the services and tags it shares.
    rows = db.session.execute(
        union_all(
            select(Project.id, literal_column("'project'"), Project.title, Project.summary).where(
                Project.id.in_(in_candidates), others, listed()
            ),
            select(ProjectService.project_id, literal_column("'service'"), Service.label, literal_column("''"))
            .join(Service, Service.id == ProjectService.service_id)
            .where(ProjectService.project_id.in_(in_candidates), ProjectService.service_id.in_(service_ids)),
            select(ProjectTag.project_id, literal_column("'tag'"), Tag.name, literal_column("''"))
            .join(Tag, Tag.id == ProjectTag.tag_id)
            .where(ProjectTag.project_id.in_(in_candidates), Tag.name.in_(tags)),
        )
    ).all()
    texts = {row[0]: (row[2], row[3]) for row in rows if row[1] == "project"}
    shared: dict[tuple[int, str], list[str]] = {}
    for project_id, kind, value, _ in rows:
        if kind != "project":
            shared.setdefault((project_id, kind), []).append(value)

    word_roots = {root(w): w for w in words}
    scored = []
    for project_id, (project_title, summary) in texts.items():
        reasons, score = [], 0
        same_services = sorted(shared.get((project_id, "service"), []))
        reasons += [f"Same service: {label}" for label in same_services]
        score += SERVICE_POINTS * len(same_services)
        shared_tags = sorted(shared.get((project_id, "tag"), []))
        if shared_tags:
            reasons.append(("Shared tag: " if len(shared_tags) == 1 else "Shared tags: ") + ", ".join(shared_tags))
            score += TAG_POINTS * len(shared_tags)
        in_title = _roots(project_title)
        in_summary = _roots(summary) - in_title
        score += sum(TITLE_WORD_POINTS for stem in word_roots if stem in in_title)
        score += sum(SUMMARY_WORD_POINTS for stem in word_roots if stem in in_summary)
        shared_words = [word for stem, word in word_roots.items() if stem in in_title or stem in in_summary]
        if shared_words:
            reasons.append("Similar words: " + ", ".join(shared_words[:4]))
        if score >= min_score:
            scored.append((score, project_id, reasons))
    scored.sort(key=lambda item: (-item[0], -item[1]))
    scored = scored[:limit]

    # And one for the cards, however many there are.
    projects = {
        project.id: project
        for project in db.session.scalars(
            select(Project)
            .options(joinedload(Project.councils).joinedload(ProjectCouncil.council))
            .where(Project.id.in_([project_id for _, project_id, _ in scored]))
        ).unique()
    }
    return [
        SimilarProject(projects[project_id], reasons, score)
        for score, project_id, reasons in scored
        if project_id in projects
    ]


def similar_to(project: Project, limit: int = 5) -> list[SimilarProject]:
    """Projects like this one (not itself), for the panel on its page."""
    return similar_projects(
        title=project.title,
        text=f"{project.summary} {project.problem}",
        service_ids=[s.id for s in project.services],
        tags=[t.name for t in project.tags],
        exclude_id=project.id,
        limit=limit,
    )
