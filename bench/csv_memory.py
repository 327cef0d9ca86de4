"""Peak memory of the open data downloads at two sizes: streamed, memory must not grow with the rows.

    .venv/bin/python -m bench.csv_memory                 # 1,000 and 10,000 projects, SQLite
    .venv/bin/python -m bench.csv_memory --sizes 500 5000 --database postgresql://postgres@127.0.0.1:5432/postgres

Each size gets a fresh database with the reference data and that many projects (with councils,
services, tags, needs, links and two phase changes each, written in bulk). Each download is then
read through the app a chunk at a time, as a client would, while tracemalloc records the peak of
memory allocated in Python. For contrast, the same download is also joined into one string in
memory, which is what a non-streamed response would hold.
"""

import argparse
import os
import random
import sys
import tempfile
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import insert, select

from config import TestConfig
from pipeline import create_app
from pipeline.extensions import db
from pipeline.models import (
    Council,
    PeopleNeed,
    PhaseChange,
    Project,
    ProjectCouncil,
    ProjectLink,
    ProjectService,
    ProjectTag,
    Service,
    Tag,
    User,
)
from pipeline.timeutil import utcnow

DOWNLOADS = ("/data/projects.csv", "/data/phase-changes.csv", "/data/councils.csv", "/data/pipeline.jsonl")


def make_app(url: str):
    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = url
        SQL_COUNT_HEADER = False

    app = create_app(Config)
    with app.app_context():
        upgrade()
    result = app.test_cli_runner().invoke(args=["load-reference-data"])
    assert result.exit_code == 0, result.output
    return app


def fill(app, projects: int, seed: int = 42) -> None:
    """Write `projects` projects and everything that hangs off them, in bulk."""
    rng = random.Random(seed)
    now = utcnow()
    with app.app_context():
        councils = list(db.session.scalars(select(Council.id)))
        services = list(db.session.scalars(select(Service.id)))
        user = User(
            email="bench@leeds.gov.uk",
            name="Bench",
            council_id=councils[0],
            password_hash="x",
            email_verified_at=now,
        )
        db.session.add(user)
        tags = [Tag(name=f"tag {n}", slug=f"tag-{n}") for n in range(50)]
        db.session.add_all(tags)
        db.session.flush()
        tag_ids = [t.id for t in tags]
        words = "bins housing parking waste library school benefits planning licensing care".split()
        rows = []
        for n in range(projects):
            title = f"{rng.choice(words).capitalize()} project {n}"
            rows.append(
                {
                    "id": n + 1,
                    "slug": f"project-{n}",
                    "title": title,
                    "summary": f"A shared problem about {rng.choice(words)} number {n}",
                    "problem": " ".join(rng.choice(words) for _ in range(60)),
                    "description": " ".join(rng.choice(words) for _ in range(120)),
                    "phase": "alpha",
                    "lead_council_id": rng.choice(councils),
                    "created_by_id": user.id,
                    "money_target": rng.choice([None, 5000, 25000]),
                    "outcome": "",
                    "lessons": "",
                    "created_at": now - timedelta(days=rng.randrange(400)),
                    "updated_at": now,
                    "active_at": now,
                }
            )
        db.session.execute(insert(Project), rows)
        ids = [r["id"] for r in rows]
        lead = {r["id"]: r["lead_council_id"] for r in rows}
        db.session.execute(
            insert(ProjectCouncil),
            [{"project_id": i, "council_id": lead[i], "role": "lead", "state": "committed"} for i in ids]
            + [
                {"project_id": i, "council_id": c, "role": "partner", "state": "interested"}
                for i in ids
                if (c := rng.choice(councils)) != lead[i]
            ],
        )
        db.session.execute(
            insert(ProjectService),
            [{"project_id": i, "service_id": s} for i in ids for s in rng.sample(services, 2)],
        )
        db.session.execute(
            insert(ProjectTag), [{"project_id": i, "tag_id": t} for i in ids for t in rng.sample(tag_ids, 3)]
        )
        db.session.execute(insert(PeopleNeed), [{"project_id": i, "role": "Developer", "days": 20} for i in ids])
        db.session.execute(
            insert(ProjectLink),
            [{"project_id": i, "kind": "report", "title": "Report", "url": f"https://example.org/{i}"} for i in ids],
        )
        steps = [(None, "discovery"), ("discovery", "alpha")]
        db.session.execute(
            insert(PhaseChange),
            [
                {"project_id": i, "from_phase": a, "to_phase": b, "note": "A step", "changed_by_id": user.id}
                for a, b in steps
                for i in ids
            ],
        )
        db.session.commit()


def measure(app, url: str, *, streamed: bool) -> tuple[int, int, float]:
    """Bytes, peak memory allocated while reading the download, and seconds taken."""
    client = app.test_client()
    tracemalloc.start()
    tracemalloc.reset_peak()
    started = time.perf_counter()
    response = client.get(url, buffered=False)
    size = 0
    if streamed:
        for chunk in response.response:
            size += len(chunk)
    else:
        size = len(b"".join(response.response))
    response.close()
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return size, peak, seconds


def report(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=[1_000, 10_000])
    parser.add_argument("--database", help="a PostgreSQL server URL; a temporary SQLite file when left out")
    args = parser.parse_args()
    report(f"{'download':28} {'projects':>9} {'MiB out':>8} {'peak KiB streamed':>18} {'peak KiB joined':>16} {'s':>6}")
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes:
            if args.database:
                from tests.conftest import create_postgres_database, drop_postgres_database

                os.environ["TEST_DATABASE_URL"] = args.database
                url = create_postgres_database()
            else:
                url = f"sqlite:///{Path(folder) / f'bench-{size}.db'}"
            app = make_app(url)
            fill(app, size)
            for download in DOWNLOADS:
                measure(app, download, streamed=True)  # warm up: compiled statements and templates are cached once
                out, peak, seconds = measure(app, download, streamed=True)
                _, joined, _ = measure(app, download, streamed=False)
                report(
                    f"{download:28} {size:>9,} {out / 2**20:>8.1f} {peak / 1024:>18,.0f} {joined / 1024:>16,.0f}"
                    f" {seconds:>6.1f}"
                )
            with app.app_context():
                db.engine.dispose()
            if args.database:
                drop_postgres_database(url)


if __name__ == "__main__":
    main()
