"""Search and similar-projects benchmark, run by hand (not in CI) on a database filled by `flask demo-data`.

    PIPELINE_ENV=development DATABASE_URL=sqlite:////tmp/pipeline-100k.db .venv/bin/flask --app wsgi db upgrade
    PIPELINE_ENV=development DATABASE_URL=... .venv/bin/flask --app wsgi load-reference-data
    PIPELINE_ENV=development DATABASE_URL=... .venv/bin/flask --app wsgi demo-data --scale 1 --seed 42
    PIPELINE_ENV=development DATABASE_URL=... .venv/bin/python -m bench.search_bench --rounds 20

It times, server-side and in-process (no HTTP), a mix of searches as the search page runs them
(results, total, highlights and facet counts) and the similar-projects panel for random projects,
then whole pages through the test client (templates included). It reports p50 and p95 in
milliseconds, and the SQL statements each page ran.

Facet counts come from what each process keeps (project_lists.facet_counts): every listed project's group,
read once per process and day, and each search's matching ids, both brought up to date from the listing
changes. So each search is timed three ways: "first" forgets every search's kept ids and counts before every
run, as a search nobody has asked for finds them; "changed" checks in on one random project (a write through
the app's models, not timed) before every run, as officers' writes go on between searches; and "again" asks
the same thing again. A new process's first search, which also reads every project's group, is timed
once on its own. Pages are timed first and again. The app is the one `wsgi.py` serves.
"""

import argparse
import random
import statistics
import time
from collections.abc import Callable
from functools import partial
from urllib.parse import parse_qsl

from click import echo
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from pipeline.database import forget_kept_counts
from pipeline.extensions import db
from pipeline.models import Project
from pipeline.services import project_lists, projects, similar
from pipeline.timeutil import utcnow

SEARCHES = {
    "common word": "q=waste",
    "common words": "q=residents+phone",
    "phrase": "q=%22bulky+waste%22",
    "stemmed": "q=bins",
    "minus": "q=parking+-visitor",
    "or": "q=permits+or+repairs",
    "rare": "q=allotment",
    "no match": "q=zebra+crossing",
    "with filters": "q=waste&phase=alpha&phase=beta&nation=England",
    "council filter": "q=repairs&council=leeds-city-council",
    "second page": "q=housing&page=2",
    "no search": "",
    "filters only": "phase=discovery&nation=Wales&function=42",
}


def timed(action: Callable[[], object], rounds: int, before: Callable[[], object] = lambda: None) -> list[float]:
    before()
    action()  # warm up
    times = []
    for _ in range(rounds):
        before()
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return times


def percentile(times: list[float], share: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def report(label: str, times: list[float], extra: str = "") -> None:
    echo(f"{label:<40} p50 {statistics.median(times):7.1f} ms   p95 {percentile(times, 0.95):7.1f} ms  {extra}")


def search_page(query: str) -> project_lists.Page:
    """What the search page asks the services for: the facet counts, then the page of results."""
    filters = project_lists.ProjectFilters.from_args(MultiDict(parse_qsl(query)))
    facets = project_lists.facet_counts(filters)
    page = project_lists.list_projects(filters, counted=facets)
    db.session.rollback()
    return page


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="Timed runs of each search")
    parser.add_argument("--projects", type=int, default=200, help="Random projects for the similar panel")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    from wsgi import app  # after the arguments are read, as it connects

    client = app.test_client()
    with app.app_context():
        total = db.session.scalar(select(func.count()).select_from(Project))
        echo(f"{db.engine.dialect.name}: {total:,} projects\n")

        echo("Search service (results, total, highlights, facet counts): first time, after a change, and again")
        rng = random.Random(args.seed)
        some = rng.sample(list(db.session.scalars(select(Project.id))), 1000)

        def check_in():
            project = db.session.get(Project, rng.choice(some))
            project.active_at = utcnow()
            db.session.commit()

        firsts, changeds, agains = [], [], []
        for label, query in SEARCHES.items():
            run = partial(search_page, query)

            def first(run=run):
                project_lists.forget_kept_searches()
                return run()

            first_times = timed(first, args.rounds)
            changed_times = timed(run, args.rounds, before=check_in)
            again_times = timed(run, args.rounds)
            if label not in ("no search", "filters only"):
                firsts += first_times
                changeds += changed_times
                agains += again_times
            report(f"{label} (first)", first_times, f"{run().total:,} found")
            report(f"{label} (changed)", changed_times)
            report(f"{label} (again)", again_times)

        def new_process():
            forget_kept_counts(db.engine)
            return search_page(SEARCHES["common word"])

        report("a new process's first search (common word)", timed(new_process, args.rounds))
        report("ALL SEARCHES with a query (first)", firsts)
        report("ALL SEARCHES with a query (changed)", changeds)
        report("ALL SEARCHES with a query (again)", agains)

        echo("\nSimilar projects panel")
        ids = rng.sample(list(db.session.scalars(select(Project.id))), args.projects)
        loaded = [projects.get_project(db.session.get(Project, i).slug) for i in ids]
        times = []
        for project in loaded:
            similar.similar_to(project)  # warm this project's pages
            start = time.perf_counter()
            similar.similar_to(project)
            times.append((time.perf_counter() - start) * 1000)
        report("similar_to(project)", times)
        times = []
        for project in loaded[:50]:
            start = time.perf_counter()
            projects.possible_duplicates(project.title, project.problem, [s.id for s in project.services])
            times.append((time.perf_counter() - start) * 1000)
        report("possible_duplicates (posting)", times)
        slugs = [p.slug for p in loaded[:50]]
        db.session.rollback()

    echo("\nWhole pages through the test client (templates included): first time, and again")
    for label, query in SEARCHES.items():
        statements = []

        def get(query=query, statements=statements):
            response = client.get("/projects?" + query)
            assert response.status_code == 200, response.status_code
            statements.append(response.headers.get("X-SQL-Count"))

        def first(get=get):
            with app.app_context():
                project_lists.forget_kept_searches()
            get()

        report(f"/projects {label} (first)", timed(first, max(5, args.rounds // 2)), f"{statements[-1]} statements")
        report(f"/projects {label} (again)", timed(get, max(5, args.rounds // 2)), f"{statements[-1]} statements")
    times = []
    for slug in slugs:
        client.get(f"/projects/{slug}")
        start = time.perf_counter()
        response = client.get(f"/projects/{slug}")
        times.append((time.perf_counter() - start) * 1000)
    report("/projects/<slug> (with similar)", times, f"{response.headers.get('X-SQL-Count')} statements")


if __name__ == "__main__":
    main()
