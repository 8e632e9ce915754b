"""Inline SVG charts of the CSM page (`serving.uicharts`)."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

from hypothesis import given
from hypothesis import strategies as st

from serving.uicharts import Step, line_chart, ticket_timeline, waterfall

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
