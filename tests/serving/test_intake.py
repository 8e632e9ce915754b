"""The request -> History path: contract rules reach the client as errors naming request fields."""

from __future__ import annotations

import copy
import datetime as dt
import json

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from serving.intake import RequestError, request_history, resolve_as_of
from serving.schemas import ScoreRequest

NOW = pd.Timestamp("2024-06-10T12:00:00Z")
SKEW = pd.Timedelta(minutes=5)


def body(n_accounts: int = 2) -> dict:
    accounts = []
    for i in range(n_accounts):
        aid = f"A-{i}"
        accounts.append(
            {
                "account": {
                    "account_id": aid,
                    "name": f"Account {i}",
                    "tier": "business",
                    "arr": 12000.0,
                    "seats": 25,
                    "contract_start": "2023-01-01",
                    "renewal_date": "2025-01-01",
                    "csm_owner": "Dana",
                    "region": "EMEA",
                    "language": "de" if i % 2 else "en",
                },
                "tickets": [
                    {
                        "ticket_id": f"T-{i}-{j}",
                        "created_at": f"2024-06-0{j + 1}T09:00:00+02:00",
                        "priority": "P2",
                        "channel": "email",
                        "subject": "Login broken",
                        "body": "We cannot log in",
                        "first_response_at": f"2024-06-0{j + 1}T10:00:00Z",
                        "status": "open",
                        "reopen_count": 0,
                    }
                    for j in range(3)
                ],
                "usage": [
                    {"date": f"2024-06-0{d}", "active_users": 10 + d, "events": 100}
                    for d in range(1, 8)
                ],
                "escalations": [],
            }
        )
    return {"accounts": accounts, "as_of": "2024-06-10"}


def history(b: dict, params):
    return request_history(
        ScoreRequest.model_validate_json(json.dumps(b)),
        params.contract,
        params.features.custom_fields,
        NOW,
        SKEW,
    )


def test_valid_request_becomes_typed_history(params):
    h = history(body(), params)
    assert list(h.accounts["account_id"]) == ["A-0", "A-1"]
    assert len(h.tickets) == 6 and h.tickets["account_id"].tolist()[:3] == ["A-0"] * 3
    assert str(h.tickets["created_at"].dtype) == "datetime64[ns, UTC]"
    assert h.tickets["created_at"].iloc[0] == pd.Timestamp("2024-06-01T07:00:00Z")
    assert h.tickets["sla_first_response_hours"].notna().all()  # filled from the SLA policy
    assert len(h.usage) == 14
    assert h.escalations is not None and len(h.escalations) == 0


def test_the_service_marks_the_policys_targets_as_the_batch_does(params):
    """Which targets are the policy's (business hours under features.sla.business_hours) the API
    path (check_values) tells as the batch path (check on frames) does: parity of the features."""
    import serving.intake as intake

    b = copy.deepcopy(body())
    first = b["accounts"][0]["tickets"]
    first[0]["sla_resolution_hours"] = 70.0
    first[1] |= {"sla_first_response_hours": 2.5, "sla_resolution_hours": 24.0}
    plain = history(b, params)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(intake, "PLAIN_ROWS", -1)
        general = history(b, params)
    pd.testing.assert_frame_equal(plain.tickets, general.tickets)
    t = plain.tickets.set_index("ticket_id")
    assert t["sla_resolution_from_policy"].tolist() == [False, False, True, True, True, True]
    assert t["sla_first_response_from_policy"].tolist() == [True, False, True, True, True, True]


def test_usage_left_out_everywhere_means_no_usage_table(params):
    b = body()
    for a in b["accounts"]:
        del a["usage"]
    assert history(b, params).usage is None


def errors_of(b: dict, params) -> list[tuple[tuple, str]]:
    with pytest.raises(RequestError) as exc:
        history(b, params)
    assert exc.value.status == 422
    return [(tuple(d.loc), d.type) for d in exc.value.detail]


def with_value(path: tuple, value: object) -> dict:
    """The default body with one field of its second account set to `value`."""
    b = copy.deepcopy(body())
    target = b["accounts"][1]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return b


@pytest.mark.parametrize(
    ("path", "value", "loc", "rule"),
    [
        (
            ("tickets", 1, "created_at"),
            "2024-06-11T12:00:00Z",
            ("accounts", 1, "tickets", 1, "created_at"),
            "date_range",
        ),
        (
            ("tickets", 0, "created_at"),
            "1989-12-31T00:00:00Z",
            ("accounts", 1, "tickets", 0, "created_at"),
            "date_range",
        ),
        (("usage", 2, "date"), "2024-06-12", ("accounts", 1, "usage", 2, "date"), "date_range"),
        (("account", "tier"), "platinum", ("accounts", 1, "account", "tier"), "allowed_values"),
        (
            ("tickets", 2, "priority"),
            "P9",
            ("accounts", 1, "tickets", 2, "priority"),
            "allowed_values",
        ),
        (
            ("tickets", 2, "ticket_id"),
            "T-1-0",
            ("accounts", 1, "tickets", 2, "ticket_id"),
            "unique",
        ),
        (
            ("tickets", 0, "account_id"),
            "A-0",
            ("accounts", 1, "tickets", 0, "account_id"),
            "account_mismatch",
        ),
        (("usage", 1, "date"), "2024-06-01", ("accounts", 1, "usage", 1, "date"), "unique"),
        (
            ("tickets", 0, "status"),
            "solved",  # and no resolved_at
            ("accounts", 1, "tickets", 0, "resolved_at"),
            "closed_unresolved",
        ),
        (
            ("tickets", 2, "language"),
            "fr",
            ("accounts", 1, "tickets", 2, "language"),
            "allowed_values",
        ),
        (
            ("tickets", 0, "resolved_at"),
            "2024-05-01T00:00:00Z",
            ("accounts", 1, "tickets", 0, "resolved_at"),
            "order",
        ),
    ],
)
def test_contract_violation_names_the_request_field(params, path, value, loc, rule):
    assert (loc, rule) in errors_of(with_value(path, value), params)


def test_a_ticket_read_in_its_own_language_as_in_a_file(params):
    """docs/features.md: a ticket's own `language` (where the helpdesk detects it) decides the
    scorer, on both paths; the request refused the field while a file's column was honoured."""
    from features.texts import ticket_languages

    b = copy.deepcopy(body(2))
    b["accounts"][1]["tickets"][0]["language"] = "en"  # an English ticket of a German account
    b["accounts"][0]["tickets"][0]["language"] = None
    h = history(b, params)
    assert ticket_languages(h).tolist() == ["en"] * 3 + ["en", "de", "de"]


def test_duplicate_account_ids_are_named(params):
    b = body()
    b["accounts"][1]["account"]["account_id"] = "A-0"
    found = errors_of(b, params)
    assert (("accounts", 0, "account", "account_id"), "unique") in found
    assert (("accounts", 1, "account", "account_id"), "unique") in found


def test_event_within_clock_skew_is_accepted(params):
    b = body()
    b["accounts"][0]["tickets"][0]["created_at"] = "2024-06-10T12:03:00Z"
    b["accounts"][0]["tickets"][0]["first_response_at"] = None
    history(b, params)


@pytest.mark.parametrize("as_of", ["2024-06-12", "1989-01-01"])
def test_as_of_out_of_range(params, as_of):
    import datetime as dt

    with pytest.raises(RequestError) as exc:
        resolve_as_of(dt.date.fromisoformat(as_of), NOW, params.contract)
    assert exc.value.detail[0].loc == ["as_of"]


def test_as_of_defaults_to_today_and_allows_tomorrow(params):
    import datetime as dt

    assert resolve_as_of(None, NOW, params.contract) == pd.Timestamp("2024-06-10", tz="UTC")
    assert resolve_as_of(dt.date(2024, 6, 11), NOW, params.contract) == pd.Timestamp(
        "2024-06-11", tz="UTC"
    )


def test_undeclared_extra_account_field_is_named(params):
    b = body()
    b["accounts"][0]["account"]["plan"] = "pro"
    assert (("accounts", 0, "account", "plan"), "extra_forbidden") in errors_of(b, params)


def test_a_field_declared_for_a_model_not_yet_served_is_checked_not_refused(params):
    """params.yaml declares `nps` for the next model; the served one was trained without it. A
    helpdesk sending it as docs/api.md says got "unknown field (neither in the data contract
    nor in features.custom_fields)", untrue, on every request until such a model was promoted;
    the daily run reads no such column of an accounts file either. It is checked, not read."""
    from features.params import CustomField

    declared = {"nps": CustomField(kind="float")}
    b = body()
    b["accounts"][0]["account"]["nps"] = 42
    req = ScoreRequest.model_validate_json(json.dumps(b))
    h = request_history(req, params.contract, {}, NOW, SKEW, declared=declared)
    assert "nps" not in h.accounts.columns  # the model reads no nps
    b["accounts"][1]["account"]["nps"] = "high"
    req = ScoreRequest.model_validate_json(json.dumps(b))
    with pytest.raises(RequestError) as exc:
        request_history(req, params.contract, {}, NOW, SKEW, declared=declared)
    assert [(d.loc, d.type) for d in exc.value.detail] == [
        (["accounts", 1, "account", "nps"], "float_type")
    ]


def test_an_unknown_fields_long_name_is_not_repeated_whole(params):
    """An undeclared key a megabyte long came back whole in the 422's loc."""
    b = body()
    b["accounts"][0]["account"]["x" * 1_000_000] = 1
    (detail,) = history_errors(b, params)
    assert detail.loc == ["accounts", 0, "account", "x" * 128 + "…"]
    assert detail.type == "extra_forbidden" and "features.custom_fields" in detail.msg


def history_errors(b: dict, params) -> list:
    with pytest.raises(RequestError) as exc:
        history(b, params)
    return exc.value.detail


def test_extra_fields_elsewhere_are_schema_errors():
    from pydantic import ValidationError

    b = body()
    b["accounts"][0]["tickets"][0]["mood"] = "sad"
    with pytest.raises(ValidationError) as exc:
        ScoreRequest.model_validate_json(json.dumps(b))
    assert exc.value.errors()[0]["loc"] == ("accounts", 0, "tickets", 0, "mood")


# The intake builds the contract's tables column by column from the parsed request (datetimes
# and dates converted in one call per column); values beyond what nanoseconds hold take the
# per-value path, so the contract names them exactly as it would name them in a file.


@pytest.mark.parametrize(
    ("path", "value", "loc", "rule"),
    [
        (("account", "renewal_date"), "9999-12-31", ("accounts", 1, "account", "renewal_date"), "date_range"),
        (("account", "contract_start"), "0001-01-01", ("accounts", 1, "account", "contract_start"), "date_range"),
        (("usage", 0, "date"), "1677-09-21", ("accounts", 1, "usage", 0, "date"), "date_range"),
        (("tickets", 1, "resolved_at"), "9999-12-31T23:59:59Z", ("accounts", 1, "tickets", 1, "resolved_at"), "date_range"),
        (("tickets", 1, "created_at"), "0001-01-01T00:00:00", ("accounts", 1, "tickets", 1, "created_at"), "date_range"),
    ],
)  # fmt: skip
def test_dates_beyond_nanoseconds_are_named(params, path, value, loc, rule):
    assert (loc, rule) in errors_of(with_value(path, value), params)


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_a_time_whose_utc_instant_is_beyond_nanoseconds_is_named_as_sent(params, value):
    # in UTC these are in year 0 and 10000: they wrapped around to 1972 and were called
    # "1972-12-31 10:00:00+00:00 is before contract.min_date"
    with pytest.raises(RequestError) as exc:
        history(with_value(("tickets", 1, "created_at"), value), params)
    [d] = exc.value.detail
    assert (tuple(d.loc), d.type) == (("accounts", 1, "tickets", 1, "created_at"), "date_range")
    assert d.msg == f"{value} is outside the years 1678-2261"


@settings(max_examples=40, deadline=None)
@given(
    stamps=st.lists(
        st.tuples(
            st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2024, 6, 9)),
            st.none() | st.integers(min_value=-12 * 60, max_value=14 * 60),
        ),
        min_size=3,
        max_size=3,
    ),
    days=st.lists(
        st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2024, 6, 9)),
        min_size=7,
        max_size=7,
        unique=True,
    ),
)
def test_request_times_are_utc_instants(params, stamps, days):
    """Naive times are UTC, offsets are honoured, dates are midnights UTC; as in a file."""
    b = copy.deepcopy(body(1))
    acc = b["accounts"][0]
    expected = []
    for ticket, (when, minutes) in zip(acc["tickets"], stamps, strict=True):
        when = when.replace(microsecond=0)
        if minutes is None:
            ticket["created_at"] = when.isoformat()
            expected.append(pd.Timestamp(when, tz="UTC"))
        else:
            zone = dt.timezone(dt.timedelta(minutes=minutes))
            ticket["created_at"] = when.replace(tzinfo=zone).isoformat()
            expected.append(pd.Timestamp(when.replace(tzinfo=zone)).tz_convert("UTC"))
        ticket["first_response_at"] = None
    for day, d in zip(acc["usage"], days, strict=True):
        day["date"] = d.isoformat()
    h = history(b, params)
    assert list(h.tickets["created_at"]) == expected
    assert list(h.usage["date"]) == [pd.Timestamp(d, tz="UTC") for d in days]
    assert str(h.usage["date"].dtype) == "datetime64[ns, UTC]"


@pytest.mark.parametrize(
    ("sent", "utc"),
    [
        ("2024-06-01T09:00:00+02", "2024-06-01T07:00:00Z"),
        ("2024-06-01 09:00:00.5+05", "2024-06-01T04:00:00.5Z"),
        ("2024-06-01T09:00+14", "2024-05-31T19:00:00Z"),
    ],
)
def test_an_offset_in_hours_only_is_iso_8601_as_in_a_file(params, sent, utc):
    """PostgreSQL writes a timestamptz as "2024-06-01 09:00:00+02", which a file may hold
    and the contract reads; the request refused it ("unexpected extra characters")."""
    b = copy.deepcopy(body(1))
    b["accounts"][0]["tickets"][0]["created_at"] = sent
    h = history(b, params)
    assert h.tickets["created_at"].iloc[0] == pd.Timestamp(utc)


@given(
    moments=st.lists(
        st.tuples(
            st.datetimes(min_value=dt.datetime(2023, 1, 2), max_value=dt.datetime(2024, 6, 8)),
            st.integers(min_value=-12 * 60, max_value=14 * 60),
        ),  # from the account's contract_start, 2023-01-01
        min_size=7,
        max_size=7,
        unique_by=lambda m: (m[0] - dt.timedelta(minutes=m[1])).date(),
    )
)
def test_dates_sent_with_a_time_and_offset_are_their_utc_day_as_in_a_file(params, moments):
    """The contract reads "2024-03-30T00:00:00+02:00" in a file as 2024-03-29 (UTC); so must
    the request (pydantic dropped the offset, and refused any time but midnight)."""
    b = copy.deepcopy(body(1))
    acc = b["accounts"][0]
    texts = [
        when.replace(microsecond=0, tzinfo=dt.timezone(dt.timedelta(minutes=m))).isoformat()
        for when, m in moments
    ]
    for day, text in zip(acc["usage"], texts, strict=True):
        day["date"] = text
    acc["account"]["notice_at"] = texts[0]
    h = history(b, params)
    expected = [pd.Timestamp(t).tz_convert("UTC").floor("D") for t in texts]
    assert list(h.usage["date"]) == expected
    assert h.accounts["notice_at"].iloc[0] == expected[0]


def test_declared_custom_fields_reach_the_features_as_in_the_batch_path(params):
    """A CRM field sent with the account is a feature in the API, not silently dropped."""
    from features.build import build_features
    from features.contract import validated
    from features.params import CustomField

    custom = {
        "nps": CustomField(kind="float", description="latest NPS"),
        "plan": CustomField(kind="category", levels=("basic", "pro")),
    }
    fp = params.features.model_copy(update={"custom_fields": custom})
    b = body(3)
    b["accounts"][0]["account"] |= {"nps": 42, "plan": "pro"}
    b["accounts"][1]["account"] |= {"nps": -10.5}  # plan left out: missing, not an error
    req = ScoreRequest.model_validate_json(json.dumps(b))
    served = request_history(req, params.contract, custom, NOW, SKEW)
    assert served.accounts["nps"].tolist()[:2] == [42.0, -10.5]
    assert pd.isna(served.accounts["nps"].iloc[2])

    batch_accounts = served.accounts.drop(columns=["nps", "plan"]).assign(
        nps=[42.0, -10.5, None], plan=["pro", None, None]
    )
    raw = {"accounts": batch_accounts, "tickets": served.tickets, "usage": served.usage}
    batch = validated(raw, params.contract, NOW)
    day = [pd.Timestamp("2024-06-10", tz="UTC")]
    got = build_features(served, day, fp).frame
    want = build_features(batch, day, fp).frame
    cols = [c for c in got.columns if "nps" in c or "plan" in c]
    assert cols, "custom fields produced no feature columns"
    pd.testing.assert_frame_equal(got[cols], want[cols])
    assert got[cols].notna().any().all()


@pytest.mark.parametrize(
    "field, value",
    [("nps", "abc"), ("nps", {"a": 1}), ("nps", [1]), ("nps", 10**400), ("nps", True),
     ("plan", 5), ("plan", ["pro"])],
)  # fmt: skip
def test_custom_field_of_the_wrong_kind_is_named(params, field, value):
    """A declared custom field with a value of the wrong kind is a 422 naming it, never a crash
    while the request's tables are built."""
    from features.params import CustomField

    custom = {
        "nps": CustomField(kind="float", description="latest NPS"),
        "plan": CustomField(kind="category", levels=("basic", "pro")),
    }
    b = body(2)
    b["accounts"][1]["account"][field] = value
    req = ScoreRequest.model_validate_json(json.dumps(b))
    with pytest.raises(RequestError) as exc:
        request_history(req, params.contract, custom, NOW, SKEW)
    assert exc.value.status == 422
    assert [d.loc for d in exc.value.detail] == [["accounts", 1, "account", field]]


TIMES = st.sampled_from(
    [None, "2024-06-11T12:00:00Z", "2024-06-10T12:04:00+00:00", "1985-06-01T23:00:00-02:00",
     "2024-06-02T09:00:00", "2024-05-01T00:00:00Z", "9999-12-31T23:59:59Z"]
)  # fmt: skip
DATES = st.sampled_from(
    [None, "2024-06-12", "2024-06-01", "2023-01-01", "1985-06-01", "0001-01-01"]
)
TEXTS = st.sampled_from([None, "", " padded ", "A-0", "A-1", "T-0-0", "platinum", "P1", "P9", "de"])
NUMBERS = st.sampled_from([None, 0, 1, 5, 10**12, 1e-10, 2.5, 12000.0])
FIELDS = {
    "account": {"account_id": TEXTS, "name": TEXTS, "tier": TEXTS, "language": TEXTS,
                "contract_start": DATES, "renewal_date": DATES, "arr": NUMBERS, "seats": NUMBERS},
    "tickets": {"ticket_id": TEXTS, "account_id": TEXTS, "priority": TEXTS, "status": TEXTS,
                "subject": TEXTS, "created_at": TIMES, "first_response_at": TIMES,
                "resolved_at": TIMES, "reopen_count": NUMBERS, "csat": NUMBERS,
                "sla_resolution_hours": NUMBERS},
    "usage": {"date": DATES, "active_users": NUMBERS, "account_id": TEXTS},
}  # fmt: skip


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_plain_python_path_equals_the_general_path(params, data):
    """Small requests are checked by `check_values`, large ones by `check` on frames: whatever the
    request, both give the same History or the same errors, field by field."""
    from pydantic import ValidationError

    import serving.intake as intake

    b = copy.deepcopy(body(2))
    for _ in range(data.draw(st.integers(1, 4), label="fields")):
        acc = b["accounts"][data.draw(st.integers(0, 1), label="account")]
        table = data.draw(st.sampled_from(["account", "tickets", "usage"]), label="table")
        row = acc[table] if table == "account" else acc[table][data.draw(st.integers(0, 2))]
        key = data.draw(st.sampled_from(sorted(FIELDS[table])), label="key")
        row[key] = data.draw(FIELDS[table][key], label="value")
    try:
        req = ScoreRequest.model_validate_json(json.dumps(b))
    except ValidationError:
        return  # pydantic's business, before either path

    def outcome():
        try:
            h = request_history(req, params.contract, params.features.custom_fields, NOW, SKEW)
        except RequestError as exc:
            return [d.model_dump() for d in exc.detail]
        return h

    plain = outcome()
    with pytest.MonkeyPatch.context() as m:
        m.setattr(intake, "PLAIN_ROWS", -1)
        general = outcome()
    if isinstance(plain, list) or isinstance(general, list):
        assert plain == general
        return
    for name in ("accounts", "tickets", "usage", "escalations"):
        pd.testing.assert_frame_equal(plain.table(name), general.table(name))


def test_strict_contract_is_made_once_per_params_object(params):
    """The no-future-days copy of the contract is kept, but never outlives a params change."""
    from serving.intake import _strict

    loose = params.contract.model_copy(update={"max_future_days": 3})
    assert _strict(loose).max_future_days == 0
    assert _strict(loose) is _strict(loose)
    other = loose.model_copy(update={"min_date": dt.date(2001, 1, 1)})
    assert _strict(other).min_date == dt.date(2001, 1, 1)
    assert _strict(loose).min_date == loose.min_date
    assert (
        _strict(loose).model_dump() == loose.model_copy(update={"max_future_days": 0}).model_dump()
    )


def test_the_api_reads_the_custom_fields_the_model_was_trained_with(params, monkeypatch):
    """A champion trained with the custom field `nps` is scored with its own feature settings;
    once params.yaml no longer declared it, /score refused the helpdesk's `nps` as an unknown
    field (while escrisk daily still fed it from the accounts file), and an account without it
    was scored with nps missing."""
    from types import SimpleNamespace

    import serving.scoring
    from features.build import full_spec
    from features.params import CustomField
    from serving.scoring import ScoringModel
    from serving.service import EscalationRisk

    trained = params.features.model_copy(
        update={"custom_fields": {"nps": CustomField(kind="float")}}
    )
    model = ScoringModel(full_spec(trained), {}, "m/1", feature_params=trained)
    seen = {}

    def score_rows(model, fs, *args):
        seen["nps"] = fs.frame["nps"].tolist()
        return [{"account_id": a} for a in fs.frame["account_id"]]

    monkeypatch.setattr(serving.scoring, "score_rows", score_rows)
    monkeypatch.setattr("serving.service.AccountScore", lambda **kw: kw)
    monkeypatch.setattr("serving.service.ScoreResponse", lambda **kw: kw)
    svc = SimpleNamespace(params=params, model=model, clock_skew=SKEW)
    b = body(2)
    b["accounts"][0]["account"]["nps"] = 42
    EscalationRisk.inner._score(svc, ScoreRequest.model_validate_json(json.dumps(b)))
    assert seen["nps"][0] == 42.0 and pd.isna(seen["nps"][1])


def test_a_mistake_in_every_row_is_counted_and_its_first_rows_listed(params):
    """A helpdesk's own priorities ('High') in every ticket broke the contract once a row: each
    was listed, which for a full portfolio's tickets cost seconds and tens of megabytes of
    answer. The first MAX_DETAILS are listed; the message counts them all."""
    from serving.intake import MAX_DETAILS

    b = body(n_accounts=2)
    b["accounts"][0]["tickets"] = [
        {**b["accounts"][0]["tickets"][0], "ticket_id": f"T-{j}", "priority": "High"}
        for j in range(MAX_DETAILS + 200)
    ]
    with pytest.raises(RequestError) as exc:
        history(b, params)
    assert len(exc.value.detail) == MAX_DETAILS
    assert exc.value.detail[0].loc == ["accounts", 0, "tickets", 0, "priority"]
    assert exc.value.message == (
        f"{MAX_DETAILS + 200} field(s) break the data contract (the first {MAX_DETAILS} listed)"
    )


def test_a_wrong_account_id_in_every_row_is_counted_and_its_first_rows_listed(params):
    """The cap on listed details covered the contract's violations only: a ticket export
    nested under the wrong accounts (every ticket's account_id another's) was listed row by row
    before them, however many. The first MAX_DETAILS of all are listed, every one counted."""
    from serving.intake import MAX_DETAILS

    b = body(n_accounts=2)
    b["accounts"][0]["tickets"] = [
        {**b["accounts"][0]["tickets"][0], "ticket_id": f"T-{j}", "account_id": "OTHER",
         "priority": "High"}
        for j in range(MAX_DETAILS + 200)
    ]  # fmt: skip
    with pytest.raises(RequestError) as exc:
        history(b, params)
    assert len(exc.value.detail) == MAX_DETAILS
    assert {d.type for d in exc.value.detail} == {"account_mismatch"}
    assert exc.value.message == (
        f"{2 * (MAX_DETAILS + 200)} field(s) break the data contract "
        f"(the first {MAX_DETAILS} listed)"
    )
