"""Reading councils for the public pages."""

from itertools import groupby

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from pipeline.extensions import db
from pipeline.models import NATIONS, Council
from pipeline.services.errors import NotFound


def councils_by_nation_and_region() -> list[tuple[str, list[tuple[str, list[Council]]]]]:
    """Every council, grouped by nation then region, A to Z within each."""
    councils = db.session.scalars(select(Council).order_by(Council.nation, Council.region, Council.name)).all()
    nation_order = {nation: i for i, nation in enumerate(NATIONS)}
    by_nation = sorted(
        ((nation, list(items)) for nation, items in groupby(councils, key=lambda c: c.nation)),
        key=lambda group: nation_order.get(group[0], len(nation_order)),
    )
    grouped = []
    for nation, nation_councils in by_nation:
        regions = [(region, list(items)) for region, items in groupby(nation_councils, key=lambda c: c.region)]
        grouped.append((nation, regions))
    return grouped


def get_council(slug: str) -> Council:
    """One council by its URL slug, with its email domains."""
    council = db.session.scalar(select(Council).options(selectinload(Council.domains)).where(Council.slug == slug))
    if council is None:
        raise NotFound()
    return council
