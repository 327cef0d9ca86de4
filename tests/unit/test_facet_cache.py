"""Facet counts are kept, per process, until something they count changes, in this process or in another.

Every test here runs once per database.
"""

import re
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, event, select, text, update

from pipeline import create_app
from pipeline.database import forget_kept_counts
from pipeline.extensions import db
from pipeline.models import NATIONS, PHASES, ListingChange, ListingVersion, Project, ProjectTag, Service, User
from pipeline.services import project_lists, projects, search, teams, updates
from pipeline.services.project_lists import ProjectFilters
from pipeline.timeutil import utcnow
from tests.conftest import config_for
from tests.factories import make_project, project_input
from tests.pages import soup_of, statement_count


def phase_counts(response) -> dict[str, str]:
    page = soup_of(response)
    labels = page.select("label[for^=filter-phase-]")
    return {label["for"].removeprefix("filter-phase-"): " ".join(label.get_text().split()) for label in labels}


def discovery_and_alpha(app) -> tuple[int, int]:
    with app.app_context():
        counts = project_lists.facet_counts(ProjectFilters()).phase
        db.session.rollback()
        return counts["discovery"], counts["alpha"]


def test_the_projects_page_counts_again_only_after_a_change(client, app, officer):
    _, project_id = make_project(app, officer, title="Bin collection day finder")
    first = client.get("/projects")
    again = client.get("/projects")
    assert phase_counts(again) == phase_counts(first)
    assert phase_counts(first)["discovery"] == "Discovery (1)"
    # The counts were kept: the second page read the listing version instead of counting.
    assert statement_count(again) == statement_count(first) - 1

    with app.app_context():
        user = db.session.get(User, officer.id)
        projects.change_phase(user, project_id, "alpha", "User research is done")
    moved = client.get("/projects")
    assert phase_counts(moved)["discovery"] == "Discovery (0)"
    assert phase_counts(moved)["alpha"] == "Alpha (1)"
    assert statement_count(moved) == statement_count(first)

    make_project(app, officer, title="Garden waste subscriptions")
    assert phase_counts(client.get("/projects"))["discovery"] == "Discovery (1)"


def test_a_change_made_by_another_process_is_counted(app, officer):
    make_project(app, officer, title="Bin collection day finder")
    assert discovery_and_alpha(app) == (1, 0)
    # Another process (a second worker, or a command) on the same database, with its own engine and cache.
    other = create_app(config_for(app.config["SQLALCHEMY_DATABASE_URI"], app.config["SMTP_PORT"]))
    try:
        make_project(other, officer, title="Garden waste subscriptions")
        with other.app_context():
            finder = Project.title == "Bin collection day finder"
            db.session.execute(update(Project).where(finder).values(phase="alpha"))
            db.session.commit()
    finally:
        with other.app_context():
            db.engine.dispose()
    assert discovery_and_alpha(app) == (1, 1)


def listing_version(app) -> tuple[str, int, list]:
    with app.app_context():
        token, number = db.session.execute(select(ListingVersion.token, ListingVersion.version)).one()
        logged = db.session.scalars(select(ListingChange.project_id).where(ListingChange.version == number))
        return token, number, list(logged)


def test_writes_in_any_form_move_the_version_on_and_a_rollback_does_not(app, officer):
    _, project_id = make_project(app, officer, title="Bin collection day finder")
    token, number, logged = listing_version(app)
    assert logged == [project_id]  # the ORM's writes name the project they changed
    with app.app_context():
        db.session.execute(text("UPDATE projects SET phase = 'beta'"))
        db.session.rollback()
    assert listing_version(app) == (token, number, logged)
    with app.app_context():
        db.session.execute(text("UPDATE projects SET phase = 'beta'"))
        db.session.commit()
    # Written by hand: any project could have changed.
    assert listing_version(app) == (token, number + 1, [None])
    with app.app_context():
        # Writing to what lists do not count (an account) leaves the version alone.
        db.session.execute(update(User).values(name="Someone else"))
        db.session.commit()
    assert listing_version(app) == (token, number + 1, [None])
    with app.app_context():
        assert project_lists.facet_counts(ProjectFilters()).phase["beta"] == 1


def test_counts_from_a_transaction_that_wrote_are_not_kept(app, officer):
    make_project(app, officer, title="Bin collection day finder")
    with app.app_context():
        db.session.execute(update(Project).values(phase="alpha"))
        # This transaction sees its own write...
        assert project_lists.facet_counts(ProjectFilters()).phase["alpha"] == 1
        db.session.rollback()
    # ...which nobody else ever sees.
    assert discovery_and_alpha(app) == (1, 0)


def test_rebuilding_the_search_index_counts_again_after_changes_by_hand(app, officer):
    make_project(app, officer, title="Bin collection day finder")
    assert discovery_and_alpha(app) == (1, 0)
    # By hand: straight to the database, not through the app.
    by_hand = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with by_hand.begin() as connection:
            connection.execute(text("UPDATE projects SET phase = 'alpha'"))
    finally:
        by_hand.dispose()
    assert discovery_and_alpha(app) == (1, 0)  # kept, as nothing the app did changed the lists
    result = app.test_cli_runner().invoke(args=["search", "rebuild"])
    assert result.exit_code == 0, result.output
    assert discovery_and_alpha(app) == (0, 1)


KEPT_FILTERS = [
    ProjectFilters(),
    ProjectFilters(q="bins"),
    ProjectFilters(q="bins", phase=["alpha"]),
    ProjectFilters(nation="Wales"),
    ProjectFilters(q="bins", dormant="include", region="Yorkshire and The Humber"),
]


@pytest.mark.parametrize("few_bits", [search.FEW_BITS, 0], ids=["masks-by-bits", "masks-by-digits"])
def test_kept_counts_are_brought_up_to_date_change_by_change(app, officer, make_officer, monkeypatch, few_bits):
    """Every count kept by this process stays what a new process would count and what counting in SQL finds,
    change after change; after a change, the counts read only the changed projects: the listing version, then
    the changed projects' groups, and for a search or a filter that is not a facet, whether they match now.

    Masks of a few projects are made a bit at a time; with FEW_BITS at 0 every mask is made a digit per project,
    as at scale."""
    monkeypatch.setattr(search, "FEW_BITS", few_bits)
    cardiff = make_officer("CRF")
    with app.app_context():
        service = db.session.scalar(select(Service).where(Service.function_id.is_not(None)).limit(1))
        service_id, function_id = service.id, service.function_id
    # And filters by function, with and without a place, as a function and a place each count only the projects
    # that pass the other.
    kept_filters = [
        *KEPT_FILTERS,
        ProjectFilters(function=function_id),
        ProjectFilters(q="bins", function=function_id, nation="Wales", phase=["alpha", "beta"]),
    ]
    _, finder = make_project(app, officer, title="Bin collection day finder")
    _, garden = make_project(app, officer, title="Garden waste bins", phase="alpha", service_ids=[service_id])
    _, parking = make_project(app, cardiff, title="Parking permits")
    other = create_app(config_for(app.config["SQLALCHEMY_DATABASE_URI"], app.config["SMTP_PORT"]))

    def counts(which, filters):
        with which.app_context():
            if which is other:
                forget_kept_counts(db.engine)
            facets = project_lists.facet_counts(filters)
            db.session.rollback()
            return facets

    def check(brought_up_to_date: bool):
        searched = set()
        for filters in kept_filters:
            statements = []

            def listen(_conn, _cursor, statement, *_args, statements=statements):
                statements.append(statement)

            with app.app_context():
                event.listen(db.engine, "before_cursor_execute", listen)
                try:
                    kept = project_lists.facet_counts(filters)
                    db.session.rollback()
                finally:
                    event.remove(db.engine, "before_cursor_execute", listen)
            fresh = counts(other, filters)
            assert kept == fresh, filters
            # And for a search, the masks its best-match pages read their order from (None otherwise).
            assert (kept.passing, kept.in_title) == (fresh.passing, fresh.in_title), filters
            assert (kept.in_title is not None) == bool(filters.q), filters  # no filter here is other than a facet
            with app.app_context():
                assert kept == project_lists._count_facets(filters), filters
                db.session.rollback()
            # Reading the changed projects alone (or a search alone, only their documents): their ids, bound one by
            # one, rather than every match.
            by_id = [
                statement
                for statement in statements
                if re.search(r"(projects\.id|search_documents\.project_id) IN \((\?|%\()", statement)
            ]
            # The groups are read once for all the filters (here for the first), and the matching ids once for
            # each search (the same search with other facet filters shares them).
            reads = (filters is KEPT_FILTERS[0]) + (any(filters.matched_by()) and filters.matched_by() not in searched)
            searched.add(filters.matched_by())
            assert len(by_id) == (reads if brought_up_to_date else 0), filters
            assert len([s for s in statements if s != "BEGIN"]) == 1 + reads, statements

    def as_user(person, action):
        with app.app_context():
            return action(db.session.get(User, person.id))

    try:
        with app.app_context():
            forget_kept_counts(db.engine)  # as a new process
        for filters in kept_filters:
            counts(app, filters)  # every project's group read, and for a search, the ids that match
        as_user(officer, lambda user: projects.change_phase(user, finder, "alpha", "Research done"))
        check(brought_up_to_date=True)
        as_user(
            cardiff,
            lambda user: projects.update_project(
                user, parking, project_input(title="Parking permits and bins", service_ids=[service_id])
            ),
        )
        check(brought_up_to_date=True)
        as_user(officer, lambda user: updates.post_update(user, finder, "weeknotes", "Week 3", "More bins."))
        _, new = make_project(app, cardiff, title="Bins for flats", phase="alpha")
        check(brought_up_to_date=True)
        as_user(officer, lambda user: projects.change_phase(user, garden, "beta", "Alpha assessed"))
        check(brought_up_to_date=True)
        # A project that matched the search no longer does.
        as_user(cardiff, lambda user: projects.update_project(user, parking, project_input(title="Parking permits")))
        check(brought_up_to_date=True)
        with app.app_context():
            db.session.execute(update(Project).where(Project.id == new).values(merged_into_id=garden))
            db.session.commit()
        check(brought_up_to_date=False)  # written by hand: counted again
        as_user(officer, lambda user: projects.change_phase(user, finder, "beta", "Alpha assessed"))
        check(brought_up_to_date=True)
    finally:
        with other.app_context():
            db.engine.dispose()


def test_deleting_a_row_that_had_expired_logs_its_project(app, officer):
    _, project_id = make_project(app, officer, title="Bin collection day finder", tags=["bins"])
    with app.app_context():
        link = db.session.scalar(select(ProjectTag).where(ProjectTag.project_id == project_id))
        db.session.commit()  # what was loaded is now expired
        db.session.delete(link)
        db.session.commit()
    assert listing_version(app)[2] == [project_id]
    with app.app_context():
        assert db.session.scalar(select(ProjectTag).where(ProjectTag.project_id == project_id)) is None


def test_each_count_is_what_choosing_its_value_would_list(app, officer, make_officer):
    """Each count is how many projects the list shows with that value chosen in place of its filter's (the other
    filters kept), and the total how many it shows now: both counted by the list itself, in SQL. Checked as a new
    process counts, and as the kept counts are moved after a change."""
    cardiff, manchester = make_officer("CRF"), make_officer("MAN")
    with app.app_context():
        with_function = select(Service).where(Service.function_id.is_not(None)).order_by(Service.id)
        first = db.session.scalars(with_function).first()
        second = db.session.scalars(with_function.where(Service.function_id != first.function_id)).first()
        services, functions = (first.id, second.id), (first.function_id, second.function_id)
        manchester_id = db.session.get(User, manchester.id).council_id
    make_project(app, officer, title="Bins for flats", phase="alpha", service_ids=[services[0]])
    _, leeds = make_project(app, officer, title="Bin day finder", service_ids=[services[1]])
    _, shared = make_project(app, cardiff, title="Bins for students", phase="alpha", service_ids=[services[0]])
    make_project(app, manchester, title="Parking permits", phase="beta", service_ids=[services[1]])
    _, quiet = make_project(app, cardiff, title="Bins by the coast", phase="beta")
    with app.app_context():
        user = db.session.get(User, cardiff.id)
        teams.add_council(user, shared, manchester_id, "partner")
        db.session.execute(update(Project).where(Project.id == quiet).values(active_at=utcnow() - timedelta(days=200)))
        db.session.commit()
    every_filter = [
        ProjectFilters(),
        ProjectFilters(q="bins"),
        ProjectFilters(phase=["alpha"]),
        ProjectFilters(q="bins", phase=["alpha", "beta"], nation="Wales"),
        ProjectFilters(function=functions[0]),
        ProjectFilters(function=functions[0], region="North West"),
        ProjectFilters(q="bins", function=functions[1], nation="England", phase=["discovery"]),
        ProjectFilters(dormant="include", nation="England"),
        ProjectFilters(dormant="only", q="bins"),
    ]

    def check():
        for filters in every_filter:
            with app.app_context():
                counts = project_lists.facet_counts(filters)

                def listed(filters=filters, **chosen):
                    return project_lists.list_projects(replace(filters, **chosen)).total

                assert counts.total == listed(), filters
                assert counts.phase == {phase: listed(phase=[phase]) for phase in PHASES}, filters
                assert counts.nation == {nation: listed(nation=nation) for nation in NATIONS}, filters
                regions = {"Yorkshire and The Humber", "North West", "Wales", *counts.region}
                assert {r: counts.region.get(r, 0) for r in regions} == {r: listed(region=r) for r in regions}, filters
                assert {f: counts.function.get(f, 0) for f in {*functions, *counts.function}} == {
                    f: listed(function=f) for f in {*functions, *counts.function}
                }, filters
                # So few pass that the counts name them (a search's on every engine, as they all fit in the ranking
                # window), and the list read by their ids is the list read by its filters: the same projects, in each
                # order and page, best match included.
                every = project_lists.list_projects(replace(filters, sort="newest"), per_page=100).items
                assert counts.ids is not None, filters
                assert list(counts.ids) == sorted((p.id for p in every), reverse=True)
                for sort in project_lists.SORTS:
                    for page in (1, 2):
                        chosen = replace(filters, sort=sort, page=page)
                        by_ids = project_lists.list_projects(chosen, per_page=2, counted=counts)
                        by_filters = project_lists.list_projects(chosen, per_page=2)
                        assert by_ids.items == by_filters.items, (filters, sort, page)
                        assert by_ids.total == by_filters.total
                db.session.rollback()

    with app.app_context():
        forget_kept_counts(db.engine)  # as a new process
    check()
    with app.app_context():
        projects.change_phase(db.session.get(User, officer.id), leeds, "alpha", "Research done")
    check()  # the kept counts, moved by the changed project


def test_a_list_of_more_projects_than_are_named_is_read_by_its_filters(client, app, officer, monkeypatch):
    """Past FEW_TO_NAME projects (FEW_FOUND_TO_NAME for a search with no filter) the counts name none, and the list
    is read by its filters, as alike. Where the engine reads a search's page no faster by ids, a search is named
    only when all that pass fit in the ranking window (here of one project, in a window of a page)."""
    monkeypatch.setattr(project_lists, "FEW_TO_NAME", 2)
    monkeypatch.setattr(project_lists, "FEW_FOUND_TO_NAME", 1)
    monkeypatch.setattr(search, "RANK_WINDOW", 1)
    for title, phase in [("Bin collection day finder", "alpha"), ("Bins for flats", "alpha"), ("Garden waste", "beta")]:
        make_project(app, officer, title=title, phase=phase)
    with app.app_context():
        searches_named = search.engine().pages_by_ids
        named = []
        for filters in [
            ProjectFilters(q="garden"),
            ProjectFilters(q="bins"),
            ProjectFilters(q="bins", nation="England"),
            ProjectFilters(q="bins garden", nation="England"),
            ProjectFilters(phase=["beta"]),
            ProjectFilters(phase=["alpha"]),
            ProjectFilters(nation="England"),
        ]:
            counts = project_lists.facet_counts(filters)
            listed = [p.id for p in project_lists.list_projects(replace(filters, sort="newest")).items]
            assert counts.ids is None or list(counts.ids) == listed, filters
            named.append((counts.total, counts.ids is not None))
        db.session.rollback()
    # A search alone is named up to FEW_FOUND_TO_NAME; with a filter, and a list with no search, up to FEW_TO_NAME;
    # a search, where the engine reads its page no faster by ids, up to RANK_WINDOW too.
    assert named == [
        (1, True),
        (2, False),
        (2, searches_named),
        (0, True),
        (1, True),
        (2, True),
        (3, False),
    ]
    for query, titles in [
        ("q=bins&sort=title", ["Bin collection day finder", "Bins for flats"]),
        ("q=garden", ["Garden waste"]),
        ("q=bins&nation=England&sort=title", ["Bin collection day finder", "Bins for flats"]),
        ("phase=alpha&sort=title", ["Bin collection day finder", "Bins for flats"]),
        ("nation=England&sort=title", ["Bin collection day finder", "Bins for flats", "Garden waste"]),
    ]:
        shown = soup_of(client.get(f"/projects?{query}")).select(".app-card h2 a")
        assert [" ".join(link.get_text().split()) for link in shown] == titles, query
