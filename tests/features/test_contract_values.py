"""check_values' shortcuts for typed request values give what pandas' own constructors give."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from features.contract import (
    NeedsGeneralPath,
    _int_array,
    _times_ns,
    _whole,
)

NOW = pd.Timestamp("2024-06-01", tz="UTC")


@pytest.mark.parametrize(
    "values",
    [[], [None], [1, None, 3], [0, -5, 2**53], [-(2**53), None], [2**53 + 1, 5], [2**62, None]],
)
def test_int_array_equals_whole_of_the_floats(values):
    got = _int_array(values)
    want = _whole(np.array([np.nan if v is None else v for v in values], dtype="float64"))
    pd.testing.assert_extension_array_equal(got, want)
    assert (got._data == want._data).all() and (got._mask == want._mask).all()


@pytest.mark.parametrize(
    ("values", "date_only"),
    [
        ([dt.date(1678, 1, 1), None, dt.date(2261, 12, 31), dt.date(1970, 1, 1)], True),
        ([None, None], True),
        (
            [
                dt.datetime(2024, 6, 1, 12, 30, 15, 123456),
                None,
                dt.datetime(
                    2024, 6, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=-5, minutes=-30))
                ),
                dt.datetime(1678, 1, 1, 3, tzinfo=dt.timezone(dt.timedelta(hours=2))),
                dt.datetime(1969, 12, 31, 23, 59, 59, 999999),
            ],
            False,
        ),
    ],
)
def test_times_ns_equals_pandas(values, date_only):
    stamps = [None if v is None else pd.Timestamp(v) for v in values]
    want = [
        np.iinfo(np.int64).min
        if s is None
        else (s.tz_localize("UTC") if s.tzinfo is None else s.tz_convert("UTC")).value
        for s in stamps
    ]
    assert _times_ns(values, date_only).tolist() == want


@pytest.mark.parametrize(
    ("values", "date_only"),
    [
        ([dt.date(1677, 12, 31)], True),
        ([None, dt.date(2262, 1, 1)], True),
        ([dt.datetime(2024, 1, 1)], True),  # a datetime where a date belongs
        ([dt.date(2024, 1, 1)], False),
        (["2024-01-01"], False),
        ([dt.datetime(2262, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=5)))], False),
    ],
)
def test_times_ns_leaves_the_rest_to_check(values, date_only):
    with pytest.raises(NeedsGeneralPath):
        _times_ns(values, date_only)
