"""The simulated world: deterministic, valid, realistic in its rates, and as hard as real data."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from features.contract import check
from features.errors import UserError
from features.notice import gives_notice
from serving.cli import main
from serving.commands.simulate import simulate_to
from training.simulate import simulate


def _files(folder):
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_same_seed_gives_byte_identical_files(tmp_path, params, fmt):
    simulate_to(tmp_path / "a", 25, 4, 5, params, fmt)
    simulate_to(tmp_path / "b", 25, 4, 5, params, fmt)
    simulate_to(tmp_path / "c", 25, 4, 6, params, fmt)
    a, b, c = (_files(tmp_path / x) for x in "abc")
    assert set(a) >= {
        f"{t}.{fmt}" for t in ("accounts", "tickets", "usage", "escalations", "churn")
    }
    assert f"truth/risk.{fmt}" in a and f"truth/ticket_tone.{fmt}" in a
    assert a == b
    assert a[f"tickets.{fmt}"] != c[f"tickets.{fmt}"]


def test_cli_writes_folder_and_prints_summary(tmp_path, capsys):
    out = tmp_path / "world"
    assert (
        main(["simulate", "--accounts", "20", "--months", "3", "--seed", "1", "--out", str(out)])
        == 0
    )
    printed = capsys.readouterr().out
    for word in (
        "accounts: 20",
        "tickets:",
        "escalations:",
        "churned accounts:",
        "monthly logo churn:",
    ):
        assert word in printed
    assert (out / "accounts.parquet").is_file() and (out / "truth" / "health.parquet").is_file()


def test_cli_tells_its_summary_and_refusal_in_the_teams_language(tmp_path, capsys):
    """`escrisk simulate` had no --language: a German team read its summary and refusals in
    English, with dot decimals."""
    import re

    out = tmp_path / "world"
    argv = ["simulate", "--accounts", "20", "--months", "3", "--seed", "1", "--out", str(out)]
    assert main([*argv, "--language", "de"]) == 0
    printed = capsys.readouterr().out
    assert "Accounts: 20\nTickets: " in printed and "\ngekündigte Accounts: " in printed
    assert re.search(r"monatliche Logo-Kündigungsrate: \d+,\d\d\s%", printed), printed
    assert f"{out} (parquet) und {out / 'truth'} geschrieben" in printed
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "accounts.csv").write_text("account_id\n", encoding="utf-8")
    argv = ["simulate", "--accounts", "20", "--months", "3", "--seed", "1", "--out", str(mine)]
    assert main([*argv, "--language", "de"]) == 1
    assert "die keine Simulation geschrieben hat" in capsys.readouterr().err


def test_end_date_moves_the_world_to_end_today_or_on_a_given_day(tmp_path, capsys):
    """`make demo` simulated a world ending on params' fixed date, months before the day it ran:
    its list was not today's, every due time long past and the CSM page's source banner red.
    `--end-date` ends the world on a given day's midnight, or today's (the demo's)."""
    argv = ["simulate", "--accounts", "20", "--months", "3", "--seed", "1"]
    assert main([*argv, "--out", str(tmp_path / "a"), "--end-date", "2025-01-01"]) == 0
    usage = pd.read_parquet(tmp_path / "a" / "usage.parquet")
    assert pd.Timestamp(usage["date"].max()).date() == dt.date(2024, 12, 31)
    today = dt.datetime.now(dt.UTC).date()
    assert main([*argv, "--out", str(tmp_path / "b"), "--end-date", "today"]) == 0
    usage = pd.read_parquet(tmp_path / "b" / "usage.parquet")
    # the clock may pass midnight between the two reads
    assert pd.Timestamp(usage["date"].max()).date() in {today - dt.timedelta(days=1), today}
    capsys.readouterr()
    assert main([*argv, "--out", str(tmp_path / "c"), "--end-date", "31.12.2024"]) == 1
    assert (
        "--end-date '31.12.2024': not a date; give YYYY-MM-DD or 'today'" in capsys.readouterr().err
    )
    assert (
        main([*argv, "--out", str(tmp_path / "c"), "--end-date", "gestern", "--language", "de"])
        == 1
    )
    assert "--end-date 'gestern': kein Datum" in capsys.readouterr().err


def test_a_world_that_does_not_fit_is_refused_in_the_teams_language_naming_end_date(
    tmp_path, capsys
):
    """`--language de` and `--end-date` came apart: a world outside the contract's dates was
    refused in English, naming simulation.end_date for the day --end-date gave, and so were
    --accounts 0 and a negative --seed."""
    argv = ["simulate", "--months", "3", "--out", str(tmp_path / "w"), "--language", "de"]
    assert main([*argv, "--accounts", "5", "--seed", "1", "--end-date", "1990-02-01"]) == 1
    err = capsys.readouterr().err
    assert "--months 3: die Welt (--end-date 1990-02-01," in err, err
    assert "contract.min_date 1990-01-01" in err and "simulation.end_date" not in err
    assert main([*argv, "--accounts", "0", "--seed", "1"]) == 1
    assert "--accounts 0: mindestens 1 angeben" in capsys.readouterr().err
    assert main([*argv, "--accounts", "5", "--seed", "-1"]) == 1
    assert "--seed -1: ein Seed ist eine ganze Zahl ab 0" in capsys.readouterr().err
    assert not (tmp_path / "w").exists()


def test_world_passes_the_data_contract(tiny_world, params):
    now = pd.Timestamp(params.simulation.end_date, tz="UTC")
    _, violations = check(tiny_world.tables, params.contract, now)
    assert violations == []


def test_tickets_look_like_a_helpdesk_export(make_world, params):
    world = make_world(120, 2, 6)
    tickets, accounts = world.tables["tickets"], world.tables["accounts"]
    end = pd.Timestamp(params.simulation.end_date, tz="UTC")
    unresolved = tickets["resolved_at"].isna()
    assert unresolved.any()
    assert tickets.loc[unresolved, "status"].isin(params.contract.open_statuses).all()
    assert tickets.loc[~unresolved, "status"].isin(["solved", "closed"]).all()
    assert (tickets["created_at"] < end).all() and (tickets["resolved_at"].dropna() < end).all()
    own = tickets["sla_first_response_hours"].notna()
    assert 0 < own.mean() < 1  # some carry their own targets, others take the policy's
    assert set(accounts["language"]) == {"en", "de"}
    assert tickets["body"].nunique() > 0.9 * len(tickets)
    assert len(tickets) > 10 * len(world.tables["escalations"])
    tone = world.truth["ticket_tone"]
    assert (tone["ticket_id"] == tickets["ticket_id"]).all() and tone["tone"].between(-1, 1).all()
    de = tickets["account_id"].map(accounts.set_index("account_id")["language"]) == "de"
    assert tickets.loc[de, "body"].str.contains("Grüße|Gruß|Danke", regex=True).mean() > 0.5


def test_bad_simulation_settings_are_user_errors(params):
    tiers = dict(params.simulation.tiers)
    tiers["platinum"] = tiers["starter"]
    sim = params.simulation.model_copy(update={"tiers": tiers})
    with pytest.raises(UserError, match="platinum"):
        simulate(5, 2, 0, sim, params.contract)
    with pytest.raises(UserError, match="accounts"):
        simulate(0, 2, 0, params.simulation, params.contract)


def test_a_world_outside_the_contracts_dates_is_refused(params):
    """simulate wrote worlds its own contract then refused (every contract_start before
    min_date with --months 500) or crashed (end_date 9999-01-01) as an internal error."""
    with pytest.raises(UserError, match=r"--months 500: .*contract\.min_date 1990-01-01"):
        simulate(5, 500, 0, params.simulation, params.contract)
    far = params.simulation.model_copy(update={"end_date": dt.date(9999, 1, 1)})
    with pytest.raises(UserError, match=r"contract\.max_date 2100-01-01"):
        simulate(5, 2, 0, far, params.contract)
    simulate(5, 2, 0, params.simulation, params.contract)  # the shipped settings fit


# --- a two-year world for the statistics ---------------------------------------------------------


@pytest.fixture(scope="module")
def big(make_world):
    return make_world(800, 3, 24)


def _monthly(world, end, months):
    acc, churn, esc = world.tables["accounts"], world.tables["churn"], world.tables["escalations"]
    churned_at = acc["account_id"].map(churn.set_index("account_id")["churned_at"])
    starts = pd.date_range(end - pd.DateOffset(months=months), end, freq="MS", tz="UTC")
    churn_rate, esc_rate = [], []
    for lo, hi in zip(starts[:-1], starts[1:], strict=True):
        active = (acc["contract_start"] <= lo) & ~(churned_at <= lo)
        churn_rate.append(((churned_at >= lo) & (churned_at < hi)).sum() / active.sum())
        opened = esc["opened_at"]
        esc_rate.append(
            esc.loc[(opened >= lo) & (opened < hi), "account_id"].nunique() / active.sum()
        )
    return float(np.mean(churn_rate)), float(np.mean(esc_rate))


@pytest.mark.slow
def test_rates_are_realistic(big, params):
    churn, esc = _monthly(big, pd.Timestamp(params.simulation.end_date, tz="UTC"), 24)
    print(f"monthly logo churn {churn:.2%}, accounts escalating per month {esc:.2%}")
    assert 0.008 <= churn <= 0.022
    assert 0.03 <= esc <= 0.08
    decisions = big.truth["churn_decisions"]
    gap = (decisions["effective_at"] - decisions["decided_at"]).dt.days
    assert (gap == params.simulation.churn.notice_days).all()


@pytest.mark.slow
def test_most_churn_decisions_arrive_as_a_notice_ticket(big, params):
    tickets, tone = big.tables["tickets"], big.truth["ticket_tone"]
    notices = tickets[(tone["triggered_by"] == "churn_notice").to_numpy()]
    decided = big.truth["churn_decisions"].set_index("account_id")["decided_at"]
    assert notices["account_id"].is_unique
    on_day = notices["created_at"].dt.normalize() == notices["account_id"].map(decided)
    assert on_day.all()  # written on the decision day, never before it
    share = len(notices) / len(decided)
    assert abs(share - params.simulation.churn.notice_ticket_share) < 0.1
    assert gives_notice(
        notices["subject"].to_numpy(object),
        notices["body"].to_numpy(object),
        params.features.notice.phrases,
    ).all()


def _labels(risk, events, column, horizon, end):
    """1 when the account has an event in [as_of, as_of + horizon); snapshots past the end dropped."""
    snaps = risk[risk["as_of"] + pd.Timedelta(days=horizon) <= end].reset_index(drop=True)
    ev = events[["account_id", column]].sort_values(["account_id", column])
    hit = np.zeros(len(snaps), dtype=bool)
    times_by_account = {a: g[column].array.asi8 for a, g in ev.groupby("account_id")}
    for account, group in snaps.groupby("account_id"):
        times = times_by_account.get(account)
        if times is None:
            continue
        asof = group["as_of"].array.asi8
        i = np.searchsorted(times, asof)
        nxt = times[np.minimum(i, len(times) - 1)]
        hit[group.index] = (i < len(times)) & (nxt < asof + horizon * 86_400 * 10**9)
    return snaps, hit


@pytest.mark.slow
def test_oracle_auc_is_in_the_realistic_band(big, params):
    end = pd.Timestamp(params.simulation.end_date, tz="UTC")
    risk = big.truth["risk"]
    aucs = {}
    for target, table, column, horizon in (
        ("escalation_30d", "escalations", "opened_at", 30),
        ("churn_90d", "churn", "churned_at", 90),
    ):
        snaps, y = _labels(risk, big.tables[table], column, horizon, end)
        aucs[target] = roc_auc_score(y, snaps[target])
        # calibrated, not just well ranked: mean probability close to the observed rate
        assert abs(snaps[target].mean() - y.mean()) < 0.25 * y.mean()
    print("oracle ROC-AUC", {k: round(v, 3) for k, v in aucs.items()})
    for target, auc in aucs.items():
        assert 0.75 <= auc <= 0.92, (target, auc)


@pytest.mark.slow
def test_no_observed_column_is_a_function_of_health(big):
    health = big.truth["health"]
    usage = big.tables["usage"].merge(health, on=["account_id", "date"])
    seats = (
        usage["account_id"]
        .map(big.tables["accounts"].set_index("account_id")["seats"])
        .astype(float)
    )
    weekday = usage["date"].dt.weekday < 5
    share = usage["active_users"].astype(float) / seats
    per_seat = usage["events"].astype(float) / seats
    tone = big.truth["ticket_tone"]
    csat = big.tables["tickets"]["csat"].astype(float)
    pairs = {
        "active share": (share[weekday], usage.loc[weekday, "health"]),
        "events per seat": (per_seat[weekday], usage.loc[weekday, "health"]),
        "ticket tone": (tone["tone"], tone["health"]),
        "csat": (csat[csat.notna()], tone.loc[csat.notna(), "health"]),
    }
    for name, (x, h) in pairs.items():
        rho = pd.Series(np.asarray(x)).corr(pd.Series(np.asarray(h)), method="spearman")
        assert 0.05 < abs(rho) < 0.8, (name, rho)  # related, but far from determined


def _window_means(matrix, counts, rows, days, lo, hi):
    """Per point: sum(matrix) / sum(counts) over days [day - lo, day - hi) of its row."""
    csum = np.concatenate([np.zeros((len(matrix), 1)), np.cumsum(matrix, axis=1)], axis=1)
    ccnt = np.concatenate([np.zeros((len(counts), 1)), np.cumsum(counts, axis=1)], axis=1)
    a, b = np.clip(days - lo, 0, None), np.clip(days - hi, 0, None)
    n = ccnt[rows, b] - ccnt[rows, a]
    with np.errstate(invalid="ignore", divide="ignore"):
        return (csum[rows, b] - csum[rows, a]) / n, n


@pytest.mark.slow
def test_usage_drops_and_negative_tone_precede_escalations(big, params):
    end = pd.Timestamp(params.simulation.end_date, tz="UTC")
    start = end - pd.DateOffset(months=24)
    ids = {a: i for i, a in enumerate(big.tables["accounts"]["account_id"])}
    n_days = (end - start).days
    usage = big.tables["usage"]
    u_row = usage["account_id"].map(ids).to_numpy()
    u_day = (usage["date"] - start).dt.days.to_numpy()
    users = np.zeros((len(ids), n_days))
    present = np.zeros((len(ids), n_days))
    users[u_row, u_day] = usage["active_users"].astype(float).to_numpy()
    present[u_row, u_day] = 1.0
    tickets = big.tables["tickets"]
    t_row = tickets["account_id"].map(ids).to_numpy()
    t_day = (tickets["created_at"] - start).dt.days.to_numpy()
    tone_sum = np.zeros((len(ids), n_days))
    tone_n = np.zeros((len(ids), n_days))
    np.add.at(tone_sum, (t_row, t_day), big.truth["ticket_tone"]["tone"].to_numpy())
    np.add.at(tone_n, (t_row, t_day), 1.0)

    def rates(rows, days):
        recent, n_recent = _window_means(users, present, rows, days, 14, 0)
        before, n_before = _window_means(users, present, rows, days, 56, 14)
        ok = (n_recent >= 7) & (n_before >= 21) & (before > 0)
        drop = (recent[ok] < 0.9 * before[ok]).mean()
        tone, n_tone = _window_means(tone_sum, tone_n, rows, days, 21, 0)
        negative = (tone[n_tone > 0] < -0.3).mean()
        return drop, negative

    esc = big.tables["escalations"]
    esc_drop, esc_neg = rates(
        esc["account_id"].map(ids).to_numpy(), (esc["opened_at"] - start).dt.days.to_numpy()
    )
    pick = np.random.default_rng(0).integers(
        0, len(usage), 5 * len(esc)
    )  # random active account-days
    rnd_drop, rnd_neg = rates(u_row[pick], u_day[pick])
    print(
        f"usage drop before escalation {esc_drop:.2f} vs random {rnd_drop:.2f}; negative tone {esc_neg:.2f} vs {rnd_neg:.2f}"
    )
    assert esc_drop > 1.2 * rnd_drop
    assert esc_neg > 1.3 * rnd_neg


def test_truth_risk_covers_active_accounts_on_mondays(tiny_world, params):
    risk = tiny_world.truth["risk"]
    assert (risk["as_of"].dt.weekday == 0).all() and (
        risk["as_of"] == risk["as_of"].dt.normalize()
    ).all()
    assert risk[["escalation_30d", "churn_90d"]].stack().between(0, 1).all()
    acc = tiny_world.tables["accounts"].set_index("account_id")
    started = risk["account_id"].map(acc["contract_start"])
    assert (started <= risk["as_of"]).all()
    churned = risk["account_id"].map(
        tiny_world.tables["churn"].set_index("account_id")["churned_at"]
    )
    # like the feature rows: up to and including the churn day, where churn is certain
    assert not (churned < risk["as_of"]).any()
    today = risk[churned == risk["as_of"]]
    assert (today["churn_90d"] == 1).all() and (today["escalation_30d"] == 0).all()
    assert not risk.duplicated(["account_id", "as_of"]).any()


def test_truth_rows_are_the_feature_rows_and_agree_on_the_renewal(make_world, make_history, params):
    """The oracle is scored on the rows the models see, and the renewal the features know at as_of
    is the true one: the export's renewal date (for a churner the one it left at) must not leak."""
    from features.build import build_features

    world, history = make_world(200, 1, 12), make_history(200, 1, 12)
    risk = world.truth["risk"]
    frame = build_features(history, pd.DatetimeIndex(risk["as_of"].unique()), params.features).frame
    key = ["account_id", "as_of"]
    assert (
        frame[key]
        .sort_values(key)
        .reset_index(drop=True)
        .equals(risk[key].sort_values(key).reset_index(drop=True))
    )
    churned = world.tables["churn"].set_index("account_id")["churned_at"]
    today = risk[risk["as_of"] == risk["account_id"].map(churned)]  # still a row on its churn day
    assert len(today) and (today["churn_90d"] == 1).all() and (today["escalation_30d"] == 0).all()
    both = frame.merge(risk, on=key, suffixes=("", "_true"))
    days = both["days_to_renewal"]
    months = both["account_id"].map(history.accounts.set_index("account_id")["term_months"])
    term = months.astype(float) * 366 / 12  # the longest a calendar term can be
    started = both["as_of"] == both["account_id"].map(
        history.accounts.set_index("account_id")["contract_start"]
    )  # on a contract's first day its first renewal is a whole term away
    assert ((days >= 0) & ((days < term) | (started & (days == term)))).all()
    # the accounts table's term_months gives the true schedule, never a function of the future
    # churn: the same renewal, or (in the last notice_days before it, when the truth already
    # counts to the next one) a whole term earlier; simulated terms are whole days (365.25 a
    # year, rounded), the feature's calendar months: a day off per step back now and then
    off = days - both["days_to_renewal_true"]
    assert ((off.abs() <= 5) | ((off + term).abs() <= 5)).all()
    assert (off == 0).mean() > 0.85
    soon = days < 90
    assert both.loc[soon, "churn_90d"].mean() < 0.5


@pytest.mark.slow
def test_shocks_show_at_once_as_urgent_angry_tickets(big, params):
    tickets, tone = big.tables["tickets"], big.truth["ticket_tone"]
    burst = tone["triggered_by"].isin(list(params.simulation.shocks)).to_numpy()
    urgent = tickets["priority"].isin(params.contract.priorities[:2]).to_numpy()
    print(f"urgent {urgent[burst].mean():.2f} vs {urgent[~burst].mean():.2f}")
    assert burst.sum() > 100
    assert urgent[burst].mean() > 2 * urgent[~burst].mean()
    assert tone["tone"][burst].mean() < tone["tone"][~burst].mean() - 0.3


def _monthly_observations(world):
    """Per account and calendar month: the mean latent health and what the tables show of it."""
    acc = world.tables["accounts"].set_index("account_id")
    u = world.tables["usage"].merge(world.truth["health"], on=["account_id", "date"])
    u = u[u["date"].dt.weekday < 5]
    share = u["active_users"].astype(float) / u["account_id"].map(acc["seats"]).astype(float)
    u = u.assign(share=share, month=u["date"].dt.year * 12 + u["date"].dt.month)
    g = u.groupby(["account_id", "month"]).agg(
        health=("health", "mean"), share=("share", "mean"), days=("share", "size")
    )
    g = g[g["days"] >= 15]
    t = world.tables["tickets"]
    t = t.assign(
        month=t["created_at"].dt.year * 12 + t["created_at"].dt.month,
        urgent=t["priority"].isin(["P1", "P2"]).astype(float),
        csat=t["csat"].astype(float),
    )
    g = g.join(
        t.groupby(["account_id", "month"]).agg(
            n=("ticket_id", "size"), urgent=("urgent", "sum"), csat=("csat", "mean")
        )
    )
    seats = np.log(g.index.get_level_values(0).map(acc["seats"]).astype(float).to_numpy())
    share = g["share"].clip(0.01, 0.99)
    x = pd.DataFrame(
        {
            "usage": np.log(share / (1 - share)),
            "tickets": np.log1p(g["n"].fillna(0)) - 0.3 * seats,
            "urgent": np.log1p(g["urgent"].fillna(0)),
            "csat": g["csat"].fillna(g["csat"].mean()),
            "no_csat": g["csat"].isna().astype(float),
            "seats": seats,
        }
    )
    return x, g["health"]


@pytest.mark.slow
def test_observed_history_together_reveals_most_of_health(big):
    """No channel's monthly mean pins the health down, but together they explain most of it:
    the model can approach the oracle only if the observed history carries the latent state."""
    from sklearn.linear_model import LinearRegression

    x, health = _monthly_observations(big)
    r = {c: float(np.corrcoef(x[c], health)[0, 1]) for c in ("usage", "tickets", "urgent", "csat")}
    r2 = LinearRegression().fit(x, health).score(x, health)
    print({k: round(v, 2) for k, v in r.items()}, f"R2 {r2:.2f}")
    assert all(0.3 < abs(v) < 0.85 for v in r.values()), r
    assert r2 > 0.65


def test_every_notice_is_a_ticket_or_a_crm_date(make_world, params):
    """A churn decision is notified once: as a helpdesk ticket on the decision day, or (the rest)
    recorded by the CSM as the accounts table's notice_at, that day."""
    world = make_world(200, 1, 12)
    decided = world.truth["churn_decisions"].set_index("account_id")["decided_at"]
    tone = world.truth["ticket_tone"]
    by_ticket = set(tone.loc[tone["triggered_by"] == "churn_notice", "account_id"])
    crm = world.tables["accounts"].set_index("account_id")["notice_at"].dropna()
    assert len(by_ticket) and len(crm)
    assert not by_ticket & set(crm.index)
    assert by_ticket | set(crm.index) == set(decided.index)
    assert (crm == decided[crm.index].dt.normalize()).all()
    terms = world.tables["accounts"]["term_months"]
    assert set(terms) == {int(m) for m in params.simulation.churn.contract_months}
