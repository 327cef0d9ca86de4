"""Benchmark: build the daily digests for 50,000 officers on generated data. Run by hand, not in CI.

    .venv/bin/python -m bench.digests                      # SQLite in /tmp, 50,000 officers
    .venv/bin/python -m bench.digests --officers 5000      # a quicker run
    .venv/bin/python -m bench.digests --db postgresql://postgres@127.0.0.1:5432/pipeline_bench

The database is emptied and migrated first. The data is deterministic (--seed): officers on real councils,
projects whose popularity falls off like Zipf's law, follows, yesterday's comments, updates and phase changes,
and their notifications fanned out to followers, most of whom take the default daily digest.
It reports how long building and queueing the digests takes, and how many SQL statements it runs.
"""

import argparse
import random
import sys
import time
from collections import defaultdict
from datetime import datetime, timedelta

from flask_migrate import downgrade, upgrade
from sqlalchemy import func, insert, select

from config import Config, database_url
from pipeline import create_app
from pipeline.database import statement_counter
from pipeline.extensions import db
from pipeline.models import (
    Activity,
    Comment,
    Council,
    Follow,
    Notification,
    NotificationSettings,
    OutboxMessage,
    Project,
    ProjectUpdate,
    User,
)
from pipeline.services import digests
from pipeline.services.reference_data import load_reference_data
from pipeline.timeutil import utcnow

CHUNK = 10_000
WORDS = (
    "residents council booking online form phone waste parking permit discovery alpha research users "
    "team supplier data standard service design content accessibility payments library housing repairs"
).split()


class BenchConfig(Config):
    SECRET_KEY = "benchmark-only-secret-key"
    MAIL_BACKEND = "console"
    BASE_URL = "https://pipeline.example"
    OUTBOX_DELIVER_AFTER_REQUEST = False


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def bulk(model, rows: list[dict]) -> None:
    for start in range(0, len(rows), CHUNK):
        db.session.execute(insert(model), rows[start : start + CHUNK])


def generate(args, rng: random.Random) -> dict:
    """Fill the database; return what was made."""
    now = utcnow()
    yesterday = datetime.combine(now.date() - timedelta(days=1), datetime.min.time())
    council_ids = db.session.scalars(select(Council.id)).all()
    bulk(
        User,
        [
            {
                "id": i,
                "email": f"officer{i}@bench.example",
                "name": f"Officer {i}",
                "job_title": "",
                "council_id": rng.choice(council_ids),
                "password_hash": "x",
                "role": "officer",
                "email_verified_at": now,
                "session_token": f"t{i}",
                "created_at": now,
            }
            for i in range(1, args.officers + 1)
        ],
    )
    bulk(
        Project,
        [
            {
                "id": p,
                "slug": f"project-{p}",
                "title": f"Project {p}: {sentence(rng, 4)}"[:150],
                "summary": "s",
                "problem": "p",
                "description": "",
                "phase": "discovery",
                "lead_council_id": rng.choice(council_ids),
                "created_by_id": rng.randint(1, args.officers),
                "outcome": "",
                "lessons": "",
                "created_at": now,
                "updated_at": now,
                "active_at": now,
            }
            for p in range(1, args.projects + 1)
        ],
    )
    # Popularity falls off like Zipf's law: a few projects are followed (and talked about) by thousands.
    weights = [rank**-args.zipf for rank in range(1, args.projects + 1)]
    project_ids = list(range(1, args.projects + 1))
    followers: dict[int, list[tuple[int, int]]] = defaultdict(list)
    follow_rows = []
    for user_id in range(1, args.officers + 1):
        chosen = set(rng.choices(project_ids, weights, k=rng.randint(1, 2 * args.follows - 1)))
        for project_id in chosen:
            follow_rows.append(
                {
                    "id": len(follow_rows) + 1,
                    "user_id": user_id,
                    "target_type": "project",
                    "target_id": project_id,
                    "created_at": now,
                }
            )
            followers[project_id].append((user_id, len(follow_rows)))
    bulk(Follow, follow_rows)
    # Most take the default (daily); some chose otherwise.
    settings = []
    for user_id in range(1, args.officers + 1):
        choice = rng.random()
        if choice < 0.1:
            settings.append({"user_id": user_id, "frequency": "instantly", "seen_up_to": 0})
        elif choice < 0.25:
            settings.append({"user_id": user_id, "frequency": "weekly", "seen_up_to": 0})
        elif choice < 0.3:
            settings.append({"user_id": user_id, "frequency": "off", "seen_up_to": 0})
    bulk(NotificationSettings, settings)
    frequency = {row["user_id"]: row["frequency"] for row in settings}

    comment_rows, update_rows, activity_rows, notification_rows = [], [], [], []
    for number in range(1, args.activities + 1):
        project_id = rng.choices(project_ids, weights)[0]
        actor = rng.randint(1, args.officers)
        when = yesterday + timedelta(seconds=rng.randint(0, 86_399))
        kind = rng.choices(["comment_posted", "update_posted", "phase_changed"], [6, 3, 1])[0]
        subject_type, subject_id = "", None
        if kind == "comment_posted":
            comment_rows.append(
                {
                    "id": len(comment_rows) + 1,
                    "project_id": project_id,
                    "author_id": actor,
                    "body": sentence(rng, rng.randint(5, 120)),
                    "created_at": when,
                    "active_at": when,
                }
            )
            subject_type, subject_id = "comment", len(comment_rows)
        elif kind == "update_posted":
            update_rows.append(
                {
                    "id": len(update_rows) + 1,
                    "project_id": project_id,
                    "author_id": actor,
                    "kind": "weeknotes",
                    "title": sentence(rng, 4),
                    "body": sentence(rng, rng.randint(50, 400)),
                    "created_at": when,
                }
            )
            subject_type, subject_id = "update", len(update_rows)
        activity_rows.append(
            {
                "id": number,
                "kind": kind,
                "project_id": project_id,
                "actor_id": actor,
                "subject_type": subject_type,
                "subject_id": subject_id,
                "summary": f"Officer {actor} did something on project {project_id}",
                "data": {},
                "created_at": when,
            }
        )
        for user_id, follow_id in followers[project_id]:
            if user_id == actor:
                continue
            instant = frequency.get(user_id) == "instantly"
            notification_rows.append(
                {
                    "user_id": user_id,
                    "activity_id": number,
                    "follow_id": follow_id,
                    "created_at": when,
                    "emailed_at": when if instant else None,
                }
            )
    bulk(Comment, comment_rows)
    bulk(ProjectUpdate, update_rows)
    bulk(Activity, activity_rows)
    bulk(Notification, notification_rows)
    db.session.commit()
    return {
        "officers": args.officers,
        "projects": args.projects,
        "follows": len(follow_rows),
        "activities": len(activity_rows),
        "notifications": len(notification_rows),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite:////tmp/pipeline-bench-digests.db")
    parser.add_argument("--officers", type=int, default=50_000)
    parser.add_argument("--projects", type=int, default=20_000)
    parser.add_argument("--follows", type=int, default=10, help="Projects each officer follows, on average.")
    parser.add_argument("--activities", type=int, default=5_000, help="Things that happened yesterday.")
    parser.add_argument("--zipf", type=float, default=0.5, help="How steeply popularity falls from project to project.")
    parser.add_argument("--batch", type=int, default=digests.BATCH_SIZE)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    class Bench(BenchConfig):
        SQLALCHEMY_DATABASE_URI = database_url(args.db)

    app = create_app(Bench)
    with app.app_context():
        downgrade(revision="base")
        upgrade()
        load_reference_data()
        started = time.perf_counter()
        made = generate(args, random.Random(args.seed))
        say(f"generated in {time.perf_counter() - started:.1f}s: " + ", ".join(f"{k} {v:,}" for k, v in made.items()))
        period = digests.period_for("daily")

        started = time.perf_counter()
        with statement_counter() as statements:
            run = digests.send_digests(period, batch_size=args.batch)
        elapsed = time.perf_counter() - started
        outbox = db.session.scalar(select(func.count()).select_from(OutboxMessage))
        batches = -(-(run.sent + run.already_sent) // args.batch) if run.sent else 0
        say(
            f"daily digests on {db.engine.dialect.name}: {run.sent:,} digests with {run.items:,} items "
            f"for {args.officers:,} officers in {elapsed:.1f}s ({1000 * elapsed / max(run.sent, 1):.2f} ms each); "
            f"{statements[0]:,} SQL statements ({statements[0] - run.sent:,} besides one outbox INSERT per "
            f"email, over about {batches} batches of {args.batch}); {outbox:,} emails in the outbox"
        )
        marked = db.session.scalar(select(func.count(Notification.digest_id)))
        say(f"notifications marked as sent in a digest: {marked:,}")

        started = time.perf_counter()
        with statement_counter() as statements:
            again = digests.send_digests(period, batch_size=args.batch)
        say(
            f"the same period again: {again.sent} sent in {time.perf_counter() - started:.1f}s, "
            f"{statements[0]} statements"
        )


if __name__ == "__main__":
    main()
