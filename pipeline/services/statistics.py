"""The figures on the dashboard, which the API publishes too: one function computes them for both."""

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import extract, func, select

from pipeline.extensions import db
from pipeline.models import (
    ACTIVE_PHASES,
    CLOSED_PHASES,
    Council,
    Pledge,
    Project,
    ProjectCouncil,
    ProjectService,
    Service,
)
from pipeline.models.project import PHASE_LABELS
from pipeline.services import pledges, project_lists
from pipeline.services.pledges import Totals
from pipeline.services.public_data import NATION_ORDER, TAKING_PART, absolute_url, pledge_totals
from pipeline.services.public_schemas import PLEDGE_TOTALS_FIELDS, integer, list_of, record, text
from pipeline.timeutil import utcnow

MONTHS_SHOWN = 12
TOP_SERVICES = 10


@dataclass
class PhaseCount:
    phase: str
    label: str
    count: int
    closed: bool


@dataclass
class MonthCount:
    month: date  # the first day of the month
    count: int

    @property
    def key(self) -> str:
        return f"{self.month:%Y-%m}"

    @property
    def label(self) -> str:
        return f"{self.month:%B %Y}"


@dataclass
class RegionCount:
    nation: str
    region: str
    taking_part: int
    total: int


@dataclass
class ServiceCount:
    lgsl_id: int
    label: str
    count: int


@dataclass
class PledgeFigures:
    totals: Totals  # pledges that count (not withdrawn or declined), pledged and delivered
    months: list[MonthCount]  # pledges made each month, whatever became of them


@dataclass
class Figures:
    phases: list[PhaseCount]
    months: list[MonthCount]
    regions: list[RegionCount]
    services: list[ServiceCount]
    pledges: PledgeFigures

    @property
    def total_projects(self) -> int:
        return sum(p.count for p in self.phases)

    @property
    def councils_taking_part(self) -> int:
        return sum(r.taking_part for r in self.regions)

    @property
    def councils_total(self) -> int:
        return sum(r.total for r in self.regions)


def _months_back(today: date, count: int) -> list[date]:
    """The first days of the last `count` months, oldest first, ending with this month."""
    months = []
    year, month = today.year, today.month
    for _ in range(count):
        months.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def phase_figures() -> list[PhaseCount]:
    """Every project by the phase it is in now, dormant ones included: the funnel, then the closed phases."""
    counts = project_lists.phase_counts()
    return [PhaseCount(p, PHASE_LABELS[p], counts[p], p in CLOSED_PHASES) for p in (*ACTIVE_PHASES, *CLOSED_PHASES)]


def _by_month(created_at) -> list[MonthCount]:
    """Rows made in each of the last 12 months, this month included, by their creation time."""
    months = _months_back(utcnow().date(), MONTHS_SHOWN)
    year, month = extract("year", created_at), extract("month", created_at)
    rows = db.session.execute(
        select(year, month, func.count())
        .where(created_at >= datetime(months[0].year, months[0].month, 1))
        .group_by(year, month)
    ).all()
    counts = {(int(y), int(m)): n for y, m, n in rows}
    return [MonthCount(m, counts.get((m.year, m.month), 0)) for m in months]


def month_figures() -> list[MonthCount]:
    """Projects posted in each of the last 12 months, this month included."""
    return _by_month(Project.created_at)


def region_figures() -> list[RegionCount]:
    """Councils taking part in at least one project, against all councils, in each nation and region."""
    totals = db.session.execute(
        select(Council.nation, Council.region, func.count()).group_by(Council.nation, Council.region)
    ).all()
    taking_part = db.session.execute(
        select(Council.nation, Council.region, func.count(func.distinct(Council.id)))
        .join(ProjectCouncil, ProjectCouncil.council_id == Council.id)
        .where(TAKING_PART)
        .group_by(Council.nation, Council.region)
    ).all()
    taking = {(n, r): c for n, r, c in taking_part}
    regions = [RegionCount(n, r, taking.get((n, r), 0), total) for n, r, total in totals]
    regions.sort(key=lambda r: (NATION_ORDER.get(r.nation, len(NATION_ORDER)), r.region))
    return regions


def service_figures(limit: int = TOP_SERVICES) -> list[ServiceCount]:
    """The LGSL services the most projects work on."""
    rows = db.session.execute(
        select(Service.id, Service.label, func.count())
        .join(ProjectService, ProjectService.service_id == Service.id)
        .group_by(Service.id, Service.label)
        .order_by(func.count().desc(), Service.label)
        .limit(limit)
    ).all()
    return [ServiceCount(lgsl_id, label, count) for lgsl_id, label, count in rows]


def pledge_figures() -> PledgeFigures:
    """Money, people-days and skill hours pledged and delivered, and pledges made in each of the last 12 months."""
    return PledgeFigures(pledges.overall_totals(), _by_month(Pledge.created_at))


def figures() -> Figures:
    """Everything the dashboard shows, in a fixed number of statements."""
    return Figures(phase_figures(), month_figures(), region_figures(), service_figures(), pledge_figures())


def figures_record(f: Figures) -> dict:
    """The figures as the API publishes them."""
    return {
        "projects": {
            "total": f.total_projects,
            "by_phase": [{"phase": p.phase, "count": p.count} for p in f.phases],
        },
        "new_projects_by_month": [{"month": m.key, "count": m.count} for m in f.months],
        "councils": {
            "taking_part": f.councils_taking_part,
            "total": f.councils_total,
            "by_region": [
                {"nation": r.nation, "region": r.region, "taking_part": r.taking_part, "total": r.total}
                for r in f.regions
            ],
        },
        "most_shared_services": [
            {
                "lgsl_id": s.lgsl_id,
                "label": s.label,
                "project_count": s.count,
                "api_url": absolute_url("api.service", lgsl_id=s.lgsl_id),
            }
            for s in f.services
        ],
        "pledges": {
            **pledge_totals(f.pledges.totals),
            "by_month": [{"month": m.key, "count": m.count} for m in f.pledges.months],
        },
    }


FIGURES_SCHEMA = record(
    {
        "projects": record(
            {
                "total": integer("Every project, dormant ones included.", minimum=0),
                "by_phase": list_of(
                    record({"phase": text("Phase."), "count": integer("Projects in the phase now.", minimum=0)}),
                    "Projects by the phase they are in now: idea to live, then retired and stopped.",
                ),
            }
        ),
        "new_projects_by_month": list_of(
            record({"month": text("Month (YYYY-MM).", pattern="^[0-9]{4}-[0-9]{2}$"), "count": integer("Posted.")}),
            "Projects posted in each of the last 12 months, this month last.",
        ),
        "councils": record(
            {
                "taking_part": integer("Councils taking part in at least one project.", minimum=0),
                "total": integer("Councils in Pipeline's register.", minimum=0),
                "by_region": list_of(
                    record(
                        {
                            "nation": text("Nation."),
                            "region": text("Region (the nation outside England)."),
                            "taking_part": integer("Councils taking part.", minimum=0),
                            "total": integer("Councils in the region.", minimum=0),
                        }
                    ),
                    "Councils by nation and region.",
                ),
            }
        ),
        "most_shared_services": list_of(
            record(
                {
                    "lgsl_id": integer("LGSL id."),
                    "label": text("LGSL label."),
                    "project_count": integer("Projects working on the service.", minimum=1),
                    "api_url": text("The service's record in this API.", format="uri"),
                }
            ),
            "The 10 LGSL services the most projects work on.",
        ),
        "pledges": record(
            {
                **PLEDGE_TOTALS_FIELDS,
                "by_month": list_of(
                    record(
                        {
                            "month": text("Month (YYYY-MM).", pattern="^[0-9]{4}-[0-9]{2}$"),
                            "count": integer("Pledges made.", minimum=0),
                        }
                    ),
                    "Pledges made in each of the last 12 months, this month last, including any later withdrawn "
                    "or declined.",
                ),
            },
            "Every project's pledges that count (withdrawn and declined ones do not), pledged and delivered; "
            "and pledges made by month.",
        ),
    },
    "The figures on the dashboard.",
)
