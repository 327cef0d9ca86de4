"""Bar charts drawn on the server as SVG: the geometry and a one-paragraph text summary of each.

`templates/components/charts.html` draws a Chart; every chart on a page also has its
summary in words and a table of the same figures, for people who cannot see the picture.
"""

from dataclasses import dataclass, field

from pipeline.services.pledges import Totals
from pipeline.services.statistics import MonthCount, PhaseCount, RegionCount, ServiceCount

WIDTH = 480  # narrow enough that the text stays readable when a phone shrinks the picture
ROW = 28  # a horizontal bar's height, labelled on its left
THIN = 22  # a horizontal bar's height, labelled above it
GAP = 12  # space between bars
FONT = 16
LABEL_CHARACTERS = 48


@dataclass
class Bar:
    label: str  # written beside (or under) the bar
    value_text: str  # written at the bar's end
    x: float
    y: float
    width: float
    height: float
    text_x: float  # where the label is written (right-aligned for rows, centred for columns)
    text_y: float
    value_x: float
    value_y: float
    muted: bool = False
    second_line: str = ""  # a column's second label line (the year)
    track: float = 0  # the width of an outlined track behind the bar: the whole the bar is a part of


@dataclass
class Chart:
    width: int
    height: int
    bars: list[Bar]
    summary: str
    columns: bool = False
    stacked: bool = False  # labels above the bars rather than beside them
    separators: list[float] = field(default_factory=list)  # y of a line between groups of rows


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARACTERS else label[: LABEL_CHARACTERS - 1].rstrip() + "…"


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def _rows(items: list[tuple[str, int, str, bool]], *, label_width: int, centred: bool) -> tuple[list[Bar], float]:
    """Horizontal bars, one a row, labelled on the left: (label, value, value text, muted).

    Returns the bars and the height they take.
    """
    plot_left, value_room = label_width + 10, 70
    plot_width = WIDTH - plot_left - value_room
    largest = max((value for _, value, _, _ in items), default=0) or 1
    bars, y = [], 0.0
    for label, value, value_text, muted in items:
        width = _length(plot_width, value, largest)
        x = plot_left + (plot_width - width) / 2 if centred else plot_left
        middle = round(y + ROW / 2 + FONT * 0.35, 1)
        value_x = (plot_left + plot_width if centred else x + width) + 8
        bars.append(
            Bar(
                _short(label),
                value_text,
                round(x, 1),
                y,
                width,
                ROW,
                label_width,
                middle,
                round(value_x, 1),
                middle,
                muted,
            )
        )
        y += ROW + GAP
    return bars, y


def _stacked(items: list[tuple[str, int, str]]) -> tuple[list[Bar], float]:
    """Horizontal bars with each label above its bar, so long labels and narrow screens both fit."""
    value_room = 90
    plot_width = WIDTH - value_room
    largest = max((value for _, value, _ in items), default=0) or 1
    bars, y = [], 0.0
    for label, value, value_text in items:
        width = _length(plot_width, value, largest)
        top = y + FONT + 6
        middle = round(top + THIN / 2 + FONT * 0.35, 1)
        bars.append(Bar(_short(label), value_text, 0, top, width, THIN, 0, y + FONT, round(width + 8, 1), middle))
        y = top + THIN + GAP
    return bars, y


def _length(room: float, value: int, largest: int) -> float:
    length = room * value / largest
    return round(max(length, 3) if value else 0, 1)  # a small number still shows


def funnel(phases: list[PhaseCount]) -> Chart:
    """Projects in each open phase as a funnel, centred, with the closed phases in grey beneath."""
    items = [(p.label, p.count, f"{p.count:,}", p.closed) for p in phases]
    bars, height = _rows(items, label_width=90, centred=True)
    open_phases = [p for p in phases if not p.closed]
    closed = [p for p in phases if p.closed]
    total = sum(p.count for p in phases)
    if total:
        summary = (
            f"{_plural(total, 'project')} in all. Open: "
            + ", ".join(f"{p.label.lower()} {p.count:,}" for p in open_phases)
            + ". Closed: "
            + ", ".join(f"{p.label.lower()} {p.count:,}" for p in closed)
            + "."
        )
    else:
        summary = "No projects have been posted yet."
    separator = len(open_phases) * (ROW + GAP) - GAP / 2
    return Chart(WIDTH, int(height), bars, summary, separators=[separator])


def bars(items: list[tuple[str, int, int | None]]) -> Chart:
    """Horizontal bars labelled above: (label, value, out of), where 'out of' may be None."""
    rows = [
        (label, value, f"{value:,}" if total is None else f"{value:,} of {total:,}") for label, value, total in items
    ]
    found, height = _stacked(rows)
    return Chart(WIDTH, int(height), found, "", stacked=True)


def regions(regions: list[RegionCount]) -> Chart:
    chart = bars([(r.region, r.taking_part, r.total) for r in regions])
    taking_part = sum(r.taking_part for r in regions)
    total = sum(r.total for r in regions)
    if taking_part:
        best = max(regions, key=lambda r: (r.taking_part, -r.total))
        chart.summary = (
            f"{taking_part:,} of {total:,} councils take part in at least one project. "
            f"The most are in {best.region}: {best.taking_part:,} of {best.total:,}."
        )
    else:
        chart.summary = f"None of the {total:,} councils takes part in a project yet."
    return chart


def services(services: list[ServiceCount]) -> Chart:
    chart = bars([(s.label, s.count, None) for s in services])
    if services:
        top = services[0]
        chart.summary = (
            f"The service the most projects share is {top.label} (LGSL {top.lgsl_id}), "
            f"with {_plural(top.count, 'project')}."
        )
    else:
        chart.summary = "No project names a service yet."
    return chart


def months(months: list[MonthCount], noun: str = "project", verb: str = "posted") -> Chart:
    """Projects posted (or pledges made) each month as columns, oldest on the left."""
    plot_top, plot_bottom = 30, 200
    slot = WIDTH / max(len(months), 1)
    largest = max((m.count for m in months), default=0) or 1
    found = []
    for i, m in enumerate(months):
        height = (plot_bottom - plot_top) * m.count / largest
        if m.count and height < 3:
            height = 3
        x = i * slot + slot * 0.2
        found.append(
            Bar(
                label=f"{m.month:%b}",
                second_line=f"{m.month:%Y}" if i == 0 or m.month.month == 1 else "",
                value_text=f"{m.count:,}",
                x=round(x, 1),
                y=round(plot_bottom - height, 1),
                width=round(slot * 0.6, 1),
                height=round(height, 1),
                text_x=round(i * slot + slot / 2, 1),
                text_y=plot_bottom + 22,
                value_x=round(i * slot + slot / 2, 1),
                value_y=round(plot_bottom - height - 8, 1),
            )
        )
    total = sum(m.count for m in months)
    if total:
        busiest = max(months, key=lambda m: (m.count, m.month))
        summary = (
            f"{_plural(total, noun)} {verb} in the last {len(months)} months, "
            f"{months[-1].count:,} of them this month. The busiest month was {busiest.label}, "
            f"with {busiest.count:,}."
        )
    else:
        summary = f"No {noun}s were {verb} in the last {len(months)} months."
    return Chart(WIDTH, plot_bottom + 48, found, summary, columns=True, separators=[plot_bottom])


def _share(part: int, whole: int) -> str:
    return f" ({part * 100 // whole}%)" if whole else ""


def delivery(totals: Totals) -> Chart:
    """Money, people's time and skills delivered against pledged: each pledged total is a track, delivered fills it."""
    units = [
        ("Money", totals.pounds, totals.delivered_pounds, lambda n: f"£{n:,}"),
        ("People", totals.days, totals.delivered_days, lambda n: f"{n:,}"),
        ("Skills", totals.hours, totals.delivered_hours, lambda n: f"{n:,}"),
    ]
    names = {"People": " days", "Skills": " hours"}
    value_room = 60
    plot_width = WIDTH - value_room
    found, y = [], 0.0
    for label, pledged, delivered, amount in units:
        top = y + FONT + 6
        middle = round(top + THIN / 2 + FONT * 0.35, 1)
        if pledged:
            text = f"{label}: {amount(delivered)} of {amount(pledged)}{names.get(label, '')} delivered"
        else:
            text = f"{label}: none pledged"
        found.append(
            Bar(
                _short(text),
                f"{delivered * 100 // pledged}%" if pledged else "",
                0,
                top,
                _length(plot_width, delivered, pledged) if pledged else 0,
                THIN,
                0,
                y + FONT,
                plot_width + 8,
                middle,
                track=plot_width if pledged else 0,
            )
        )
        y = top + THIN + GAP
    if totals.count:
        summary = (
            f"{_plural(totals.count, 'pledge')} to projects, not counting withdrawn or declined ones: "
            f"£{totals.pounds:,}, "
            f"{_plural(totals.days, 'day')} of people’s time and {_plural(totals.hours, 'hour')} of skills. "
            f"Delivered so far: £{totals.delivered_pounds:,}{_share(totals.delivered_pounds, totals.pounds)}, "
            f"{_plural(totals.delivered_days, 'day')}{_share(totals.delivered_days, totals.days)} and "
            f"{_plural(totals.delivered_hours, 'hour')}{_share(totals.delivered_hours, totals.hours)}."
        )
    else:
        summary = "No council has pledged to a project yet."
    return Chart(WIDTH, int(y), found, summary, stacked=True)
