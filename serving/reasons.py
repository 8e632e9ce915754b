"""Reasons people can read: per-feature SHAP contributions, on the probability scale, as sentences.

LightGBM's exact TreeSHAP (`pred_contrib=True`) gives contributions on the raw margin that add up,
with the bias, to the raw score. The calibrated probability is a monotone map of that score, so we
share the probability change (p(raw) - p(bias)) out in proportion to the raw contributions: the
displayed contributions still add up, now to the risk minus the risk of the average account.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from features.spec import FeatureInfo, FeatureSpec, localized
from serving.daily_text import figure


@dataclass(frozen=True)
class Contributions:
    """One head's contributions for some rows: `raw` is n x features on the margin, `bias` n."""

    raw: np.ndarray
    bias: np.ndarray
    prob: np.ndarray  # n x features on the probability scale
    risk: np.ndarray  # calibrated probability per row


def to_probability(raw: np.ndarray, bias: np.ndarray, calibrate) -> Contributions:
    """Scale raw-margin contributions so that they sum to calibrate(score) - calibrate(bias)."""
    score = raw.sum(axis=1) + bias
    risk = calibrate(score)
    base = calibrate(bias)
    span = score - bias
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(np.abs(span) > 1e-12, (risk - base) / span, 0.0)
    return Contributions(raw=raw, bias=bias, prob=raw * factor[:, None], risk=risk)


def split_contrib(contrib: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """LightGBM's `pred_contrib` output: feature columns, then the bias as the last column."""
    return contrib[:, :-1], contrib[:, -1]


def _display(value: Any) -> float | str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float | int):
        return float(value)
    return str(value)


def _chosen(contributions: np.ndarray, known: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the columns of the k largest positive contributions with a known value, largest
    first (ties: lower column first, as a stable sort of the row), and which slots hold a reason.
    One argmax per slot (it picks the first of equal maxima): cheaper than sorting or
    partitioning ~90 columns for the few reasons told."""
    score = np.where(known & (contributions > 0), contributions, -np.inf)
    n, m = score.shape
    k = min(k, m)
    rows = np.arange(n)
    order = np.empty((n, k), dtype=np.intp)
    valid = np.empty((n, k), dtype=bool)
    for s in range(k):
        j = score.argmax(axis=1)
        order[:, s] = j
        valid[:, s] = score[rows, j] > -np.inf
        score[rows, j] = -np.inf
    return order, valid


def known_and_display(values: pd.DataFrame, spec: FeatureSpec) -> tuple[np.ndarray, list[Any]]:
    """Which cells hold a value, and per column its values (floats, or objects for categories).

    Numeric columns are read in one block: per-column pandas access costs more than the whole
    ranking when the service scores one account."""
    infos = spec.features
    numeric = [j for j, f in enumerate(infos) if f.dtype == "float"]
    n = len(values)
    floats = np.full((n, len(infos)), np.nan)
    if numeric:
        floats[:, numeric] = values.iloc[:, numeric].to_numpy(dtype=np.float64, na_value=np.nan)
    known = ~np.isnan(floats)
    columns: list[Any] = [None] * len(infos)
    for j in numeric:
        columns[j] = ("f", floats[:, j])
    for j, f in enumerate(infos):
        if f.dtype != "float":
            col = values.iloc[:, j]
            known[:, j] = col.notna().to_numpy()
            columns[j] = ("s", col.to_numpy(dtype=object))
    return known, columns


def top_reasons(
    head: str,
    contributions: np.ndarray,
    values: pd.DataFrame,
    spec: FeatureSpec,
    languages: list[str],
    k: int,
) -> list[list[dict[str, Any]]]:
    """Per row, the k features that raise this head's risk most, as JSON-able reason dicts.

    Only positive contributions of features with a known value are reasons: "why is this risky".
    Vectorised: the choice is made on the whole matrix, and only the chosen k per row are rendered.
    """
    n = contributions.shape[0]
    if n == 0 or k <= 0:
        return [[] for _ in range(n)]
    return rank_reasons(head, contributions, known_and_display(values, spec), spec, languages, k)


def rank_reasons(
    head: str,
    contributions: np.ndarray,
    display: tuple[np.ndarray, list[Any]],
    spec: FeatureSpec,
    languages: list[str],
    k: int,
) -> list[list[dict[str, Any]]]:
    """`top_reasons` with the values already read (`known_and_display`'s result), so that both
    heads of one call share that work."""
    n = contributions.shape[0]
    if n == 0 or k <= 0:
        return [[] for _ in range(n)]
    known, columns = display
    order, valid = _chosen(contributions, known, k)
    # the chosen cells as flat lists, row by row and largest first (valid slots form a prefix)
    rows, slots = np.nonzero(valid)
    js = order[rows, slots]
    contribs = contributions[rows, js].tolist()
    counts = np.bincount(rows, minlength=n).tolist()
    cells = {j: _cells(columns[j], rows[js == j]) for j in set(js.tolist())}  # the chosen only
    infos = spec.features
    texts: dict[tuple[int, str, Any], str] = {}  # most values repeat: render each once
    flat: list[dict[str, Any]] = []
    for j, i, c in zip(js.tolist(), rows.tolist(), contribs, strict=True):
        info = infos[j]
        value = next(cells[j])
        lang = languages[i]
        key = (j, lang, value)
        text = texts.get(key) if value else None  # 0.0 == -0.0 but renders differently
        if text is None:
            text = texts[key] = info.render(value, lang)
        flat.append(
            {
                "head": head,
                "feature": info.name,
                "family": info.family,
                "direction": "up",
                "value": value,
                "contribution": c,
                "text": text,
            }
        )
    out: list[list[dict[str, Any]]] = []
    at = 0
    for m in counts:
        out.append(flat[at : at + m])
        at += m
    return out


def _cells(column: tuple[str, np.ndarray], rows: np.ndarray) -> Any:
    """The values of one column at some rows, in order, as reasons show them (float or str)."""
    kind, values = column
    picked = values[rows]
    return iter(picked.tolist() if kind == "f" else [str(v) for v in picked])


_REASON_KEYS = ("head", "feature", "family", "direction", "value", "contribution", "text")


def retold(
    reasons: Sequence[Mapping[str, Any]], spec: Mapping[str, FeatureInfo], language: str
) -> list[dict[str, Any]]:
    """Stored reasons told in another language (the CSM page's, not the account's): each text
    rendered again from its feature's template and the stored value, as `rank_reasons` rendered
    it. A feature the spec does not know (a field since removed) keeps the text it was stored with."""
    out = []
    for r in reasons:
        told = dict(r)
        info = spec.get(str(r.get("feature")))
        if info is not None and r.get("value") is not None:
            # a value the template cannot format keeps its stored text
            with contextlib.suppress(ValueError, TypeError):
                told["text"] = info.render(r["value"], language)
        out.append(told)
    return out


def reasons_json(rows: Sequence[Sequence[Mapping[str, Any]]]) -> list[str]:
    """`json.dumps(list(reasons))` per row, the same text, about twice as fast for the dicts
    `rank_reasons` builds: their constant part (head, feature, family, direction) and their
    texts are encoded once per batch, not once per reason. Anything else goes to json.dumps."""
    encode = json.encoder.encode_basestring_ascii  # json.dumps' encoder of strings
    heads: dict[tuple[Any, ...], str] = {}
    strings: dict[str, str] = {}

    def reason(r: Mapping[str, Any]) -> str:
        if type(r) is not dict or tuple(r) != _REASON_KEYS:
            return json.dumps(r)
        head, feature, family, direction = r["head"], r["feature"], r["family"], r["direction"]
        value, c, text = r["value"], r["contribution"], r["text"]
        if (
            type(c) is not float
            or not math.isfinite(c)
            or type(text) is not str
            or not (type(value) is str or (type(value) is float and math.isfinite(value)))
        ):
            return json.dumps(r)
        key = (head, feature, family, direction)
        start = heads.get(key)
        if start is None:
            start = heads[key] = json.dumps(dict(zip(_REASON_KEYS[:4], key, strict=True)))[:-1]
        if type(value) is float:
            v = float.__repr__(value)
        else:
            word = str(value)  # a str here: the same object
            v = strings.get(word) or strings.setdefault(word, encode(word))
        t = strings.get(text) or strings.setdefault(text, encode(text))
        return f'{start}, "value": {v}, "contribution": {float.__repr__(c)}, "text": {t}}}'

    return ["[" + ", ".join([reason(r) for r in row]) + "]" for row in rows]


def dominant_family(reasons: list[dict[str, Any]]) -> str | None:
    """The family whose reasons push risk up the most: it picks the team."""
    totals: dict[str, float] = {}
    for r in reasons:
        f = r["family"]
        totals[f] = totals.get(f, 0.0) + r["contribution"]
    return max(totals, key=totals.__getitem__) if totals else None


# --- why it changed ----------------------------------------------------------------------------

CHANGE_TEXT = {
    "en": "Risk {delta:+.2f} since {since}: {parts}",
    "de": "Risiko {delta:+.2f} seit {since}: {parts}",
}


def change_attribution(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Per-feature share of a change in risk between two scorings by the same model.

    Both are probability-scale contributions (`Contributions.prob`) that sum to risk minus the
    base risk; the base risk is the model's and cancels, so the differences sum to the change.
    """
    return np.asarray(after, dtype=np.float64) - np.asarray(before, dtype=np.float64)


def why_changed(
    before: np.ndarray,
    after: np.ndarray,
    values_after: pd.Series | dict[str, Any],
    spec: FeatureSpec,
    language: str,
    k: int,
) -> list[dict[str, Any]]:
    """The k features that moved one account's risk most in the direction it moved, each with its
    change, family and today's value rendered through the spec's template.

    `before`, `after`: the account's probability-scale contributions on two dates (1-D).
    """
    change = change_attribution(before, after)
    sign = 1.0 if change.sum() >= 0 else -1.0
    out: list[dict[str, Any]] = []
    for j in np.argsort(-(change * sign), kind="stable"):
        if len(out) >= k or change[j] * sign <= 0:
            break
        info = spec.features[j]
        value = _display(values_after[info.name])
        out.append(
            {
                "feature": info.name,
                "family": info.family,
                "direction": "up" if change[j] > 0 else "down",
                "value": value,
                "change": float(change[j]),
                # a value gone missing (no usage, no resolved tickets) is named by its sentence
                # without the value, in the account's language: the description is English only
                "text": info.render(value, language) if value is not None else info.label(language),
            }
        )
    return out


def render_change(delta: float, since: str, parts: list[dict[str, Any]], language: str) -> str:
    """'Risk +0.12 since 2026-06-20: +0.08 (3 SLA near-misses ...), +0.05 (...)', en or de."""
    items = ", ".join(f"{figure(p['change'], '+.2f', language)} ({p['text']})" for p in parts)
    return CHANGE_TEXT.get(language, CHANGE_TEXT["en"]).format(
        delta=localized(delta, language), since=since, parts=items
    )
