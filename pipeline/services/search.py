"""Full-text search: one interface over SQLite FTS5 and PostgreSQL full-text search.

Search finds documents: a project, or later an update, as `kind` + `ref_id` + text fields, each
document belonging to a project. The database indexes the documents itself (migration
0007_search): on SQLite an FTS5 table with the porter stemmer, on PostgreSQL a weighted tsvector
with a GIN index. Both are given the same query, parsed here from what the person typed, so they
find the same projects: stemming ("bins" finds "bin collection"), "quoted phrases", -word to leave
a word out and `or` between alternatives. Nothing a person types reaches MATCH or
websearch_to_tsquery unparsed, so no input is a syntax error or an injection.
"""

import html
import json
import operator
import re
import sys
from array import array
from dataclasses import dataclass
from functools import lru_cache, reduce
from typing import Protocol

import markdown as python_markdown
import nh3
from markupsafe import Markup, escape
from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    Integer,
    String,
    and_,
    bindparam,
    case,
    cast,
    column,
    delete,
    exists,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    table,
    text,
    union_all,
    update,
)
from sqlalchemy.sql import ColumnElement, Select

from pipeline.extensions import db
from pipeline.models import (
    DOCUMENT_KINDS,
    Council,
    Function,
    Project,
    ProjectCouncil,
    ProjectService,
    ProjectTag,
    SearchDocument,
    Service,
    Tag,
    document_id,
)
from pipeline.timeutil import utcnow

MAX_QUERY_LENGTH = 200
MAX_TERMS = 12

# Marks put around matching words by the database, turned into <mark> once the rest is escaped.
# Private-use characters, removed from every document, so no text can forge one.
MARK_START, MARK_END = "\ue000", "\ue001"

# PostgreSQL's english stop words (tsearch_data/english.stop): PostgreSQL drops them from queries,
# so the SQLite query drops them too, or the two would find different things.
STOP_WORDS = frozenset(
    """i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her hers
    herself it its itself they them their theirs themselves what which who whom this that these those am is are was
    were be been being have has had having do does did doing a an the and but if or because as until while of at by
    for with about against between into through during before after above below to from up down in out on off over
    under again further then once here there when where why how all any both each few more most other some such no
    nor not only own same so than too very s t can will just don should now""".split()
)

TOKEN = re.compile(r'"(?P<phrase>[^"]*)"?|(?P<minus>-)(?=\S)|(?P<run>[^\s"]+)')
WORD = re.compile(r"[^\W_]+")
# Punctuation that separates words even without a space; other punctuation joins them into a phrase ("e-mail").
SEPARATORS = re.compile(r"[()\[\]{},;:!?*^~<>|=+\\]+")
POSSESSIVE = re.compile(r"['’]s\b")
TAG_LIKE = re.compile(r"<[^<>]{0,200}>")
NOT_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ue000\ue001<>]")
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


# ---- what people type -----------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """A word or a phrase (words that must come together), perhaps to be left out."""

    words: tuple[str, ...]
    negated: bool = False

    def fts5(self) -> str:
        # Every word is letters and digits only, so quoting makes it a plain FTS5 string.
        return '"' + " ".join(self.words) + '"'

    def websearch(self) -> str:
        text = self.words[0] if len(self.words) == 1 else '"' + " ".join(self.words) + '"'
        return ("-" if self.negated else "") + text


@dataclass(frozen=True)
class TextQuery:
    """A search, parsed: alternatives (joined by `or`), each a set of terms that must all match."""

    text: str = ""
    clauses: tuple[tuple[Term, ...], ...] = ()
    notices: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.clauses

    def fts5(self) -> str:
        """The query in FTS5's syntax, built only from quoted words and FTS5's own operators."""
        parts = []
        for clause in self.clauses:
            wanted = " AND ".join(term.fts5() for term in clause if not term.negated)
            unwanted = "".join(f" NOT {term.fts5()}" for term in clause if term.negated)
            parts.append(f"({wanted}{unwanted})")
        return " OR ".join(parts)

    def websearch(self) -> str:
        """The same query in websearch_to_tsquery's syntax."""
        return " or ".join(" ".join(term.websearch() for term in clause) for clause in self.clauses)

    def fts5_in_title(self) -> str:
        """What the query looks for (not what it leaves out), in the title only, in FTS5's syntax."""
        return "{title} : (" + self.wanted().fts5() + ")"

    def tsquery_in_title(self) -> str:
        """The same in to_tsquery's syntax, for the title's own tsvector. Words are letters and digits only, so
        quoting each makes it a plain word."""
        clauses = []
        for clause in self.wanted().clauses:
            terms = [" <-> ".join(f"'{word}'" for word in term.words) for term in clause]
            clauses.append("(" + " & ".join(f"({term})" for term in terms) + ")")
        return " | ".join(clauses)

    @property
    def leaves_out(self) -> bool:
        """Whether the query leaves out documents with some word (-word)."""
        return any(term.negated for clause in self.clauses for term in clause)

    def wanted(self) -> "TextQuery":
        """The query without the terms it leaves out: what ranking and highlighting look for."""
        clauses = tuple(tuple(term for term in clause if not term.negated) for clause in self.clauses)
        return TextQuery(self.text, clauses, self.notices)

    def words_apart(self) -> "TextQuery":
        """The query's wanted terms with each phrase's words as terms of their own: it finds whatever the query finds
        and more (the words apart), from words that keep no positions."""
        clauses = tuple(
            tuple(Term((word,)) for term in clause for word in term.words) for clause in self.wanted().clauses
        )
        return TextQuery(self.text, clauses, self.notices)

    def words(self) -> list[str]:
        """Every word searched for (not those left out), in order."""
        found = [word for clause in self.clauses for term in clause if not term.negated for word in term.words]
        return list(dict.fromkeys(w for w in found if w not in STOP_WORDS))


def _words(text: str) -> tuple[str, ...]:
    return tuple(WORD.findall(POSSESSIVE.sub("", text.lower())))


def _trim(term: Term) -> Term | None:
    """Drop stop words from a term's ends (PostgreSQL ignores them); None if nothing is left."""
    words = list(term.words)
    while words and words[0] in STOP_WORDS:
        words.pop(0)
    while words and words[-1] in STOP_WORDS:
        words.pop()
    return Term(tuple(words), term.negated) if words else None


def parse_query(raw: str | None) -> TextQuery:
    """Parse a search as typed into a query both databases run the same way; never fails.

    Words are letters and digits; "quotes" make a phrase (a missing closing quote ends it at the end),
    a word joined by punctuation ("e-mail") is a phrase too, -word leaves a word out, and `or` between
    two terms finds either. Stop words, symbols and FTS syntax (NEAR, *, AND) are ordinary text.
    """
    text = " ".join((raw or "").split())
    notices = []
    if len(text) > MAX_QUERY_LENGTH:
        cut = text[:MAX_QUERY_LENGTH]
        text = cut.rsplit(" ", 1)[0] if " " in cut else cut
        notices.append(f"Your search was too long, so only its first {MAX_QUERY_LENGTH} characters were used.")

    items: list[Term | None] = []  # None stands for `or`
    negated = False
    for match in TOKEN.finditer(text):
        if match["minus"]:
            negated = True
            continue
        if match["phrase"] is not None:
            words = _words(match["phrase"])
        elif match["run"].lower() == "or":
            items.append(None)
            negated = False
            continue
        else:
            pieces = [_words(piece) for piece in SEPARATORS.split(match["run"])]
            items += [Term(words, negated) for words in pieces if words]
            negated = False
            continue
        if words:
            items.append(Term(words, negated))
        negated = False

    clauses: list[list[Term]] = [[]]
    for index, item in enumerate(items):
        if item is None:
            # `or` joins two terms; anywhere else it is the word "or", a stop word.
            if clauses[-1] and any(later is not None for later in items[index + 1 :]):
                clauses.append([])
            continue
        term = _trim(item)
        if term is not None and term not in clauses[-1]:
            clauses[-1].append(term)

    kept, count = [], 0
    for clause in clauses:
        if count + len(clause) > MAX_TERMS:
            clause = clause[: MAX_TERMS - count]
            if len(notices) < 2:
                notices.append(f"Your search had more than {MAX_TERMS} words, so only the first {MAX_TERMS} were used.")
        count += len(clause)
        if any(not term.negated for term in clause):
            kept.append(tuple(clause))
        if count >= MAX_TERMS:
            break

    if text and not kept:
        if any(term is not None and term.negated and _trim(term) for term in items):
            notices.append("Add a word to search for: a minus sign only leaves out projects with the word after it.")
        else:
            notices.append(
                "Your search had no words to look for (search ignores symbols and common words like "
                "‘the’ and ‘or’), so all projects are shown."
            )
    return TextQuery(text=text, clauses=tuple(kept), notices=tuple(notices))


def any_of(words: list[str]) -> TextQuery:
    """A query that finds documents with any of the words (for similar projects)."""
    terms = [Term(_words(w)) for w in words]
    clauses = tuple((t,) for t in dict.fromkeys(terms) if t.words and _trim(t) == t)
    return TextQuery(text=" or ".join(words), clauses=clauses[:MAX_TERMS])


def highlighted(text: str | None) -> Markup:
    """Text from the index as HTML: everything escaped except the database's highlight marks."""
    escaped = str(escape(text or ""))
    return Markup(escaped.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>"))


# ---- documents ------------------------------------------------------------------------------


def clean_text(text: str | None) -> str:
    """Text as the index stores it: no control characters, no highlight marks, no HTML-like tags.

    PostgreSQL's parser skips anything that looks like a tag; removing tags here keeps SQLite's
    index, and the snippets both show, the same.
    """
    return NOT_TEXT.sub(" ", TAG_LIKE.sub(" ", text or "")).strip()


def xml_text(text: str | None) -> str:
    """Text without the characters XML 1.0 cannot hold (control characters), for feeds."""
    return NOT_XML.sub("", text or "")


def markdown_text(text: str | None) -> str:
    """The words of some Markdown, without its markup, for the index."""
    if not text:
        return ""
    if not re.search(r"[*_`#\[\]<>|&\\]|^\s*[-+>]|^\s*\d+\.", text, re.MULTILINE):
        return text  # no markup: skip the (slow) render, which matters when rebuilding at scale
    rendered = nh3.clean(python_markdown.markdown(text, extensions=["tables", "sane_lists"]), tags=set())
    return html.unescape(rendered)


@dataclass
class DocumentFields:
    title: str
    keywords: str = ""
    places: str = ""
    body: str = ""

    def cleaned(self) -> dict[str, str]:
        return {
            "title": clean_text(self.title),
            "keywords": clean_text(self.keywords),
            "places": clean_text(self.places),
            "body": clean_text(self.body),
        }


def project_fields(
    title: str, summary: str, problem: str, description: str, tags: list[str], services: list[str], councils: list[str]
) -> DocumentFields:
    """What a project's document says: the strongest field first."""
    return DocumentFields(
        title=title,
        keywords="\n".join([*sorted(tags), *sorted(services)]),
        places="\n".join(dict.fromkeys(councils)),
        body="\n\n".join(part for part in (summary, problem, markdown_text(description)) if part),
    )


def facet_key(places: list[tuple[str, str]], functions: list[int | None]) -> str:
    """What a project's facets count: "|c:Wales/Wales|f:30|f:42|" (councils' nation/region, LGSL functions)."""
    tokens = {f"c:{nation}/{region}" for nation, region in places}
    tokens |= {f"f:{function}" for function in functions if function}
    return "|" + "|".join(sorted(tokens)) + "|" if tokens else ""


@dataclass(frozen=True)
class FacetKey:
    """A facet key read: the (nation, region) of each council taking part, and the function ids. Frozen sets,
    as the facet counts add up the many keys that share them, and a frozen set keeps its hash."""

    places: frozenset[tuple[str, str]]
    functions: frozenset[int]


@lru_cache(maxsize=50_000)
def parse_facet_key(key: str | None) -> FacetKey:
    """What a facet key holds; many projects share a key, so each is read once (hence the answer is frozen)."""
    places, functions = [], set()
    for token in (key or "").split("|"):
        if token.startswith("c:"):
            nation, _, region = token[2:].partition("/")
            places.append((nation, region))
        elif token.startswith("f:") and token[2:].isdigit():
            functions.add(int(token[2:]))
    return FacetKey(frozenset(places), frozenset(functions))


def index_document(
    kind: str, ref_id: int, *, project_id: int, title: str, body: str = "", keywords: str = "", places: str = ""
) -> None:
    """Add or replace a document in the index, in the caller's transaction (the caller commits).

    For example, when an update is posted or edited:
    index_document("update", update.id, project_id=update.project_id, title=update.title, body=update.body)
    """
    if kind not in DOCUMENT_KINDS or kind == "project":
        raise ValueError(f"Index projects with index_project; other kinds are {sorted(DOCUMENT_KINDS)}, not {kind!r}")
    _store(kind, ref_id, project_id, DocumentFields(title, keywords, places, body))


def move_documents(from_project_id: int, to_project_id: int) -> None:
    """A project's documents other than its own (its updates) now belong to another project, as a merge moved what
    they index; in the caller's transaction."""
    db.session.execute(
        update(SearchDocument)
        .where(SearchDocument.project_id == from_project_id, SearchDocument.kind != "project")
        .values(project_id=to_project_id)
        .execution_options(synchronize_session=False)
    )


def remove_document(kind: str, ref_id: int) -> None:
    """Take a document out of the index, in the caller's transaction (the caller commits)."""
    db.session.execute(delete(SearchDocument).where(SearchDocument.id == document_id(kind, ref_id)))


def _store(kind: str, ref_id: int, project_id: int, fields: DocumentFields) -> None:
    values = fields.cleaned()
    document = db.session.get(SearchDocument, document_id(kind, ref_id))
    if document is None:
        db.session.add(
            SearchDocument(id=document_id(kind, ref_id), kind=kind, ref_id=ref_id, project_id=project_id, **values)
        )
    elif any(getattr(document, name) != value for name, value in values.items()) or document.project_id != project_id:
        for name, value in values.items():
            setattr(document, name, value)
        document.project_id = project_id
        document.indexed_at = utcnow()
    db.session.flush()


def index_project(project: Project) -> None:
    """Bring a project's document and facet key up to date, in the caller's transaction, after its changes
    are flushed."""
    taking_part = [pc for pc in sorted(project.councils, key=lambda pc: pc.id) if pc.state != "requested"]
    lead = [project.lead_council.name] if project.lead_council is not None else []
    fields = project_fields(
        project.title,
        project.summary,
        project.problem,
        project.description,
        [tag.name for tag in project.tags],
        [service.label for service in project.services],
        lead + [pc.council.name for pc in taking_part],
    )
    functions = []
    for service in project.services:
        if service.function is not None:
            functions += [service.function.id, service.function.parent_id]
    facets = facet_key([(pc.council.nation, pc.council.region) for pc in taking_part], functions)
    project.facets = facets  # an unchanged value writes nothing
    _store("project", project.id, project.id, fields)


def rebuild(batch_size: int = 2000) -> dict[str, int]:
    """Make every project's document and facet key again from the projects, and the database's index from the
    documents.

    Idempotent: a second run finds nothing to change. Runs in one transaction.
    """
    from pipeline.database import begin_write, mark_lists_changed

    begin_write()
    if db.engine.dialect.name == "postgresql":
        # Writers of documents wait until this commits, and this for those already writing, so that no write flips a
        # document's phrase pairs by a list this changes (LIST_PHRASE_PAIRS).
        db.session.execute(text("LOCK TABLE search_documents IN SHARE ROW EXCLUSIVE MODE"))
    report = {"added": 0, "updated": 0, "removed": 0, "unchanged": 0}
    orphans = delete(SearchDocument).where(
        SearchDocument.kind == "project", SearchDocument.id.not_in(select(Project.id))
    )
    report["removed"] = db.session.execute(orphans).rowcount or 0
    last_id = 0
    while True:
        rows = db.session.execute(
            select(
                Project.id,
                Project.title,
                Project.summary,
                Project.problem,
                Project.description,
                Project.lead_council_id,
                Project.facets,
            )
            .where(Project.id > last_id)
            .order_by(Project.id)
            .limit(batch_size)
        ).all()
        if not rows:
            break
        last_id = rows[-1].id
        ids = [row.id for row in rows]
        _rebuild_batch(rows, ids, report)
    _rebuild_updates(report)
    # Whatever changed by hand, every process counts the projects lists again.
    mark_lists_changed()
    if db.engine.dialect.name == "sqlite":
        # Rebuild FTS5's own index from the documents too, in case it drifted (a trigger lost, say).
        db.session.connection().exec_driver_sql("INSERT INTO search_index(search_index) VALUES ('rebuild')")
        db.session.connection().exec_driver_sql("INSERT INTO search_index(search_index) VALUES ('optimize')")
    else:
        # And PostgreSQL's table of each document's words (their rows go with their documents), writing only
        # those that differ.
        db.session.connection().exec_driver_sql(
            "INSERT INTO search_index_words (id, project_id, words, title_words) "
            "SELECT id, project_id, strip(search_vector), strip(title_vector) FROM search_documents "
            "ON CONFLICT (id) DO UPDATE "
            "SET project_id = EXCLUDED.project_id, words = EXCLUDED.words, title_words = EXCLUDED.title_words "
            "WHERE (search_index_words.project_id, search_index_words.words, search_index_words.title_words) "
            "IS DISTINCT FROM (EXCLUDED.project_id, EXCLUDED.words, EXCLUDED.title_words)"
        )
        # And the common pairs of words listed again, for the masks made next.
        db.session.execute(text(LIST_PHRASE_PAIRS))
        # And the word and pair masks from the words and pairs, once no other writer can fold changes into them: the
        # listing version's row is theirs while they do (database._log_listing_changes), and this transaction's
        # writes are done.
        db.session.connection().exec_driver_sql("SELECT FROM listing_versions WHERE id = 1 FOR UPDATE")
        db.session.execute(text(REMAKE_WORD_MASKS))
    db.session.commit()
    return report


def _rebuild_updates(report: dict[str, int]) -> None:
    """Index every project update again (updates are searched with their project)."""
    from pipeline.models import ProjectUpdate

    report["removed"] += (
        db.session.execute(
            delete(SearchDocument).where(
                SearchDocument.kind == "update", SearchDocument.ref_id.not_in(select(ProjectUpdate.id))
            )
        ).rowcount
        or 0
    )
    for posted in db.session.scalars(select(ProjectUpdate).order_by(ProjectUpdate.id)):
        existing = db.session.get(SearchDocument, document_id("update", posted.id))
        index_document("update", posted.id, project_id=posted.project_id, title=posted.title, body=posted.body)
        report["added" if existing is None else "unchanged"] += 1


def _grouped(statement) -> dict[int, list[str]]:
    grouped: dict[int, list[str]] = {}
    for project_id, value in db.session.execute(statement):
        grouped.setdefault(project_id, []).append(value)
    return grouped


def _rebuild_batch(rows, ids: list[int], report: dict[str, int]) -> None:
    tags = _grouped(
        select(ProjectTag.project_id, Tag.name)
        .join(Tag, Tag.id == ProjectTag.tag_id)
        .where(ProjectTag.project_id.in_(ids))
        .order_by(ProjectTag.project_id, Tag.name)
    )
    services = _grouped(
        select(ProjectService.project_id, Service.label)
        .join(Service, Service.id == ProjectService.service_id)
        .where(ProjectService.project_id.in_(ids))
        .order_by(ProjectService.project_id, Service.label)
    )
    councils = _grouped(
        select(ProjectCouncil.project_id, Council.name)
        .join(Council, Council.id == ProjectCouncil.council_id)
        .where(ProjectCouncil.project_id.in_(ids), ProjectCouncil.state != "requested")
        .order_by(ProjectCouncil.project_id, ProjectCouncil.id)
    )
    places: dict[int, list[tuple[str, str]]] = {}
    for project_id, nation, region in db.session.execute(
        select(ProjectCouncil.project_id, Council.nation, Council.region)
        .join(Council, Council.id == ProjectCouncil.council_id)
        .where(ProjectCouncil.project_id.in_(ids), ProjectCouncil.state != "requested")
    ):
        places.setdefault(project_id, []).append((nation, region))
    functions: dict[int, list[int | None]] = {}
    for project_id, function_id, parent_id in db.session.execute(
        select(ProjectService.project_id, Function.id, Function.parent_id)
        .join(Service, Service.id == ProjectService.service_id)
        .join(Function, Function.id == Service.function_id)
        .where(ProjectService.project_id.in_(ids))
    ):
        functions.setdefault(project_id, []).extend([function_id, parent_id])
    lead_names = dict(
        db.session.execute(
            select(Council.id, Council.name).where(Council.id.in_({row.lead_council_id for row in rows}))
        ).all()
    )
    existing = {
        doc.ref_id: doc
        for doc in db.session.execute(
            select(
                SearchDocument.id,
                SearchDocument.ref_id,
                SearchDocument.title,
                SearchDocument.keywords,
                SearchDocument.places,
                SearchDocument.body,
            ).where(SearchDocument.id.in_([document_id("project", i) for i in ids]))
        )
    }
    now = utcnow()
    inserts, updates, facet_updates = [], [], []
    for row in rows:
        fields = project_fields(
            row.title,
            row.summary,
            row.problem,
            row.description,
            tags.get(row.id, []),
            services.get(row.id, []),
            [lead_names.get(row.lead_council_id, "")] + councils.get(row.id, []),
        ).cleaned()
        facets = facet_key(places.get(row.id, []), functions.get(row.id, []))
        facets_changed = facets != row.facets
        if facets_changed:
            facet_updates.append({"project_id": row.id, "facets": facets})
        old = existing.get(row.id)
        if old is None:
            document = {"id": document_id("project", row.id), "kind": "project", "ref_id": row.id, "project_id": row.id}
            inserts.append({**document, "indexed_at": now, **fields})
        elif any(getattr(old, name) != value for name, value in fields.items()):
            updates.append({"document_id": old.id, "indexed_at": now, **fields})
        elif facets_changed:
            report["updated"] += 1
        else:
            report["unchanged"] += 1
    if inserts:
        db.session.execute(insert(SearchDocument), inserts)
        report["added"] += len(inserts)
    if updates:
        statement = (
            update(SearchDocument.__table__)
            .where(SearchDocument.__table__.c.id == bindparam("document_id"))
            .values({name: bindparam(name) for name in ("title", "keywords", "places", "body", "indexed_at")})
        )
        db.session.execute(statement, updates)
        report["updated"] += len(updates)
    if facet_updates:
        projects = Project.__table__
        statement = update(projects).where(projects.c.id == bindparam("project_id")).values(facets=bindparam("facets"))
        db.session.execute(statement, facet_updates)


# ---- the two databases ----------------------------------------------------------------------


@dataclass
class Hit:
    """Why a project matched: its own document's title and a snippet, highlighted, or its newest matching
    update's when only its updates match."""

    project_id: int
    kind: str
    ref_id: int
    title: Markup
    snippet: Markup
    # Tags, services and council names that matched, highlighted.
    also: list[Markup]

    @property
    def snippet_matches(self) -> bool:
        return "<mark>" in self.snippet


def _hit(row, snippet: str) -> Hit:
    lines = f"{row.keywords}\n{row.places}".split("\n")
    also = [highlighted(line) for line in lines if MARK_START in line]
    return Hit(row.project_id, row.kind, row.ref_id, highlighted(row.title), highlighted(snippet), also)


class SearchEngine(Protocol):
    name: str
    # Whether a search's page of projects is read more quickly by the ids of the few that pass than by its filters
    # (if not, they are named only when they all fit in the ranking window: project_lists._names_few).
    pages_by_ids: bool

    def project_ids(self, query: TextQuery, kinds: tuple[str, ...] = (), among: list[int] | None = None) -> Select:
        """The ids of projects with a document (of these kinds, or any) that matches (a subquery); only among these
        projects, if given, reading no other project's documents."""

    def matches(self, query: TextQuery, among: list[int] | None = None) -> Select:
        """One row of two lists of ids (`id_list`, read by `read_ids`): the projects with a document that matches,
        and those whose own document matches with the words in its title (the first part of the cheap order,
        `first_order`). Only among these projects, if given, reading no other project's documents. A project
        matching in more than one document comes more than once."""

    def matching(self, query: TextQuery, among: list[int] | None = None) -> tuple[int, int]:
        """The same two sets of projects as `matches`, as masks (`mask_of`), in one statement."""

    def project_documents(self, query: TextQuery, in_title: bool = False) -> tuple[ColumnElement, list]:
        """Projects' own documents that match (with the words in the title, if asked): the document id
        column, which is the project's id, and the conditions, for `first_order`."""

    def queries_matching_own_document(self, queries: list[TextQuery], project_id: int) -> set[TextQuery]:
        """Which of many searches the project's own document matches, in one statement (a new project has
        no updates, so its own document is all there is to match)."""

    def hits(self, query: TextQuery, project_ids: list[int]) -> list[Hit]:
        """Every matching document of these projects, highlighted, in one statement."""

    def window_scores(self, query: TextQuery, window, kinds: tuple[str, ...] = ()) -> Select:
        """(project_id, score) for the projects in a window (a CTE with project_id), scoring only them."""


# Field weights, strongest first (title, keywords, places, body): FTS5's bm25 takes them as
# multipliers and ts_rank as weights of A to D; both sets keep the same proportions.
WEIGHTS = (10.0, 4.0, 2.0, 1.0)
SNIPPET_WORDS = 24


FTS_TABLE = table("search_index", column("rowid", Integer))
FIRST_OTHER_ID = min(start for start in DOCUMENT_KINDS.values() if start)


def _of_kinds(document_id, kinds: tuple[str, ...]):
    """The condition that a document id (which starts at its kind's start) is of one of these kinds."""
    return or_(*[document_id.between(DOCUMENT_KINDS[k], DOCUMENT_KINDS[k] + (1 << 40) - 1) for k in kinds])


class SqliteSearch:
    """SQLite FTS5: `search_index` is an external-content table over search_documents."""

    name = "sqlite"
    # FTS5 gives a search's matches newest first from its index, checking no document, so a search's page costs no
    # more found by its filters than by its projects' ids (project_lists.FEW_TO_NAME), unless they all fit in the
    # ranking window: finding them walks every match when the filters pass few.
    pages_by_ids = False

    def _fts(self, expression: str):
        return literal_column("search_index").op("MATCH")(literal(expression, String))

    def _match(self, query: TextQuery):
        return self._fts(query.fts5())

    def _ranked_match(self, query: TextQuery):
        # The rank column, weighted per query: bm25() itself cannot be used inside GROUP BY.
        weights = ", ".join(str(w) for w in WEIGHTS)
        ranking = literal_column("search_index.rank").op("MATCH")(literal(f"bm25({weights})", String))
        return and_(self._match(query), ranking)

    def _from_index(self, *columns):
        return select(*columns).select_from(SearchDocument).join(FTS_TABLE, FTS_TABLE.c.rowid == SearchDocument.id)

    def _project_id(self):
        # A project's document id is the project's id; only other kinds need their project looked up.
        other = select(SearchDocument.project_id).where(SearchDocument.id == FTS_TABLE.c.rowid).scalar_subquery()
        return case((FTS_TABLE.c.rowid < FIRST_OTHER_ID, FTS_TABLE.c.rowid), else_=other)

    def _kinds(self, kinds: tuple[str, ...]):
        return _of_kinds(FTS_TABLE.c.rowid, kinds)

    def project_ids(self, query: TextQuery, kinds: tuple[str, ...] = (), among: list[int] | None = None) -> Select:
        statement = select(self._project_id()).select_from(FTS_TABLE).where(self._match(query))
        if among is not None:
            # FTS5 seeks each of these projects' documents by rowid, as for `hits`.
            documents = select(SearchDocument.id).where(SearchDocument.project_id.in_(among))
            statement = statement.where(FTS_TABLE.c.rowid.in_(documents))
        return statement.where(self._kinds(kinds)) if kinds else statement

    def matches(self, query: TextQuery, among: list[int] | None = None) -> Select:
        found = self.project_ids(query, among=among).subquery()
        # FTS5 matches a column and a phrase from its index alone, reading no document.
        in_title = select(FTS_TABLE.c.rowid).where(*self.project_documents(query, in_title=True)[1])
        if among is not None:
            in_title = in_title.where(FTS_TABLE.c.rowid.in_(among))  # a project's own document has its id
        in_title = in_title.subquery()
        return select(
            select(id_list(found.c[0])).scalar_subquery(), select(id_list(in_title.c.rowid)).scalar_subquery()
        )

    def matching(self, query: TextQuery, among: list[int] | None = None) -> tuple[int, int]:
        return _masks_of_matches(self.matches(query, among))

    def project_documents(self, query: TextQuery, in_title: bool = False) -> tuple[ColumnElement, list]:
        # FTS5 gives its matches newest (highest rowid) first without sorting, so `first_order` reads no
        # more of them than it keeps.
        expression = f"({query.fts5_in_title()}) AND ({query.fts5()})" if in_title else query.fts5()
        return FTS_TABLE.c.rowid, [self._fts(expression), self._kinds(("project",))]

    def queries_matching_own_document(self, queries: list[TextQuery], project_id: int) -> set[TextQuery]:
        if not queries:
            return set()
        # Each search's FTS5 text comes from a JSON array; FTS5 takes the rowid as a bound on the match,
        # so it reads no other document.
        each = func.json_each(literal(json.dumps([q.fts5() for q in queries]), String)).table_valued("key", "value")
        match = literal_column("search_index").op("MATCH")(each.c.value)
        found = select(each.c.key).where(exists().select_from(FTS_TABLE).where(match, FTS_TABLE.c.rowid == project_id))
        return {queries[index] for index in db.session.scalars(found)}

    def _score(self):
        return -literal_column("search_index.rank", Float)

    def window_scores(self, query: TextQuery, window, kinds: tuple[str, ...] = ()) -> Select:
        # FTS5 reads the matches in order and scores (bm25) only those in the window: the project id is
        # an expression, not the rowid itself, so SQLite does not look each one up in the index again.
        # And it starts at the window's oldest project, as FTS5 seeks to a rowid (an update's document has a
        # higher rowid than any project's, so none is missed).
        project_id = self._project_id()
        oldest = select(func.min(window.c.project_id)).scalar_subquery()
        statement = (
            select(project_id.label("project_id"), func.max(self._score()).label("score"))
            .select_from(FTS_TABLE)
            .where(
                self._ranked_match(query),
                FTS_TABLE.c.rowid >= oldest,
                project_id.in_(select(window.c.project_id)),
            )
            .group_by(project_id)
        )
        return statement.where(self._kinds(kinds)) if kinds else statement

    def hits(self, query: TextQuery, project_ids: list[int]) -> list[Hit]:
        # FTS5 seeks each of these projects' documents by rowid. No bm25 here: it counts every match of
        # each word again for each rowid it seeks, which costs more than the whole page.
        documents = select(SearchDocument.id).where(SearchDocument.project_id.in_(project_ids))
        statement = self._from_index(
            SearchDocument.project_id,
            SearchDocument.kind,
            SearchDocument.ref_id,
            func.highlight(literal_column("search_index"), 0, MARK_START, MARK_END).label("title"),
            func.highlight(literal_column("search_index"), 1, MARK_START, MARK_END).label("keywords"),
            func.highlight(literal_column("search_index"), 2, MARK_START, MARK_END).label("places"),
            func.snippet(literal_column("search_index"), 3, MARK_START, MARK_END, "…", SNIPPET_WORDS).label("snippet"),
        ).where(self._match(query), FTS_TABLE.c.rowid.in_(documents))
        return [_hit(row, row.snippet) for row in db.session.execute(statement)]


ENGLISH = literal_column("'english'::regconfig")
# Each document's words without positions or weights, in a narrow table of their own (migration 0018_search_words).
WORDS_TABLE = table("search_index_words", column("id", BigInteger), column("project_id", Integer))


class PostgresSearch:
    """PostgreSQL: a generated, weighted `search_vector` on search_documents, and the title's own
    `title_vector`, each with a GIN index; the same words stripped of positions in search_index_words, and for
    the projects' own documents a mask of the projects with each word (`matching`)."""

    name = "postgresql"
    # A search's page checks document after document for the words (and the filters) unless told which projects.
    pages_by_ids = True

    def _tsquery(self, query: TextQuery):
        return func.websearch_to_tsquery(ENGLISH, literal(query.websearch(), String))

    def _vector(self):
        return literal_column("search_documents.search_vector")

    def _match(self, query: TextQuery):
        return self._vector().op("@@")(self._tsquery(query))

    def _score(self, query: TextQuery):
        weights = ", ".join(str(w / WEIGHTS[0]) for w in reversed(WEIGHTS))
        # ts_rank scores a query with ! in it close to zero, so it ranks only what the query looks for.
        # Normalisation 1 divides by 1 + log(length), as bm25 favours short documents.
        wanted = self._tsquery(query.wanted())
        return func.ts_rank(literal_column(f"'{{{weights}}}'::float4[]"), self._vector(), wanted, 1)

    def project_ids(self, query: TextQuery, kinds: tuple[str, ...] = (), among: list[int] | None = None) -> Select:
        if among is None and _without_positions(query):
            # The narrow table of words, a third the size of the documents: most of a common word's rows are read.
            words = literal_column("search_index_words.words").op("@@")(self._tsquery(query))
            statement = select(WORDS_TABLE.c.project_id).where(words)
            return statement.where(_of_kinds(WORDS_TABLE.c.id, kinds)) if kinds else statement
        statement = select(SearchDocument.project_id).where(self._match(query))
        if among is not None:
            statement = statement.where(SearchDocument.project_id.in_(among))
        return statement.where(SearchDocument.kind.in_(kinds)) if kinds else statement

    def matches(self, query: TextQuery, among: list[int] | None = None) -> Select:
        # The title's query is worked out once (a subquery), not for each row.
        title_query = select(self._title_tsquery(query)).scalar_subquery()
        if among is None and _without_positions(query):
            # Both from the narrow table of words, which has each title's words beside the document's.
            words = literal_column("search_index_words.words").op("@@")(self._tsquery(query))
            in_title = literal_column("search_index_words.title_words").op("@@")(title_query)
            document_id, project_id, conditions = WORDS_TABLE.c.id, WORDS_TABLE.c.project_id, [words]
        else:
            in_title = literal_column("search_documents.title_vector").op("@@")(title_query)
            document_id, project_id, conditions = SearchDocument.id, SearchDocument.project_id, [self._match(query)]
            if among is not None:
                conditions.append(SearchDocument.project_id.in_(among))
        own_title = and_(document_id < FIRST_OTHER_ID, in_title)
        return select(id_list(project_id), id_list(project_id).filter(own_title)).where(*conditions)

    def matching(self, query: TextQuery, among: list[int] | None = None) -> tuple[int, int]:
        if among is None and _in_word_masks(query):
            masks = self._from_word_masks(query)
            if masks is not None:
                return masks
        return _masks_of_matches(self.matches(query, among))

    def _from_word_masks(self, query: TextQuery) -> tuple[int, int] | None:
        """`matching` for a query of words and two-word phrases, from the masks of the projects whose own documents
        (and titles) have each word or listed pair of words, and the projects with a matching update
        (MATCHING_BY_MASKS); None if a word is not one lexeme (never, as parsed: stop words are left out) or a
        phrase's pair is not listed (a rare one), for the documents to answer."""
        terms = list(dict.fromkeys(term.words for clause in query.clauses for term in clause))
        phrases = any(len(words) == 2 for words in terms)
        # The updates' words have no positions: with a phrase, they find the updates with the words the query looks
        # for (a phrase's anywhere), and each of those is checked against its document.
        loosely = query.words_apart() if phrases else query
        rows = db.session.execute(
            MATCHING_BY_MASKS,
            {
                "firsts": [words[0] for words in terms],
                "seconds": [words[1] if len(words) == 2 else None for words in terms],
                "query": query.websearch(),
                "loosely": loosely.websearch(),
                "phrases": phrases,
            },
        )
        in_document, in_title = dict.fromkeys(terms, 0), dict.fromkeys(terms, 0)
        updates: array | list[int] = []
        for number, masked, title, chunk, bits in rows:
            if number == 0:
                updates = read_ids(bits)
            elif not masked:
                return None
            elif chunk is not None:
                masks = in_title if title else in_document
                masks[terms[number - 1]] |= int.from_bytes(bits[4:], "big") << (chunk * MASK_CHUNK)
        # As the query reads: a clause's terms all in the document and none it leaves out, and the terms in the
        # title of any clause (`tsquery_in_title`).
        own, titled = 0, 0
        for clause in query.clauses:
            wanted = [term.words for term in clause if not term.negated]
            left_out = union_of(in_document[term.words] for term in clause if term.negated)
            own |= reduce(operator.and_, (in_document[words] for words in wanted)) & ~left_out
            titled |= reduce(operator.and_, (in_title[words] for words in wanted))
        return own | mask_of(updates), own & titled

    def _title_tsquery(self, query: TextQuery):
        return func.to_tsquery(ENGLISH, literal(query.tsquery_in_title(), String))

    def project_documents(self, query: TextQuery, in_title: bool = False) -> tuple[ColumnElement, list]:
        # Newest first: PostgreSQL chooses from its estimate of the matches between walking the documents
        # backwards until it has enough and sorting the matches its GIN index finds.
        if not in_title:
            return SearchDocument.id, [SearchDocument.kind == "project", self._match(query)]
        # The title has its own tsvector (and GIN index): small, so quick to check, where search_vector's
        # weights made PostgreSQL read all of each document's words. A title with the words matches the
        # whole document too, unless the query leaves words out.
        title_query = self._title_tsquery(query)
        conditions = [
            SearchDocument.kind == "project",
            literal_column("search_documents.title_vector").op("@@")(title_query),
        ]
        return SearchDocument.id, conditions + ([self._match(query)] if query.leaves_out else [])

    def queries_matching_own_document(self, queries: list[TextQuery], project_id: int) -> set[TextQuery]:
        if not queries:
            return set()
        texts = literal(json.dumps([q.websearch() for q in queries]), String)
        each = (
            func.json_array_elements_text(cast(texts, JSON))
            .table_valued("value", with_ordinality="number")
            .render_derived()
        )
        tsquery = func.websearch_to_tsquery(ENGLISH, each.c.value)
        document = SearchDocument.id == document_id("project", project_id)
        found = select(each.c.number).where(exists().where(document, self._vector().op("@@")(tsquery)))
        return {queries[number - 1] for number in db.session.scalars(found)}

    def window_scores(self, query: TextQuery, window, kinds: tuple[str, ...] = ()) -> Select:
        statement = (
            select(SearchDocument.project_id.label("project_id"), func.max(self._score(query)).label("score"))
            .where(self._match(query), SearchDocument.project_id.in_(select(window.c.project_id)))
            .group_by(SearchDocument.project_id)
        )
        return statement.where(SearchDocument.kind.in_(kinds)) if kinds else statement

    def hits(self, query: TextQuery, project_ids: list[int]) -> list[Hit]:
        marks = f'StartSel="{MARK_START}", StopSel="{MARK_END}"'
        snippet_options = f"MaxWords={SNIPPET_WORDS}, MinWords={SNIPPET_WORDS // 2}, MaxFragments=1, {marks}"
        wanted = self._tsquery(query.wanted())

        def whole(field):
            return func.ts_headline(ENGLISH, field, wanted, f"HighlightAll=true, {marks}")

        statement = select(
            SearchDocument.project_id,
            SearchDocument.kind,
            SearchDocument.ref_id,
            whole(SearchDocument.title).label("title"),
            whole(SearchDocument.keywords).label("keywords"),
            whole(SearchDocument.places).label("places"),
            func.ts_headline(ENGLISH, SearchDocument.body, wanted, snippet_options).label("snippet"),
            func.left(SearchDocument.body, 400).label("start"),
            func.right(SearchDocument.body, 400).label("end"),
        ).where(self._match(query), SearchDocument.project_id.in_(project_ids))
        return [_hit(row, _with_ellipses(row.snippet, row.start, row.end)) for row in db.session.execute(statement)]


def id_list(column):
    """An aggregate of integer ids that Python reads at C speed (`read_ids`): on PostgreSQL each id as four bytes
    (most significant first) in one bytea, on SQLite a JSON array. Null or empty for none."""
    if db.engine.dialect.name == "postgresql":
        return func.string_agg(func.int4send(column), literal_column("''::bytea"))
    return func.json_group_array(column)


def read_ids(found: bytes | str | None) -> array | list[int]:
    """The ids an `id_list` gives."""
    if not found:
        return []
    if isinstance(found, str):
        return json.loads(found)
    ids = array("i")
    ids.frombytes(found)
    if sys.byteorder == "little":
        ids.byteswap()
    return ids


# A mask of projects is a Python int with bit i set for project i: made once (`mask_of`), then every facet count is
# how many bits two or three masks share (`int.bit_count`), microseconds however many projects match.
ONE = ord("1")
# Fewer ids than this make a mask one bit at a time, not a digit per project (a few changed projects).
FEW_BITS = 100


def mask_of(ids: list[int] | array) -> int:
    """These projects as a mask, made at C speed."""
    if not ids or len(ids) < FEW_BITS:
        return union_of(1 << project_id for project_id in ids)
    digits = bytearray(b"0") * (1 + max(ids))
    for project_id in ids:
        digits[project_id] = ONE
    digits.reverse()  # the highest id first, as a number is written
    return int(digits, 2)


def union_of(masks) -> int:
    """The projects in any of these masks."""
    return reduce(operator.or_, masks, 0)


def _masks_of_matches(statement: Select) -> tuple[int, int]:
    """The masks of the two lists of ids a `SearchEngine.matches` statement gives."""
    found, in_title = db.session.execute(statement).one()
    return mask_of(read_ids(found)), mask_of(read_ids(in_title))


# PostgreSQL's masks of the projects whose own documents have each word (migration 0021_search_word_masks): a row
# for each chunk of MASK_CHUNK projects with the word, bit i of a chunk for the i-th project in it.
MASK_CHUNK = 1024
# For each word (or listed pair of words) searched for: its number, whether it has masks (a word that makes one lexeme,
# not a stop word; a pair of such words listed in search_phrase_pairs), and its masks, each chunk's bits as
# varbit_send gives them (four bytes of length, then the bits, most significant first) with any changes not yet
# folded in added; then a row of number 0 with the projects whose updates match (`id_list`), found by their words
# (a phrase's words anywhere, as the words keep no positions) and checked against their documents if there is one.
MATCHING_BY_MASKS = text(
    f"""WITH searched AS (
        SELECT searched.number, tsvector_to_array(to_tsvector('english', searched.first)) AS firsts,
            tsvector_to_array(to_tsvector('english', coalesce(searched.second, ''))) AS seconds,
            searched.second IS NULL AS one_word
        FROM unnest(CAST(:firsts AS text[]), CAST(:seconds AS text[]))
            WITH ORDINALITY AS searched (first, second, number)
    ), words AS (
        SELECT number, CASE WHEN one_word THEN firsts[1] ELSE firsts[1] || ' ' || seconds[1] END AS lexeme,
            cardinality(firsts) = 1 AND (one_word OR cardinality(seconds) = 1 AND EXISTS (
                SELECT FROM search_phrase_pairs AS listed WHERE (listed.first, listed.second) = (firsts[1], seconds[1])
            )) AS masked
        FROM searched
    )
    SELECT words.number, words.masked, masks.in_title, masks.chunk, varbit_send(masks.bits)
    FROM words LEFT JOIN LATERAL (
        SELECT in_title, chunk, bit_xor(bits) AS bits FROM (
            SELECT in_title, chunk, bits FROM search_word_masks WHERE lexeme = words.lexeme
            UNION ALL
            SELECT in_title, chunk, bits FROM search_word_mask_changes WHERE lexeme = words.lexeme
        ) AS kept GROUP BY in_title, chunk
    ) AS masks ON words.masked
    UNION ALL
    SELECT 0, true, NULL, NULL, string_agg(int4send(found.project_id), ''::bytea) FROM search_index_words AS found
    WHERE found.id >= {FIRST_OTHER_ID} AND found.words @@ websearch_to_tsquery('english', :loosely)
        AND (NOT :phrases OR EXISTS (
            SELECT FROM search_documents AS document WHERE document.id = found.id
                AND document.search_vector @@ websearch_to_tsquery('english', :query)
        ))"""
)


# The pairs of adjacent words (lexemes of ASCII letters and digits) that at least one project document in
# PHRASE_PAIR_SHARE (and two at least) has, listed again for masks of their own (migration 0022_search_phrase_pairs):
# pairs no longer common enough dropped, new ones added. Rarer pairs are checked in the documents, few enough.
PHRASE_PAIR_SHARE = 200
LIST_PHRASE_PAIRS = f"""WITH positions AS (
        SELECT document.id, word.lexeme, position
        FROM search_documents AS document, unnest(document.search_vector) AS word, unnest(word.positions) AS position
        WHERE document.id < {FIRST_OTHER_ID} AND word.lexeme ~ '^[a-z0-9]+$'
    ), following AS (
        SELECT id, lexeme AS first, lead(lexeme) OVER by_position AS second,
            lead(position) OVER by_position = position + 1 AS adjacent
        FROM positions WINDOW by_position AS (PARTITION BY id ORDER BY position)
    ), common AS (
        SELECT first, second FROM (SELECT DISTINCT id, first, second FROM following WHERE adjacent) AS pairs
        GROUP BY first, second
        HAVING count(*) >= greatest(2, (SELECT count(*) FROM search_documents WHERE id < {FIRST_OTHER_ID})
            / {PHRASE_PAIR_SHARE})
    ), dropped AS (
        DELETE FROM search_phrase_pairs AS listed
        WHERE NOT EXISTS (SELECT FROM common WHERE (common.first, common.second) = (listed.first, listed.second))
    )
    INSERT INTO search_phrase_pairs (first, second, query)
    SELECT first, second, (quote_literal(first) || ' <-> ' || quote_literal(second))::tsquery FROM common
    ON CONFLICT (first, second) DO NOTHING"""

# Every word and pair mask made again from the words and the documents' listed pairs, in one statement (so from one
# snapshot): rows that differ written, rows of words and pairs no longer there deleted, and the changes not yet folded
# in dropped, as the words and documents already have them.
REMAKE_WORD_MASKS = f"""WITH made AS (
        SELECT lexeme, in_title, id / {MASK_CHUNK} AS chunk,
            bit_or(1::bit({MASK_CHUNK}) << (id % {MASK_CHUNK})::integer) AS bits
        FROM (
            SELECT id, false AS in_title, lexeme FROM search_index_words, unnest(tsvector_to_array(words)) AS lexeme
            WHERE id < {FIRST_OTHER_ID}
            UNION ALL
            SELECT id, true, lexeme FROM search_index_words, unnest(tsvector_to_array(title_words)) AS lexeme
            WHERE id < {FIRST_OTHER_ID}
            UNION ALL
            SELECT id, false, pair FROM search_documents, unnest(search_phrase_pairs_of(search_vector)) AS pair
            WHERE id < {FIRST_OTHER_ID}
            UNION ALL
            SELECT id, true, pair FROM search_documents, unnest(search_phrase_pairs_of(title_vector)) AS pair
            WHERE id < {FIRST_OTHER_ID}
        ) AS lexemes
        GROUP BY 1, 2, 3
    ), dropped AS (
        DELETE FROM search_word_mask_changes
    ), gone AS (
        DELETE FROM search_word_masks AS kept WHERE NOT EXISTS (
            SELECT FROM made WHERE (made.lexeme, made.in_title, made.chunk) = (kept.lexeme, kept.in_title, kept.chunk)
        )
    )
    INSERT INTO search_word_masks (lexeme, in_title, chunk, bits)
    SELECT lexeme, in_title, chunk, bits FROM made ORDER BY 1, 2, 3
    ON CONFLICT (lexeme, in_title, chunk) DO UPDATE SET bits = EXCLUDED.bits
    WHERE search_word_masks.bits <> EXCLUDED.bits"""


def _of_plain_words(query: TextQuery, most_words: int) -> bool:
    """Whether every term of the query has at most `most_words` words, each of ASCII letters and digits, which
    PostgreSQL's parser reads as one word, never as a phrase of several."""
    terms = [term for clause in query.clauses for term in clause]
    return all(len(term.words) <= most_words and all(word.isascii() for word in term.words) for term in terms)


def _in_word_masks(query: TextQuery) -> bool:
    """Whether PostgreSQL's word masks may answer the query: every term a plain word or a phrase of two (a phrase's
    pair is answered if listed)."""
    return _of_plain_words(query, 2)


def _without_positions(query: TextQuery) -> bool:
    """Whether the query finds the same documents by their words alone: every term a plain word (no phrase)."""
    return _of_plain_words(query, 1)


def _with_ellipses(fragment: str, start: str, end: str) -> str:
    """Add "…" where a ts_headline fragment does not reach the start or end of the text, as FTS5's snippet does."""
    plain = " ".join(fragment.replace(MARK_START, "").replace(MARK_END, "").split())
    if not plain:
        return fragment
    if not " ".join(start.split()).startswith(plain[:50]):
        fragment = "…" + fragment.lstrip()
    if not " ".join(end.split()).endswith(plain[-50:]):
        fragment = fragment.rstrip() + "…"
    return fragment


def engine() -> SearchEngine:
    """The search engine for the app's database."""
    return PostgresSearch() if db.engine.dialect.name == "postgresql" else SqliteSearch()


# Ranking runs in two steps, as search engines do: scoring every match exactly (bm25, ts_rank) costs most
# of a search that finds a fifth of all projects, so a cheap order that needs no scores comes first
# (projects with the words in their own title, then the rest; newest first in each), and only the
# first RANK_WINDOW projects in it are scored and sorted by score. Past them, the list is in the cheap order.
RANK_WINDOW = 200


def first_order(query: TextQuery, conditions: list, size: int, updates: bool = True) -> Select:
    """The first `size` matching projects that pass the conditions in the cheap order, as (project_id,
    in_title): in_title 1 first, then newest first.

    Each part keeps its newest `size`: projects whose own title has the words, projects whose own document
    matches (those in the first part too, so the database's estimate of the part is sound), and, unless
    `updates` is false, projects with a matching update. Together they hold the first `size` of the cheap order.
    """
    search = engine()

    def newest(in_title: bool) -> Select:
        document, matching = search.project_documents(query, in_title)
        found = (
            select(document.label("project_id"))
            .join(Project, Project.id == document)  # a project's document has its id
            .where(*matching, *conditions)
            .order_by(document.desc())
            .limit(size)
            .subquery()
        )
        return select(found.c.project_id, literal_column("1" if in_title else "0").label("in_title"))

    each_part = [newest(in_title=True), newest(in_title=False)]
    if updates:
        in_updates = (
            select(Project.id.label("project_id"))
            .where(Project.id.in_(search.project_ids(query, kinds=("update",))), *conditions)
            .order_by(Project.id.desc())
            .limit(size)
            .subquery()
        )
        each_part.append(select(in_updates.c.project_id, literal_column("0").label("in_title")))
    parts = union_all(*each_part).subquery("parts")
    in_title = func.max(parts.c.in_title)
    return (
        select(parts.c.project_id, in_title.label("in_title"))
        .group_by(parts.c.project_id)
        .order_by(in_title.desc(), parts.c.project_id.desc())
        .limit(size)
    )


def best_hits(query: TextQuery, project_ids: list[int]) -> dict[int, Hit]:
    """For each project, the highlights of its own document where that matches (what the card shows), or else
    of its newest matching update (one statement)."""
    if query.empty or not project_ids:
        return {}
    best: dict[int, Hit] = {}
    for hit in engine().hits(query, project_ids):
        current = best.get(hit.project_id)
        if current is None or (hit.kind == "project", hit.ref_id) > (current.kind == "project", current.ref_id):
            best[hit.project_id] = hit
    return best
