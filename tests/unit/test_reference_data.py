"""Loading the shipped reference data, and loading it again."""

from sqlalchemy import func, select

from pipeline.extensions import db
from pipeline.models import Council, CouncilDomain, Function, Service


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_reference_data_is_loaded(app):
    with app.app_context():
        assert count(Council) == 382
        assert count(Service) == 1519
        assert count(Function) == 113
        shared = db.session.scalars(
            select(Council.name).join(CouncilDomain).where(CouncilDomain.domain == "adur-worthing.gov.uk")
        ).all()
        assert sorted(shared) == ["Adur District Council", "Worthing Borough Council"]
        assert db.session.get(Service, 528).label == "Bulky household waste collections"


def test_loading_again_changes_nothing(app):
    result = app.test_cli_runner().invoke(args=["load-reference-data"])
    assert result.exit_code == 0
    assert "councils: 0 added, 0 changed, 382 unchanged" in result.output
    assert "services: 0 added, 0 changed, 1519 unchanged" in result.output
    with app.app_context():
        assert count(Council) == 382 and count(CouncilDomain) == 382


def test_loading_keeps_domains_organisers_added_and_restores_changed_names(app):
    with app.app_context():
        leeds = db.session.scalar(select(Council).where(Council.code == "LDS"))
        leeds.name = "Renamed by mistake"
        db.session.add(CouncilDomain(domain="leedsextra.gov.uk", council_id=leeds.id))
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["load-reference-data"])
    assert "councils: 0 added, 1 changed, 381 unchanged" in result.output
    with app.app_context():
        leeds = db.session.scalar(select(Council).where(Council.code == "LDS"))
        assert leeds.name == "Leeds City Council"
        assert {d.domain for d in leeds.domains} == {"leeds.gov.uk", "leedsextra.gov.uk"}
