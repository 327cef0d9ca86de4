"""Search on SQLite FTS5 and PostgreSQL: the same fixture gives the same results on both databases.

Every test here runs once per database; the expected results are written once, so both databases
must return exactly them.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
from sqlalchemy import delete, func, select, text
from werkzeug.datastructures import MultiDict

from pipeline.database import statement_counter
from pipeline.extensions import db
from pipeline.models import Project, SavedSearch, SearchDocument, User
from pipeline.services import project_lists, projects, saved_searches, search, similar
from pipeline.services.project_lists import ProjectFilters
from tests.factories import make_project

BULKY_WASTE, HOUSEHOLD_WASTE, GARDEN_WASTE, RECYCLING_SITES = 528, 524, 530, 534
PARKING_PERMITS, HOUSING_REPAIRS = 474, 141

# The shared fixture: (council code, fields). Titles are what the tests compare.
FIXTURE = [
    (
        "LDS",
        {
            "title": "Bin collection day finder",
            "summary": "Tell residents which bin goes out this week",
            "problem": "Residents put the wrong bin out and report missed collections that were never due.",
            "tags": ["waste", "open data"],
            "service_ids": [HOUSEHOLD_WASTE],
        },
    ),
    (
        "BIR",
        {
            "title": "Book a bulky waste collection online",
            "summary": "Book and pay for bulky waste collections without phoning",
            "problem": "Residents phone the contact centre to book collections of sofas and fridges.",
            "tags": ["waste", "online payments"],
            "service_ids": [BULKY_WASTE],
        },
    ),
    (
        "CRF",
        {
            "title": "Garden waste subscriptions",
            "summary": "Renew a garden waste subscription online",
            "problem": "Renewals peak in spring and stickers for garden bins go missing in the post.",
            "tags": ["waste", "subscriptions"],
            "service_ids": [GARDEN_WASTE],
        },
    ),
    (
        "LDS",
        {
            "title": "Residents' parking permits",
            "summary": "Apply for a parking permit without posting proof of address",
            "problem": "Paper permits are easy to copy and residents wait weeks for them.",
            "tags": ["parking"],
            "service_ids": [PARKING_PERMITS],
        },
    ),
    (
        "CRF",
        {
            "title": "Visitor parking for care workers",
            "summary": "Let carers park near the people they visit",
            "problem": "Care workers get parking tickets while they visit residents at home.",
            "tags": ["parking", "social care"],
            "service_ids": [PARKING_PERMITS],
        },
    ),
    (
        "MAN",
        {
            "title": "Housing repairs reporting",
            "summary": "Tenants report repairs and see when someone will come",
            "problem": "Tenants report repairs by phone. Overflowing bins in communal areas are the commonest report.",
            "tags": ["housing"],
            "service_ids": [HOUSING_REPAIRS],
        },
    ),
    (
        "BIR",
        {
            "title": "Recycling centre booking",
            "summary": "Book a slot at the household recycling centre",
            "problem": "Queues at the recycling centre block the road; a booking system would spread visits.",
            "tags": ["recycling"],
            "service_ids": [RECYCLING_SITES],
        },
    ),
    (
        "MAN",
        {
            "title": "Council tax moves",
            "summary": "Tell us you are moving home once",
            "problem": "People moving home email revenues, who re-key every change. <b>Bold</b> & brave.",
            "tags": [],
            "service_ids": [],
        },
    ),
]

# Query, and the titles expected in tiers, best first: a tier's titles come before the next tier's,
# in either order among themselves (where the two ranking functions differ by a hair). Together the
# tiers are the whole result, so the sets must match too.
GARDEN, BULKY, FINDER = (
    "Garden waste subscriptions",
    "Book a bulky waste collection online",
    "Bin collection day finder",
)
RESIDENTS, VISITOR = "Residents' parking permits", "Visitor parking for care workers"
REPAIRS, RECYCLING = "Housing repairs reporting", "Recycling centre booking"
EXPECTED = [
    ("bins", [{FINDER}, {GARDEN, REPAIRS}]),
    ("bin collection", [{FINDER}]),
    ("collections", [{FINDER, BULKY}]),
    ('"bulky waste"', [{BULKY}]),
    ("waste", [{GARDEN, BULKY}, {FINDER}]),
    ("waste -garden", [{BULKY}, {FINDER}]),
    ('waste -"garden waste"', [{BULKY}, {FINDER}]),
    ("parking", [{RESIDENTS, VISITOR}]),
    ("parking -visitor", [{RESIDENTS}]),
    ("permits or repairs", [{RESIDENTS, REPAIRS}, {VISITOR}]),
    ("Cardiff", [{GARDEN, VISITOR}]),
    ("social care", [{VISITOR}]),
    ("recycling", [{RECYCLING}]),
    ("moving home", [{"Council tax moves"}]),
    ("bold brave", [{"Council tax moves"}]),
    ("zebra crossing", []),
]


def tiers(titles: list[str], expected: list[set[str]]) -> list[set[str]]:
    """The results cut into tiers the sizes of the expected ones (and the rest), to compare."""
    cut, start = [], 0
    for tier in expected:
        cut.append(set(titles[start : start + len(tier)]))
        start += len(tier)
    return cut + ([set(titles[start:])] if titles[start:] else [])


@pytest.fixture
def fixture_projects(app, make_officer):
    officers = {}
    ids = {}
    for code, fields in FIXTURE:
        officer = officers.get(code) or officers.setdefault(code, make_officer(code))
        _, project_id = make_project(app, officer, **fields)
        ids[fields["title"]] = project_id
    return ids


def search_titles(app, typed: str, **filters) -> list[str]:
    with app.app_context():
        page = project_lists.list_projects(ProjectFilters(q=typed, sort="relevance", **filters), per_page=50)
        return [project.title for project in page.items]


def test_both_databases_return_the_same_results(app, fixture_projects):
    found = {typed: tiers(search_titles(app, typed), expected) for typed, expected in EXPECTED}
    assert found == dict(EXPECTED)


def test_matching_words_are_highlighted_and_everything_else_escaped(app, fixture_projects):
    with app.app_context():
        filters = ProjectFilters(q="bins brave", sort="relevance")
        page = project_lists.list_projects(filters)
        assert [p.title for p in page.items] == []
        filters = ProjectFilters(q="bold", sort="relevance")
        page = project_lists.list_projects(filters)
        hit = page.hits[page.items[0].id]
        assert "<mark>Bold</mark>" in hit.snippet
        assert "<b>" not in hit.snippet and "&amp; brave" in hit.snippet

        filters = ProjectFilters(q="bins", sort="relevance")
        page = project_lists.list_projects(filters)
        hits = page.hits
        finder = hits[fixture_projects["Bin collection day finder"]]
        assert str(finder.title) == "<mark>Bin</mark> collection day finder"
        assert "<mark>bin</mark> out" in finder.snippet
        repairs = hits[fixture_projects["Housing repairs reporting"]]
        assert "Overflowing <mark>bins</mark> in communal areas" in repairs.snippet
        assert repairs.snippet.startswith("…") or repairs.snippet.startswith("Tenants")


def test_tags_services_and_councils_that_match_are_shown(app, fixture_projects):
    with app.app_context():
        page = project_lists.list_projects(ProjectFilters(q="household", sort="relevance"))
        hit = page.hits[fixture_projects["Bin collection day finder"]]
        assert [str(line) for line in hit.also] == ["<mark>Household</mark> waste collection"]


def test_a_search_combines_with_filters(app, fixture_projects):
    assert search_titles(app, "waste", nation="Wales") == ["Garden waste subscriptions"]
    assert search_titles(app, "waste", council="birmingham-city-council") == ["Book a bulky waste collection online"]
    assert search_titles(app, "waste", service=BULKY_WASTE) == ["Book a bulky waste collection online"]
    assert search_titles(app, "waste", tag="subscriptions") == ["Garden waste subscriptions"]
    assert search_titles(app, "waste", phase=["alpha"]) == []


def test_a_new_project_matches_a_saved_search_exactly_when_the_list_finds_it(app, fixture_projects):
    """Following a saved search checks each new project alone; it must agree with the list."""
    searches = [ProjectFilters(q=typed, sort="relevance") for typed, _ in EXPECTED] + [
        ProjectFilters(q="waste", nation="Wales"),
        ProjectFilters(q="waste", council="birmingham-city-council"),
        ProjectFilters(q="waste", service=BULKY_WASTE),
        ProjectFilters(q="waste", tag="subscriptions"),
        ProjectFilters(phase=["alpha"]),
        ProjectFilters(q='"unclosed NEAR( * AND OR'),
    ]
    saved = [SavedSearch(args=f.to_args(page=1), key=f"search {n}") for n, f in enumerate(searches)]
    with app.app_context():
        expected = {i: set() for i in fixture_projects.values()}
        for filters, kept in zip(searches, saved, strict=True):
            listed = {p.id for p in project_lists.list_projects(filters, per_page=50).items}
            one_by_one = {i for i in fixture_projects.values() if saved_searches.matching_new_project([kept], i)}
            assert one_by_one == listed, filters
            for i in listed:
                expected[i].add(kept.key)
        # All the searches at once, as fan-out asks when a project is posted.
        for project_id, keys in expected.items():
            assert saved_searches.matching_new_project(saved, project_id) == keys, project_id


def test_the_index_follows_every_create_and_edit(app, officer):
    _, project_id = make_project(app, officer, title="Pothole reporting", problem="Potholes are reported twice.")
    assert search_titles(app, "potholes") == ["Pothole reporting"]
    with app.app_context():
        user = db.session.get(User, officer.id)
        project = projects.get_project_by_id(project_id)
        data = projects.ProjectInput(
            title="Street light faults", summary=project.summary, problem="Lights stay broken for weeks.",
            tags=["street lighting"], lead_council_id=project.lead_council_id,
        )  # fmt: skip
        projects.update_project(user, project_id, data)
    assert search_titles(app, "pothole") == []
    assert search_titles(app, "broken lights") == ["Street light faults"]
    assert search_titles(app, "lighting") == ["Street light faults"]
    assert search_titles(app, "Leeds") == ["Street light faults"]


def test_deleting_a_project_takes_it_out_of_the_index(app, officer):
    _, project_id = make_project(app, officer, title="Pothole reporting")
    with app.app_context():
        db.session.delete(db.session.get(Project, project_id))
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(SearchDocument)) == 0
    assert search_titles(app, "pothole") == []


def test_other_kinds_of_document_find_their_project(app, officer):
    """What the updates service will do: index an update in its own transaction, and remove it."""
    _, project_id = make_project(app, officer, title="Bulky waste bookings")
    with app.app_context():
        search.index_document(
            "update", 41, project_id=project_id, title="Weeknote 3", body="We tested the booking form with residents."
        )
        db.session.commit()
        page = project_lists.list_projects(ProjectFilters(q="weeknote tested", sort="relevance"))
        assert [p.title for p in page.items] == ["Bulky waste bookings"]
        hit = page.hits[project_id]
        assert (hit.kind, hit.ref_id, str(hit.title)) == ("update", 41, "<mark>Weeknote</mark> 3")
        assert "We <mark>tested</mark> the booking form" in hit.snippet
        # Where the project itself matches, its own text is what the card highlights; else its newest update.
        hit = project_lists.list_projects(ProjectFilters(q="booking", sort="relevance")).hits[project_id]
        assert (hit.kind, str(hit.title)) == ("project", "Bulky waste <mark>bookings</mark>")
        search.index_document("update", 40, project_id=project_id, title="Weeknote 2", body="We tested the map.")
        db.session.commit()
        hit = project_lists.list_projects(ProjectFilters(q="weeknote tested", sort="relevance")).hits[project_id]
        assert (hit.kind, hit.ref_id) == ("update", 41)
        search.remove_document("update", 40)

        search.index_document("update", 41, project_id=project_id, title="Weeknote 3", body="Rewritten.")
        db.session.commit()
        assert search_titles(app, "tested") == []
        search.remove_document("update", 41)
        db.session.commit()
        assert search_titles(app, "weeknote") == []
        assert search_titles(app, "bulky") == ["Bulky waste bookings"]


def cheap_order_pages(app, typed: str, per_page: int, from_masks: bool, count: int) -> list[list[str]]:
    """The first pages of a search by best match: the cheap order walked by the database, or read from the masks the
    facet counts keep (`Facets.in_title`)."""
    with app.app_context():
        found = []
        for number in range(1, count + 1):
            filters = ProjectFilters(q=typed, sort="relevance", page=number)
            counted = project_lists.facet_counts(filters) if from_masks else None
            assert from_masks == (counted is not None and counted.in_title is not None)
            page = project_lists.list_projects(filters, per_page=per_page, counted=counted)
            found.append([p.title for p in page.items])
        db.session.rollback()
        return found


@pytest.mark.parametrize("from_masks", [False, True], ids=["walked", "from-masks"])
def test_only_a_window_is_scored_and_the_rest_keeps_the_cheap_order(app, fixture_projects, monkeypatch, from_masks):
    """Best match scores the first RANK_WINDOW projects of the cheap order (words in the title first, then
    newest first) and lists the rest in that order, so every page together is every match, once; the same whether
    the database walks the matches in that order or the order is read from the masks the counts keep."""
    with app.app_context():
        recycling = fixture_projects[RECYCLING]
        search.index_document("update", 7, project_id=recycling, title="Weeknote", body="Less waste at the tip.")
        db.session.commit()

    def pages(per_page: int) -> list[list[str]]:
        return cheap_order_pages(app, "waste", per_page, from_masks, count=5)

    # Garden and bulky waste have the word in their titles (garden is newer); recycling matches through an
    # update and is newer than the bin finder, which has it in a tag.
    monkeypatch.setattr(search, "RANK_WINDOW", 1)
    assert pages(1) == [[GARDEN], [BULKY], [RECYCLING], [FINDER], []]
    monkeypatch.setattr(search, "RANK_WINDOW", 2)
    first, second, *rest = pages(2)
    assert set(first) == {GARDEN, BULKY} and second == [RECYCLING, FINDER] and rest == [[], [], []]
    # A window holding every match ranks them all by score: the update's one word in a long text comes last.
    monkeypatch.setattr(search, "RANK_WINDOW", 200)
    assert tiers(search_titles(app, "waste"), [{GARDEN, BULKY}, {FINDER}, {RECYCLING}]) == [
        {GARDEN, BULKY},
        {FINDER},
        {RECYCLING},
    ]


@pytest.mark.parametrize("from_masks", [False, True], ids=["walked", "from-masks"])
def test_the_cheap_order_puts_titles_with_the_words_first_and_keeps_out_what_a_search_leaves_out(
    app, fixture_projects, monkeypatch, from_masks
):
    """With a window of one, each page shows the cheap order alone: the words in the title first (a phrase as
    a phrase), and never a project whose title has the words but whose text has a word left out; the same whether
    the database walks the matches in that order or the order is read from the masks the counts keep."""

    def pages(typed: str) -> list[list[str]]:
        return cheap_order_pages(app, typed, 1, from_masks, count=4)

    monkeypatch.setattr(search, "RANK_WINDOW", 1)
    # Garden waste has "waste" in its title but "garden" too; the bin finder has "waste" in a tag.
    assert pages("waste -garden") == [[BULKY], [FINDER], [], []]
    assert pages('"bulky waste"') == [[BULKY], [], [], []]
    # "parking" is in both titles; visitor parking is newer.
    assert pages("parking -visitor") == [[RESIDENTS], [], [], []]
    assert pages("parking") == [[VISITOR], [RESIDENTS], [], []]
    # Visitor parking's update matches "parking -visitor", but its own document does not: its title counts for
    # nothing, so it comes after the project with the words in its title.
    with app.app_context():
        visitor = fixture_projects[VISITOR]
        search.index_document("update", 8, project_id=visitor, title="Weeknote", body="Parking at the depot.")
        db.session.commit()
    assert pages("parking -visitor") == [[RESIDENTS], [VISITOR], [], []]


def test_rebuild_is_idempotent_and_repairs_the_index(app, fixture_projects):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["search", "rebuild"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"0 added, 0 updated, 0 removed, {len(FIXTURE)} unchanged search documents"
    with app.app_context():
        # Lose a document and corrupt another behind the service's back.
        db.session.execute(delete(SearchDocument).where(SearchDocument.ref_id == fixture_projects["Council tax moves"]))
        db.session.execute(
            text("UPDATE search_documents SET title = 'stale' WHERE ref_id = :id"),
            {"id": fixture_projects["Garden waste subscriptions"]},
        )
        db.session.commit()
    assert search_titles(app, "moving home") == []
    assert search_titles(app, "stale") == ["Garden waste subscriptions"]
    result = runner.invoke(args=["search", "rebuild"])
    assert result.output.strip() == f"1 added, 1 updated, 0 removed, {len(FIXTURE) - 2} unchanged search documents"
    assert search_titles(app, "moving home") == ["Council tax moves"]
    assert search_titles(app, "stale") == []
    for typed, expected in EXPECTED:
        assert tiers(search_titles(app, typed), expected) == expected, typed
    again = runner.invoke(args=["search", "rebuild"])
    assert again.output.strip() == f"0 added, 0 updated, 0 removed, {len(FIXTURE)} unchanged search documents"


def test_rebuild_repairs_a_projects_facet_key(app, fixture_projects):
    """The facet counts read each project's own facet key; a rebuild makes it again from the project."""
    with app.app_context():
        expected = project_lists.facet_counts(ProjectFilters())
        assert sum(expected.nation.values()) > 0 and expected.function
        garden = fixture_projects["Garden waste subscriptions"]
        db.session.execute(text("UPDATE projects SET facets = '' WHERE id = :id"), {"id": garden})
        db.session.commit()
        assert project_lists.facet_counts(ProjectFilters()) != expected
    result = app.test_cli_runner().invoke(args=["search", "rebuild"])
    assert result.output.strip() == f"0 added, 1 updated, 0 removed, {len(FIXTURE) - 1} unchanged search documents"
    with app.app_context():
        assert project_lists.facet_counts(ProjectFilters()) == expected


def test_filters_checked_a_few_per_statement_give_the_same_answer(app, fixture_projects, monkeypatch):
    """Fan-out checks the filters of many saved searches in a few statements; cutting them up changes nothing."""
    searches = [ProjectFilters(q="waste", nation=n) for n in ("England", "Wales", "")] + [
        ProjectFilters(phase=["alpha"]),
        ProjectFilters(council="leeds-city-council"),
        ProjectFilters(service=BULKY_WASTE),
        ProjectFilters(tag="subscriptions"),
    ]
    with app.app_context():
        for project_id in fixture_projects.values():
            together = project_lists.new_project_passes_filters(searches, project_id)
            one_by_one = {
                n for n, f in enumerate(searches) if project_lists.new_project_passes_filters([f], project_id)
            }
            monkeypatch.setattr(project_lists, "FILTERS_PER_STATEMENT", 2)
            assert project_lists.new_project_passes_filters(searches, project_id) == together == one_by_one
            monkeypatch.undo()
        bulky = fixture_projects["Book a bulky waste collection online"]
        assert project_lists.new_project_passes_filters(searches, bulky) == {0, 2, 5}


def test_the_facet_groups_give_the_same_total_as_counting(app, fixture_projects):
    """The projects page takes its total from the facet counts; it must be what counting finds."""
    with app.app_context():
        everything = project_lists.facet_counts(ProjectFilters())
        assert everything.total == len(FIXTURE)
        searches = [ProjectFilters(), ProjectFilters(q="waste"), ProjectFilters(q="parking -visitor")]
        combos = []
        for base in searches:
            combos += [base, *(ProjectFilters(q=base.q, phase=phases) for phases in (["alpha"], ["alpha", "idea"]))]
            combos += [ProjectFilters(q=base.q, nation=nation) for nation, n in everything.nation.items() if n]
            combos += [ProjectFilters(q=base.q, region=region) for region in everything.region]
            combos += [ProjectFilters(q=base.q, function=function) for function in everything.function]
            combos += [
                ProjectFilters(q=base.q, nation="England", region="London", function=function, phase=["discovery"])
                for function in everything.function
            ]
            combos += [ProjectFilters(q=base.q, council="leeds-city-council", dormant="include")]
        found = set()
        for filters in combos:
            counted = project_lists.list_projects(filters).total
            assert project_lists.facet_counts(filters).total == counted, filters
            found.add(counted)
        assert len(found) > 3  # the combinations find different numbers of projects, not all or none


def test_each_facet_count_is_what_choosing_that_value_finds(app, fixture_projects):
    """A count beside a filter's value is the number of projects the list shows once that value is chosen,
    the other filters kept: the facet groups are judged in Python, so they are checked against counting."""
    with app.app_context():
        everything = project_lists.facet_counts(ProjectFilters())
        asked = [
            ProjectFilters(),
            ProjectFilters(q="waste", phase=["alpha", "beta"]),
            ProjectFilters(nation="England", region="London"),
            *(ProjectFilters(q="waste", nation="England", function=function) for function in everything.function),
        ]
        checked = 0
        for filters in asked:
            facets = project_lists.facet_counts(filters)
            choices = [("phase", [phase]) for phase in facets.phase]
            choices += [(name, value) for name in ("nation", "region", "function") for value in getattr(facets, name)]
            for name, value in choices:
                shown = getattr(facets, name)[value[0] if name == "phase" else value]
                chosen = replace(filters, **{name: value})
                assert shown == project_lists.list_projects(chosen).total, (filters, name, value)
                checked += shown > 0
        assert checked > 10


HOSTILE = [
    "",
    "*",
    "AND OR",
    '"unclosed',
    "NEAR(",
    "NEAR(bins waste, 2)",
    "bins AND",
    "OR bins",
    "-bins",
    "bins -",
    "'; DROP TABLE projects; --",
    "1' OR '1'='1",
    "search_index MATCH '*'",
    "{title}: bins",
    "title:bins",
    "bins\x00",
    "<script>alert(1)</script>",
    "é ² ª 🗑️",
    "x" * 5000,
    "bins " * 300,
]


def test_bad_input_never_fails(app, fixture_projects):
    with app.app_context():
        for typed in HOSTILE:
            filters = ProjectFilters.from_args(MultiDict({"q": typed}))
            page = project_lists.list_projects(filters)
            project_lists.facet_counts(filters)
            project_lists.newest(filters)
            assert page.total >= 0, typed
        assert db.session.scalar(select(func.count()).select_from(Project)) == len(FIXTURE)


def test_similar_projects_share_services_tags_and_words(app, fixture_projects):
    with app.app_context():
        project = projects.get_project_by_id(fixture_projects["Residents' parking permits"])
        found = similar.similar_to(project)
        assert [s.project.title for s in found] == ["Visitor parking for care workers"]
        assert found[0].reasons == [
            "Same service: Parking permits",
            "Shared tag: parking",
            "Similar words: parking",
        ]

        project = projects.get_project_by_id(fixture_projects["Book a bulky waste collection online"])
        found = similar.similar_to(project)
        assert {s.project.title: s.reasons for s in found} == {
            GARDEN: ["Shared tag: waste", "Similar words: waste"],
            FINDER: ["Shared tag: waste", "Similar words: collection"],
            RECYCLING: ["Similar words: book, centre"],
        }
        assert [s.project.title for s in found][2] == RECYCLING


def test_similar_projects_read_only_the_newest_links_of_each_shared_service(app, officer, monkeypatch):
    """A service on thousands of projects costs no more than one on a few: each shared service is read from
    its newest links only, and a project sharing more of them still comes first."""

    def post(title: str, summary: str, problem: str, services: list[int]) -> int:
        return make_project(app, officer, title=title, summary=summary, problem=problem, service_ids=services)[1]

    post("Cemetery records", "Digitise burial registers", "Paper ledgers decay.", [BULKY_WASTE])
    post("Pothole reports", "Map road defects", "Duplicates arrive.", [BULKY_WASTE, HOUSEHOLD_WASTE])
    post("Library loans", "Renew books", "Queues form.", [BULKY_WASTE])
    post("Parking fines", "Appeal penalties", "Letters bounce.", [BULKY_WASTE])
    tree_surveys = post("Tree surveys", "Inspect canopies", "Storms damage branches.", [BULKY_WASTE, HOUSEHOLD_WASTE])

    def similar_titles() -> list[tuple[str, int]]:
        with app.app_context():
            found = similar.similar_to(projects.get_project_by_id(tree_surveys))
            return [(s.project.title, s.score) for s in found]

    both, one = 2 * similar.SERVICE_POINTS, similar.SERVICE_POINTS
    everyone = [("Pothole reports", both), ("Parking fines", one), ("Library loans", one), ("Cemetery records", one)]
    assert similar_titles() == everyone
    # Three links per service: the bulky waste links of Tree surveys and the two newest projects, and
    # both links of household waste. The oldest project is left out; the one sharing both services is not.
    monkeypatch.setattr(similar, "LINKS_PER_VALUE", 3)
    assert similar_titles() == everyone[:3]


def test_possible_duplicates_when_posting(app, fixture_projects):
    with app.app_context():
        found = projects.possible_duplicates("Online bulky waste bookings", "Phone queues", [BULKY_WASTE])
        assert found[0].project.title == "Book a bulky waste collection online"
        assert found[0].reasons[0] == "Same service: Bulky household waste collections"
        assert found[0].reasons[1] == "Similar words: bulky, waste, bookings"
        # Nothing in common: nothing to stop posting for.
        assert projects.possible_duplicates("Zebra crossings", "Children cross busy roads", []) == []
        # Nothing to compare at all: no services, no tags, only common words; nothing to ask the database.
        with statement_counter() as statements:
            assert projects.possible_duplicates("A new council project", "", []) == []
        assert statements == [0]
        # Words alone count when there are enough of them.
        found = projects.possible_duplicates("Garden waste subscription renewals", "", [])
        assert [(d.project.title, d.reasons) for d in found] == [
            (GARDEN, ["Similar words: garden, waste, subscription"])
        ]


# What the index tests search for, after `_post_an_update_and_edit_a_project`.
INDEX_TEST_SEARCHES = [
    "residents",
    "garden or bins",
    "residents -tip",
    "weeknote",
    "queue",
    "garden -queue",
    "bins -queue",
]


def _post_an_update_and_edit_a_project(bins: int, garden: int) -> None:
    """Writes the index tests keep in step through: an update of the bins project indexed, and the garden project's
    title, problem and tags edited (in the caller's app context)."""
    search.index_document("update", 7, project_id=bins, title="Weeknote 1", body="Residents tested the finder.")
    db.session.commit()
    project = projects.get_project_by_id(garden)
    data = projects.ProjectInput(
        title="Garden waste permits", summary=project.summary, problem="Residents queue at the tip.",
        tags=["garden waste"], lead_council_id=project.lead_council_id,
    )  # fmt: skip
    projects.update_project(db.session.get(User, project.created_by_id), garden, data)


def test_postgresql_keeps_each_documents_words_in_step_and_finds_the_same_projects_by_them(app, officer, make_officer):
    """PostgreSQL finds which projects match a search without a phrase, and which of them have the words in their
    own titles, in a narrow table of each document's words and title words (migrations 0018_search_words and
    0020_search_title_words), kept in step with the documents by a trigger through every write."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite's FTS5 index has no such table")

    def assert_in_step():
        with app.app_context():
            words = "SELECT id, project_id, words::text, title_words::text FROM search_index_words ORDER BY id"
            documents = (
                "SELECT id, project_id, strip(search_vector)::text, strip(title_vector)::text "
                "FROM search_documents ORDER BY id"
            )
            assert db.session.execute(text(words)).all() == db.session.execute(text(documents)).all()

    _, bins = make_project(app, officer, title="Bin collection day finder", tags=["bins"])
    _, garden = make_project(app, make_officer("CRF"), title="Garden waste subscriptions")
    assert_in_step()
    with app.app_context():
        _post_an_update_and_edit_a_project(bins, garden)
    assert_in_step()
    with app.app_context():
        search.move_documents(bins, garden)  # as a merge moves updates
        db.session.commit()
    assert_in_step()
    with app.app_context():
        engine, found, every = search.engine(), {}, [bins, garden]
        # Titles: "Bin collection day finder" and "Garden waste permits"; an update's title is not its project's.
        found_in_titles = {"garden or bins": {bins, garden}, "bins -queue": {bins}}
        for typed in INDEX_TEST_SEARCHES:
            query = search.parse_query(typed)
            by_words = set(db.session.scalars(engine.project_ids(query)))
            assert "search_index_words" in str(engine.project_ids(query))
            by_documents = set(db.session.scalars(select(SearchDocument.project_id).where(engine._match(query))))
            assert by_words == by_documents, typed
            found[typed] = by_words
            # And the same projects with the words in their own titles, read by the words or (among some projects)
            # by the documents.
            assert "search_index_words" in str(engine.matches(query))
            assert "search_index_words" not in str(engine.matches(query, among=every))
            words_matches, documents_matches = (
                [set(search.read_ids(ids)) for ids in db.session.execute(engine.matches(query, **among)).one()]
                for among in ({}, {"among": every})
            )
            assert words_matches == documents_matches == [by_words, found_in_titles.get(typed, set())], typed
        assert found == {
            "garden -queue": set(),  # garden's own document has "queue", and its title counts for nothing then
            "bins -queue": {bins},
            "residents": {bins, garden},
            "garden or bins": {bins, garden},
            "residents -tip": {bins, garden},  # the bins project, and the update that moved to garden
            "weeknote": {garden},
            "queue": {garden},
        }
        # A phrase needs the words' positions, which only the documents keep.
        assert "search_index_words" not in str(engine.project_ids(search.parse_query('"garden waste"')))
        search.remove_document("update", 7)
        db.session.delete(db.session.get(Project, bins))
        db.session.commit()
    assert_in_step()
    with app.app_context():
        # Words lost or changed behind the trigger's back (a restore without it, say) come back with a rebuild.
        db.session.execute(text("UPDATE search_index_words SET words = ''"))
        db.session.commit()
        assert db.session.scalars(search.engine().project_ids(search.parse_query("queue"))).all() == []
    result = app.test_cli_runner().invoke(args=["search", "rebuild"])
    assert result.exit_code == 0, result.output
    assert_in_step()
    with app.app_context():
        assert db.session.scalars(search.engine().project_ids(search.parse_query("queue"))).all() == [garden]


def _word_masks_made_from_the_words() -> dict[tuple[str, bool, int], int]:
    """What every word and pair mask should be, worked out here from each project's own document's words and title
    words, and for each listed pair of words, from the documents and titles its phrase query matches: (lexeme or
    "first second", in title, chunk of 1,024 projects) to the bits of the chunk's projects with it."""
    masks: dict[tuple[str, bool, int], int] = {}
    rows = db.session.execute(
        text(
            "SELECT id, tsvector_to_array(words), tsvector_to_array(title_words) FROM search_index_words "
            "WHERE id < :first_update"
        ),
        {"first_update": search.FIRST_OTHER_ID},
    ).all()
    rows += db.session.execute(
        text(
            "SELECT document.id, array_agg(listed.first || ' ' || listed.second) "
            "FILTER (WHERE document.search_vector @@ listed.query), "
            "array_agg(listed.first || ' ' || listed.second) FILTER (WHERE document.title_vector @@ listed.query) "
            "FROM search_documents AS document, search_phrase_pairs AS listed "
            "WHERE document.id < :first_update GROUP BY document.id"
        ),
        {"first_update": search.FIRST_OTHER_ID},
    ).all()
    for project_id, words, title_words in rows:
        for in_title, lexemes in ((False, words), (True, title_words)):
            for lexeme in lexemes or ():
                key = (lexeme, in_title, project_id // search.MASK_CHUNK)
                masks[key] = masks.get(key, 0) | 1 << project_id % search.MASK_CHUNK
    return masks


def _listed_pairs() -> set[str]:
    return set(db.session.scalars(text("SELECT first || ' ' || second FROM search_phrase_pairs")))


def _word_masks_kept() -> dict[tuple[str, bool, int], int]:
    """The word masks as a search reads them: each kept mask with the changes not yet folded into it."""
    rows = db.session.execute(
        text(
            "SELECT lexeme, in_title, chunk, bit_xor(bits)::text FROM ("
            "SELECT * FROM search_word_masks UNION ALL SELECT * FROM search_word_mask_changes"
            ") AS kept GROUP BY 1, 2, 3"
        )
    )
    return {(lexeme, in_title, chunk): int(bits, 2) for lexeme, in_title, chunk, bits in rows if int(bits, 2)}


def _unfolded_changes() -> int:
    return db.session.scalar(text("SELECT count(*) FROM search_word_mask_changes"))


def _ids(mask: int) -> set[int]:
    return {bit for bit in range(mask.bit_length()) if mask >> bit & 1}


def test_postgresql_keeps_a_mask_of_each_words_projects_in_step_and_finds_the_same_projects_by_them(
    app, officer, make_officer
):
    """PostgreSQL finds which projects a search without a phrase matches from a mask of the projects whose own
    documents have each word, and another of those whose titles have it (migration 0021_search_word_masks), kept
    in step through every write: each write adds the bits it flips, which the app folds into the masks as it
    commits. The masks find what the documents find, in chunks of 1,024 projects, bit by bit."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite's FTS5 index gives the matching projects from the index itself")

    def assert_in_step(folded: bool = True):
        with app.app_context():
            assert _word_masks_kept() == _word_masks_made_from_the_words()
            assert (_unfolded_changes() == 0) is folded

    def next_project_id(project_id: int):
        with app.app_context():
            db.session.execute(
                text("SELECT setval(pg_get_serial_sequence('projects', 'id'), :id - 1)"), {"id": project_id}
            )
            db.session.commit()

    # The first project, the last of the first chunk and the second of the third: each chunk's ends and more than one.
    _, bins = make_project(app, officer, title="Bin collection day finder", tags=["bins"])
    next_project_id(search.MASK_CHUNK - 1)
    _, garden = make_project(app, make_officer("CRF"), title="Garden waste subscriptions")
    next_project_id(2 * search.MASK_CHUNK + 1)
    _, parking = make_project(
        app, make_officer("BIR"), title="Residents' parking permits", problem="Residents queue for visitor permits."
    )
    assert (bins, garden, parking) == (1, 1023, 2049)
    assert_in_step()
    with app.app_context():
        assert _word_masks_kept()[("garden", True, 0)] == 1 << 1023
        assert _word_masks_kept()[("park", True, 2)] == 1 << 1
        # Pairs of words are listed for masks of their own by a rebuild, if two documents or more have them:
        # "Residents wait too long" (bins and garden), not "Residents queue" (parking's alone).
        assert _listed_pairs() == set()
    result = app.test_cli_runner().invoke(args=["search", "rebuild"])
    assert result.exit_code == 0, result.output
    assert_in_step()
    with app.app_context():
        assert {"resid wait", "line summari"} <= _listed_pairs() and "resid queue" not in _listed_pairs()
        assert _word_masks_kept()[("resid wait", False, 0)] == 1 << bins | 1 << garden
        _post_an_update_and_edit_a_project(bins, garden)
        # Updates with a listed pair's words together, and apart (its words find it, its document does not).
        search.index_document("update", 8, project_id=parking, title="Notes", body="Wait times for residents fell.")
        search.index_document("update", 9, project_id=garden, title="Notes", body="Residents wait at the tip.")
        db.session.commit()
    assert_in_step()
    with app.app_context():
        engine, every = search.engine(), [bins, garden, parking]
        found = {}
        listed = ['"residents wait"', '"residents wait" or permits', 'residents -"residents wait"', '"line summary"']
        for typed in [
            *INDEX_TEST_SEARCHES,
            "permits -visitor",
            "permits or finder -tip",
            "visitor or permits -queue",
            "zebra",
            *listed,
            '"residents queue"',
            '"wait residents"',
        ]:
            query = search.parse_query(typed)
            # Phrases whose pairs are listed are answered from the masks; others from the documents.
            assert (engine._from_word_masks(query) is not None) == ('"' not in typed or typed in listed), typed
            by_masks = engine.matching(query)
            # The same from the documents (among every project) and from the words.
            assert by_masks == engine.matching(query, among=every), typed
            by_words = [search.mask_of(search.read_ids(ids)) for ids in db.session.execute(engine.matches(query)).one()]
            assert list(by_masks) == by_words, typed
            found[typed] = tuple(_ids(mask) for mask in by_masks)
        assert found == {
            "residents": ({bins, garden, parking}, {parking}),
            "garden or bins": ({bins, garden}, {bins, garden}),
            "residents -tip": ({bins, parking}, {parking}),
            "weeknote": ({bins}, set()),
            "queue": ({garden, parking}, set()),
            "garden -queue": (set(), set()),  # garden's own document has "queue", and its title counts for nothing
            "bins -queue": ({bins}, {bins}),
            "permits -visitor": ({garden}, {garden}),  # parking's document has "visitor"
            # Garden's document has "tip", but it has "permits" (in its title too), the other clause.
            "permits or finder -tip": ({bins, garden, parking}, {bins, garden, parking}),
            # Parking matches by "visitor", in its problem; its title has "permits", of the clause it fails.
            "visitor or permits -queue": ({parking}, {parking}),
            "zebra": (set(), set()),
            # Garden's problem no longer has the phrase, but its update does; parking's update has the words apart.
            '"residents wait"': ({bins, garden}, set()),
            '"residents wait" or permits': ({bins, garden, parking}, {garden, parking}),
            # Bins by its update ("Residents tested the finder"), parking by its own document and its update.
            'residents -"residents wait"': ({bins, garden, parking}, {parking}),
            '"line summary"': ({bins, garden, parking}, set()),
            '"residents queue"': ({garden, parking}, set()),
            '"wait residents"': (set(), set()),
        }
        # A word that makes no lexeme (a stop word, which parsing leaves out) is answered from the documents.
        stop = search.TextQuery("garden the", ((search.Term(("garden",)), search.Term(("the",))),))
        assert engine.matching(stop) == engine.matching(stop, among=every) == (1 << garden, 1 << garden)
        search.move_documents(bins, garden)  # as a merge moves updates
        db.session.delete(db.session.get(Project, parking))
        db.session.commit()
        assert engine.matching(search.parse_query("weeknote")) == (1 << garden, 0)
        assert engine.matching(search.parse_query("permits")) == (1 << garden, 1 << garden)
    assert_in_step()
    with app.app_context():
        # Words changed behind the app's back (by hand, say): the trigger adds the bits flipped, which nothing folds
        # in, and a search reads them with the masks.
        db.session.execute(text("UPDATE search_index_words SET words = '' WHERE id = :id"), {"id": garden})
        db.session.commit()
        assert engine.matching(search.parse_query("queue")) == (0, 0)
    assert_in_step(folded=False)
    result = app.test_cli_runner().invoke(args=["search", "rebuild"])
    assert result.exit_code == 0, result.output
    assert_in_step()
    with app.app_context():
        assert engine.matching(search.parse_query("queue")) == (1 << garden, 0)
        # Pairs no longer in two documents are no longer listed, and their masks are gone.
        assert "resid wait" not in _listed_pairs() and "line summari" in _listed_pairs()
        assert not any(lexeme == "resid wait" for lexeme, _, _ in _word_masks_kept())
        assert engine._from_word_masks(search.parse_query('"residents wait"')) is None
        # (The rebuild dropped the updates indexed without rows of their own.)
        assert engine.matching(search.parse_query('"residents wait"')) == (1 << bins, 0)
        # And a rebuild mends masks that went wrong, dropping the rows of words no project has.
        db.session.execute(text("UPDATE search_word_masks SET bits = ~bits WHERE lexeme = 'queue'"))
        db.session.execute(
            text(
                "INSERT INTO search_word_masks VALUES "
                "('zebra', false, 0, 1::bit(1024)), ('zebra', true, 7, 1::bit(1024))"
            )
        )
        db.session.commit()
        assert engine.matching(search.parse_query("zebra")) == (1 << 0, 0)
    result = app.test_cli_runner().invoke(args=["search", "rebuild"])
    assert result.exit_code == 0, result.output
    assert_in_step()
    with app.app_context():
        assert db.session.scalar(text("SELECT count(*) FROM search_word_masks WHERE lexeme = 'zebra'")) == 0


def test_postgresql_rebuild_waits_for_documents_being_written_before_it_lists_pairs(app, officer, make_officer):
    """A rebuild lists pairs of words afresh, and a document written meanwhile would flip its pairs' bits by the list
    before: the rebuild waits for the writers of documents to commit before it starts (and new ones for it), then
    mends what they wrote by hand."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite's FTS5 index gives the matching projects from the index itself")
    # "Residents wait too long" in both, so a rebuild lists the pair.
    _, bins = make_project(app, officer, title="Bin collection day finder")
    _, garden = make_project(app, make_officer("CRF"), title="Garden waste subscriptions")
    with app.app_context():
        assert _listed_pairs() == set()
        writer = db.engine.connect()
        writer.execute(text("UPDATE search_documents SET body = 'Nothing here.' WHERE id = :id"), {"id": bins})

        def rebuild():
            with app.app_context():
                search.rebuild()

        rebuilding = threading.Thread(target=rebuild)
        rebuilding.start()
        waiting = text(
            "SELECT count(*) FROM pg_locks WHERE relation = 'search_documents'::regclass "
            "AND mode = 'ShareRowExclusiveLock' AND NOT granted"
        )
        try:
            with db.engine.connect() as watcher:
                for _ in range(50):
                    if watcher.scalar(waiting):
                        break
                    watcher.rollback()
                    time.sleep(0.1)
                else:
                    pytest.fail("the rebuild did not wait for the document being written")
        finally:
            writer.commit()
            writer.close()
            rebuilding.join(timeout=60)
        assert not rebuilding.is_alive()
        assert "resid wait" in _listed_pairs()  # the document mended from its project
        assert _word_masks_kept() == _word_masks_made_from_the_words()
        assert _word_masks_kept()[("resid wait", False, 0)] == 1 << bins | 1 << garden
        assert _unfolded_changes() == 0


def test_postgresql_word_masks_stay_right_when_many_officers_post_and_edit_at_once(app, make_officer):
    """Officers posting and editing projects at the same moment, each write flipping bits of the same words in the
    same chunk: every write lands (no deadlock, no lost flip) and the masks are what the words say. Each first posts
    a project of the same title with the same new tags, as may happen at the same moment: each gets an address
    (slug) of its own and the tags are shared."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite's FTS5 index gives the matching projects from the index itself")
    officers = [make_officer(code) for code in ("LDS", "BIR", "CRF", "LDS", "BIR", "CRF")]
    posts = 4
    start = threading.Barrier(len(officers))
    # Two projects with "bulky waste", listed by a rebuild, so each write flips the pair's bits too.
    seeds = {make_project(app, officers[0], title=f"Bulky waste bookings {number}")[1] for number in range(2)}
    result = app.test_cli_runner().invoke(args=["search", "rebuild"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert "bulki wast" in _listed_pairs()

    def post_and_edit(officer) -> tuple[int, list[int]]:
        start.wait()
        _, same_title = make_project(app, officer, title="Same title at the same moment", tags=["waste", "phones"])
        edited = []
        for number in range(posts):
            _, project_id = make_project(
                app, officer, title=f"Bulky waste and garden bins {officer.id} {number}",
                problem=f"Residents queue at the tip {number}.", tags=["waste", f"batch {number}"],
            )  # fmt: skip
            edited.append(project_id)
            with app.app_context():
                project = projects.get_project_by_id(project_id)
                data = projects.ProjectInput(
                    title=f"Bulky waste collections {officer.id} {number}", summary=project.summary,
                    problem="Residents phone the contact centre.", tags=["waste", "phones"],
                    lead_council_id=project.lead_council_id,
                )  # fmt: skip
                projects.update_project(db.session.get(User, officer.id), project_id, data)
        return same_title, edited

    with ThreadPoolExecutor(len(officers)) as pool:
        done = list(pool.map(post_and_edit, officers))
    same_titles = {same_title for same_title, _ in done}
    edited = {project_id for _, ids in done for project_id in ids}
    assert len(same_titles) == len(officers) and len(edited) == len(officers) * posts
    with app.app_context():
        slugs = db.session.scalars(select(Project.slug).where(Project.id.in_(same_titles)))
        assert sorted(slugs) == sorted(
            ["same-title-at-the-same-moment"]
            + [f"same-title-at-the-same-moment-{number}" for number in range(2, len(officers) + 1)]
        )
        assert _word_masks_kept() == _word_masks_made_from_the_words()
        assert _unfolded_changes() == 0
        engine = search.engine()
        assert _ids(engine.matching(search.parse_query("waste phone"))[0]) == same_titles | edited
        assert engine.matching(search.parse_query("garden or tip")) == (0, 0)
        assert _ids(engine.matching(search.parse_query("collections -garden"))[1]) == edited
        bulky_waste = search.parse_query('"bulky waste"')
        assert engine._from_word_masks(bulky_waste) is not None
        assert tuple(map(_ids, engine.matching(bulky_waste))) == (seeds | edited, seeds | edited)
