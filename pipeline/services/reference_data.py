"""Load the shipped councils and LGSL/LGFL reference data; running it twice changes nothing."""

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from pipeline.database import begin_write
from pipeline.extensions import db
from pipeline.models import Council, CouncilDomain, Function, Service

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


@dataclass
class LoadReport:
    added: int = 0
    changed: int = 0
    unchanged: int = 0

    def __str__(self) -> str:
        return f"{self.added} added, {self.changed} changed, {self.unchanged} unchanged"


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _rows(name: str) -> list[dict[str, str]]:
    with open(DATA_DIR / name, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _upsert(existing: dict, key, model, values: dict, report: LoadReport):
    record = existing.get(key)
    if record is None:
        record = model(**values)
        db.session.add(record)
        existing[key] = record
        report.added += 1
        return record
    changed = False
    for field, value in values.items():
        if getattr(record, field) != value:
            setattr(record, field, value)
            changed = True
    if changed:
        report.changed += 1
    else:
        report.unchanged += 1
    return record


def load_reference_data() -> dict[str, LoadReport]:
    """Upsert councils (by code) with their website domain, LGFL functions and LGSL services."""
    begin_write()
    reports = {"councils": LoadReport(), "domains": LoadReport(), "functions": LoadReport(), "services": LoadReport()}

    councils = {c.code: c for c in db.session.scalars(select(Council))}
    domains = {(d.domain, d.council_id) for d in db.session.scalars(select(CouncilDomain))}
    for row in _rows("councils.csv"):
        council = _upsert(
            councils,
            row["code"],
            Council,
            {
                "code": row["code"],
                "gss_code": row["gss_code"] or None,
                "name": row["name"],
                "slug": slugify(row["name"]),
                "type": row["type"],
                "nation": row["nation"],
                "region": row["region"],
                "website_domain": row["domain"] or None,
            },
            reports["councils"],
        )
        db.session.flush()
        domain = row["domain"].strip().lower()
        # Domains are only ever added here: organisers may have added or removed
        # others since, and the register's website domain is a starting point.
        if domain and (domain, council.id) not in domains:
            db.session.add(CouncilDomain(domain=domain, council_id=council.id))
            domains.add((domain, council.id))
            reports["domains"].added += 1
        elif domain:
            reports["domains"].unchanged += 1

    functions = {f.id: f for f in db.session.scalars(select(Function))}
    function_rows = _rows("lgfl_functions.csv")
    # Parents first, so every parent_id exists when its children arrive.
    for row in sorted(function_rows, key=lambda r: r["parent_id"] != ""):
        _upsert(
            functions,
            int(row["function_id"]),
            Function,
            {
                "id": int(row["function_id"]),
                "label": row["label"],
                "parent_id": int(row["parent_id"]) if row["parent_id"] else None,
            },
            reports["functions"],
        )
        db.session.flush()

    services = {s.id: s for s in db.session.scalars(select(Service))}
    for row in _rows("lgsl_services.csv"):
        _upsert(
            services,
            int(row["lgsl_id"]),
            Service,
            {
                "id": int(row["lgsl_id"]),
                "label": row["label"],
                "description": row["description"],
                "function_id": int(row["function_id"]) if row["function_id"] else None,
            },
            reports["services"],
        )
    db.session.commit()
    return reports
