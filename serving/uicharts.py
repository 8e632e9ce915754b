"""Inline SVG charts of the CSM page: score history, reasons waterfall, ticket and usage timelines.

Pure functions from plain values to an SVG string (every text escaped), so the page needs no
script and no external file and works offline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

COLORS = ("#c0392b", "#2471a3", "#7d3c98", "#1e8449", "#b9770e")
PRIORITY_COLORS = {"P1": "#c0392b", "P2": "#e67e22", "P3": "#2471a3", "P4": "#7f8c8d"}


def _svg(width: int, height: int, body: list[str], label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{escape(label)}" class="chart">'
        + "".join(body)
        + "</svg>"
    )


def _text(x: float, y: float, s: str, anchor: str = "start", cls: str = "t") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" class="{cls}">{escape(s)}</text>'


def line_chart(
    days: Sequence[dt.date],
    series: Mapping[str, Sequence[float | None]],
    label: str,
    y_max: float | None = 1.0,
    thresholds: Sequence[tuple[str, float]] = (),
    percent: bool = True,
    width: int = 640,
    height: int = 220,
) -> str:
    """One polyline per series over the days (gaps where a value is missing), with dashed
    horizontal threshold lines and a legend."""
    left, right, top, bottom = 44, 12, 12, 40
    pw, ph = width - left - right, height - top - bottom
    values = [v for vs in series.values() for v in vs if v is not None]
    top_value: float = y_max if y_max is not None else max([*values, 1.0]) * 1.1
    n = len(days)

    def x(i: int) -> float:
        return left + (pw * i / (n - 1) if n > 1 else pw / 2)

    def y(v: float) -> float:
        return top + ph * (1 - min(max(v / top_value, 0.0), 1.0))

    body = [f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" class="plot"/>']
    for k in range(5):
        level = top_value * k / 4
        tick = f"{level:.0%}" if percent else f"{level:,.0f}"
        body.append(
            f'<line x1="{left}" x2="{left + pw}" y1="{y(level):.1f}" y2="{y(level):.1f}" class="grid"/>'
        )
        body.append(_text(left - 4, y(level) + 4, tick, "end"))
    for name, value in thresholds:
        if 0 <= value <= top_value:
            body.append(
                f'<line x1="{left}" x2="{left + pw}" y1="{y(value):.1f}" y2="{y(value):.1f}" class="threshold"/>'
            )
            body.append(_text(left + pw - 2, y(value) - 3, name, "end", "t small"))
    if n:
        for i in sorted({0, n - 1, *range(0, n, max(1, n // 6))}):
            if 0 < n - 1 - i < max(1, n // 12):
                continue  # too close to the last label
            anchor = "end" if i == n - 1 and n > 1 else "middle"
            body.append(_text(x(i), top + ph + 14, days[i].strftime("%m-%d"), anchor))
    for k, (name, vs) in enumerate(series.items()):
        color = COLORS[k % len(COLORS)]
        runs: list[list[str]] = [[]]
        for j, v in enumerate(vs):
            if v is None:
                runs.append([])
            else:
                runs[-1].append(f"{x(j):.1f},{y(v):.1f}")
        for run in runs:
            if len(run) > 1:
                body.append(
                    f'<polyline points="{" ".join(run)}" fill="none" stroke="{color}" stroke-width="2"/>'
                )
            for point in run:
                cx, cy = point.split(",")
                body.append(f'<circle cx="{cx}" cy="{cy}" r="2.5" fill="{color}"/>')
        lx = left + 150 * k
        body.append(f'<rect x="{lx}" y="{height - 14}" width="10" height="10" fill="{color}"/>')
        body.append(_text(lx + 14, height - 5, name))
    return _svg(width, height, body, label)


@dataclass(frozen=True)
class Step:
    label: str
    value: float


def waterfall(
    base_label: str,
    base: float,
    steps: Sequence[Step],
    total_label: str,
    label: str,
    width: int = 640,
) -> str:
    """Horizontal waterfall on the probability scale: the base rate, one bar per contribution
    (red raises, green lowers risk), then the resulting risk."""
    row, left, right, top = 24, 300, 60, 8
    height = top + row * (len(steps) + 2) + 8
    pw = width - left - right
    level = base
    spans = [(base_label, 0.0, base, "base")]
    for s in steps:
        spans.append((s.label, level, level + s.value, "up" if s.value >= 0 else "down"))
        level += s.value
    spans.append((total_label, 0.0, level, "total"))
    hi = max(1e-9, max(max(a, b) for _, a, b, _ in spans))
    lo = min(0.0, min(min(a, b) for _, a, b, _ in spans))

    def x(v: float) -> float:
        return left + pw * (v - lo) / (hi - lo)

    body: list[str] = []
    for i, (name, a, b, kind) in enumerate(spans):
        yy = top + i * row
        x0, x1 = sorted((x(a), x(b)))
        short = name if len(name) <= 48 else name[:47] + "…"
        body.append(_text(left - 6, yy + 15, short, "end"))
        body.append(
            f'<rect x="{x0:.1f}" y="{yy + 3}" width="{max(x1 - x0, 1):.1f}" height="{row - 8}" class="bar {kind}"/>'
        )
        shown = f"{b:.1%}" if kind in ("base", "total") else f"{b - a:+.1%}"
        body.append(_text(x1 + 4, yy + 15, shown))
    return _svg(width, height, body, label)


def ticket_timeline(
    tickets: Sequence[Mapping[str, object]],
    start: dt.datetime,
    end: dt.datetime,
    label: str,
    width: int = 640,
) -> str:
    """One lane per priority; a dot where a ticket was opened and a bar until it was resolved
    (to the right edge while open)."""
    priorities = sorted({str(t["priority"]) for t in tickets}) or ["P1"]
    lane, left, right, top = 22, 44, 12, 8
    height = top + lane * len(priorities) + 24
    pw = width - left - right
    span = max((end - start).total_seconds(), 1.0)

    def x(when: dt.datetime) -> float:
        return left + pw * min(max((when - start).total_seconds() / span, 0.0), 1.0)

    body = [
        f'<rect x="{left}" y="{top}" width="{pw}" height="{lane * len(priorities)}" class="plot"/>'
    ]
    for k, p in enumerate(priorities):
        body.append(_text(left - 4, top + k * lane + 15, p, "end"))
    for t in tickets:
        k = priorities.index(str(t["priority"]))
        yy = top + k * lane + 11
        opened = t["created_at"]
        closed = t.get("resolved_at") or end
        color = PRIORITY_COLORS.get(str(t["priority"]), "#555")
        assert isinstance(opened, dt.datetime) and isinstance(closed, dt.datetime)
        body.append(
            f'<line x1="{x(opened):.1f}" x2="{max(x(closed), x(opened) + 1):.1f}" y1="{yy}" y2="{yy}" '
            f'stroke="{color}" stroke-width="4" opacity="0.45"/>'
        )
        body.append(f'<circle cx="{x(opened):.1f}" cy="{yy}" r="3.5" fill="{color}"/>')
    for i in range(5):
        when = start + (end - start) * i / 4
        anchor = "start" if i == 0 else "end" if i == 4 else "middle"
        body.append(_text(x(when), height - 6, when.strftime("%m-%d"), anchor))
    return _svg(width, height, body, label)
