"""Benchmark: posting a project while many officers follow saved searches. Run by hand, not in CI.

    PIPELINE_ENV=development DATABASE_URL=sqlite:////tmp/pipeline-100k.db .venv/bin/python -m bench.saved_search_fanout

Use a scratch database filled by `flask demo-data` (see bench/search_bench.py): it adds saved searches
and projects to it. Saved searches are made from words of existing titles, some with a filter (a
nation, a phase or a service), each saved and followed by a demo officer. It then posts projects
through the service, as the posting page does, and reports the time and SQL statements of each post
(the activity, its fan-out to followers and the saved-search matching included), before and after
the saved searches exist.
"""

import argparse
import random
import time

from click import echo
from sqlalchemy import func, select

from bench import search_bench
from pipeline import create_app
from pipeline.database import statement_counter
from pipeline.extensions import db
from pipeline.models import Follow, Notification, Project, ProjectService, SavedSearch, User
from pipeline.services import project_lists, projects, saved_searches
from pipeline.services.project_lists import ProjectFilters

STOP_WORDS = {"with", "from", "into", "that", "their", "your", "online", "project", "better"}


def words_of(titles: list[str]) -> list[str]:
    return sorted({w.lower() for t in titles for w in t.split() if len(w) > 3 and w.isalpha()} - STOP_WORDS)


def post(user: User, rng: random.Random, words: list[str], services: list[int]) -> tuple[float, int]:
    title = " ".join(rng.sample(words, 3)).capitalize()
    data = projects.ProjectInput(
        title=title,
        summary=f"{title}, shared across councils",
        problem=f"Residents find {' and '.join(rng.sample(words, 4))} hard to use.",
        service_ids=[rng.choice(services)],
        phase="discovery",
    )
    with statement_counter() as counted:
        start = time.perf_counter()
        projects.create_project(user, data)
        elapsed = (time.perf_counter() - start) * 1000
    return elapsed, counted[0]


def report(label: str, runs: list[tuple[float, int]]) -> None:
    search_bench.report(label, [t for t, _ in runs], f"statements {sorted({c for _, c in runs})}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--searches", type=int, default=1000, help="Saved searches to follow")
    parser.add_argument("--posts", type=int, default=30, help="Projects to post before and after")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    app = create_app()
    with app.test_request_context():
        total = db.session.scalar(select(func.count()).select_from(Project))
        echo(f"{db.engine.dialect.name}: {total:,} projects\n")
        titles = list(db.session.scalars(select(Project.title).order_by(Project.id).limit(2000)))
        words = words_of(titles)
        services = list(db.session.scalars(select(ProjectService.service_id).distinct().limit(200)))
        officers = list(db.session.scalars(select(User).order_by(User.id).limit(args.searches + 1)))
        poster, readers = officers[0], officers[1:]

        report("post, saved searches as they are", [post(poster, rng, words, services) for _ in range(3)])

        made = 0
        for reader in readers:
            reader.email_verified_at = reader.email_verified_at or reader.created_at
            q = " ".join(rng.sample(words, rng.choice([1, 1, 2])))
            extra = rng.choice(
                [{}, {}, {"nation": "England"}, {"phase": ["discovery"]}, {"service": rng.choice(services)}]
            )
            filters = ProjectFilters(q=q, sort="relevance", **extra)
            _, created = saved_searches.save_search(reader, filters)
            made += created
        followed = db.session.scalar(select(func.count()).select_from(Follow).where(Follow.target_type == "search"))
        echo(f"{made:,} saved searches made; {followed:,} followed\n")

        before = db.session.scalar(select(func.count()).select_from(Notification))
        runs = [post(poster, rng, words, services) for _ in range(args.posts)]
        report(f"post, {followed:,} followed searches", runs)
        told = db.session.scalar(select(func.count()).select_from(Notification)) - before
        echo(f"{told:,} notifications from {args.posts} projects")

        # Each saved search is checked one statement at a time; a whole list search, for contrast.
        filters = saved_searches.filters_of(db.session.scalars(select(SavedSearch).limit(1)).one())
        start = time.perf_counter()
        project_lists.list_projects(filters)
        echo(f"one full search of the list, for contrast: {(time.perf_counter() - start) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
