"""Small generated histories for the feature property tests (hypothesis strategies as fixtures)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import strategies as st

from features.contract import History
from features.params import CalendarParams

T0 = pd.Timestamp("2024-03-01", tz="UTC")  # the DST change of 2024-03-31 lies inside the range
HOURS = 24 * 60  # events fall within 60 days of T0
WORDS = [
    "great",
    "thanks",
    "broken",
    "terrible",
    "slow",
    "gut",
    "nicht",
    "schlecht",
    "Fehler",
    "danke",
    "Cancellation of our plan",  # notice phrases, so the notice family sees matches
    "Kündigung",
]


def _ts(hours: float) -> pd.Timestamp:
    return T0 + pd.Timedelta(seconds=int(hours * 3600))


@st.composite
def histories(draw, max_accounts: int = 3, max_tickets: int = 10) -> History:
    """A typed, valid History of 1-3 accounts with tickets, usage, escalations and churn."""
    n_acc = draw(st.integers(1, max_accounts))
    ids = [f"A{i}" for i in range(n_acc)]
    acc = pd.DataFrame(
        {
            "account_id": ids,
            "name": ids,
            "tier": draw(
                st.lists(
                    st.sampled_from(["enterprise", "business", "starter"]),
                    min_size=n_acc,
                    max_size=n_acc,
                )
            ),
            "arr": [float(draw(st.integers(0, 10**6))) for _ in ids],
            "seats": pd.array([draw(st.integers(1, 50)) for _ in ids], dtype="Int64"),
            "contract_start": [(T0 + pd.Timedelta(days=draw(st.integers(-30, 20)))) for _ in ids],
            "renewal_date": [(T0 + pd.Timedelta(days=draw(st.integers(30, 400)))) for _ in ids],
            "csm_owner": "csm",
            "region": "eu",
            "language": draw(
                st.lists(st.sampled_from(["en", "de"]), min_size=n_acc, max_size=n_acc)
            ),
            "term_months": pd.array(
                [draw(st.none() | st.sampled_from([1, 12, 24, 36])) for _ in ids], dtype="Int64"
            ),
            "notice_at": pd.Series(
                [
                    draw(st.none() | st.integers(20, 60).map(lambda d: T0 + pd.Timedelta(days=d)))
                    for _ in ids
                ],
                dtype="datetime64[ns, UTC]",
            ),
        }
    )
    rows = []
    for i in range(draw(st.integers(0, max_tickets))):
        created = draw(st.floats(0, HOURS, allow_nan=False))
        fr = draw(st.none() | st.floats(0, 200, allow_nan=False))
        res = draw(st.none() | st.floats(0, 400, allow_nan=False))
        rows.append(
            {
                "ticket_id": f"T{i}",
                "account_id": draw(st.sampled_from(ids)),
                "created_at": _ts(created),
                "priority": draw(st.sampled_from(["P1", "P2", "P3", "P4"])),
                "channel": "email",
                "subject": draw(st.sampled_from(WORDS)),
                "body": " ".join(draw(st.lists(st.sampled_from(WORDS), max_size=4))),
                "first_response_at": pd.NaT if fr is None else _ts(created + fr),
                "resolved_at": pd.NaT if res is None else _ts(created + res),
                "status": "open" if res is None else "solved",
                "reopen_count": draw(st.integers(0, 2)),
                "csat": None if res is None else draw(st.none() | st.integers(1, 5)),
                "sla_first_response_hours": float(draw(st.sampled_from([1, 4, 24, 48]))),
                "sla_resolution_hours": float(draw(st.sampled_from([8, 24, 72, 120]))),
            }
        )
    tickets = _typed_tickets(pd.DataFrame(rows, columns=TICKET_COLUMNS))
    usage_rows = []
    for aid in ids:
        days = draw(st.sets(st.integers(-5, 60), max_size=12))
        for d in sorted(days):
            usage_rows.append(
                {"account_id": aid, "date": T0 + pd.Timedelta(days=d),
                 "active_users": draw(st.integers(0, 20)), "events": draw(st.integers(0, 500))}
            )  # fmt: skip
    usage = pd.DataFrame(usage_rows, columns=["account_id", "date", "active_users", "events"])
    usage = usage.astype({"account_id": object, "active_users": "Int64", "events": "Int64"})
    usage["date"] = pd.to_datetime(usage["date"], utc=True).astype("datetime64[ns, UTC]")
    esc_rows = []
    for i in range(draw(st.integers(0, 4))):
        opened = draw(st.floats(0, HOURS, allow_nan=False))
        ack = draw(st.none() | st.floats(0, 100, allow_nan=False))
        close = draw(st.none() | st.floats(0, 300, allow_nan=False))
        esc_rows.append(
            {"escalation_id": f"E{i}", "account_id": draw(st.sampled_from(ids)), "opened_at": _ts(opened),
             "acknowledged_at": pd.NaT if ack is None else _ts(opened + ack),
             "closed_at": pd.NaT if close is None else _ts(opened + close),
             "level": "L1", "kind": "hierarchical", "reason": None, "ticket_id": None}
        )  # fmt: skip
    esc = pd.DataFrame(esc_rows, columns=ESC_COLUMNS).astype(object)
    for c in ("opened_at", "acknowledged_at", "closed_at"):
        esc[c] = pd.to_datetime(esc[c], utc=True).astype("datetime64[ns, UTC]")
    churned = [a for a in ids if draw(st.booleans()) and draw(st.booleans())]
    churn = pd.DataFrame(
        {"account_id": pd.Series(churned, dtype=object),
         "churned_at": pd.Series([_ts(draw(st.floats(24, HOURS))) for _ in churned], dtype="datetime64[ns, UTC]"),
         "reason": pd.Series([None] * len(churned), dtype=object)}
    )  # fmt: skip
    return History(accounts=acc, tickets=tickets, usage=usage, escalations=esc, churn=churn)


TICKET_COLUMNS = [
    "ticket_id", "account_id", "created_at", "priority", "channel", "subject", "body",
    "first_response_at", "resolved_at", "status", "reopen_count", "csat",
    "sla_first_response_hours", "sla_resolution_hours",
]  # fmt: skip
ESC_COLUMNS = [
    "escalation_id", "account_id", "opened_at", "acknowledged_at", "closed_at", "level", "kind",
    "reason", "ticket_id",
]  # fmt: skip


def _typed_tickets(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in ("created_at", "first_response_at", "resolved_at"):
        out[c] = pd.to_datetime(out[c], utc=True).astype("datetime64[ns, UTC]")
    for c in ("reopen_count", "csat"):
        out[c] = (
            pd.array(out[c].tolist(), dtype="Int64") if len(out) else pd.array([], dtype="Int64")
        )
    for c in ("sla_first_response_hours", "sla_resolution_hours"):
        out[c] = out[c].astype("float64")
    for c in ("ticket_id", "account_id", "priority", "channel", "subject", "body", "status"):
        out[c] = out[c].astype(object)
    return out


@pytest.fixture(scope="session")
def history_strategy():
    return histories()


@pytest.fixture(scope="session")
def portfolio_strategy():
    """Histories of up to 8 accounts: enough to cut into parts."""
    return histories(max_accounts=8, max_tickets=30)


@pytest.fixture(scope="session")
def as_of_strategy():
    """as_of dates over the generated range, some before any account starts."""
    return st.integers(-35, 65).map(lambda d: T0 + pd.Timedelta(days=d))


def shuffled(history: History, seed: int) -> History:
    """The same history with every table's rows in another order."""
    rng = np.random.default_rng(seed)

    def perm(df):
        return None if df is None else df.iloc[rng.permutation(len(df))].reset_index(drop=True)

    return History(
        accounts=perm(history.accounts), tickets=perm(history.tickets), usage=perm(history.usage),
        escalations=perm(history.escalations), churn=perm(history.churn),
    )  # fmt: skip


@pytest.fixture(scope="session")
def shuffle():
    return shuffled


BERLIN = CalendarParams(
    time_zone="Europe/Berlin",
    weekly={d: "08:00-18:00" for d in ("mon", "tue", "wed", "thu", "fri")},
    holidays=["12-25", "easter+1"],
)


def on_policy(history: History, seed: int, params, business: bool):
    """`history` with some tickets' targets the policy's (the generated ones are all their own),
    and the feature settings counting those in Berlin business hours (`business`) or on the clock."""
    rng = np.random.default_rng(seed)
    t = history.tickets
    marks = {
        "sla_first_response_from_policy": rng.random(len(t)) < 0.5,
        "sla_resolution_from_policy": rng.random(len(t)) < 0.5,
    }
    f = params.features
    if business:
        f = f.model_copy(update={"sla": f.sla.model_copy(update={"business_hours": BERLIN})})
    return replace(history, tickets=t.assign(**marks)), f


@pytest.fixture(scope="session")
def policy_marked():
    return on_policy
