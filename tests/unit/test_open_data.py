"""The open data registry, the API's parameter rules and the dashboard's chart geometry."""

from datetime import date

import pytest

from pipeline import charts
from pipeline.api.params import PAGE, PER_PAGE, Param, read
from pipeline.services import open_data
from pipeline.services.errors import InvalidInput
from pipeline.services.pledges import Totals
from pipeline.services.public_schemas import SCHEMAS
from pipeline.services.statistics import MonthCount, PhaseCount, RegionCount, ServiceCount, _months_back


def test_every_registered_record_type_is_complete():
    paths = [record.path for record in open_data.RECORD_TYPES]
    names = [record.name for record in open_data.RECORD_TYPES]
    assert len(set(paths)) == len(paths) and len(set(names)) == len(names)
    for record in open_data.RECORD_TYPES:
        assert record.licence in open_data.LICENCES, record.name
        assert bool(record.columns) == (record.to_csv is not None), record.name
        if record.api_list or record.project_column is not None:
            assert record.schema in SCHEMAS, record.name
        for column in record.columns:
            assert column.type and column.meaning and column.example, (record.name, column.name)


def test_a_parameter_says_what_it_takes():
    with pytest.raises(InvalidInput, match="per_page must be a whole number from 1 to 100"):
        PER_PAGE.check("101")
    with pytest.raises(InvalidInput, match="page must be a whole number"):
        PAGE.check("٣")  # a digit, but not one people type in a URL
    with pytest.raises(InvalidInput, match="colour must be one of: red, green"):
        Param("colour", "", choices=("red", "green")).check("blue")
    slug = Param("council", "", pattern="[a-z0-9-]+", max_length=10)
    slug.check("leeds")
    for bad in ("", "Leeds", "leeds\n", "a" * 11, "le eds"):
        with pytest.raises(InvalidInput):
            slug.check(bad)
    assert slug.schema() == {"type": "string", "minLength": 1, "maxLength": 10, "pattern": "^[a-z0-9-]+$"}


def test_reading_a_query_string_refuses_what_it_does_not_know():
    from werkzeug.datastructures import MultiDict

    params = [Param("phase", "", choices=("idea", "alpha"), many=True), PAGE]
    assert read(MultiDict([("phase", "idea"), ("phase", "alpha")]), params) == {
        "phase": ["idea", "alpha"],
        "page": [],
    }
    with pytest.raises(InvalidInput, match="Unknown parameter 'q'"):
        read(MultiDict([("q", "bins")]), params)
    with pytest.raises(InvalidInput, match="Give page once"):
        read(MultiDict([("page", "1"), ("page", "2")]), params)


def test_the_last_twelve_months_cross_the_new_year():
    months = _months_back(date(2027, 2, 14), 12)
    assert months[0] == date(2026, 3, 1) and months[-1] == date(2027, 2, 1) and len(months) == 12


def test_a_funnel_centres_its_bars_and_greys_the_closed_phases():
    phases = [
        PhaseCount("idea", "Idea", 10, False),
        PhaseCount("alpha", "Alpha", 5, False),
        PhaseCount("live", "Live", 0, False),
        PhaseCount("stopped", "Stopped", 1, True),
    ]
    chart = charts.funnel(phases)
    idea, alpha, live, stopped = chart.bars
    assert idea.width == 2 * alpha.width
    assert idea.x + idea.width / 2 == pytest.approx(alpha.x + alpha.width / 2)  # centred on one line
    assert live.width == 0 and live.value_text == "0"
    assert stopped.muted and not idea.muted
    assert chart.summary == "16 projects in all. Open: idea 10, alpha 5, live 0. Closed: stopped 1."
    assert all(bar.x + bar.width <= chart.width for bar in chart.bars)


def test_charts_say_in_words_what_they_show():
    months = [MonthCount(date(2027, m, 1), n) for m, n in ((1, 2), (2, 5), (3, 1))]
    assert charts.months(months).summary == (
        "8 projects posted in the last 3 months, 1 of them this month. The busiest month was February 2027, with 5."
    )
    regions = [RegionCount("England", "London", 3, 33), RegionCount("Wales", "Wales", 1, 22)]
    assert charts.regions(regions).summary == (
        "4 of 55 councils take part in at least one project. The most are in London: 3 of 33."
    )
    assert [bar.value_text for bar in charts.regions(regions).bars] == ["3 of 33", "1 of 22"]
    services = [ServiceCount(528, "Bulky household waste collections", 1)]
    assert charts.services(services).summary == (
        "The service the most projects share is Bulky household waste collections (LGSL 528), with 1 project."
    )
    long = charts.services([ServiceCount(1, "x" * 80, 2)])
    assert long.bars[0].label.endswith("…") and len(long.bars[0].label) == charts.LABEL_CHARACTERS


def test_a_delivery_chart_fills_each_pledged_total_with_what_was_delivered():
    totals = Totals(pounds=20_000, days=30, hours=0, delivered_pounds=5_000, delivered_days=30, count=3)
    chart = charts.delivery(totals)
    money, people, skills = chart.bars
    assert money.track == people.track > 0 and money.width == money.track / 4 and people.width == people.track
    assert (skills.track, skills.width, skills.label) == (0, 0, "Skills: none pledged")
    assert [bar.value_text for bar in chart.bars] == ["25%", "100%", ""]
    assert (money.label, people.label) == ("Money: £5,000 of £20,000 delivered", "People: 30 of 30 days delivered")
    assert chart.summary == (
        "3 pledges to projects, not counting withdrawn or declined ones: £20,000, 30 days of people’s time and "
        "0 hours of skills. Delivered so far: £5,000 (25%), 30 days (100%) and 0 hours."
    )
    assert all(bar.value_x + 40 <= chart.width for bar in chart.bars)  # room for "100%"
    assert charts.delivery(Totals()).summary == "No council has pledged to a project yet."


def test_a_months_chart_names_what_it_counts():
    months = [MonthCount(date(2027, 1, 1), 1), MonthCount(date(2027, 2, 1), 0)]
    assert charts.months(months, "pledge", "made").summary == (
        "1 pledge made in the last 2 months, 0 of them this month. The busiest month was January 2027, with 1."
    )
