"""The daily HTML report: one self-contained file (inline CSS, inline SVG plots, no scripts, fonts
or links to anything outside it), so it opens offline and can be mailed as is.

Pure: report data in, an HTML string out (charts from `serving.charts`).
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from serving import charts
from serving.daily_text import day_text, figure, flagged_level, t
from serving.drift import DriftReport
from serving.historykpis import HistoryKpis
from serving.kpis import LadderKpis
from serving.ladder_text import level_classes, zone_time
from serving.params import DailyParams

CSS = (
    """
body{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:2rem auto;max-width:1100px;color:#1d2733;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;border-bottom:1px solid #d7dde4;padding-bottom:.3rem;margin-top:2rem}
.meta{color:#5b6773;font-size:.9rem}.caption{color:#5b6773;font-size:.85rem;margin:.2rem 0 1rem}
.tiles{display:flex;flex-wrap:wrap;gap:.6rem}.tile{border:1px solid #d7dde4;border-radius:6px;padding:.5rem .8rem;min-width:10rem}
.tile b{display:block;font-size:1.3rem}.tile span{font-size:.8rem;color:#5b6773}
.wide{overflow-x:auto}.wide table.list{min-width:960px}
table{border-collapse:collapse;width:100%;font-size:.85rem}th,td{border-bottom:1px solid #e4e8ed;padding:.3rem .4rem;text-align:left;vertical-align:top}
th{background:#f3f5f8}td.num{text-align:right;font-variant-numeric:tabular-nums}
.warn{background:#fff4e5;border:1px solid #f0a040;border-radius:6px;padding:.6rem .8rem;margin:.6rem 0}
.ok{background:#eef8f0;border:1px solid #6dbb7d;border-radius:6px;padding:.6rem .8rem;margin:.6rem 0}
.plots{display:flex;flex-wrap:wrap;gap:1rem}figure{max-width:760px}.plots figure{margin:0;flex:1 1 640px}svg{max-width:100%;height:auto}
.lv0{color:#5b6773}.lv1{color:#956000}.lv2{color:#c0392b}.lv3{color:#7b1fa2;font-weight:bold}
.overdue{color:#b03a2e;font-size:.8rem}.handled{color:#1e7b34;font-size:.8rem}
"""
    + charts.CSS
)  # a figure of .plots is never narrower than its chart's 640 units: at 480 px two side by
# side shrank the charts' 11 px text to 8 px; they now stand one under the other instead

# the browser's own guard should an escape ever be missed: the report runs no script and loads
# nothing (a name written as <img src=https://...> would tell a tracker who opened it)
POLICY = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

COLORS = {
    "escalation_risk": "#c0392b",
    "churn_risk": "#2e6fbe",
    "stable": "#6dbb7d",
    "moderate": "#f0a040",
    "major": "#c0392b",
    "noise": "#a0a0a0",
}


@dataclass(frozen=True)
class ReportData:
    day: dt.date
    evaluated_at: dt.datetime  # UTC
    model_version: str
    language: str
    levels: list[str]
    today: pd.DataFrame  # escalation_risk, churn_risk, level of every scored account
    trend: pd.DataFrame  # DailyStore.trend: per run day its median, p90 and flagged
    top: pd.DataFrame  # the head of the ranked list (CSV columns)
    history: HistoryKpis
    ladder: LadderKpis
    drift: DriftReport | None
    params: DailyParams
    labels: Mapping[str, str] = field(default_factory=dict)  # feature -> what it means, in language
    # the ladder's business time zone: due times as the e-mails and the CSM page tell them
    time_zone: str = "UTC"
    # the open flags below `top` that are overdue or at the highest level (`needs_attention`)
    pinned: pd.DataFrame | None = None


def _drift_name(name: str, labels: Mapping[str, str]) -> str:
    """A drift row's input as a manager reads it (what the feature means), with its column name
    for the data scientist: "usage_seat_utilisation" alone told a CSM lead nothing."""
    label = labels.get(name)
    if not label:
        return html.escape(name)
    return f"{html.escape(label)}<br><small>{html.escape(name)}</small>"


def score_labels(drift: DriftReport | None, lang: str) -> dict[str, str]:
    """The drift table's scores as a manager reads them ("escalation_30d" -> "escalation risk"):
    they stood there by their keys alone, in the German report too, beside features told by what
    they mean."""
    if drift is None:
        return {}
    names = drift.table.loc[drift.table["kind"] == "score", "name"].astype(str)
    heads = {n: f"{n.split('_')[0]}_risk" for n in names}
    return {n: t(h, lang) for n, h in heads.items() if h in ("escalation_risk", "churn_risk")}


def _drifted(names: tuple[str, ...], labels: Mapping[str, str]) -> str:
    """The inputs that call for retraining, as the table names them (what the feature means,
    then its column): the advice said "usage_seat_utilisation, days_to_renewal" to a manager."""
    return ", ".join(f"{labels[n]} ({n})" if labels.get(n) else n for n in names)


def retrain_advice(drift: DriftReport | None, labels: Mapping[str, str], lang: str) -> str | None:
    """ "Retrain advised: major drift in ..." with the inputs named as the report's table names
    them (`labels`: feature -> what it means, in `lang`), or None when no retraining is advised:
    the terminal said it with the bare column names the report had stopped using."""
    if drift is None or not drift.retrain:
        return None
    return t("retrain", lang, what=_drifted(drift.why, {**score_labels(drift, lang), **labels}))


def needs_attention(ranked: pd.DataFrame, top_level: int, at: dt.datetime) -> pd.DataFrame:
    """The rows of a ranked list (`level_index`, `due_at`, `handled`) whose flag nobody has
    acknowledged or resolved and that is past its due time at `at` or at the highest level
    (`top_level`): the report's top rows by priority left out an overdue executive escalation of
    a small account ranked lower, and the manager reading it never saw it."""
    due = pd.to_datetime(ranked["due_at"], utc=True)
    open_flag = (ranked["level_index"] >= 1) & (ranked["handled"].fillna("") == "")
    late = due.notna() & (due <= pd.Timestamp(at))
    return ranked[open_flag & (late | (ranked["level_index"] >= top_level))]


def distribution_plot(today: pd.DataFrame, lang: str) -> str:
    cols = ("escalation_risk", "churn_risk")
    return charts.histogram(
        {t(c, lang): today[c].to_numpy(dtype=float) for c in cols},
        np.linspace(0, 1, 21),
        t("sec_distribution", lang),
        t("risk", lang),
        t("accounts", lang),
        colors=[COLORS[c] for c in cols],
        lang=lang,
    )


def trend_plot(trend: pd.DataFrame, level_name: str, lang: str) -> str:
    """Median and 90th percentile of the escalation risk per run, and the accounts at a flagged
    level per run (`DailyStore.trend`'s rows)."""
    days = [pd.Timestamp(d).date() for d in trend["day"]]
    median = trend["escalation_median"].to_numpy(dtype=float)
    p90 = trend["escalation_p90"].to_numpy(dtype=float)
    lines = charts.line_chart(
        days,
        {t("median", lang): median.tolist(), t("p90", lang): p90.tolist()},
        t("escalation_risk", lang),
        y_max=charts.ticks(float(np.nanmax(p90)) if len(p90) else 1.0)[-1],
        percent=False,  # as the list, the histogram and the CSV write a risk: 0.20, not 20%
        lang=lang,
        by_date=False,  # one step per run, over the bar of the same run beneath
    )
    bars = charts.column_chart(
        [day_text(d, lang, short=True) for d in days],
        trend["flagged"].to_numpy(dtype=float).tolist(),
        f"{t('accounts', lang)} ≥ {level_name}",
        color="#555",
        height=160,
        lang=lang,
    )
    return lines + bars


def times_plot(h: HistoryKpis, p: DailyParams, lang: str) -> str:
    """One box plot per measure, each on its own hours axis: on one shared axis the first
    responses (a few hours) were a sliver at 0 beside resolutions of hundreds of hours, and the
    24 h benchmark could not be told from them."""
    rows = [
        (t("first_response", lang), h.first_response_hours, p.benchmark_hours.first_response),
        (t("resolution", lang), h.resolution_hours, p.benchmark_hours.resolution),
    ]
    return "".join(
        charts.box_chart(
            [(name, hours)],
            f"{name}: {t('hours', lang)}",
            t("hours", lang),
            marks=[mark],
            lang=lang,
        )
        for name, hours, mark in rows
    )


def weekly_caption(h: HistoryKpis, days: int, lang: str) -> str:
    """Says the bars cover whole weeks only (84 of 90 days): their sum is not the tiles' count."""
    return t("weekly_caption", lang, n=len(h.weekly), days=days)


def weekly_plot(h: HistoryKpis, days: int, lang: str) -> str:
    return charts.column_chart(
        [day_text(d, lang, short=True) for d in h.weekly.index],
        h.weekly.to_numpy(dtype=float).tolist(),
        weekly_caption(h, days, lang),
        lang=lang,
    )


def csat_plot(h: HistoryKpis, lang: str) -> str:
    return charts.bar_chart(
        [t("after_escalation", lang), t("all_tickets", lang)],
        [h.csat_after, h.csat_all],  # None (no rated ticket): no bar, as the tiles say n/a
        "CSAT (1–5)",
        colors=["#c0392b", "#2e6fbe"],
        x_max=5.0,
        lang=lang,
    )


def drift_plot(
    d: DriftReport, p: DailyParams, lang: str, labels: Mapping[str, str] | None = None
) -> str:
    """PSI per input, each bar named as the table beneath names it (what the feature means; its
    column on hover): the bars read "usage_seat_utilisation" above "… % of seats in use"."""
    tab = d.table.sort_values(["kind", "psi"], ascending=[True, False])
    top = max(p.drift.retrain_psi * 1.5, float(tab["psi"].max() if len(tab) else 0.0) * 1.05)
    names = tab["name"].astype(str).tolist()
    labels = labels or {}
    return charts.bar_chart(
        [labels.get(n) or n for n in names],
        tab["psi"].to_numpy(dtype=float).tolist(),
        "PSI",
        colors=[COLORS[b] for b in tab["band"]],
        x_max=charts.ticks(top)[-1],
        lines=[
            (figure(p.drift.warn_psi, "g", lang), p.drift.warn_psi),
            (figure(p.drift.retrain_psi, "g", lang), p.drift.retrain_psi),
        ],
        bands=[
            (p.drift.warn_psi, p.drift.retrain_psi, COLORS["moderate"]),
            (p.drift.retrain_psi, charts.ticks(top)[-1], COLORS["major"]),
        ],
        value_format=".3f",
        lang=lang,
        tips=[n if labels.get(n) else None for n in names],
        label_room=330,  # a feature's meaning is longer than its column: most fit whole
    )


def _fmt(v: float | None, spec: str, lang: str) -> str:
    return figure(v, spec, lang, missing=t("none", lang))


def _tile(value: str, label: str) -> str:
    return f'<div class="tile"><b>{html.escape(value)}</b><span>{html.escape(label)}</span></div>'


def _why(text: str | float | None) -> str:
    """A row's "why it changed", or a dash (first run, or no change worth telling): on the first
    run the column stood empty from top to bottom, as if it had failed."""
    return "–" if pd.isna(text) or not str(text).strip() else html.escape(str(text))


def _table(
    top: pd.DataFrame,
    lang: str,
    levels: list[str],
    delta_days: int,
    zone: str = "UTC",
    evaluated_at: dt.datetime | None = None,
) -> str:
    """The head of the list; a due time passed at `evaluated_at` is marked overdue, as the CSM
    page marks it (a flag raised the day before read as if its due time were still ahead), and a
    flag handled before the run (`handled`: acknowledged or resolved) says so."""
    if not len(top):
        return f"<p>{html.escape(t('no_rows', lang))}</p>"
    head = [
        "col_rank",
        "col_account",
        "col_owner",
        "col_escalation",
        "col_churn",
        "col_delta",
        "col_level",
        "col_top_reasons",  # the cell lists daily.top_reasons of them (the terminal one)
        "col_why",
        "col_next",
    ]
    rows = []
    for i, r in enumerate(top.to_dict("records"), start=1):
        # the list's own rank: the pinned rows stand further down it than their place here
        place = r.get("rank", i)
        # both deltas always, "–" where one is missing, as the heading and the terminal say them
        dp, d7 = (figure(r[c], "+.2f", lang) for c in ("delta_prev", "delta_7d"))
        raw = r["due_at"]  # the CSV's ISO text, "" or missing without a due time
        due = "" if pd.isna(raw) or not raw else zone_time(pd.Timestamp(raw), zone, lang)
        late = bool(due) and evaluated_at is not None and pd.Timestamp(raw) <= evaluated_at
        overdue = f' <b class="overdue">{html.escape(t("overdue", lang))}</b>' if late else ""
        if r.get("handled"):  # handled before the run: no due time, and nothing left undone
            overdue = f' <b class="handled">{html.escape(t("handled_" + r["handled"], lang))}</b>'
        level = level_classes(levels).get(str(r["level"]), "")
        cells = [
            f'<td class="num">{html.escape(str(place))}</td>',
            f"<td>{html.escape(str(r['account_name']))}<br><small>{html.escape(str(r['account_id']))}</small></td>",
            f"<td>{html.escape(str(r['csm_owner']))}</td>",
            f'<td class="num">{_fmt(r["escalation_risk"], ".2f", lang)}</td>',
            f'<td class="num">{_fmt(r["churn_risk"], ".2f", lang)}</td>',
            f'<td class="num">{dp} / {d7}</td>',
            f'<td class="{level}">{html.escape(flagged_level(str(r["level"]), r["level_changed"], lang))}</td>',
            f"<td>{html.escape(str(r['reasons']))}</td>",
            f"<td>{_why(r['why_changed'])}</td>",
            f"<td>{html.escape(str(r['next_action']))}<br><small>{html.escape(due)}</small>{overdue}</td>",
        ]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    ths = "".join(f"<th>{html.escape(t(h, lang, delta_days=delta_days))}</th>" for h in head)
    # on a phone the list scrolls in its box, its rows readable: squeezed to the window, the
    # page was twice as wide as the phone and each row a column of single words
    return (
        f'<div class="wide"><table class="list"><thead><tr>{ths}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _pinned(d: ReportData) -> str:
    """The open flags below the top of the list that are overdue or at the highest level, in a
    section of their own ("" when there are none)."""
    if d.pinned is None or not len(d.pinned):
        return ""
    words = {"n": len(d.pinned), "top": len(d.top), "level": d.levels[-1]}
    return (
        f"<h2>{html.escape(t('sec_pinned', d.language, **words))}</h2>"
        f'<p class="caption">{html.escape(t("pinned_caption", d.language, **words))}</p>'
        + _table(d.pinned, d.language, d.levels, d.params.delta_days, d.time_zone, d.evaluated_at)
    )


def render_report(d: ReportData) -> str:
    lang, p = d.language, d.params
    h, lk = d.history, d.ladder
    flagged_level = d.levels[1] if len(d.levels) > 1 else d.levels[0]
    runs = len(d.trend)
    day, at = day_text(d.day, lang), zone_time(d.evaluated_at, d.time_zone, lang)
    parts = [
        f"<h1>{html.escape(t('report_title', lang, day=day))}</h1>",
        f'<p class="meta">{html.escape(t("generated", lang, model=d.model_version, accounts=len(d.today), at=at))}</p>',
        f"<h2>{html.escape(t('sec_list', lang))}</h2>",
        _table(d.top, lang, d.levels, p.delta_days, d.time_zone, d.evaluated_at),
        _pinned(d),
        f"<h2>{html.escape(t('sec_distribution', lang))}</h2>",
        f"<figure>{distribution_plot(d.today, lang)}</figure>",
        f'<p class="caption">{html.escape(t("dist_caption", lang))}</p>',
        # the runs drawn: "the last 8 runs" over the first 3 claimed a history the store lacks
        # (a single run keeps the setting; its caption says the trend starts with the second)
        f"<h2>{html.escape(t('sec_trend', lang, n=runs if runs >= 2 else p.trend_runs))}</h2>",
    ]
    if runs >= 2:
        parts.append(f"<figure>{trend_plot(d.trend, flagged_level, lang)}</figure>")
        parts.append(
            f'<p class="caption">{html.escape(t("trend_caption", lang, level=flagged_level))}</p>'
        )
    else:
        parts.append(f'<p class="caption">{html.escape(t("trend_one", lang))}</p>')
    fr, res = p.benchmark_hours.first_response, p.benchmark_hours.resolution
    # counts and hours grouped as the language writes them (12.345 in German, 12,345 in English)
    tiles = [
        _tile(_fmt(h.escalations, ",", lang), t("kpi_escalations", lang)),
        _tile(_fmt(h.escalation_rate, ".1%", lang), t("kpi_rate", lang)),
        _tile(_fmt(h.escalations_per_account, ".2f", lang), t("kpi_per_account", lang)),
        _tile(
            _fmt(h.first_response_within, ".0%", lang), f"{t('first_response', lang)} ≤ {fr:.0f} h"
        ),
        _tile(_fmt(h.resolution_within, ".0%", lang), f"{t('resolution', lang)} ≤ {res:.0f} h"),
        _tile(_fmt(h.csat_after, ".2f", lang), t("kpi_csat_after", lang)),
        _tile(_fmt(h.csat_all, ".2f", lang), t("kpi_csat_all", lang)),
        _tile(_fmt(lk.escalations, ",", lang), t("kpi_flags", lang)),
        _tile(_fmt(lk.escalation_rate, ".2%", lang), t("kpi_flag_rate", lang)),
        _tile(_fmt(lk.escalations_per_account, ".3f", lang), t("kpi_flags_per_account", lang)),
        _tile(_fmt(lk.median_hours_to_acknowledge, ",.1f", lang), t("kpi_ack", lang)),
        # the median counts only the flags acknowledged at all: without their share it reads well
        # when almost none were
        _tile(_fmt(lk.acknowledged_share, ".0%", lang), t("kpi_acked", lang)),
        _tile(_fmt(lk.median_hours_to_resolve, ",.1f", lang), t("kpi_resolve", lang)),
        _tile(_fmt(lk.confirmed_share, ".0%", lang), t("kpi_confirmed", lang)),
    ]
    parts += [
        f"<h2>{html.escape(t('sec_kpis', lang, days=p.kpi_window_days))}</h2>",
        f'<div class="tiles">{"".join(tiles)}</div>',
        # go-live flags every account already at risk at once: told apart, not as escalations
        f'<p class="caption">{html.escape(t("kpi_first_flags", lang, n=lk.first_flags))}</p>'
        if lk.first_flags
        else "",
        '<div class="plots">',
        f"<figure>{times_plot(h, p, lang)}<figcaption class='caption'>{html.escape(t('times_caption', lang, fr=fr, res=res))}</figcaption></figure>",
        f"<figure>{weekly_plot(h, p.kpi_window_days, lang)}<figcaption class='caption'>{html.escape(weekly_caption(h, p.kpi_window_days, lang))}</figcaption></figure>",
        f"<figure>{csat_plot(h, lang)}<figcaption class='caption'>{html.escape(t('csat_caption', lang, days=p.csat_after_days))}</figcaption></figure>",
        "</div>",
        f"<h2>{html.escape(t('sec_drift', lang))}</h2>",
    ]
    if d.drift is None:
        parts.append(f'<div class="warn">{html.escape(t("drift_missing", lang))}</div>')
    else:
        labels = {**score_labels(d.drift, lang), **d.labels}
        if not d.drift.judged:  # no plot: bars against the bands would read as a verdict
            parts.append(
                f"<p>{html.escape(t('drift_unjudged', lang, n=d.drift.accounts, min=p.drift.min_accounts))}</p>"
            )
        elif d.drift.retrain:
            parts.append(
                f'<div class="warn">{html.escape(retrain_advice(d.drift, d.labels, lang) or "")}</div>'
            )
        else:
            parts.append(
                f'<div class="ok">{html.escape(t("no_retrain", lang, n=p.drift.retrain_features))}</div>'
            )
        if d.drift.judged:
            parts.append(f"<figure>{drift_plot(d.drift, p, lang, labels)}</figure>")
            parts.append(
                f'<p class="caption">{html.escape(t("drift_caption", lang, warn=p.drift.warn_psi, retrain=p.drift.retrain_psi))}</p>'
            )
        rows = "".join(
            f"<tr><td>{html.escape(t('drift_' + str(r['kind']), lang))}</td><td>{_drift_name(str(r['name']), labels)}</td><td class='num'>{_fmt(r['psi'], '.3f', lang)}</td><td>{html.escape(t(str(r['band']), lang, noise=r['noise']))}</td></tr>"
            for r in d.drift.table.to_dict("records")
        )
        parts.append(
            '<div class="wide"><table><thead><tr>'
            + "".join(
                f"<th>{html.escape(h)}</th>"
                for h in (
                    t("drift_kind", lang),
                    t("drift_name", lang),
                    "PSI",
                    t("drift_band", lang),
                )
            )
            + f"</tr></thead><tbody>{rows}</tbody></table></div>"
        )
    body = "\n".join(parts)
    title = html.escape(t("report_title", lang, day=day))
    return (
        f'<!DOCTYPE html>\n<html lang="{html.escape(lang)}"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>'
        f"<style>{CSS}</style></head><body>\n{body}\n</body></html>\n"
    )
