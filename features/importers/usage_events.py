"""Product analytics: Segment, Mixpanel or Amplitude event exports, or per-user-per-day rows,
summed into daily `usage` per account (active users, events) through a user -> account mapping.

Records are processed in batches, so memory grows with distinct (account, day, user) triples,
not with the export's size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from features.contract_text import Phrase
from features.errors import refusal
from features.importers.common import ORIGIN, ImportContext, NothingToImport
from features.importers.fields import Columns, first
from features.importers.numbers import read_numbers
from features.importers.readers import iter_frames, iter_json_records, read_frame

ROLES = {
    "users": ("mapping", "users", "user_account"),
    "events": ("event", "track", "usage", "amplitude", "mixpanel", "segment"),
}
REQUIRED = ("events", "users")
# what each required part is, for an import that lacks it
DESCRIBE = {part: Phrase(f"p_usage_{part}") for part in REQUIRED}
EXPORT = Phrase("x_usage_events")
USER = ("userId", "user_id", "distinct_id", "properties.distinct_id", "properties.$user_id")
TIME = (
    "timestamp",
    "event_time",
    "time",
    "properties.time",
    "originalTimestamp",
    "receivedAt",
    "date",
    "day",
)
TYPE = ("type", "event", "event_type")
COUNT = ("events", "event_count", "count", "totals")
# the ids Segment (messageId) and Mixpanel/Amplitude ($insert_id) give an event to deduplicate it
EVENT_ID = ("messageId", "properties.$insert_id", "$insert_id", "insert_id")
BATCH = 100_000


def run(inputs: dict[str, list[Path]], ctx: ImportContext) -> dict[str, pd.DataFrame | None]:
    rep = ctx.report.table("usage", ", ".join(x.name for x in inputs["events"]))
    mapping, stray = _of_known_accounts(_mapping(inputs["users"], ctx), ctx)
    skip_types = {s.lower() for s in ctx.params.usage_events.skip_event_types}
    triples: list[pd.DataFrame] = []
    seen = _Seen()
    for path in inputs["events"]:
        batches = (
            _tabular_batches(path, ctx)
            if path.suffix.lower() in (".csv", ".parquet", ".pq")
            else _json_batches(path, ctx)
        )
        for batch in batches:
            rep.read += len(batch)
            triples.append(_reduce(batch, mapping, skip_types, ctx, seen, stray))
            if len(triples) > 8:
                triples = [_combine(triples)]
    per_user = (
        _combine(triples)
        if triples
        else pd.DataFrame(columns=["account_id", "date", "user", "events"])
    )
    usage = (
        per_user.groupby(["account_id", "date"], sort=True)
        .agg(active_users=("user", "nunique"), events=("events", "sum"))
        .reset_index()
    )
    usage["events"] = usage["events"].astype("int64")
    _refuse_if_mostly_stray(stray, ctx)
    if stray.records:  # named by the mapping's lines, where the account is
        shown = ctx.examples(stray.rows, "user_id", "account_id")
        rep.skip("skip_unknown_account_usage", stray.records, shown)
    if usage.empty:  # no activity at all is a wrong export or mapping, not a portfolio at rest
        raise NothingToImport("no_events_to_import", inputs["events"], ctx.report, "usage")
    used = rep.read - sum(rep.skipped.values())
    rep.merge("merge_events", used - len(usage))
    return {"usage": usage[["account_id", "date", "active_users", "events"]]}


def _mapping(paths: list[Path], ctx: ImportContext) -> pd.DataFrame:
    export = Phrase("x_usage_mapping")
    frames = []
    for path in paths:
        df = read_frame(path, export, ctx.on_bytes, encoding=ctx.params.csv_encoding)
        cols = Columns(df.columns, export, str(path))
        user = cols.require("user_id", "userId", "distinct_id", "user")
        account = cols.require("account_id", "group_id", "groupId", "company_id", "account")
        origins = pd.Series(ctx.origin_base(path) + df.index, index=df.index)
        for col in (user, account):  # 1.84374E+10: saved by a spreadsheet, digits lost
            ctx.spreadsheet_ids(df[col], "usage mapping", str(col), origins)
        frames.append(
            pd.DataFrame(
                {
                    "user": df[user].astype("string").str.strip(),
                    "account_id": df[account].astype("string").str.strip(),
                    ORIGIN: origins,
                }
            )
        )
    m = pd.concat(frames).dropna(subset=["user", "account_id"])
    # a row without a user or an account maps nothing (its user's events count as unmapped)
    m = m[(m["user"] != "") & (m["account_id"] != "")].drop_duplicates(["user", "account_id"])
    accounts = m.groupby("user")["account_id"].unique()
    torn = accounts[accounts.map(len) > 1]
    if len(torn):  # their events cannot be told apart: not "the last row wins" in silence
        shown = "; ".join(f"{u} -> {', '.join(map(str, a))}" for u, a in torn.head(5).items())
        more = Phrase("and_more", {"n": len(torn) - 5}) if len(torn) > 5 else ""
        raise refusal(
            "torn_users",
            paths=", ".join(str(x) for x in paths),
            n=len(torn),
            shown=shown,
            more=more,
        )
    m.attrs["account"] = str(account)  # as the (first) file names it, for an error
    return m


@dataclass
class _Stray:
    """A mapping's rows of accounts the folder lacks (`_of_known_accounts`), the records of
    their users skipped so far, and the records of users mapped to the folder's accounts."""

    rows: pd.DataFrame
    column: str
    records: int = 0
    mapped: int = 0


def _of_known_accounts(m: pd.DataFrame, ctx: ImportContext) -> tuple[pd.Series, _Stray]:
    """The user -> account mapping without users of accounts the folder does not have (test or
    prospect accounts): their events are skipped, counted, and the mapping's lines named
    (`_refuse_if_mostly_stray` once the events are read). It refused the whole import with the
    usage table's rows."""
    known, column = ctx.known_accounts, m.attrs.get("account", "account_id")
    stray = ~m["account_id"].isin(known) if known is not None else pd.Series(False, index=m.index)
    rows = m[stray].assign(user_id=m.loc[stray, "user"]).reset_index(drop=True)
    return m[~stray].set_index("user")["account_id"], _Stray(rows, column)


def _refuse_if_mostly_stray(stray: _Stray, ctx: ImportContext) -> None:
    """When most of the mapped users' event records are of accounts the folder lacks, the
    mapping does not name these accounts (ids in another format, another CRM's): each such
    line is refused, not most of the usage skipped. Counted in records, not accounts: many
    small test or prospect accounts lose little usage, and were refused; one unknown account
    holding most of the usage was skipped."""
    total = stray.records + stray.mapped
    if stray.records * 2 <= total:
        return
    for rec in stray.rows.to_dict("records"):
        ctx.told(
            "usage mapping",
            stray.column,
            rec[ORIGIN],
            "foreign_key",
            "mapping_unknown_account",
            {"v": rec["account_id"], "n": stray.records, "total": total},
            f"user_id={rec['user']}",
        )


def _json_batches(path: Path, ctx: ImportContext):
    rows: dict[str, list] = {
        ORIGIN: [],
        "user": [],
        "time": [],
        "type": [],
        "count": [],
        "eid": [],
        "mixpanel": [],  # its time is Mixpanel's properties.time (in project time before 2023)
    }
    base = ctx.origin_base(path, json_records=True)
    for row, rec in iter_json_records(path, EXPORT, ctx.on_bytes):
        rows[ORIGIN].append(base + row)
        rows["user"].append(first(rec, *USER))
        rows["time"].append(first(rec, *TIME))
        rows["type"].append(_event_type(rec))
        rows["count"].append(first(rec, *COUNT))
        rows["eid"].append(first(rec, *EVENT_ID))
        rows["mixpanel"].append(first(rec, *TIME[:3]) is None)
        if len(rows[ORIGIN]) >= BATCH:
            yield pd.DataFrame(rows)
            rows = {k: [] for k in rows}
    if rows[ORIGIN]:
        yield pd.DataFrame(rows)


def _event_type(rec: dict) -> object:
    """Segment's call type (identify, group, ...) unless it is a track call; else the event's name."""
    call = first(rec, "type")
    if call is not None and str(call).lower() != "track":
        return call
    return first(rec, "event", "event_type")


def _tabular_batches(path: Path, ctx: ImportContext):
    base = ctx.origin_base(path)
    for chunk in iter_frames(path, EXPORT, ctx.on_bytes, encoding=ctx.params.csv_encoding):
        if chunk.empty:  # a header without rows: nothing to read (and no columns to select by)
            continue
        cols = Columns(
            chunk.columns,
            Phrase("x_usage_rows"),
            str(path),
        )
        user = cols.require(*[u for u in USER if "." not in u])
        time = cols.require(*[t for t in TIME if "." not in t])
        typ = cols.find(*TYPE)
        count = cols.find(*COUNT)
        eid = cols.find(*[e for e in EVENT_ID if "." not in e])
        # a per-day row's other columns (an event name, a platform) tell two rows of one user
        # and day apart; rows equal in all of them are the same row given twice
        others = [c for c in chunk.columns if c not in (user, time, typ, count, eid)]
        extra = (
            pd.util.hash_pandas_object(chunk[others].astype(str), index=False).to_numpy()
            if count and others
            else 0
        )
        ctx.spreadsheet_ids(chunk[user], "usage events", str(user), base + chunk.index.to_series())
        batch = pd.DataFrame(
            {
                ORIGIN: base + chunk.index,
                "user": chunk[user].values,
                "time": chunk[time].values,
                "type": chunk[typ].values if typ else None,
                "count": chunk[count].values if count else None,
                "eid": chunk[eid].values if eid else None,
                "extra": extra,
            }
        )
        # the export's names, for messages; a count column makes each row's count required; a
        # date column (rows per user and day) holds calendar days, not times in a zone
        batch.attrs = {"time": str(time), "days": str(time).lower() in ("date", "day")}
        if count:
            batch.attrs["count"] = str(count)
        yield batch


def _reduce(
    batch: pd.DataFrame,
    mapping: pd.Series,
    skip_types: set[str],
    ctx: ImportContext,
    seen: _Seen,
    stray: _Stray,
) -> pd.DataFrame:
    rep = ctx.report.table("usage")
    names = {"time": "timestamp", "count": "count", **batch.attrs}
    days = bool(batch.attrs.get("days"))
    b = batch
    skip = b["type"].map(lambda t: str(t).lower() in skip_types if t is not None else False)
    for t, n in b.loc[skip, "type"].value_counts().items():
        rep.skip("skip_event_type", int(n), type=str(t))
    b = b[~skip]
    no_user = b["user"].isna() | (b["user"].astype(str).str.strip() == "")
    # the first few of each reason named by file and line (and user), to look them up
    shown = ctx.examples(b[no_user])
    rep.skip("skip_no_user", int(no_user.sum()), shown, field="userId/user_id/distinct_id")
    b = b[~no_user]
    user = b["user"].astype(str).str.strip()
    of_stray = user.isin(stray.rows["user"])  # counted once for all batches, in `run`
    stray.records += int(of_stray.sum())
    b, user = b[~of_stray], user[~of_stray]
    account = user.map(mapping)
    stray.mapped += int(account.notna().sum())
    unmapped = b[account.isna()].assign(user_id=user).drop_duplicates("user_id")
    shown = ctx.examples(unmapped, "user_id")
    rep.skip("skip_unmapped_user", int(account.isna().sum()), shown)
    b, user, account = b[account.notna()], user[account.notna()], account[account.notna()]
    no_time = b["time"].isna() | (b["time"].astype(str).str.strip() == "")
    shown = ctx.examples(b[no_time].assign(user_id=user), "user_id")
    rep.skip("skip_no_time", int(no_time.sum()), shown, field=names["time"])
    b, user, account = b[~no_time], user[~no_time], account[~no_time]
    when = ctx.times(b["time"], "usage events", names["time"], b[ORIGIN], dates=days)
    zone = ctx.params.usage_events.mixpanel_time_zone
    if "mixpanel" in b and zone != "UTC":
        mp = b["mixpanel"].astype(bool) & when.notna()
        when = when.where(~mp, _project_time(when[mp], zone))
    count, bad, empty = _counts(
        b["count"], counted="count" in batch.attrs, notation=ctx.params.number_format
    )
    for idx in empty[empty].index:
        ctx.told("usage events", names["count"], b.loc[idx, ORIGIN], "not_null", "count_empty", {})
    for idx in bad[bad].index:
        value = {"v": b.loc[idx, "count"]}
        ctx.told(
            "usage events", names["count"], b.loc[idx, ORIGIN], "type", "count_not_whole", value
        )
    out = pd.DataFrame(
        {"account_id": account, "date": when.dt.normalize(), "user": user, "events": count}
    )
    dated = out["date"].notna()
    key = _keys(b[dated], user[dated], when[dated], counted="count" in batch.attrs and days)
    return _sum(_drop_repeats(out[dated], key, b.loc[dated, ORIGIN], seen, ctx, names["count"]))


def _project_time(when: pd.Series, zone: str) -> pd.Series:
    """Mixpanel's epochs of a project in project time (created before 2023): their UTC reading
    is the wall time in `zone`, so an evening event in California fell on the next UTC day. A
    time the DST change repeats is standard time, one it skips the first after it, as for the
    exports' naive times."""
    wall = when.dt.tz_localize(None)
    local = wall.dt.tz_localize(zone, ambiguous=False, nonexistent="shift_forward")
    return local.dt.tz_convert("UTC").astype(when.dtype)


def _counts(
    values: pd.Series, counted: bool, notation: str = "auto"
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(events per record, mask of unreadable counts, mask of empty counts). An event record
    without a count is one event; in an export with a count column (per-day rows) an empty
    cell is an error, not 1: the day's events are unknown. A count must be a whole number, so
    "12,5" or a German "1.234" is named, never read as 1; written as text, it is digits only:
    a German "1.000" (a thousand) is no 1, unless importers.number_format says the notation."""
    blank = values.isna() | (values.astype(str).str.strip() == "")
    if notation != "auto":  # 1.000 is a thousand (de) or refused as not whole (en)
        num, _, _ = read_numbers(values.where(~blank), None, notation, whole=True)
        bad = ~blank & ~(num.notna() & (num >= 0) & (num == num.round()))
    else:
        num = pd.to_numeric(values.where(~blank), errors="coerce")
        text = values.map(lambda v: isinstance(v, str))
        digits = values.astype(str).str.strip().str.fullmatch(r"\d+")
        bad = ~blank & (~(num.notna() & (num >= 0) & (num == num.round())) | (text & ~digits))
    empty = blank if counted else pd.Series(False, index=values.index)
    return num.fillna(1), bad, empty


def _combine(parts: list[pd.DataFrame]) -> pd.DataFrame:
    return _sum(pd.concat(parts, ignore_index=True))


def _sum(df: pd.DataFrame) -> pd.DataFrame:
    """Events per (account, day, user): the smallest state that still gives distinct users."""
    return df.groupby(["account_id", "date", "user"], as_index=False).agg(events=("events", "sum"))


@dataclass
class _Seen:
    """Records already counted, by key (`_keys`), with their count and `ORIGIN`: a record
    repeating one is the same event or day given twice, not more activity. Kept as sorted runs
    merged like a binary counter, so a batch is looked up in O(log n) runs whatever the export's
    size, not re-indexed each time."""

    runs: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)

    def find(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(mask of keys seen, their counts, their `ORIGIN` codes)."""
        found = np.zeros(len(keys), dtype=bool)
        events = np.full(len(keys), np.nan)
        origins = np.full(len(keys), -1, dtype=np.int64)
        for k, e, o in self.runs:
            pos = np.minimum(np.searchsorted(k, keys), len(k) - 1)
            hit = (k[pos] == keys) & ~found
            found |= hit
            events[hit], origins[hit] = e[pos[hit]], o[pos[hit]]
        return found, events, origins

    def add(self, keys: np.ndarray, events: np.ndarray, origins: np.ndarray) -> None:
        """Keys not seen before (each once)."""
        if not len(keys):
            return
        order = np.argsort(keys, kind="stable")
        self.runs.append((keys[order], events[order], origins[order]))
        while len(self.runs) > 1 and len(self.runs[-2][0]) <= 2 * len(self.runs[-1][0]):
            (k1, e1, o1), (k2, e2, o2) = self.runs.pop(-2), self.runs.pop()
            k, e, o = np.concatenate([k1, k2]), np.concatenate([e1, e2]), np.concatenate([o1, o2])
            order = np.argsort(k, kind="stable")
            self.runs.append((k[order], e[order], o[order]))


def _keys(b: pd.DataFrame, user: pd.Series, when: pd.Series, counted: bool) -> pd.Series:
    """What makes a record the same as another: an event's id (Segment's messageId, Mixpanel's
    $insert_id) with its user, time and event; a per-day row's user, day, event and other
    columns (two overlapping exports concatenated, or one file given twice). NA: no key (an
    event without an id cannot be told from another of the same second)."""
    key = pd.Series(pd.NA, index=b.index, dtype="UInt64")
    eid = b["eid"] if "eid" in b else pd.Series(None, index=b.index, dtype=object)
    has_id = eid.notna() & (eid.astype(str).str.strip() != "")
    parts = pd.DataFrame(
        {
            "eid": eid.astype(str),
            "user": user.astype(str),
            "when": when.astype("int64"),  # dated rows only: no NaT
            "type": b["type"].astype(str),
            "extra": b["extra"].astype(str) if "extra" in b else "",
        }
    )
    hashed = pd.util.hash_pandas_object(parts, index=False).astype("UInt64")
    keyed = has_id | counted
    key[keyed] = hashed[keyed]
    return key


def _drop_repeats(
    out: pd.DataFrame,
    key: pd.Series,
    origin: pd.Series,
    seen: _Seen,
    ctx: ImportContext,
    count_name: str,
) -> pd.DataFrame:
    """`out` without records repeating an earlier one (`_keys`), counted in the report with the
    first few named; a repeat with another count is an error naming both rows: which of them
    holds the day's events cannot be told, and summing them would count it twice."""
    rep = ctx.report.table("usage")
    has = key.notna()
    if not has.any():
        return out
    df = pd.DataFrame(
        {"key": key[has].astype("uint64"), "events": out.loc[has, "events"], "origin": origin[has]}
    )
    keys = df["key"].to_numpy()
    before, before_events, before_origins = seen.find(keys)
    again = df["key"].duplicated().to_numpy()  # a repeat within this batch
    new = ~before & ~again
    ref = df[new].drop_duplicates("key").set_index("key")
    seen.add(keys[new], df["events"].to_numpy()[new], df["origin"].to_numpy(np.int64)[new])
    repeat = before | again
    rows = df[repeat]
    if rows.empty:
        return out
    inner = ref.reindex(rows["key"].to_numpy())
    earlier = pd.DataFrame(
        {
            "events": np.where(before[repeat], before_events[repeat], inner["events"].to_numpy()),
            "origin": np.where(before[repeat], before_origins[repeat], inner["origin"].to_numpy()),
        }
    )
    same = rows["events"].to_numpy() == earlier["events"].to_numpy()
    shown = out.loc[rows.index[same]].assign(user_id=out["user"], **{ORIGIN: rows["origin"]})
    shown = shown.assign(date=shown["date"].dt.strftime("%Y-%m-%d"))
    rep.skip("skip_repeated", int(same.sum()), ctx.examples(shown, "user_id", "date"))
    for i in map(int, (~same).nonzero()[0]):
        idx = rows.index[i]
        at = ctx.place(earlier["origin"].iat[i])
        values = {
            "user": out.loc[idx, "user"],
            "day": out.loc[idx, "date"].strftime("%Y-%m-%d"),
            "v": _shown(rows["events"].iat[i]),
            "w": _shown(earlier["events"].iat[i]),
            "first": Phrase(f"place_{at.kind}", {"file": at.file, "n": at.number}) if at else "",
        }
        ctx.told(
            "usage events", count_name, rows["origin"].iat[i], "unique", "count_repeated", values
        )
    return out.drop(rows.index)


def _shown(x: object) -> str:
    return f"{float(x):.15g}"  # type: ignore[arg-type]
