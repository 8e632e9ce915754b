"""Reasons people can read: per-feature SHAP contributions, on the probability scale, as sentences.

LightGBM's exact TreeSHAP (`pred_contrib=True`) gives contributions on the raw margin that add up,
with the bias, to the raw score. The calibrated probability is a monotone map of that score, so we
share the probability change (p(raw) - p(bias)) out in proportion to the raw contributions: the
displayed contributions still add up, now to the risk minus the risk of the average account.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from features.params import FeatureParams
from features.spec import FeatureInfo, FeatureSpec, localized
from serving.daily_text import day_text, figure, t


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
    # finite only: the sorted choice this replaces never told an infinite one (nor can JSON)
    score = np.where(known & (contributions > 0) & (contributions < np.inf), contributions, -np.inf)
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
    return chosen_reasons(head, contributions, display, spec, languages, k).dicts()


@dataclass(frozen=True)
class Reasons:
    """Some rows' top reasons as arrays, rows x slots: each head's k slots, heads side by side.

    A row's reasons are its valid slots in slot order (a head's valid slots come first). The
    daily job reads 100,000 accounts' reasons as stored JSON, as the list's column and as the
    routing family: each is made from these arrays, without a dict per reason in between;
    `dicts()` gives the reasons as the ladder, the API and the messages carry them."""

    spec: FeatureSpec
    heads: tuple[str, ...]  # each slot's head
    feature: np.ndarray  # the reason's column in the spec (any column where not valid)
    valid: np.ndarray  # the slot holds a reason
    contribution: np.ndarray  # on the probability scale
    value: np.ndarray  # objects: the value as reasons show it (float or str), None where not valid
    text: np.ndarray  # objects: the sentence in the row's language, None where not valid

    @staticmethod
    def none(spec: FeatureSpec, n: int) -> Reasons:
        """n rows without reasons (and without slots)."""
        no = np.zeros((n, 0))
        return Reasons(
            spec, (), no.astype(np.intp), no.astype(bool), no, no.astype(object), no.astype(object)
        )

    @staticmethod
    def joined(parts: Sequence[Reasons], axis: int) -> Reasons:
        """Parts side by side (axis 1: heads) or one under the other (axis 0: chunks of rows)."""
        first = parts[0]
        heads = sum((p.heads for p in parts), ()) if axis == 1 else first.heads

        def cat(name: str) -> np.ndarray:
            return np.concatenate([getattr(p, name) for p in parts], axis=axis)

        return Reasons(
            first.spec, heads, cat("feature"), cat("valid"), cat("contribution"), cat("value"),
            cat("text"),
        )  # fmt: skip

    def _each(self) -> Iterator[tuple[int, int, Any, float, str]]:
        """Each reason's slot, column, value, contribution and text, row by row in slot order."""
        rows, slots = np.nonzero(self.valid)
        return zip(
            slots.tolist(),
            self.feature[rows, slots].tolist(),
            self.value[rows, slots].tolist(),
            self.contribution[rows, slots].tolist(),
            self.text[rows, slots].tolist(),
            strict=True,
        )

    def dicts(self) -> list[list[dict[str, Any]]]:
        """Per row, its reasons as JSON-able dicts (head, feature, family, direction, value,
        contribution, text): what the ladder's signals and the API's answers carry."""
        infos = self.spec.features
        names, families = [f.name for f in infos], [f.family for f in infos]
        flat = [
            {
                "head": self.heads[s],
                "feature": names[j],
                "family": families[j],
                "direction": "up",
                "value": v,
                "contribution": c,
                "text": t,
            }
            for s, j, v, c, t in self._each()
        ]
        return per_row(flat, self.valid)

    def take(self, rows: Sequence[int]) -> Reasons:
        """These rows only, in the order given."""
        at = np.asarray(rows, dtype=np.intp)
        return Reasons(
            self.spec, self.heads, self.feature[at], self.valid[at], self.contribution[at],
            self.value[at], self.text[at],
        )  # fmt: skip

    def json_texts(self) -> list[str]:
        """Per row, the text `json.dumps(self.dicts()[i])` gives, made without the dicts: each
        reason's constant part (head, feature, family, direction) and each text are encoded
        once per batch, not once per reason."""

        def opening(head: str, f: FeatureInfo) -> str:  # '{"head": ..., "direction": "up"'
            keys = {"head": head, "feature": f.name, "family": f.family, "direction": "up"}
            return json.dumps(keys)[:-1]

        start = [[opening(h, f) for f in self.spec.features] for h in self.heads]  # slot, column
        encode = json.encoder.encode_basestring_ascii  # json.dumps' encoder of strings
        texts: dict[str, str] = {}

        def value(v: float | str) -> str:
            if isinstance(v, str):
                return encode(v)
            return float.__repr__(v) if math.isfinite(v) else json.dumps(v)  # Infinity

        flat = [
            f'{start[s][j]}, "value": {value(v)}, "contribution": {float.__repr__(c)}, '
            f'"text": {texts.get(t) or texts.setdefault(t, encode(t))}}}'
            for s, j, v, c, t in self._each()
        ]
        return ["[" + ", ".join(row) + "]" for row in per_row(flat, self.valid)]

    def families(self) -> list[str | None]:
        """Per row, `dominant_family` of its reasons: the family whose contributions add up to
        the most (added in the reasons' order, as it adds them), the first met among equals."""
        n, m = self.valid.shape
        names = self.spec.families
        if not m:
            return [None] * n
        family = np.array([names.index(f.family) for f in self.spec.features], dtype=np.intp)
        code = family[self.feature]
        total = np.zeros((n, len(names)))
        first = np.full((n, len(names)), m)  # the slot where a family is first met
        for s in range(m):
            rows = np.flatnonzero(self.valid[:, s])
            at = code[rows, s]
            total[rows, at] += self.contribution[rows, s]
            first[rows, at] = np.minimum(first[rows, at], s)
        met = first < m
        best = np.where(met, total, -np.inf).max(axis=1, initial=-np.inf)
        pick = np.where(met & (total == best[:, None]), first, m + 1).argmin(axis=1)
        some = met.any(axis=1).tolist()
        return [names[f] if a else None for f, a in zip(pick.tolist(), some, strict=True)]


def chosen_reasons(
    head: str,
    contributions: np.ndarray,
    display: tuple[np.ndarray, list[Any]],
    spec: FeatureSpec,
    languages: Sequence[str],
    k: int,
) -> Reasons:
    """`rank_reasons`' choice as arrays (`Reasons`): the rows' k slots of this head."""
    known, columns = display
    if k <= 0 or contributions.shape[1] == 0:
        return Reasons.none(spec, contributions.shape[0])
    order, valid = _chosen(contributions, known, k)
    value, text = _rendered(order, valid, columns, spec, languages)
    picked = np.take_along_axis(contributions, order, axis=1)
    return Reasons(spec, (head,) * order.shape[1], order, valid, picked, value, text)


FEW_CELLS = 32  # up to this many chosen cells are rendered one by one


def _rendered(
    order: np.ndarray,
    valid: np.ndarray,
    columns: list[Any],
    spec: FeatureSpec,
    languages: Sequence[str],
) -> tuple[np.ndarray, np.ndarray]:
    """The chosen cells' values as reasons show them (float, or str for a category) and their
    sentences in the row's language, rendered a feature and a language at a time (or one by
    one for a few cells: the API's one account would wait on the batch's array work)."""
    value = np.full(order.shape, None, dtype=object)
    text = np.full(order.shape, None, dtype=object)
    rows, slots = np.nonzero(valid)
    features = order[rows, slots]
    if len(rows) <= FEW_CELLS:
        for i, slot, j in zip(rows.tolist(), slots.tolist(), features.tolist(), strict=True):
            kind, col = columns[j]
            value[i, slot] = v = float(col[i]) if kind == "f" else str(col[i])
            text[i, slot] = spec.features[j].render(v, languages[i])
        return value, text
    names, language = np.unique(np.asarray(languages, dtype=object), return_inverse=True)
    language = language[rows]
    for j in np.unique(features).tolist():
        at = np.flatnonzero(features == j)
        r, s = rows[at], slots[at]
        kind, col = columns[j]
        shown = col[r] if kind == "f" else np.array([str(v) for v in col[r]], dtype=object)
        value[r, s] = shown
        for code, lang in enumerate(names.tolist()):
            mine = language[at] == code
            if mine.any():
                codes, distinct = _distinct(shown[mine])
                text[r[mine], s[mine]] = spec.features[j].render_many(distinct, lang)[codes]
    return value, text


def _distinct(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each value's code among the distinct values, and those (most values repeat: each is
    rendered once). Floats by their bits: 0.0 == -0.0, but one shows as "0", the other "-0"."""
    if values.dtype == np.float64:
        codes, bits = pd.factorize(values.view(np.int64))
        return codes, bits.view(np.float64)
    return pd.factorize(values)


class RowReasons(Sequence[dict[str, Any]]):
    """One row of `Reasons` as the dicts `Reasons.dicts` gives it, made on first use: the daily
    job's ladder carries every account's reasons, but reads those of the few whose level moves
    (the dicts of 100,000 accounts cost ~0.4 s). Immutable; equal to the tuple of its dicts."""

    __slots__ = ("_of", "_row", "_dicts")

    def __init__(self, of: Reasons, row: int) -> None:
        self._of, self._row = of, row
        self._dicts: tuple[dict[str, Any], ...] | None = None

    @staticmethod
    def made(rows: Iterable[Any]) -> None:
        """Make the dicts of the RowReasons among `rows` at once, one `Reasons.dicts` per batch
        they come from: one by one they cost ~0.1 ms each, and the daily job's ladder reads those
        of every account whose level moves (thousands on a portfolio's first run)."""
        todo: dict[int, tuple[Reasons, list[RowReasons]]] = {}
        for r in rows:
            if isinstance(r, RowReasons) and r._dicts is None:
                todo.setdefault(id(r._of), (r._of, []))[1].append(r)
        for of, mine in todo.values():
            made = of.take([r._row for r in mine]).dicts()
            for r, dicts in zip(mine, made, strict=True):
                r._dicts = tuple(dicts)

    def _all(self) -> tuple[dict[str, Any], ...]:
        if self._dicts is None:
            self._dicts = tuple(self._of.take([self._row]).dicts()[0])
        return self._dicts

    def __getitem__(self, i: Any) -> Any:
        return self._all()[i]

    def __len__(self) -> int:
        return int(self._of.valid[self._row].sum())

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._all())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and self._all() == tuple(other)

    def __hash__(self) -> int:
        return hash(self._all())

    def __repr__(self) -> str:
        return repr(self._all())


def per_row(flat: list[Any], valid: np.ndarray) -> list[list[Any]]:
    """The items of the valid slots (row by row, in slot order) cut into one list per row."""
    ends = [0, *np.cumsum(valid.sum(axis=1)).tolist()]
    return [flat[a:b] for a, b in zip(ends[:-1], ends[1:], strict=True)]


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


def margin_shares(margin_change: np.ndarray, delta: float) -> np.ndarray | None:
    """Per feature, its share of a change `delta` in calibrated risk between two scorings by the
    same model: the change of its raw (margin) contribution, scaled so that the shares sum to
    `delta`. The margin's contributions split its change exactly; each day's probability-scale
    contributions carry that day's own scale (`to_probability`), so their differences shift
    every feature where the calibration steps (isotonic): a +0.04 step of the risk made by one
    feature was told "+0.01 (that feature)", the rest spread over features whose value stayed.
    None where the margin did not move the risk's way (nothing to split: the previous day's
    risk was stored from a source that has changed since)."""
    d = np.asarray(margin_change, dtype=np.float64)
    total = float(d.sum())
    if delta == 0 or abs(total) < 1e-12 or (total > 0) != (delta > 0):
        return None
    return d * (delta / total)


def why_changed(
    change: np.ndarray,
    values_after: pd.Series | dict[str, Any],
    spec: FeatureSpec,
    language: str,
    k: int,
    moved: np.ndarray | None = None,
) -> list[dict[str, Any]]:
    """The k features that moved one account's risk most in the direction it moved, each with its
    change, family and today's value rendered through the spec's template.

    `change`: the account's change in risk per feature (1-D; `margin_shares`, else
    `change_attribution` of two days' probability-scale contributions).
    `moved`: per feature, whether its value changed between the dates. A tree model's
    contributions shift for features whose value stayed (their interplay with the ones that
    moved): "+0.05 (3 SLA near-misses)" with 3 near-misses on both days points a CSM at nothing
    new, so only features that moved are named, where any of them moved the risk its way.
    """
    change = np.asarray(change, dtype=np.float64)
    sign = 1.0 if change.sum() >= 0 else -1.0
    candidates = change * sign > 0
    if moved is not None and (candidates & moved).any():
        candidates &= moved
    out: list[dict[str, Any]] = []
    for j in np.argsort(-(change * sign), kind="stable"):
        if len(out) >= k or change[j] * sign <= 0:
            break
        if not candidates[j]:
            continue
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
    """'Risk +0.12 since 2026-06-20: +0.08 (3 SLA near-misses ...), +0.05 (...)', en or de.

    A part after the first whose change rounds to 0.00 is left out: written "+0.00" it named a
    feature that visibly did not move the risk, with a plus beside a fall."""
    shown = [p for i, p in enumerate(parts) if i == 0 or round(abs(p["change"]), 2) > 0]
    items = ", ".join(f"{figure(p['change'], '+.2f', language)} ({p['text']})" for p in shown)
    return CHANGE_TEXT.get(language, CHANGE_TEXT["en"]).format(
        delta=localized(delta, language), since=since, parts=items
    )


def change_retold(stored: str | None, spec: Mapping[str, FeatureInfo], language: str) -> str | None:
    """A stored "why it changed" told again in `language` from its makings (the daily list's
    why_parts: the change, the previous run's day and each feature's change and value), as the
    daily run told it in the account's language; None where it cannot be (a row of an older
    version, a feature the spec no longer has, a value its template cannot format)."""
    if not stored:
        return None
    try:
        made = json.loads(stored)
        since = day_text(dt.date.fromisoformat(made["since"]), language)
        delta = float(made["delta"])
        if "parts" not in made:  # the model changed in between: not attributed
            return t(
                "why_model", language, delta=delta, since=since, old=made["old"], new=made["new"]
            )
        parts = []
        for q in made["parts"]:
            info = spec[q["feature"]]
            value = q["value"]
            text = info.render(value, language) if value is not None else info.label(language)
            parts.append({**q, "text": text})
    except (KeyError, TypeError, ValueError):
        return None
    return render_change(delta, since, parts, language)


def features_of(params: FeatureParams) -> dict[str, FeatureInfo]:
    """Every feature `params` define, by name, as reasons are told with them."""
    from features.build import full_spec

    return {f.name: f for f in full_spec(params).features}


@functools.lru_cache(maxsize=32)
def _kept_features(settings_json: str) -> dict[str, FeatureInfo] | None:
    """`features_of` the settings a model version kept; None where they no longer load (a
    release has since changed the settings)."""
    from pydantic import ValidationError

    try:
        return features_of(FeatureParams.model_validate_json(settings_json))
    except (ValueError, ValidationError):
        return None


def feature_specs(
    settings: Mapping[str, Mapping[str, Any]], fallback: Mapping[str, FeatureInfo]
) -> Callable[[str | None], Mapping[str, FeatureInfo]]:
    """A model version -> its features as built with the settings it scored with
    (`Store.model_settings`): a stored reason is told as the model that gave it told it ("against
    the 90-day baseline" after params.yaml moved to 180), by `escrisk audit` and the CSM page
    alike. A version not recorded (a store of an older release), or whose settings no longer load,
    is told with `fallback`."""
    specs = {
        str(version): _kept_features(json.dumps(kept, sort_keys=True))
        for version, kept in settings.items()
    }
    return lambda version: specs.get(str(version)) or fallback if version else fallback
