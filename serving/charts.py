"""Inline SVG charts of the CSM page (score history, reasons waterfall, ticket and usage
timelines) and of the daily report (histogram, bars, box plots).

Pure functions from plain values to an SVG string (every text escaped, numbers rounded), so a page
or report needs no script, font or external file, opens offline, and the same data draws the same
bytes. Text stays text: it follows the page's font and language and can be searched and copied.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html import escape

import numpy as np
from numpy.typing import ArrayLike

from serving.daily_text import day_text, figure

COLORS = ("#c0392b", "#2471a3", "#7d3c98", "#1e8449", "#b9770e")
# the widest a label's character is taken to be at the charts' 11 px (DejaVu Sans, as Debian's
# Chromium draws it, averages 6.4 px on German reasons)
LABEL_CHAR_PX = 6.5
# the least distance between two day labels of a line chart: "28.06." is 36 px at 11 px, and the
# last label ends at its day (it reaches left by its whole width)
DAY_LABEL_GAP = 60
PRIORITY_COLORS = {"P1": "#c0392b", "P2": "#e67e22", "P3": "#2471a3", "P4": "#7f8c8d"}
# the classes the charts use; pages that show charts include this in their style sheet
CSS = """svg.chart{max-width:100%;height:auto;font-size:11px}
svg .plot{fill:#fbfcfc;stroke:#d5dbdb}svg .grid{stroke:#eaeded}
svg .threshold{stroke:#7f8c8d;stroke-dasharray:4 3}svg .t{fill:#2c3e50}
svg .small{font-size:10px;fill:#5f6a6a}svg .bar.base,svg .bar.total{fill:#5d6d7e}
svg .bar.up{fill:#cb4335}svg .bar.down{fill:#28b463}svg .box{fill:#d6eaf8;stroke:#2471a3}
svg .whisker{stroke:#2471a3}svg .median{stroke:#1b4f72;stroke-width:2}"""


def _svg(width: int, height: int, body: list[str], label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{escape(label)}" class="chart">'
        + "".join(body)
        + "</svg>"
    )


def _text(
    x: float, y: float, s: str, anchor: str = "start", cls: str = "t", title: str | None = None
) -> str:
    """A label; `title` (e.g. the whole of a label cut short) shows when the pointer rests on it."""
    tip = f"<title>{escape(title)}</title>" if title else ""
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" class="{cls}">{tip}{escape(s)}</text>'


def line_chart(
    days: Sequence[dt.date],
    series: Mapping[str, Sequence[float | None]],
    label: str,
    y_max: float | None = 1.0,
    thresholds: Sequence[tuple[str, float]] = (),
    percent: bool = True,
    lang: str = "en",
    width: int = 640,
    height: int = 220,
    series_thresholds: Mapping[str, Sequence[tuple[str, float]]] | None = None,
    by_date: bool = True,
) -> str:
    """One polyline per series over the days (gaps where a value is missing), with dashed
    horizontal threshold lines named in the right margin (inside the plot a name sat where the
    lines end, under a score at its threshold) and a legend. `thresholds` hold for every series
    (grey); `series_thresholds` for one series only, drawn and named in its colour (a churn line
    read against escalation thresholds when the two differed). A day stands where its date
    falls (days placed evenly squeezed a week without a run into one step, so a rise over that
    week looked overnight); `by_date=False` places them evenly, one step per run (the report's
    trend, above a bar per run)."""
    own = {name: list(ts) for name, ts in (series_thresholds or {}).items() if name in series}
    left, right, top, bottom = 44, 28 if thresholds or any(own.values()) else 12, 12, 40
    pw, ph = width - left - right, height - top - bottom
    values = [v for vs in series.values() for v in vs if v is not None]
    # without y_max the axis ends at a round value: at 1.1 x the largest (200.4 for 182 users)
    # the end was named beside 200, the two labels over each other
    whole = not percent and all(float(v).is_integer() for v in values)
    top_value = y_max if y_max is not None else ticks(max([*values, 1.0]) * 1.1, whole=whole)[-1]
    n = len(days)

    spread = days[-1] - days[0] if n > 1 else None

    def x(i: int) -> float:
        if n < 2:
            return left + pw / 2
        if by_date and spread:
            return left + pw * ((days[i] - days[0]) / spread)
        return left + pw * i / (n - 1)

    body = [f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" class="plot"/>']
    y = _value_axis(body, values, (left, top, pw, ph), True, percent, top_value, lang)
    colors = {name: COLORS[k % len(COLORS)] for k, name in enumerate(series)}
    drawn = [(name, value, "", "") for name, value in thresholds] + [
        (name, value, colors[of], of) for of, ts in own.items() for name, value in ts
    ]
    label_at = -math.inf  # the last name's baseline: names of close thresholds stack down
    for name, value, color, of in sorted(drawn, key=lambda d: -d[1]):
        if not 0 <= value <= top_value:
            continue
        stroke = f' style="stroke:{color}"' if color else ""
        body.append(
            f'<line x1="{left}" x2="{left + pw}" y1="{y(value):.1f}" y2="{y(value):.1f}" class="threshold"{stroke}/>'
        )
        label_at = max(y(value) + 3, label_at + 10)
        tip = f"{of} ≥ {_number(value, percent, lang)}" if of else None
        named = _text(left + pw + 3, label_at, name, "start", "t small", title=tip)
        body.append(named.replace("<text ", f'<text style="fill:{color}" ', 1) if color else named)
    if n:  # the ends, then a day at each sixth of the axis that keeps clear of those named
        span_days = spread.days if by_date and spread else 0
        if span_days:  # calendar days: a stretch without a run is seen on the axis too
            steps = sorted({round(span_days * k / 6) for k in range(7)})
            marks = [(left + pw * m / span_days, days[0] + dt.timedelta(days=m)) for m in steps]
        else:
            marks = [(x(round((n - 1) * k / 6)), days[round((n - 1) * k / 6)]) for k in range(7)]
        dated = [marks[0]] if n == 1 else [marks[0], marks[-1]]
        for at, day in marks[1:-1]:
            if all(abs(at - a) >= DAY_LABEL_GAP for a, _ in dated):
                dated.append((at, day))
        for at, day in sorted(dated, key=lambda m: m[0]):
            anchor = "end" if n > 1 and at >= left + pw - 0.5 else "middle"
            body.append(_text(at, top + ph + 14, day_text(day, lang, short=True), anchor))
    for k, (name, vs) in enumerate(series.items()):
        color = colors[name]
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
    lang: str = "en",
    width: int = 640,
    change: Callable[[float], str] | None = None,
) -> str:
    """Horizontal waterfall on the probability scale: the model average, one bar per contribution
    (red raises, green lowers risk), then the resulting risk. `change` writes a contribution
    (e.g. in percentage points, "+12.1 pp", where "+12.1 %" beside a base of 5.1 % read as a
    relative rise); by default as a signed per cent."""
    row, left, right, top = 24, 300, 60, 8
    # 48 characters ran past the left edge: "Ticketaufkommen … (log) gegenüber dem eigenen M…"
    # measures 305 px in Chromium's 11 px sans-serif (6.4 px a character), its "Ti" cut off
    fits = int((left - 16) / LABEL_CHAR_PX)
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
        short = name if len(name) <= fits else name[: fits - 1] + "…"
        body.append(_text(left - 6, yy + 15, short, "end", title=name if short != name else None))
        body.append(
            f'<rect x="{x0:.1f}" y="{yy + 3}" width="{max(x1 - x0, 1):.1f}" height="{row - 8}" class="bar {kind}"/>'
        )
        if kind in ("base", "total"):
            shown = figure(b, ".1%", lang)
        else:
            shown = change(b - a) if change else figure(b - a, "+.1%", lang)
        body.append(_text(x1 + 4, yy + 15, shown))
    return _svg(width, height, body, label)


def ticket_timeline(
    tickets: Sequence[Mapping[str, object]],
    start: dt.datetime,
    end: dt.datetime,
    label: str,
    lang: str = "en",
    width: int = 640,
) -> str:
    """One lane per priority; a dot where a ticket was opened and a bar until it was resolved
    (to the right edge while open). A ticket's `tip`, when given, shows on pointing at its dot."""
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
        tip = f"<title>{escape(str(t['tip']))}</title>" if t.get("tip") else ""
        body.append(f'<circle cx="{x(opened):.1f}" cy="{yy}" r="3.5" fill="{color}">{tip}</circle>')
    for i in range(5):
        when = start + (end - start) * i / 4
        anchor = "start" if i == 0 else "end" if i == 4 else "middle"
        body.append(_text(x(when), height - 6, day_text(when, lang, short=True), anchor))
    return _svg(width, height, body, label)


def ticks(top: float, n: int = 4, whole: bool = False) -> list[float]:
    """Round axis values from 0 up to at least `top` (steps of 1, 2, 2.5 or 5 times a power of
    10; `whole`: whole-number steps only, for counts)."""
    top = top if np.isfinite(top) and top > 0 else 1.0
    raw = top / n
    power = float(10.0 ** np.floor(np.log10(raw)))
    if whole:
        power = max(power, 1.0)
    steps = [m * power for m in (1, 2, 2.5, 5, 10) if not whole or (m * power).is_integer()]
    step = next((x for x in steps if x >= raw * (1 - 1e-9)), 10 * power)
    return [round(i * step, 12) for i in range(int(np.ceil(top / step - 1e-9)) + 1)]


def _number(v: float, percent: bool, lang: str = "en") -> str:
    """A value as `lang` writes it (German: 2,5 %, 1.200)."""
    if percent:
        return figure(v, ".0%" if round(v * 100, 6) == round(v * 100) else ".1%", lang)
    return figure(v, ",.0f" if float(v).is_integer() else ",.4g", lang)


def _value_axis(
    body: list[str],
    values: Sequence[float],
    box: tuple[float, float, float, float],
    vertical: bool,
    percent: bool,
    top: float | None = None,
    lang: str = "en",
) -> Callable[[float], float]:
    """Grid lines and labels of a value axis starting at 0 inside box (left, top, width, height),
    up to `top` or a round value above the largest value; returns the map from a value to its
    coordinate. Whole-number values get whole-number steps."""
    left, up, w, h = box
    whole = not percent and all(float(v).is_integer() for v in values)
    if top is None:
        marks = ticks(max([0.0, *values]), whole=whole)
        hi = marks[-1]
    else:
        hi = top if np.isfinite(top) and top > 0 else 1.0
        marks = [m for m in ticks(hi, whole=whole) if m <= hi * (1 + 1e-9)]
        if marks[-1] < hi * (1 - 1e-9):  # the axis's end is named too: CSAT's 0-5 read 0, 2, 4
            marks.append(hi)

    def at(v: float) -> float:
        share = min(max(v / hi, 0.0), 1.0)
        return up + h * (1 - share) if vertical else left + w * share

    for m in marks:
        c = at(m)
        if vertical:
            body.append(
                f'<line x1="{left}" x2="{left + w}" y1="{c:.1f}" y2="{c:.1f}" class="grid"/>'
            )
            body.append(_text(left - 4, c + 4, _number(m, percent, lang), "end"))
        else:
            body.append(f'<line x1="{c:.1f}" x2="{c:.1f}" y1="{up}" y2="{up + h}" class="grid"/>')
            body.append(_text(c, up + h + 14, _number(m, percent, lang), "middle"))
    return at


def histogram(
    series: Mapping[str, ArrayLike],
    edges: ArrayLike,
    label: str,
    x_label: str,
    y_label: str,
    colors: Sequence[str] = COLORS,
    lang: str = "en",
    width: int = 640,
    height: int = 260,
) -> str:
    """Counts of each series' values per bin, the series overlaid (translucent), with a legend.
    Values outside the edges or not finite are not counted."""
    left, right, top, bottom = 56, 12, 24, 40
    pw, ph = width - left - right, height - top - bottom
    bins = np.asarray(edges, dtype=float)
    counts = {
        name: np.histogram(np.asarray(v, dtype=float)[np.isfinite(v)], bins=bins)[0]
        for name, v in series.items()
    }
    body = [f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" class="plot"/>']
    y = _value_axis(
        body,
        [float(c.max()) for c in counts.values() if len(c)],
        (left, top, pw, ph),
        True,
        False,
        lang=lang,
    )
    lo, hi = float(bins[0]), float(bins[-1])

    def x(v: float) -> float:
        return left + pw * (v - lo) / ((hi - lo) or 1.0)

    for k, (name, c) in enumerate(counts.items()):
        color = colors[k % len(colors)]
        for a, b, n in zip(bins[:-1], bins[1:], c, strict=True):
            if n:
                body.append(
                    f'<rect x="{x(a) + 0.5:.1f}" y="{y(n):.1f}" width="{max(x(b) - x(a) - 1, 1):.1f}" '
                    f'height="{top + ph - y(n):.1f}" fill="{color}" opacity="0.55"/>'
                )
        body.append(
            f'<rect x="{left + 8 + 150 * k}" y="6" width="10" height="10" fill="{color}" opacity="0.55"/>'
        )
        body.append(_text(left + 22 + 150 * k, 15, name))
    for v in ticks(hi - lo, 5):
        body.append(_text(x(lo + v), top + ph + 14, figure(lo + v, "g", lang), "middle"))
    body.append(_text(left + pw / 2, height - 4, x_label, "middle"))
    body.append(_text(4, top - 10, y_label))
    return _svg(width, height, body, label)


def column_chart(
    labels: Sequence[str],
    values: Sequence[float],
    label: str,
    color: str = "#7d3c98",
    percent: bool = False,
    lang: str = "en",
    width: int = 640,
    height: int = 220,
) -> str:
    """One vertical bar per label (e.g. per week or per run), labels thinned to fit."""
    left, right, top, bottom = 56, 12, 12, 44
    pw, ph = width - left - right, height - top - bottom
    body = [f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" class="plot"/>']
    y = _value_axis(body, [float(v) for v in values], (left, top, pw, ph), True, percent, lang=lang)
    n = len(values)
    slot = pw / max(n, 1)
    every = max(1, int(np.ceil(n * 44 / pw)))  # a label needs about 44 px
    for i, (name, v) in enumerate(zip(labels, values, strict=True)):
        x0 = left + i * slot
        body.append(
            f'<rect x="{x0 + slot * 0.1:.1f}" y="{y(v):.1f}" width="{slot * 0.8:.1f}" '
            f'height="{top + ph - y(v):.1f}" fill="{color}" opacity="0.8"><title>{escape(name)}: '
            f"{escape(_number(v, percent, lang))}</title></rect>"
        )
        if i % every == 0:
            body.append(_text(x0 + slot / 2, top + ph + 14, name, "middle"))
    return _svg(width, height, body, label)


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float | None],
    label: str,
    colors: Sequence[str] | str = "#2471a3",
    x_max: float | None = None,
    lines: Sequence[tuple[str, float]] = (),
    bands: Sequence[tuple[float, float, str]] = (),
    percent: bool = False,
    value_format: str = ".2f",
    lang: str = "en",
    width: int = 640,
    tips: Sequence[str | None] = (),
    label_room: int = 220,
) -> str:
    """One horizontal bar per label with its value at the end; dashed reference lines (named)
    and shaded value bands (from, to, colour) behind the bars. A value of None (unknown) has no
    bar and a dash: a bar at 0 told a CSAT of 0.00 that no ticket had. A label cut to fit shows
    whole on hover, with its `tips` entry (e.g. the column name) when given; `label_room` (px)
    is the labels' margin, about 6 px a character."""
    row, left, right, top = 20, label_room, 60, 8
    fits = (label_room - 16) // 6
    height = top + row * max(len(labels), 1) + 30
    pw, ph = width - left - right, row * max(len(labels), 1)
    body = [f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" class="plot"/>']
    refs = [v for _, v in lines] + [b for _, b, _ in bands]
    x = _value_axis(
        body, [*(float(v) for v in values if v is not None), *refs], (left, top, pw, ph), False,
        percent, x_max, lang,
    )  # fmt: skip
    for a, b, color in bands:
        body.append(
            f'<rect x="{x(a):.1f}" y="{top}" width="{max(x(b) - x(a), 0):.1f}" height="{ph}" '
            f'fill="{color}" opacity="0.1"/>'
        )
    palette = [colors] * len(values) if isinstance(colors, str) else list(colors)
    for i, (name, v) in enumerate(zip(labels, values, strict=True)):
        yy = top + i * row
        short = name if len(name) <= fits else name[: fits - 1] + "…"
        tip = tips[i] if i < len(tips) else None
        whole = " · ".join(s for s in (name if short != name else None, tip) if s)
        body.append(_text(left - 6, yy + 14, short, "end", title=whole or None))
        if v is None:
            body.append(_text(left + 4, yy + 14, figure(v, value_format, lang), "start", "t small"))
            continue
        body.append(
            f'<rect x="{left}" y="{yy + 3}" width="{max(x(v) - left, 0):.1f}" height="{row - 6}" '
            f'fill="{palette[i % len(palette)]}"/>'
        )
        body.append(_text(x(v) + 4, yy + 14, figure(v, value_format, lang), "start", "t small"))
    for name, v in lines:
        body.append(
            f'<line x1="{x(v):.1f}" x2="{x(v):.1f}" y1="{top}" y2="{top + ph}" class="threshold"/>'
        )
        body.append(_text(x(v) + 2, top + ph + 26, name, "start", "t small"))
    return _svg(width, height, body, label)


def box_chart(
    rows: Sequence[tuple[str, ArrayLike]],
    label: str,
    x_label: str,
    marks: Sequence[float | None] = (),
    lang: str = "en",
    width: int = 640,
) -> str:
    """One horizontal box plot per row (quartiles, median, whiskers to the furthest values
    within 1.5 interquartile ranges), with an optional dashed mark per row (e.g. its target)."""
    row, left, right, top = 34, 140, 20, 8
    height = top + row * max(len(rows), 1) + 34
    pw, ph = width - left - right, row * max(len(rows), 1)
    stats = [_box(np.asarray(v, dtype=float)) for _, v in rows]
    extent = [b[-1] for b in stats if b] + [m for m in marks if m is not None]
    body = [f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" class="plot"/>']
    x = _value_axis(body, extent, (left, top, pw, ph), False, False, lang=lang)
    for i, ((name, _), box) in enumerate(zip(rows, stats, strict=True)):
        mid = top + i * row + row / 2
        body.append(_text(left - 6, mid + 4, name, "end"))
        if box:
            lo, q1, med, q3, hi = box
            body += [
                f'<line x1="{x(lo):.1f}" x2="{x(q1):.1f}" y1="{mid:.1f}" y2="{mid:.1f}" class="whisker"/>',
                f'<line x1="{x(q3):.1f}" x2="{x(hi):.1f}" y1="{mid:.1f}" y2="{mid:.1f}" class="whisker"/>',
                f'<rect x="{x(q1):.1f}" y="{mid - 9:.1f}" width="{max(x(q3) - x(q1), 1):.1f}" height="18" class="box"/>',
                f'<line x1="{x(med):.1f}" x2="{x(med):.1f}" y1="{mid - 9:.1f}" y2="{mid + 9:.1f}" class="median"/>',
            ]
        mark = marks[i] if i < len(marks) else None
        if mark is not None:
            body.append(
                f'<line x1="{x(mark):.1f}" x2="{x(mark):.1f}" y1="{mid - 14:.1f}" y2="{mid + 14:.1f}" class="threshold"/>'
            )
    body.append(_text(left + pw / 2, height - 4, x_label, "middle"))
    return _svg(width, height, body, label)


def _box(v: np.ndarray) -> tuple[float, float, float, float, float] | None:
    """Lower whisker, quartiles and upper whisker of the finite values (None if there are none);
    values beyond the whiskers are not drawn, and the axis need not reach them."""
    v = v[np.isfinite(v)]
    if not len(v):
        return None
    q1, med, q3 = (float(q) for q in np.percentile(v, [25, 50, 75]))
    reach = 1.5 * (q3 - q1)
    return float(v[v >= q1 - reach].min()), q1, med, q3, float(v[v <= q3 + reach].max())
