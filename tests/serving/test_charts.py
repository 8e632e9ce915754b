"""Inline SVG charts of the CSM page and the daily report (`serving.charts`)."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from serving.charts import (
    Step,
    bar_chart,
    box_chart,
    column_chart,
    histogram,
    line_chart,
    ticket_timeline,
    ticks,
    waterfall,
)

DAYS = [dt.date(2025, 6, d) for d in range(1, 6)]


def test_labels_are_escaped_and_the_svg_parses():
    svg = line_chart(DAYS, {"<script>": [0.1, None, 0.3, 0.4, 0.5]}, 'a "label"')
    ET.fromstring(svg)
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_missing_values_break_the_line():
    svg = line_chart(DAYS, {"risk": [0.1, 0.2, None, 0.4, 0.5]}, "x")
    assert svg.count("<polyline") == 2


@given(
    base=st.floats(0, 1),
    values=st.lists(st.floats(-0.3, 0.3), min_size=1, max_size=10),
)
def test_waterfall_ends_at_base_plus_contributions(base, values):
    svg = waterfall("base", base, [Step(f"f{i}", v) for i, v in enumerate(values)], "total", "x")
    ET.fromstring(svg)
    labels = re.findall(r">([-+]?\d+\.\d)%<", svg)
    assert abs(float(labels[-1]) - (base + sum(values)) * 100) <= 0.051


def test_ticket_timeline_draws_one_dot_per_ticket():
    start = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
    end = dt.datetime(2025, 6, 30, tzinfo=dt.UTC)
    tickets = [
        {"priority": "P1", "created_at": start + dt.timedelta(days=2), "resolved_at": None},
        {"priority": "P3", "created_at": start + dt.timedelta(days=9),
         "resolved_at": start + dt.timedelta(days=10)},
    ]  # fmt: skip
    svg = ticket_timeline(tickets, start, end, "tickets")
    ET.fromstring(svg)
    assert svg.count("<circle") == 2 and ">P1<" in svg and ">P3<" in svg


@given(top=st.floats(1e-6, 1e9), whole=st.booleans())
def test_axis_ticks_are_round_and_reach_the_top(top, whole):
    marks = ticks(top, whole=whole)
    steps = {round(b - a, 9) for a, b in zip(marks, marks[1:], strict=False)}
    assert marks[0] == 0 and marks[-1] >= top * (1 - 1e-9) and 2 <= len(marks) <= 9
    assert len({round(s / max(steps), 6) for s in steps}) == 1  # evenly spaced
    if whole:
        assert all(float(s).is_integer() for s in steps)


def test_histogram_draws_one_bar_per_filled_bin_and_skips_missing_values():
    svg = histogram(
        {"a <b>": [0.01, 0.02, 0.51, float("nan")], "c": [0.99]}, [0, 0.5, 1], "h", "risk", "n"
    )
    ET.fromstring(svg)
    assert svg.count('opacity="0.55"/>') == 3 + 2  # 3 bars (a: 2 bins, c: 1) + 2 legend keys
    assert "a &lt;b&gt;" in svg


def test_column_chart_counts_get_whole_number_ticks():
    svg = column_chart(["w1", "w2", "w3"], [1.0, 3.0, 2.0], "weekly")
    ET.fromstring(svg)
    assert svg.count("<title>") == 3
    labels = re.findall(r'class="t">([0-9.,]+)</text>', svg)
    assert labels and all("." not in x for x in labels)


def test_an_unknown_bar_value_draws_no_bar_and_a_dash():
    """No rated ticket after an escalation: the CSAT chart drew a bar labelled 0,00 beside the
    tile's n/a."""
    svg = bar_chart(["after", "all"], [None, 3.05], "CSAT", x_max=5.0, lang="de")
    assert svg.count('fill="#2471a3"') == 1  # one bar: the known value's
    assert ">–<" in svg and ">3,05<" in svg and ">0,00<" not in svg


def test_the_reports_csat_chart_draws_no_bar_for_an_unknown_csat():
    import numpy as np
    import pandas as pd

    from serving.historykpis import HistoryKpis
    from serving.report_html import csat_plot

    none = np.array([])
    h = HistoryKpis(2, 0, 0, 0.0, None, none, none, None, None, pd.Series(dtype=float), None, 2.0)
    svg = csat_plot(h, "de")
    assert ">0,00<" not in svg and ">–<" in svg and ">2,00<" in svg


def test_bar_chart_keeps_to_the_given_axis_end():
    svg = bar_chart(["after", "all"], [1.83, 3.05], "CSAT", x_max=5.0, lines=[("target", 4.0)])
    ET.fromstring(svg)
    ticks_shown = [float(x) for x in re.findall(r'text-anchor="middle" class="t">([0-9.]+)<', svg)]
    assert max(ticks_shown) <= 5 and ">1.83<" in svg and ">target<" in svg


def test_box_chart_axis_follows_the_whiskers_not_the_outliers():
    svg = box_chart([("first response", [1, 2, 3, 4, 5, 1000]), ("none", [])], "t", "hours",
                    marks=[24.0, None])  # fmt: skip
    ET.fromstring(svg)
    ticks_shown = [float(x.replace(",", "")) for x in re.findall(r'class="t">([0-9.,]+)<', svg)]
    assert max(ticks_shown) < 100  # the 1000 h outlier is not drawn and does not set the scale
    assert svg.count('class="box"') == 1 and svg.count('class="threshold"') == 1


def _axis_top(svg: str) -> float:
    """The largest tick label under a horizontal value axis (plain numbers only)."""
    return max(float(v) for v in re.findall(r'text-anchor="middle" class="t">([0-9.]+)<', svg))


def test_first_response_and_resolution_each_get_an_hours_axis_of_their_own(params):
    # on one shared axis, first responses of a few hours were a sliver at 0 beside resolutions
    # of hundreds of hours, and their 24 h benchmark could not be told from them
    import numpy as np
    import pandas as pd

    from serving.historykpis import HistoryKpis
    from serving.report_html import times_plot

    h = HistoryKpis(
        active_accounts=10, escalations=5, accounts_escalated=4, escalation_rate=0.4,
        escalations_per_account=1.25, first_response_hours=np.array([1.0, 2.0, 3.0, 5.0, 8.0]),
        resolution_hours=np.array([100.0, 200.0, 300.0, 500.0, 700.0]),
        first_response_within=1.0, resolution_within=0.0, weekly=pd.Series(dtype=int),
        csat_after=None, csat_all=None,
    )  # fmt: skip
    svgs = re.findall(r"<svg.*?</svg>", times_plot(h, params.daily, "en"), flags=re.S)
    assert len(svgs) == 2
    for svg in svgs:
        ET.fromstring(svg)
    first, resolution = svgs
    assert "first response" in first and "resolution" in resolution
    assert _axis_top(first) <= 30  # up to the 24 h benchmark, not to 700 h
    assert _axis_top(resolution) >= 700


def test_threshold_names_stand_beside_the_plot_not_on_its_lines():
    # "L2" was drawn inside the plot where the lines end: a score near its threshold hid it
    svg = line_chart(DAYS, {"risk": [0.3] * 5}, "t", thresholds=[("L2", 0.3)])
    ET.fromstring(svg)
    plot = re.search(r'<rect x="(\d+)" y="\d+" width="(\d+)"[^>]*class="plot"', svg)
    assert plot
    right_edge = int(plot.group(1)) + int(plot.group(2))
    name = re.search(r'<text x="([0-9.]+)"[^>]*>L2</text>', svg)
    assert name and float(name.group(1)) > right_edge
    assert right_edge + 20 <= 640  # room for the name inside the chart


def test_a_chart_with_thresholds_keeps_its_accessible_name():
    """The account page's score history was named, for screen readers, by the markup of its
    last threshold's label ('<text x="615.0" ...>L1</text>') instead of its title."""
    svg = line_chart(
        DAYS, {"risk": [0.3] * 5}, "Score-Verlauf", thresholds=[("L1", 0.15), ("L2", 0.3)],
        series_thresholds={"risk": [("L3", 0.5)]},
    )  # fmt: skip
    root = ET.fromstring(svg)
    assert root.get("aria-label") == "Score-Verlauf"


def test_a_long_german_reason_fits_beside_the_waterfall():
    """The account page's waterfall cut its names at 48 characters, which ran past the chart's
    left edge in German: Chromium drew "Ticketaufkommen … (log) gegenüber dem eigenen M…" 305 px
    wide in the 294 px before the bars, its first letters cut off."""
    from serving.charts import Step, waterfall

    name = "Ticketaufkommen … (log) gegenüber dem eigenen Mittel der letzten 90 Tage"
    svg = waterfall("Modellmittel", 0.05, [Step(name, 0.02)], "heute", "Gründe", lang="de")
    root = ET.fromstring(svg)
    texts = [
        t for t in root.iter("{http://www.w3.org/2000/svg}text") if t.get("text-anchor") == "end"
    ]
    cut = next(t for t in texts if "".join(t.itertext()).startswith("Ticketaufkommen"))
    shown = "".join(cut.itertext()).removeprefix(name)  # the whole name is its hover title
    assert shown.endswith("…")
    assert len(shown) * 305 / 48 <= float(cut.get("x"))  # as wide as Chromium draws them


def test_an_axis_with_a_set_end_names_its_end():
    # the CSAT chart (1-5, x_max=5) was labelled 0, 2, 4 with its frame running on to an unnamed 5
    svg = bar_chart(["after escalation", "all tickets"], [2.2, 2.8], "CSAT (1–5)", x_max=5.0)
    ET.fromstring(svg)
    labels = re.findall(r'text-anchor="middle" class="t">([0-9.,]+)<', svg)
    assert labels[-1] == "5" and labels[0] == "0"


def test_the_reports_trend_writes_risks_as_the_rest_of_the_report_does():
    # the trend's axis read 0%-20% while the list, the histogram and the CSV write 0.20
    import pandas as pd

    from serving.report_html import trend_plot

    trend = pd.DataFrame({"day": ["2026-06-20", "2026-06-21"], "escalation_median": [0.03, 0.03],
                          "escalation_p90": [0.18, 0.19], "flagged": [50, 52]})  # fmt: skip
    svg = trend_plot(trend, "L1", "en")
    assert not [s for s in re.findall(r">([^<>]+)</text>", svg) if "%" in s]
    assert ">0.2<" in svg and ">0.1<" in svg


def test_a_line_charts_own_axis_ends_at_a_round_value():
    """Without y_max the axis ended at 1.1 x the largest value and named that end too: 182
    active users drew "200" and "200.2" over each other; it ends at the next round value."""
    svg = line_chart(DAYS, {"users": [5, 182, 90, 12, 40]}, "u", y_max=None, percent=False)
    axis = re.findall(r'text-anchor="end" class="t">([\d.,]+)</text>', svg)
    assert axis == ["0", "100", "200", "300"], axis


def _day_labels(svg: str) -> list[tuple[float, str]]:
    return [
        (float(x), s)
        for x, s in re.findall(
            r'<text x="([\d.]+)" y="[\d.]+" text-anchor="\w+" class="t">(\d\d-\d\d)</text>', svg
        )
    ]


def test_a_line_chart_places_each_day_where_its_date_falls():
    """Score history over runs with a gap (no run for two weeks): the days stood evenly spaced,
    so a rise over the fortnight looked like one overnight, and the axis did not say so."""
    days = [dt.date(2026, 6, 1), dt.date(2026, 6, 2), dt.date(2026, 6, 3), dt.date(2026, 6, 21)]
    svg = line_chart(days, {"risk": [0.1, 0.1, 0.1, 0.6]}, "x")
    xs = [float(x) for x in re.findall(r'<circle cx="([\d.]+)"', svg)]
    left, right = xs[0], xs[-1]
    assert xs[1] - left == pytest.approx((right - left) / 20, abs=0.2)  # a day of twenty
    assert xs[2] - left == pytest.approx((right - left) / 10, abs=0.2)
    labels = _day_labels(svg)
    assert labels[0][1] == "06-01" and labels[-1][1] == "06-21"
    assert all(b[0] - a[0] >= 60 for a, b in zip(labels, labels[1:], strict=False)), (
        labels
    )  # none overlap
    # the report's trend keeps one step per run (a bar per run stands beneath it)
    even = [
        float(x)
        for x in re.findall(
            r'<circle cx="([\d.]+)"', line_chart(days, {"r": [0.1] * 4}, "x", by_date=False)
        )
    ]
    assert even[1] - even[0] == pytest.approx(even[3] - even[2], abs=0.2)
