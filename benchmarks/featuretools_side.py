"""The featuretools half of bench_featuretools.py; runs in featuretools' own environment.

    python featuretools_side.py WORKDIR CONFIG   (CONFIG: subset | families)

WORKDIR holds the Parquet tables and cutoffs that bench_featuretools.py wrote. Deep feature
synthesis with one cutoff time per (account, as_of) and `include_cutoff_time=False`, so, as in
ours, only data strictly before as_of counts and a window is [as_of - w, as_of).

- subset: the issue's reading: count and mean over tickets and usage plus count where priority =
  P1..P4, one 90-day training window, one call (11 features, no point-in-time handling of
  resolution or CSAT).
- families: our feature families as far as DFS expresses them, one `calculate_feature_matrix`
  call per training window (all history, 7, 30, 90, 28 days, and the usage baseline as a 90-day
  window before a cutoff moved back 28 days), each feature renamed to our name; the matrix is
  written to WORKDIR/featuretools_families.parquet for bench_featuretools.py to compare.

Prints one JSON line: features, seconds, CPU seconds (and user / system), per-call seconds.
Imports nothing of ours: it must run where only featuretools and pandas are installed.
"""

from __future__ import annotations

import json
import resource
import sys
import time
import warnings
from pathlib import Path

import featuretools as ft
import pandas as pd
from featuretools.primitives import TimeSince, TimeSinceLast

# the shipped params.yaml `features:` values (windows, priorities, usage windows); a change there
# shows up as a missing or disagreeing feature in bench_featuretools.py's comparison
PRIORITIES = ["P1", "P2", "P3", "P4"]
USAGE_LONG, USAGE_BASELINE = 28, 90
LONG = 365  # features.long_window_days


def _naive(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    """featuretools wants naive times; everything here is UTC."""
    return df.assign(**{c: pd.to_datetime(df[c], utc=True).dt.tz_localize(None) for c in cols})


def load(work: Path) -> dict[str, pd.DataFrame]:
    times = {
        "accounts": ["contract_start"],
        "tickets": ["created_at", "resolved_at", "first_response_at"]
        + [f"sla_{k}_{e}_at" for k in ("first_response", "resolution") for e in ("breach", "near_miss")],
        "usage": ["date"],
        "escalations": ["opened_at"],
        "cutoffs": ["time"],
    }  # fmt: skip
    return {n: _naive(pd.read_parquet(work / f"{n}.parquet"), c) for n, c in times.items()}


def subset_entityset(t: dict[str, pd.DataFrame]) -> ft.EntitySet:
    """The first comparison's entityset: accounts, tickets and usage as exported."""
    tickets = t["tickets"][
        ["ticket_id", "account_id", "created_at", "reopen_count", "csat", "priority"]
    ]
    tickets = tickets.assign(
        resolution_hours=(t["tickets"]["resolved_at"] - tickets["created_at"]).dt.total_seconds() / 3600
    )  # fmt: skip
    usage = t["usage"].reset_index(drop=True)
    es = ft.EntitySet("accounts")
    es.add_dataframe(dataframe_name="accounts", dataframe=t["accounts"][["account_id", "contract_start"]], index="account_id")  # fmt: skip
    es.add_dataframe(dataframe_name="tickets", dataframe=tickets, index="ticket_id", time_index="created_at", logical_types={"priority": "Categorical"})  # fmt: skip
    es.add_dataframe(dataframe_name="usage", dataframe=usage, index="usage_id", make_index=True, time_index="date")  # fmt: skip
    for child in ("tickets", "usage"):
        es.add_relationship("accounts", "account_id", child, "account_id")
    es.add_interesting_values(dataframe_name="tickets", values={"priority": PRIORITIES})
    return es


def families_entityset(t: dict[str, pd.DataFrame]) -> ft.EntitySet:
    """One child dataframe per kind of event, time-indexed by when the event became known.

    Per-ticket inputs DFS cannot derive are precomputed by the caller: sentiment score and its
    negative flag, the notice flag, SLA breach and near-miss times; response and resolution
    hours are whole seconds / 3600 as in features/tickets.py.
    """
    tk = t["tickets"]
    hours = lambda later: (later - tk["created_at"]).dt.total_seconds() // 1 / 3600  # noqa: E731
    children: dict[str, tuple[pd.DataFrame, str, str]] = {
        "tickets": (tk[["ticket_id", "account_id", "created_at", "priority", "sentiment", "negative"]], "ticket_id", "created_at"),
        "notices": (tk.loc[tk["notice"], ["ticket_id", "account_id", "created_at"]], "ticket_id", "created_at"),
        "resolutions": (tk.loc[tk["resolved_at"].notna(), ["ticket_id", "account_id", "resolved_at"]].assign(
            reopened=(tk["reopen_count"] > 0).astype(float), resolution_hours=hours(tk["resolved_at"])), "ticket_id", "resolved_at"),
        "responses": (tk.loc[tk["first_response_at"].notna(), ["ticket_id", "account_id", "first_response_at"]].assign(
            response_hours=hours(tk["first_response_at"])), "ticket_id", "first_response_at"),
        "ratings": (tk.loc[tk["resolved_at"].notna() & tk["csat"].notna(), ["ticket_id", "account_id", "resolved_at", "csat"]].assign(
            low=tk["csat_low"].astype(float)), "ticket_id", "resolved_at"),
        "usage": (t["usage"].reset_index(drop=True).rename_axis("usage_id").reset_index(), "usage_id", "date"),
        "escalations": (t["escalations"], "escalation_id", "opened_at"),
    }  # fmt: skip
    for kind in ("first_response", "resolution"):
        for event in ("breach", "near_miss"):
            at = f"sla_{kind}_{event}_at"
            children[f"sla_{kind}_{event}es"] = (
                tk.loc[tk[at].notna(), ["ticket_id", "account_id", "priority", at]],
                "ticket_id",
                at,
            )
    es = ft.EntitySet("accounts")
    accounts = t["accounts"][["account_id", "contract_start", "arr", "seats", "tier"]]
    es.add_dataframe(dataframe_name="accounts", dataframe=accounts, index="account_id", logical_types={"tier": "Categorical", "seats": "Double"})  # fmt: skip
    for name, (df, index, time_index) in children.items():
        types = {"priority": "Categorical"} if "priority" in df.columns else {}
        if "csat" in df.columns:
            types["csat"] = "Double"
        es.add_dataframe(dataframe_name=name, dataframe=df, index=index, time_index=time_index, logical_types=types)  # fmt: skip
        es.add_relationship("accounts", "account_id", name, "account_id")
    for name in ("tickets", "sla_first_response_breaches", "sla_resolution_breaches"):
        es.add_interesting_values(dataframe_name=name, values={"priority": PRIORITIES})
    return es


def families_calls() -> list[tuple[str | None, int, dict[str, str]]]:
    """Per call: (training window, cutoff moved back by days, {DFS feature name: our name})."""
    everything = {
        "arr": "arr", "seats": "seats", "tier": "tier",
        "TIME_SINCE(contract_start, unit=days)": "tenure_days",
        "TIME_SINCE_LAST(notices.created_at, unit=days)": "notice_days_since",
    }  # fmt: skip
    long = {
        "COUNT(ratings)": f"csat_count_{LONG}d", "MEAN(ratings.csat)": f"csat_mean_{LONG}d",
        "SUM(ratings.low)": f"csat_low_count_{LONG}d", "COUNT(escalations)": f"escalations_{LONG}d",
        "TIME_SINCE_LAST(escalations.opened_at, unit=days)": "escalations_days_since_last",
    }  # fmt: skip
    calls: list[tuple[str | None, int, dict[str, str]]] = [
        (None, 0, everything),
        (f"{LONG} days", 0, long),
    ]
    for w in (7, 30, 90):
        names = {
            "COUNT(tickets)": f"tickets_{w}d",
            "MEAN(tickets.sentiment)": f"sentiment_mean_{w}d",
            "MIN(tickets.sentiment)": f"sentiment_min_{w}d",
            "MEAN(tickets.negative)": f"sentiment_negative_share_{w}d",
        }
        names.update({f"COUNT(tickets WHERE priority = {p})": f"tickets_{p.lower()}_{w}d" for p in PRIORITIES})  # fmt: skip
        for kind in ("first_response", "resolution"):
            names[f"COUNT(sla_{kind}_breaches)"] = f"sla_{kind}_breaches_{w}d"
            names[f"COUNT(sla_{kind}_near_misses)"] = f"sla_{kind}_near_misses_{w}d"
            if w == 30:
                names.update({f"COUNT(sla_{kind}_breaches WHERE priority = {p})": f"sla_{kind}_breaches_{p.lower()}_{w}d" for p in PRIORITIES})  # fmt: skip
        if w == 7:
            names.update({"MEAN(usage.active_users)": "usage_active_users_mean_7d", "MEAN(usage.events)": "usage_events_mean_7d"})  # fmt: skip
        if w == 90:
            names.update({
                "MEAN(resolutions.reopened)": "tickets_reopen_rate_90d",
                "MEAN(resolutions.resolution_hours)": "tickets_resolution_hours_mean_90d",
                "MEAN(responses.response_hours)": "tickets_first_response_hours_mean_90d",
                "MEAN(ratings.csat)": "csat_mean_90d", "SUM(ratings.low)": "csat_low_count_90d",
                "COUNT(escalations)": "escalations_90d", "COUNT(notices)": "notice_tickets_90d",
            })  # fmt: skip
        calls.append((f"{w} days", 0, names))
    usage = {"MEAN(usage.active_users)": "active_users", "MEAN(usage.events)": "events"}
    calls.append((f"{USAGE_LONG} days", 0, {k: f"usage_{v}_mean_{USAGE_LONG}d" for k, v in usage.items()}))  # fmt: skip
    calls.append((f"{USAGE_BASELINE} days", USAGE_LONG, {k: f"usage_{v}_baseline" for k, v in usage.items()}))  # fmt: skip
    return calls


def cpu_split() -> tuple[float, float]:
    """This process's user and system CPU seconds so far."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime, r.ru_stime


def timing(t: float, c: float, split: tuple[float, float]) -> dict:
    """Wall, CPU, user and system seconds since the given readings."""
    user, system = (now - then for now, then in zip(cpu_split(), split, strict=True))
    return {"seconds": round(time.perf_counter() - t, 2), "cpu_seconds": round(time.process_time() - c, 2),
            "user_seconds": round(user, 2), "system_seconds": round(system, 2)}  # fmt: skip


def run_families(es: ft.EntitySet, cutoffs: pd.DataFrame, work: Path) -> dict:
    t, c, split = time.perf_counter(), time.process_time(), cpu_split()
    defs = ft.dfs(
        entityset=es, target_dataframe_name="accounts", features_only=True, max_depth=1,
        agg_primitives=["count", "mean", "min", "sum", TimeSinceLast(unit="days")],
        trans_primitives=[TimeSince(unit="days")], where_primitives=["count"],
    )  # fmt: skip
    by_name = {f.get_name(): f for f in defs}
    calls = families_calls()
    missing = sorted({n for _, _, names in calls for n in names} - set(by_name))
    if missing:
        raise SystemExit(f"DFS did not synthesise {missing}; it did: {sorted(by_name)}")
    parts, per_call = [], []
    for window, back, names in calls:
        t0 = time.perf_counter()
        shifted = cutoffs.assign(time=cutoffs["time"] - pd.Timedelta(days=back))
        m = ft.calculate_feature_matrix(
            [by_name[n] for n in names], entityset=es, cutoff_time=shifted,
            training_window=window, include_cutoff_time=False, cutoff_time_in_index=True,
            n_jobs=1, verbose=False,
        )  # fmt: skip
        m = m.rename(columns=names).reset_index()
        m["time"] += pd.Timedelta(days=back)
        parts.append(m.set_index(["account_id", "time"]))
        per_call.append({"window": window, "shift_days": back, "features": len(names), "seconds": round(time.perf_counter() - t0, 2)})  # fmt: skip
    took = timing(t, c, split)
    matrix = pd.concat(parts, axis=1)
    matrix.reset_index().to_parquet(work / "featuretools_families.parquet")
    return {"features": matrix.shape[1], "rows": len(matrix), **took, "calls": per_call}


def run_subset(es: ft.EntitySet, cutoffs: pd.DataFrame) -> dict:
    t, c, split = time.perf_counter(), time.process_time(), cpu_split()
    matrix, defs = ft.dfs(
        entityset=es, target_dataframe_name="accounts", agg_primitives=["count", "mean"],
        trans_primitives=[], where_primitives=["count"], cutoff_time=cutoffs,
        training_window="90 days", include_cutoff_time=False, max_depth=1, n_jobs=1, verbose=False,
    )  # fmt: skip
    took = timing(t, c, split)
    return {"features": len(defs), "rows": len(matrix), **took,
            "calls": [{"window": "90 days", "features": len(defs), "seconds": took["seconds"]}]}  # fmt: skip


def main(work: Path, config: str) -> None:
    warnings.filterwarnings("ignore")
    tables = load(work)
    cutoffs = tables["cutoffs"][["account_id", "time"]]
    if config == "subset":
        out = run_subset(subset_entityset(tables), cutoffs)
    elif config == "families":
        out = run_families(families_entityset(tables), cutoffs, work)
    else:
        raise SystemExit(f"unknown configuration {config!r}: subset or families")
    print(json.dumps({"config": config, "version": ft.__version__, **out}))


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])
