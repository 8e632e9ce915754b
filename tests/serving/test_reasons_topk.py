"""The vectorised reason ranking picks exactly what ranking each row on its own picks."""

from __future__ import annotations

import json
from contextlib import contextmanager

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from features.spec import FeatureSpec, category, number
from serving import reasons
from serving.ladder import kept_reasons
from serving.reasons import (
    Reasons,
    RowReasons,
    chosen_reasons,
    dominant_family,
    known_and_display,
    top_reasons,
)
from serving.risklist import reasons_cell, reasons_cells

SPEC = FeatureSpec(
    (
        number("a", "tickets", "", "a", "{value:.0f} tickets", "{value:.0f} Tickets"),
        category("tier", "account", ("x", "y"), "tier", "Tier {value}", "Stufe {value}"),
        number("b", "usage", "", "b", "{value:.0%} drop", "{value:.0%} Rückgang"),
        number("c", "sla", "", "c", "{value:.1f} h", "{value:.1f} Std."),
        number("d", "sla", "", "d", "{value:.2f}", "{value:.2f}"),
    )
)


def reference(contrib, values, spec, languages, k):
    """One row at a time: sort the row, skip unknown values, stop at k or at <= 0."""
    out = []
    for i in range(contrib.shape[0]):
        row, reasons = contrib[i], []
        for j in np.argsort(-row, kind="stable"):
            if len(reasons) >= k or row[j] <= 0:
                break
            v = values.iat[i, j]
            if pd.isna(v):
                continue
            info = spec.features[j]
            v = float(v) if info.dtype == "float" else str(v)
            reasons.append((info.name, v, float(row[j]), info.render(v, languages[i])))
        out.append(reasons)
    return out


cell = st.sampled_from([-1.0, 0.0, 0.25, 0.25, 0.5, 1.0]) | st.floats(-2, 2)


@settings(max_examples=150, deadline=None)
@given(
    contrib=st.integers(1, 12).flatmap(lambda n: arrays(np.float64, (n, 5), elements=cell)),
    k=st.integers(0, 6),
    data=st.data(),
)
def test_top_reasons_equal_the_row_by_row_ranking(contrib, k, data):
    n = contrib.shape[0]
    # repeated values (rendered once) and -0.0, which equals 0.0 but renders as "-0"
    num = st.sampled_from([np.nan, 0.0, -0.0, 3.0, 0.46]) | st.floats(0, 100)
    values = pd.DataFrame(
        {
            "a": data.draw(st.lists(num, min_size=n, max_size=n)),
            "tier": pd.Categorical(
                data.draw(st.lists(st.sampled_from(["x", "y", None]), min_size=n, max_size=n)),
                categories=["x", "y"],
            ),
            "b": data.draw(st.lists(num, min_size=n, max_size=n)),
            "c": data.draw(st.lists(num, min_size=n, max_size=n)),
            "d": data.draw(st.lists(num, min_size=n, max_size=n)),
        }
    )
    langs = data.draw(st.lists(st.sampled_from(["en", "de"]), min_size=n, max_size=n))
    want = reference(contrib, values, SPEC, langs, k)
    for few in (0, 10**6):  # the batch's rendering, and the one for a few cells
        with few_cells(few):
            got = top_reasons("escalation", contrib, values, SPEC, langs, k)
        assert [
            [(r["feature"], r["value"], r["contribution"], r["text"]) for r in rs] for rs in got
        ] == want
        assert all(r["head"] == "escalation" and r["direction"] == "up" for rs in got for r in rs)


@contextmanager
def few_cells(n):
    """Reasons rendered one by one up to n chosen cells (the API's path), else as a batch."""
    kept, reasons.FEW_CELLS = reasons.FEW_CELLS, n
    try:
        yield
    finally:
        reasons.FEW_CELLS = kept


def ranked(contrib, values, langs, k):
    """Both heads' reasons as the daily job ranks them: escalation's slots, then churn's."""
    display = known_and_display(values, SPEC)
    heads = [chosen_reasons(h, contrib[i], display, SPEC, langs, k) for i, h in enumerate(HEADS)]
    return Reasons.joined(heads, axis=1)


HEADS = ("escalation", "churn")


@settings(max_examples=150, deadline=None)
@given(
    contrib=st.integers(0, 12).flatmap(lambda n: arrays(np.float64, (2, n, 5), elements=cell)),
    k=st.integers(0, 6),
    data=st.data(),
)
def test_the_arrays_tell_what_the_dicts_tell(contrib, k, data):
    """What the daily job reads from the arrays (stored JSON, the list's column, the routing
    family) is what the reasons' dicts give: json.dumps, reasons_cell, dominant_family."""
    n = contrib.shape[1]
    num = st.sampled_from([np.nan, 0.0, -0.0, 1.0, 3.0, 0.46, np.inf, -np.inf]) | st.floats(-9, 9)
    tiers = st.sampled_from(["x", "y", 'Ü"', None])
    values = pd.DataFrame(
        {
            "a": data.draw(st.lists(num, min_size=n, max_size=n)),
            "tier": data.draw(st.lists(tiers, min_size=n, max_size=n)),
            "b": data.draw(st.lists(num, min_size=n, max_size=n)),
            "c": data.draw(st.lists(num, min_size=n, max_size=n)),
            "d": data.draw(st.lists(num, min_size=n, max_size=n)),
        }
    )
    langs = data.draw(st.lists(st.sampled_from(["en", "de"]), min_size=n, max_size=n))
    with few_cells(0):
        both = ranked(contrib, values, langs, k)
    dicts = both.dicts()
    esc, churn = (top_reasons(h, contrib[i], values, SPEC, langs, k) for i, h in enumerate(HEADS))
    assert dicts == [e + c for e, c in zip(esc, churn, strict=True)]
    assert both.json_texts() == [json.dumps(r) for r in dicts]
    assert both.families() == [dominant_family(r) for r in dicts]
    for m in (1, 3, 10):
        assert reasons_cells(both, m) == [reasons_cell(r, m) for r in dicts]
    # ranked in chunks of rows, as the daily job ranks 100,000 accounts
    cut = n // 2
    parts = [
        ranked(contrib[:, :cut], values[:cut], langs[:cut], k),
        ranked(contrib[:, cut:], values[cut:], langs[cut:], k),
    ]
    assert Reasons.joined(parts, axis=0).dicts() == dicts
    # a row's dicts made on first use, as the ladder carries them: the same, in any order asked
    for i in reversed(range(n)):
        row = RowReasons(both, i)
        assert len(row) == len(dicts[i]) and row == tuple(dicts[i]) and list(row) == dicts[i]
        assert kept_reasons(row) is row and kept_reasons(dicts[i]) == tuple(dicts[i])


def test_an_infinite_contribution_is_no_reason_and_the_stored_json_parses():
    """As the sorted choice had it (a reason's slot holds a finite contribution): an infinite
    one is left out, and no row's stored JSON holds a bare `inf`."""
    contrib = np.array([[np.inf, 0.5, 0.2, 0.0, 0.0], [0.1, 0.0, 0.3, np.inf, 0.0]])
    values = pd.DataFrame(
        {"a": [3.0, 1.0], "tier": ["x", "y"], "b": [0.5, 0.2], "c": [2.0, 1.0], "d": [1.0, 4.0]}
    )
    display = known_and_display(values, SPEC)
    chosen = chosen_reasons("escalation", contrib, display, SPEC, ["en", "de"], 3)
    assert [[r["feature"] for r in row] for row in chosen.dicts()] == [["tier", "b"], ["b", "a"]]
    assert [json.loads(t) for t in chosen.json_texts()] == chosen.dicts()
