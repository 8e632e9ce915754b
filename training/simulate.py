"""A seeded, realistic world of B2B SaaS accounts whose ground truth we know.

Each account carries a latent health that mean-reverts to a slowly moving baseline and is knocked
down by shocks (outages, bad releases, a champion leaving, billing disputes, competitor offers).
Tickets, SLA performance, CSAT, text tone and daily usage are noisy functions of that health:
each observation alone is noisy (mostly day-to-day and per-ticket noise, small persistent account
offsets), but weeks of them together reveal most of it, as a real account's history does. A shock
shows at once as a burst of urgent, angry tickets about it, larger for a harder hit. Escalations
and churn are random outcomes of the health. A churn decision is given as written notice
`churn.notice_days` before it takes effect; a share (`churn.notice_ticket_share`) of customers send
that notice to the helpdesk, so it shows as a cancellation ticket on the decision day, as it would
in a real export; the rest tell their CSM, who records the day in the CRM (the accounts table's
`notice_at`). The accounts table also has each contract's term (`term_months`). The truth tables
hold the latent path and, for every account and Monday, the true probability of an escalation
within 30 days and of churn within 90 days given only the latent state at that moment (future
shocks integrated out by Monte Carlo).

Pure: everything random comes from a numpy Generator seeded by `seed`; no I/O, no clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.errors import UserError, refusal
from features.params import ContractParams
from training import phrases
from training.params import SimulationParams

DAY_NS = 86_400 * 10**9
HOUR_NS = 3_600 * 10**9
NAT = np.iinfo(np.int64).min
STATUSES = ("new", "open", "pending", "on_hold", "solved", "closed")
KINDS = ("hierarchical", "functional")
TICKET_REASONS = ("sla", "outage", "bug", "billing", "relationship", "other")


@dataclass(frozen=True)
class World:
    """Observed tables (the data contract's five) and the truth no command may read."""

    tables: dict[str, pd.DataFrame]
    truth: dict[str, pd.DataFrame]


@dataclass(frozen=True)
class _Calendar:
    start_ns: int
    days: int  # T: simulated days [0, T)
    burn: int  # B: days simulated before the start
    weekday: np.ndarray  # (T,) 0 = Monday
    holiday: np.ndarray  # (n_languages, T) bool


def simulate(
    n_accounts: int,
    months: int,
    seed: int,
    sim: SimulationParams,
    contract: ContractParams,
    end_from: str = "simulation.end_date",
) -> World:
    """A world of `n_accounts` accounts over the `months` months before `sim.end_date`, which
    `end_from` names where a refusal tells it (`escrisk simulate --end-date` sets it); refusals
    told in the command's language."""
    if n_accounts < 1:
        raise refusal("sim_accounts", n=n_accounts)
    if months < 1:
        raise refusal("sim_months", n=months)
    if seed < 0:
        raise refusal("sim_seed", n=seed)
    _check_params(sim, contract)
    _check_span(sim, contract, months, end_from)
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(8)]
    cal = _calendar(sim, months)
    acc = _accounts(rngs[0], n_accounts, sim, contract, cal)
    lat = _latent(rngs[1], acc, sim, cal)
    life = _churn(rngs[2], acc, lat, sim, cal)
    tickets, tone, by_ticket = _tickets(rngs[3], acc, lat, life, sim, contract, cal)
    usage, health = _usage(rngs[4], acc, lat, life, sim, cal)
    escalations = _escalations(rngs[5], acc, lat, life, tickets, tone, sim, contract, cal)
    risk = _oracle(rngs[6], acc, lat, life, sim, cal)
    churn, decisions = _churn_tables(rngs[7], acc, lat, life, sim, cal)
    accounts = _accounts_table(acc, life, cal, sim, by_ticket)
    tables = {
        "accounts": accounts,
        "tickets": tickets,
        "usage": usage,
        "escalations": escalations,
        "churn": churn,
    }
    truth = {
        "health": health,
        "risk": risk,
        "shocks": _shock_table(acc, lat, life, sim, cal),
        "ticket_tone": tone,
        "churn_decisions": decisions,
    }
    return World(tables=tables, truth=truth)


# --- set-up -----------------------------------------------------------------------------------


def _check_params(sim: SimulationParams, contract: ContractParams) -> None:
    problems = simulation_problems(sim, contract)
    if problems:
        raise UserError("invalid simulation settings:\n  " + "\n  ".join(problems))


def simulation_problems(sim: SimulationParams, contract: ContractParams) -> list[str]:
    """`simulation.KEY: ...` for each name the simulator would write that the contract does not
    allow, or it has no words for: checked when params.yaml loads, and again by `simulate`."""
    problems = []
    for tier in sim.tiers:
        if tier not in contract.tiers:
            problems.append(f"simulation.tiers.{tier}: not a contract tier {list(contract.tiers)}")
    for lang in sim.languages:
        if lang not in contract.languages:
            problems.append(
                f"simulation.languages.{lang}: not a contract language {list(contract.languages)}"
            )
        elif lang not in phrases.LANGUAGES:
            problems.append(
                f"simulation.languages.{lang}: the simulator writes no tickets in it "
                f"(it writes {list(phrases.LANGUAGES)})"
            )
        if lang not in sim.regions or lang not in sim.holidays:
            problems.append(f"simulation.languages.{lang}: needs entries in regions and holidays")
    if set(sim.tickets.priority_mix) != set(contract.priorities):
        problems.append(
            "simulation.tickets.priority_mix: must name exactly the contract priorities"
        )
    if set(sim.tickets.priority_severity) != set(contract.priorities):
        problems.append(
            "simulation.tickets.priority_severity: must name exactly the contract priorities"
        )
    for level in sim.escalations.levels:
        if level not in contract.escalation_levels:
            problems.append(
                f"simulation.escalations.levels.{level}: not a contract escalation level"
            )
    for name, values in (("ticket_statuses", STATUSES), ("escalation_kinds", KINDS)):
        missing = [v for v in values if v not in getattr(contract, name)]
        if missing:
            problems.append(f"contract.{name}: the simulator needs {missing}")
    for topic in list(sim.tickets.topics) + [s.topic for s in sim.shocks.values()]:
        if topic not in phrases.TOPICS:
            problems.append(
                f"simulation: unknown ticket topic {topic!r}; known: {list(phrases.TOPICS)}"
            )
    for lang, days in sim.holidays.items():
        for d in days:
            try:
                pd.Timestamp(f"2000-{d}")
            except ValueError:
                problems.append(f"simulation.holidays.{lang}: {d!r} is not MM-DD")
    if sum(t.share for t in sim.tiers.values()) <= 0:  # languages: `Shares` at load
        problems.append("simulation.tiers: the shares must not all be zero")
    return problems


def _check_span(
    sim: SimulationParams, contract: ContractParams, months: int, end_from: str
) -> None:
    """The world's dates must pass the contract's limits, or `validate` refuses what simulate
    wrote (--months 500 gave contract starts in 1979, before min_date). Counted in days with a
    month's and a year's upper length, so no date arithmetic can overflow."""
    end = sim.end_date.toordinal()
    first = end - math.ceil(months * 31 + sim.max_tenure_years * 366)
    last = end + max(sim.churn.contract_months) * 31  # the renewal dates in force at the end
    if first < contract.min_date.toordinal() or last > contract.max_date.toordinal():
        raise refusal(
            "sim_span", months=months, end_from=end_from, end=str(sim.end_date),
            tenure=sim.max_tenure_years, renewal=max(sim.churn.contract_months),
            min=str(contract.min_date), max=str(contract.max_date),
        )  # fmt: skip


def _shares(d: dict) -> np.ndarray:
    w = np.array([float(v) for v in d.values()])
    return w / w.sum()


def _categorical(rng: np.random.Generator, probs: np.ndarray, n: int) -> np.ndarray:
    return np.minimum(
        np.searchsorted(np.cumsum(probs), rng.random(n), side="right"), len(probs) - 1
    )


def _categorical_rows(rng: np.random.Generator, logits: np.ndarray) -> np.ndarray:
    """One draw per row from row-wise softmax probabilities."""
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    c = np.cumsum(p, axis=1)
    u = rng.random(len(p)) * c[:, -1]
    return np.minimum((u[:, None] >= c).sum(axis=1), p.shape[1] - 1)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _calendar(sim: SimulationParams, months: int) -> _Calendar:
    end = pd.Timestamp(sim.end_date)
    start = end - pd.DateOffset(months=months)
    days = int((end - start).days)
    dates = pd.date_range(start, periods=days, freq="D")
    mmdd = dates.strftime("%m-%d")
    holiday = np.stack(
        [np.isin(mmdd, list(sim.holidays.get(lang, ()))) for lang in phrases.LANGUAGES]
    )
    return _Calendar(
        start_ns=int(start.value),
        days=days,
        burn=sim.health.burn_in_days,
        weekday=np.asarray(dates.weekday),
        holiday=holiday,
    )


def _accounts(rng, n: int, sim: SimulationParams, contract: ContractParams, cal: _Calendar) -> dict:
    tier_names = list(sim.tiers)
    tiers = [sim.tiers[t] for t in tier_names]
    tier = _categorical(rng, _shares({t: v.share for t, v in sim.tiers.items()}), n)
    lang_keys = list(sim.languages)
    lang_local = _categorical(rng, _shares(sim.languages), n)
    language = np.array([phrases.LANGUAGES.index(k) for k in lang_keys])[lang_local]
    region = np.empty(n, dtype=object)
    for i, lang in enumerate(lang_keys):
        m = lang_local == i
        names = np.array(list(sim.regions[lang]), dtype=object)
        region[m] = names[_categorical(rng, _shares(sim.regions[lang]), int(m.sum()))]
    u_size = rng.random(n)
    lo_s = np.array([t.seats[0] for t in tiers])[tier]
    hi_s = np.array([t.seats[1] for t in tiers])[tier]
    seats = np.floor(np.exp(np.log(lo_s) + u_size * (np.log(hi_s + 1) - np.log(lo_s)))).astype(
        np.int64
    )
    seats = np.clip(seats, lo_s, hi_s)
    u_arr = np.clip(u_size + rng.normal(0, 0.15, n), 0, 1)
    lo_a = np.array([t.arr[0] for t in tiers])[tier]
    hi_a = np.array([t.arr[1] for t in tiers])[tier]
    arr = np.round(np.exp(np.log(lo_a) + u_arr * (np.log(hi_a) - np.log(lo_a))), -2)
    arr = np.clip(arr, lo_a, hi_a)
    existing = rng.random(n) < sim.existing_share
    tenure = np.ceil(rng.random(n) * sim.max_tenure_years * 365.25).astype(np.int64)
    start_day = np.where(existing, -tenure - 1, rng.integers(0, max(cal.days - 1, 1), n))
    term_choices = np.array(list(sim.churn.contract_months), dtype=np.int64)
    term_months = term_choices[_categorical(rng, _shares(sim.churn.contract_months), n)]
    term = np.round(term_months * 365.25 / 12).astype(np.int64)
    factors = np.array(sim.tickets.custom_sla_factors)
    custom = rng.random(n) < np.array([t.custom_sla_share for t in tiers])[tier]
    sla_factor = np.where(custom, factors[rng.integers(0, len(factors), n)], np.nan)
    n_csm = max(1, int(np.ceil(n / sim.accounts_per_csm)))
    combos = [f"{f} {la}" for f in phrases.FIRST_NAMES for la in phrases.LAST_NAMES]
    order = rng.permutation(len(combos))
    csms = [
        combos[order[i % len(combos)]] + ("" if i < len(combos) else f" {i // len(combos) + 1}")
        for i in range(n_csm)
    ]
    return {
        "n": n,
        "id": _ids("A-", n, 5),
        "name": phrases.company_names(rng, language),
        "tier": tier,
        "tier_names": tier_names,
        "language": language,
        "region": region,
        "seats": seats,
        "arr": arr,
        "start": start_day,
        "term": term,
        "term_months": term_months,
        "sla_factor": sla_factor,
        "csm": np.array(csms, dtype=object)[rng.integers(0, n_csm, n)],
        "ticket_propensity": np.exp(
            rng.normal(0, sim.tickets.account_sd, n) - sim.tickets.account_sd**2 / 2
        ),
        "adoption": rng.normal(0, sim.usage.account_sd, n),
        "events_per_user": sim.usage.events_per_user * np.exp(rng.normal(0, 0.4, n) - 0.08),
    }


# --- latent health ----------------------------------------------------------------------------


def _shock_probs(sim: SimulationParams) -> tuple[np.ndarray, np.ndarray]:
    """Daily probability that a shock kind's event happens (platform-wide or per account), and reach."""
    rate = np.array([s.rate_per_year for s in sim.shocks.values()])
    reach = np.array([s.reach if s.platform else 1.0 for s in sim.shocks.values()])
    return 1.0 - np.exp(-rate / 365.0), reach


def _rates(sim: SimulationParams) -> tuple[float, float]:
    h = sim.health
    return 1 - 2 ** (-1 / h.recovery_half_life_days), 1 - 2 ** (-1 / h.baseline_half_life_days)


def _step(h, mu, eps, jump, sim: SimulationParams, k_h: float, k_mu: float, perm_jump):
    """One day of latent dynamics; the simulator and the oracle share it so they cannot disagree."""
    h_new = h + k_h * (mu - h) + sim.health.daily_sd * eps - jump
    mu_new = mu + k_mu * (sim.health.long_run_mean - mu) - perm_jump
    return h_new, mu_new


def _impacts(rng, kinds: list, shape) -> np.ndarray:
    mean = np.array([k.impact_mean for k in kinds])[:, None]
    sd = np.array([k.impact_sd for k in kinds])[:, None]
    return mean * np.exp(sd * rng.standard_normal(shape) - sd**2 / 2)


def _shock_hits(rng, n: int, total: int, sim: SimulationParams):
    """Every (day, account, kind, impact) shock hit; sparse, since shocks are rare.

    Per-account kinds hit each account-day independently; a platform event happens on a day for
    everyone and hits each account with probability `reach`.
    """
    p_event, reach = _shock_probs(sim)
    days, accounts, kinds = [], [], []
    for k, shock in enumerate(sim.shocks.values()):
        if shock.platform:
            for day in np.flatnonzero(rng.random(total) < p_event[k]):
                hit = np.flatnonzero(rng.random(n) < reach[k])
                days.append(np.full(len(hit), day))
                accounts.append(hit)
                kinds.append(np.full(len(hit), k))
        else:
            cells = n * total
            count = int(rng.binomial(cells, p_event[k]))
            pos = np.sort(rng.choice(cells, size=count, replace=False))
            days.append(pos // n)
            accounts.append(pos % n)
            kinds.append(np.full(count, k))
    empty = [np.zeros(0, np.int64)]
    hit_day = np.concatenate(days or empty).astype(np.int64)
    hit_acc = np.concatenate(accounts or empty).astype(np.int64)
    hit_kind = np.concatenate(kinds or empty).astype(np.int64)
    order = np.lexsort((hit_kind, hit_day, hit_acc))
    hit_day, hit_acc, hit_kind = hit_day[order], hit_acc[order], hit_kind[order]
    mean = np.array([s.impact_mean for s in sim.shocks.values()])[hit_kind]
    sd = np.array([s.impact_sd for s in sim.shocks.values()])[hit_kind]
    x = mean * np.exp(sd * rng.standard_normal(len(hit_kind)) - sd**2 / 2)
    return hit_day, hit_acc, hit_kind, x


def _latent(rng, acc: dict, sim: SimulationParams, cal: _Calendar) -> dict:
    n, total = acc["n"], cal.burn + cal.days
    k_h, k_mu = _rates(sim)
    mu = sim.health.long_run_mean + sim.health.baseline_sd * rng.standard_normal(n)
    h = mu + sim.health.initial_sd * rng.standard_normal(n)
    sj, sa, sk, sx = _shock_hits(rng, n, total, sim)
    perm = np.array([s.permanent_share for s in sim.shocks.values()])
    jump = np.zeros((total, n))
    np.add.at(jump, (sj, sa), sx)
    perm_jump = np.zeros((total, n))
    np.add.at(perm_jump, (sj, sa), sx * perm[sk])
    eps = rng.standard_normal((total, n))
    H = np.empty((total, n), dtype=np.float32)
    MU = np.empty((total, n), dtype=np.float32)
    for j in range(total):
        h, mu = _step(h, mu, eps[j], jump[j], sim, k_h, k_mu, perm_jump[j])
        H[j] = h
        MU[j] = mu
    del eps, jump, perm_jump
    return {
        "H": np.ascontiguousarray(H.T),
        "MU": np.ascontiguousarray(MU.T),
        "shock_a": sa,
        "shock_t": sj - cal.burn,
        "shock_k": sk,
        "shock_x": sx,
    }


def _h(lat: dict, cal: _Calendar, a: np.ndarray, t: np.ndarray) -> np.ndarray:
    return lat["H"][a, t + cal.burn].astype(np.float64)


def _last_shock(
    lat: dict, a: np.ndarray, t: np.ndarray, cal: _Calendar
) -> tuple[np.ndarray, np.ndarray]:
    """Kind and age (days) of each row's account's latest shock on or before day t; kind -1 if none."""
    total = cal.burn + cal.days + 1
    key = lat["shock_a"] * total + (lat["shock_t"] + cal.burn)
    q = a * total + (t + cal.burn)
    i = np.searchsorted(key, q, side="right") - 1
    ok = (i >= 0) & (lat["shock_a"][np.maximum(i, 0)] == a)
    kind = np.where(ok, lat["shock_k"][np.maximum(i, 0)], -1)
    age = np.where(ok, t - lat["shock_t"][np.maximum(i, 0)], 10**9)
    return kind, age


# --- churn --------------------------------------------------------------------------------------


def _churn(rng, acc: dict, lat: dict, sim: SimulationParams, cal: _Calendar) -> dict:
    """Decision day (mid-term notice or at a renewal's notice deadline) and effective day per account."""
    n, T, c = acc["n"], cal.days, sim.churn
    h = lat["H"][:, cal.burn :]
    t = np.arange(T)
    lam = np.exp(c.midterm_log_hazard + c.midterm_health_coef * (-h.astype(np.float64)))
    lam[t[None, :] < acc["start"][:, None]] = 0.0
    cum = np.cumsum(lam, axis=1)
    threshold = rng.exponential(1.0, n)
    crossed = cum[:, -1] >= threshold if T else np.zeros(n, bool)
    mid = np.where(crossed, np.argmax(cum >= threshold[:, None], axis=1), 10**9)
    del lam, cum
    logit = np.array([sim.tiers[k].renewal_churn_logit for k in acc["tier_names"]])[acc["tier"]]
    renew = np.full(n, 10**9)
    k_max = int(np.ceil((T + sim.max_tenure_years * 366) / acc["term"].min())) + 2
    for k in range(1, k_max + 1):
        d = acc["start"] + k * acc["term"] - c.notice_days
        u = rng.random(n)
        ok = (d >= 0) & (d < T) & (d >= acc["start"])
        hd = np.where(ok, h[np.arange(n), np.clip(d, 0, max(T - 1, 0))], 0.0)
        go = ok & (u < _sigmoid(logit + c.renewal_health_coef * (-hd)))
        renew = np.where(go & (d < renew), d, renew)
    decision = np.minimum(mid, renew)
    decided = decision < T
    effective = np.where(decided, decision + c.notice_days, 10**9)
    return {
        "decision": np.where(decided, decision, 10**9),
        "effective": effective,
        "trigger": np.where(renew <= mid, "renewal", "midterm"),
        "end": np.minimum(effective, T),  # first day no longer a customer (or T)
    }


def _active(acc: dict, life: dict, cal: _Calendar) -> np.ndarray:
    t = np.arange(cal.days)
    return (t[None, :] >= acc["start"][:, None]) & (t[None, :] < life["end"][:, None])


# --- tickets ------------------------------------------------------------------------------------


def _times_of_day(rng, n: int, sim: SimulationParams) -> np.ndarray:
    lo, hi = sim.tickets.business_hours
    office = rng.random(n) < sim.tickets.business_hours_share
    hours = np.where(office, lo + rng.random(n) * (hi - lo), rng.random(n) * 24)
    return (np.floor(hours * 3600).astype(np.int64)) * 10**9


def _tickets(rng, acc, lat, life, sim: SimulationParams, contract: ContractParams, cal: _Calendar):
    ts = sim.tickets
    T = cal.days
    active = _active(acc, life, cal)
    tiers = [sim.tiers[k] for k in acc["tier_names"]]
    lo_s = np.array([t.seats[0] for t in tiers])[acc["tier"]]
    hi_s = np.array([t.seats[1] for t in tiers])[acc["tier"]]
    seat_mult = (acc["seats"] / np.sqrt(lo_s * hi_s)) ** ts.seat_elasticity
    per_day = np.array([t.tickets_per_month for t in tiers])[acc["tier"]] / (365.25 / 12)
    base = per_day * seat_mult * acc["ticket_propensity"]
    weekday = np.array(ts.weekday) / np.mean(ts.weekday)
    day_factor = weekday[cal.weekday][None, :] * np.where(
        cal.holiday[acc["language"]], ts.holiday_factor, 1.0
    )
    since = np.arange(T)[None, :] - acc["start"][:, None]
    ramp = max(sim.usage.ramp_days, 1)
    onboarding = 1.0 + ts.onboarding_boost * np.clip(1.0 - since / ramp, 0.0, 1.0)
    h = lat["H"][:, cal.burn :]
    rate = base[:, None] * day_factor * onboarding * np.exp(ts.health_coef * (-h)) * active
    counts = rng.poisson(rate)
    del rate, onboarding, since, day_factor
    a_base, t_base = np.nonzero(counts)
    reps = counts[a_base, t_base]
    a_base, t_base = np.repeat(a_base, reps), np.repeat(t_base, reps)
    del counts
    # shocks bring their own burst of tickets about what happened
    sa, st, sk = lat["shock_a"], lat["shock_t"], lat["shock_k"]
    inside = (st >= 0) & (st < T)
    inside[inside] = active[sa[inside], st[inside]]
    # a harder hit brings more tickets: the burst scales with the shock's own impact
    bursts = np.array([s.ticket_burst for s in sim.shocks.values()])
    means = np.array([s.impact_mean for s in sim.shocks.values()])
    size = np.divide(lat["shock_x"], means[sk], out=np.ones(len(sk)), where=means[sk] > 0)
    nb = rng.poisson(bursts[sk[inside]] * size[inside])
    a_b, t_b, k_b = (np.repeat(x[inside], nb) for x in (sa, st, sk))
    # notice of cancellation is given in writing, and most customers send it to the helpdesk
    gives = (life["decision"] < T) & (rng.random(acc["n"]) < sim.churn.notice_ticket_share)
    a_n = np.flatnonzero(gives)
    t_n = life["decision"][a_n]
    a = np.concatenate([a_base, a_b, a_n])
    t = np.concatenate([t_base, t_b, t_n])
    burst_kind = np.concatenate([np.full(len(a_base), -1), k_b, np.full(len(a_n), -1)])
    notice = np.arange(len(a)) >= len(a_base) + len(a_b)
    created = cal.start_ns + t * DAY_NS + _times_of_day(rng, len(a), sim)
    order = np.lexsort((a, created))
    a, t, burst_kind, created = a[order], t[order], burst_kind[order], created[order]
    notice = notice[order]
    m = len(a)
    hh = _h(lat, cal, a, t)

    topic_names = list(ts.topics)
    topic_code = np.array([phrases.TOPICS.index(x) for x in topic_names])
    shock_topic = np.array([phrases.TOPICS.index(s.topic) for s in sim.shocks.values()])
    topic = topic_code[_categorical(rng, _shares(ts.topics), m)]
    last_kind, age = _last_shock(lat, a, t, cal)
    follow = (
        (last_kind >= 0) & (age <= ts.topic_window_days) & (rng.random(m) < ts.topic_follow_share)
    )
    topic = np.where(follow, shock_topic[np.maximum(last_kind, 0)], topic)
    topic = np.where(burst_kind >= 0, shock_topic[np.maximum(burst_kind, 0)], topic)
    topic = np.where(notice, phrases.TOPICS.index("cancellation"), topic)

    pri_names = list(contract.priorities)
    mix = np.array([ts.priority_mix[p] for p in pri_names])
    severity = np.array([ts.priority_severity[p] for p in pri_names])
    stress = ts.priority_health_coef * (-hh) + ts.burst_priority_shift * (burst_kind >= 0)
    priority = _categorical_rows(
        rng, np.log(np.maximum(mix, 1e-12))[None, :] + stress[:, None] * severity[None, :]
    )
    channel_names = np.array(list(ts.channels), dtype=object)
    channel = channel_names[_categorical(rng, _shares(ts.channels), m)]

    tone = np.tanh(
        ts.tone_mean
        + ts.tone_health_coef * hh
        - ts.tone_priority_coef * severity[priority]
        + ts.burst_tone_shift * (burst_kind >= 0)
        + ts.tone_sd * rng.standard_normal(m)
    )

    tier = acc["tier"][a]
    policy = np.array(
        [
            [
                [contract.sla_policy[k][p].first_response, contract.sla_policy[k][p].resolution]
                for p in pri_names
            ]
            for k in acc["tier_names"]
        ]
    )
    factor = acc["sla_factor"][a]
    custom = ~np.isnan(factor)
    target = policy[tier, priority] * np.where(custom, factor, 1.0)[:, None]
    z1 = rng.standard_normal(m)
    z2 = 0.5 * z1 + np.sqrt(0.75) * rng.standard_normal(m)
    slow = ts.sla_health_coef * (-hh)
    fr_h = target[:, 0] * np.exp(ts.first_response_log_ratio + slow + ts.sla_sd * z1)
    res_h = np.maximum(
        target[:, 1] * np.exp(ts.resolution_log_ratio + slow + ts.sla_sd * z2), fr_h * 1.05
    )
    breach = (fr_h > target[:, 0]) | (res_h > target[:, 1])
    end_ns = cal.start_ns + T * DAY_NS
    no_response = rng.random(m) < ts.no_response_share
    first = created + np.round(fr_h * 3600).astype(np.int64) * 10**9
    resolved = created + np.round(res_h * 3600).astype(np.int64) * 10**9
    first = np.where(no_response | (first >= end_ns), NAT, first)
    is_resolved = resolved < end_ns
    resolved = np.where(is_resolved, resolved, NAT)
    open_status = np.array(["open", "pending", "on_hold"], dtype=object)[
        _categorical(rng, np.array([0.6, 0.25, 0.15]), m)
    ]
    closed = (end_ns - resolved) > ts.closed_after_days * DAY_NS
    status = np.where(
        is_resolved,
        np.where(closed, "closed", "solved"),
        np.where(first == NAT, "new", open_status),
    ).astype(object)
    reopen = np.where(
        is_resolved, rng.poisson(ts.reopen_rate * np.exp(ts.reopen_health_coef * (-hh))), 0
    )
    answered = is_resolved & (rng.random(m) < ts.csat_response_rate)
    score = (
        ts.csat_mean
        + ts.csat_health_coef * hh
        + ts.csat_tone_coef * tone
        - ts.csat_breach_penalty * breach
        + ts.csat_sd * rng.standard_normal(m)
    )
    csat = np.clip(np.round(score), 1, 5).astype(np.int64)
    own = custom | (rng.random(m) < ts.own_sla_share)

    subject, body = phrases.compose(
        rng, acc["language"][a], topic, priority, tone, tuple(pri_names)
    )
    ticket_id = _ids("T-", m, 7)
    tickets = pd.DataFrame(
        {
            "ticket_id": ticket_id,
            "account_id": acc["id"][a],
            "created_at": _ts(created),
            "priority": np.array(pri_names, dtype=object)[priority],
            "channel": channel,
            "subject": subject,
            "body": body,
            "first_response_at": _ts(first),
            "resolved_at": _ts(resolved),
            "status": status,
            "reopen_count": pd.array(reopen, dtype="Int64"),
            "csat": pd.arrays.IntegerArray(csat, ~answered),
            "sla_first_response_hours": np.where(own, target[:, 0], np.nan),
            "sla_resolution_hours": np.where(own, target[:, 1], np.nan),
        }
    )
    kind_names = np.array(list(sim.shocks) + [None], dtype=object)
    truth = pd.DataFrame(
        {
            "ticket_id": ticket_id,
            "account_id": acc["id"][a],
            "tone": tone,
            "topic": np.array(phrases.TOPICS, dtype=object)[topic],
            "triggered_by": np.where(
                notice,
                "churn_notice",
                kind_names[np.where(burst_kind >= 0, burst_kind, len(sim.shocks))],
            ),
            "health": hh,
            "sla_breached": breach,
        }
    )
    return tickets, truth, gives


def _ids(prefix: str, n: int, min_width: int) -> np.ndarray:
    """Zero-padded ids ("T-0000001", ...) without a Python loop per row."""
    width = max(min_width, len(str(n)))
    digits = (np.arange(1, n + 1, dtype=np.int64) + 10**width).astype(f"U{width + 1}")
    trimmed = (
        np.ascontiguousarray(digits.view("U1").reshape(n, width + 1)[:, 1:])
        .view(f"U{width}")
        .ravel()
    )
    return np.strings.add(prefix, trimmed).astype(object)


def _ts(ns: np.ndarray) -> pd.Series:
    return pd.Series(np.asarray(ns, dtype=np.int64).view("M8[ns]")).dt.tz_localize("UTC")


# --- usage --------------------------------------------------------------------------------------


def _usage(rng, acc, lat, life, sim: SimulationParams, cal: _Calendar):
    """Daily active users and events; computed on dense account x day matrices, then masked."""
    us, T = sim.usage, cal.days
    active = _active(acc, life, cal)
    n_rows = int(active.sum())
    h = lat["H"][:, cal.burn :]
    t = np.arange(T)
    logit = (us.active_logit + acc["adoption"])[:, None] + us.health_coef * h
    logit += (us.daily_sd * rng.standard_normal((acc["n"], T))).astype(np.float32)
    p = _sigmoid(logit)
    del logit
    p *= np.array(us.weekday, dtype=np.float32)[cal.weekday][None, :]
    p *= np.where(cal.holiday[acc["language"]], np.float32(us.holiday_factor), np.float32(1.0))
    if us.ramp_days:
        p *= np.clip((t[None, :] - acc["start"][:, None] + 1) / us.ramp_days, 0.0, 1.0).astype(
            np.float32
        )
    notice = t[None, :] >= life["decision"][:, None]
    p *= np.where(notice, np.float32(us.notice_factor), np.float32(1.0))
    seats = np.broadcast_to(acc["seats"][:, None], active.shape)[active]
    users = rng.binomial(seats, np.clip(p[active], 0.0, 1.0))
    del p
    a = np.broadcast_to(np.arange(acc["n"])[:, None], active.shape)[active]
    day = np.broadcast_to(t[None, :], active.shape)[active]
    per_user = acc["events_per_user"][a] * np.exp(us.events_sd * rng.standard_normal(n_rows))
    events = rng.poisson(users * per_user)
    dates = _ts(cal.start_ns + day * DAY_NS)
    ids = acc["id"][a]
    usage = pd.DataFrame(
        {
            "account_id": ids,
            "date": dates,
            "active_users": pd.array(users, dtype="Int64"),
            "events": pd.array(events, dtype="Int64"),
        }
    )
    health = pd.DataFrame(
        {
            "account_id": ids,
            "date": dates,
            "health": h[active].astype(np.float64),
            "baseline": lat["MU"][:, cal.burn :][active].astype(np.float64),
            "notice_given": notice[active],
        }
    )
    return usage, health


# --- escalations --------------------------------------------------------------------------------


def _escalations(
    rng, acc, lat, life, tickets, tone, sim: SimulationParams, contract, cal: _Calendar
):
    es, T = sim.escalations, cal.days
    active = _active(acc, life, cal)
    base = np.array([sim.tiers[k].escalation_log_hazard for k in acc["tier_names"]])[acc["tier"]]
    h = lat["H"][:, cal.burn :]
    counts = rng.poisson(np.exp(base[:, None] + es.health_coef * (-h)) * active)
    del active
    a, t = np.nonzero(counts)
    reps = counts[a, t]
    a, t = np.repeat(a, reps), np.repeat(t, reps)
    opened = cal.start_ns + t * DAY_NS + _times_of_day(rng, len(a), sim)
    order = np.lexsort((a, opened))
    a, t, opened = a[order], t[order], opened[order]
    m = len(a)
    hh = _h(lat, cal, a, t)
    end_ns = cal.start_ns + T * DAY_NS

    # link to the account's latest ticket before opening, if recent enough
    id_to_idx = {v: i for i, v in enumerate(acc["id"])}
    t_acc = tickets["account_id"].map(id_to_idx).to_numpy(np.int64)
    t_created = np.asarray(tickets["created_at"].array.asi8)
    span = end_ns - cal.start_ns + 1
    key = t_acc * span + (t_created - cal.start_ns)
    order_t = np.argsort(key, kind="stable")
    i = np.searchsorted(key[order_t], a * span + (opened - cal.start_ns), side="left") - 1
    cand = order_t[np.maximum(i, 0)] if len(order_t) else np.zeros(m, np.int64)
    ok = (i >= 0) & (len(order_t) > 0)
    if len(order_t):
        ok &= (t_acc[cand] == a) & (opened - t_created[cand] <= es.ticket_link_days * DAY_NS)
    linked = ok & (rng.random(m) < es.ticket_link_share)
    ticket_id = np.full(m, None, dtype=object)
    if len(order_t):
        ticket_id[linked] = tickets["ticket_id"].to_numpy(dtype=object)[cand[linked]]

    level_names = list(es.levels)
    mix = np.log(np.maximum(np.array([es.levels[x] for x in level_names]), 1e-12))
    steps = np.arange(len(level_names), dtype=float)
    level = _categorical_rows(
        rng, mix[None, :] + (es.level_health_coef * (-hh))[:, None] * steps[None, :]
    )
    kind = np.where(rng.random(m) < es.hierarchical_share, KINDS[0], KINDS[1]).astype(object)
    ack = (
        opened
        + np.round(
            es.acknowledge_hours_median * np.exp(es.duration_sd * rng.standard_normal(m)) * 3600
        ).astype(np.int64)
        * 10**9
    )
    close = (
        opened
        + np.round(
            es.close_days_median * np.exp(es.duration_sd * rng.standard_normal(m)) * 86400
        ).astype(np.int64)
        * 10**9
    )
    ack = np.where(ack < end_ns, ack, NAT)
    close = np.where(close < end_ns, close, NAT)

    # the reason follows the linked ticket, else the latest shock
    shock_reason = {"outage": "outage", "bad_release": "bug", "billing_dispute": "billing"}
    by_kind = np.array(
        [TICKET_REASONS.index(shock_reason.get(k, "relationship")) for k in sim.shocks]
        + [TICKET_REASONS.index("other")]
    )
    last_kind, age = _last_shock(lat, a, t, cal)
    recent = (last_kind >= 0) & (age <= 30)
    reason = by_kind[np.where(recent, last_kind, len(sim.shocks))]
    by_topic = np.array(
        [
            TICKET_REASONS.index(
                {"outage": "outage", "bug": "bug", "billing": "billing"}.get(x, "other")
            )
            for x in phrases.TOPICS
        ]
    )
    if len(order_t):
        topic = (
            pd.Series(tone["topic"].to_numpy()[cand])
            .map({x: i for i, x in enumerate(phrases.TOPICS)})
            .to_numpy()
        )
        breached = tone["sla_breached"].to_numpy()[cand]
        from_ticket = np.where(breached, TICKET_REASONS.index("sla"), by_topic[topic])
        reason = np.where(
            linked & (breached | (by_topic[topic] != TICKET_REASONS.index("other"))),
            from_ticket,
            reason,
        )
    text = phrases.pick_reason(
        rng, phrases.ESCALATION_REASONS, acc["language"][a], reason, TICKET_REASONS
    )
    return pd.DataFrame(
        {
            "escalation_id": _ids("E-", m, 6),
            "account_id": acc["id"][a],
            "opened_at": _ts(opened),
            "acknowledged_at": _ts(ack),
            "closed_at": _ts(close),
            "level": np.array(level_names, dtype=object)[level],
            "kind": kind,
            "reason": text.astype(object),
            "ticket_id": ticket_id,
        }
    )


# --- accounts, churn and shock tables -------------------------------------------------------------


def _accounts_table(
    acc: dict, life: dict, cal: _Calendar, sim: SimulationParams, by_ticket: np.ndarray
) -> pd.DataFrame:
    """The CRM's accounts as of the world's end. A notice not sent to the helpdesk reached the
    CSM, who records its day in the CRM (`notice_at`), as renewal forecasting needs it."""
    # the renewal in force at the world's end, or the one at (or after) the churn
    ref = np.where(life["effective"] < cal.days, life["effective"], cal.days)
    k = np.maximum(1, np.ceil((ref - acc["start"]) / acc["term"]).astype(np.int64))
    renewal = acc["start"] + k * acc["term"]
    in_crm = (life["decision"] < cal.days) & ~by_ticket
    notice = np.where(in_crm, cal.start_ns + np.minimum(life["decision"], cal.days) * DAY_NS, NAT)
    return pd.DataFrame(
        {
            "account_id": acc["id"],
            "name": acc["name"].astype(object),
            "tier": np.array(acc["tier_names"], dtype=object)[acc["tier"]],
            "arr": acc["arr"].astype(np.float64),
            "seats": pd.array(acc["seats"], dtype="Int64"),
            "contract_start": _ts(cal.start_ns + acc["start"] * DAY_NS),
            "renewal_date": _ts(cal.start_ns + renewal * DAY_NS),
            "csm_owner": acc["csm"],
            "region": acc["region"],
            "language": np.array(phrases.LANGUAGES, dtype=object)[acc["language"]],
            "term_months": pd.array(acc["term_months"], dtype="Int64"),
            "notice_at": _ts(notice),
        }
    )


def _churn_tables(rng, acc, lat, life, sim: SimulationParams, cal: _Calendar):
    decided = life["decision"] < cal.days
    a = np.flatnonzero(decided)
    d = life["decision"][a]
    kinds = list(sim.shocks)
    last_kind, age = _last_shock(lat, a, d, cal)
    recent = (last_kind >= 0) & (age <= sim.churn.reason_window_days)
    keys = tuple(kinds) + ("other",)
    key = np.where(recent, last_kind, len(kinds))
    reason = phrases.pick_reason(rng, phrases.CHURN_REASONS, acc["language"][a], key, keys)
    eff = life["effective"][a]
    churned = eff < cal.days
    churn = pd.DataFrame(
        {
            "account_id": acc["id"][a][churned],
            "churned_at": _ts(cal.start_ns + eff[churned] * DAY_NS),
            "reason": reason[churned].astype(object),
        }
    )
    decisions = pd.DataFrame(
        {
            "account_id": acc["id"][a],
            "decided_at": _ts(cal.start_ns + d * DAY_NS),
            "effective_at": _ts(cal.start_ns + eff * DAY_NS),
            "trigger": life["trigger"][a].astype(object),
            "churned_in_world": churned,
        }
    )
    return churn, decisions


def _shock_table(acc, lat, life, sim: SimulationParams, cal: _Calendar) -> pd.DataFrame:
    a, t = lat["shock_a"], lat["shock_t"]
    keep = (t >= 0) & (t < cal.days)
    keep[keep] = (t[keep] >= acc["start"][a[keep]]) & (t[keep] < life["end"][a[keep]])
    return pd.DataFrame(
        {
            "account_id": acc["id"][a[keep]],
            "date": _ts(cal.start_ns + t[keep] * DAY_NS),
            "kind": np.array(list(sim.shocks), dtype=object)[lat["shock_k"][keep]],
            "impact": lat["shock_x"][keep],
        }
    )


# --- the oracle -----------------------------------------------------------------------------------


def _oracle_grid(rng, sim: SimulationParams, tier_names: list, h_range, mu_range):
    """True risks on a grid of latent states, by Monte Carlo over future days (future shocks included).

    Returns grid axes, P(escalation within n days) for n = 1..escalation_days per tier, and
    P(churn within churn_days) per tier for each renewal-decision offset in the window plus "none".
    """
    o, c = sim.oracle, sim.churn
    gh = np.linspace(h_range[0], h_range[1], o.grid_health)
    gm = np.linspace(mu_range[0], mu_range[1], o.grid_baseline)
    window = max(o.churn_days - c.notice_days, 0)
    horizon = max(o.escalation_days, window)
    h = np.repeat(gh, len(gm))[:, None] * np.ones((1, o.paths))
    mu = np.tile(gm, len(gh))[:, None] * np.ones((1, o.paths))
    kinds = list(sim.shocks.values())
    perm = np.array([k.permanent_share for k in kinds])[:, None]
    p_event, reach = _shock_probs(sim)
    p_hit = (p_event * reach)[:, None]
    k_h, k_mu = _rates(sim)
    path = np.empty((horizon,) + h.shape, dtype=np.float32)
    for s in range(horizon):
        eps = rng.standard_normal(o.paths)
        hit = rng.random((len(kinds), o.paths)) < p_hit
        x = np.where(hit, _impacts(rng, kinds, hit.shape), 0.0)
        h, mu = _step(
            h, mu, eps[None, :], x.sum(0)[None, :], sim, k_h, k_mu, (x * perm).sum(0)[None, :]
        )
        path[s] = h
    neg = -path  # float32 from here on: the grid is large and the precision ample
    esc_cum = np.cumsum(
        np.exp(np.float32(sim.escalations.health_coef) * neg[: o.escalation_days]), axis=0
    )
    if window:
        mid = np.exp(
            np.float32(c.midterm_log_hazard) + np.float32(c.midterm_health_coef) * neg[:window]
        ).sum(0)
        stay_mid = np.exp(-mid)
    else:
        stay_mid = np.ones(h.shape, dtype=np.float32)
    base = [np.float32(sim.tiers[name].renewal_churn_logit) for name in tier_names]
    cols = np.empty((len(tier_names), len(gh) * len(gm), window + 1))
    for d in range(window):
        x = np.float32(c.renewal_health_coef) * neg[d]
        for i, b in enumerate(base):
            stay = 1.0 / (1.0 + np.exp(b + x))  # 1 - sigmoid
            cols[i, :, d] = 1.0 - np.einsum("gm,gm->g", stay_mid, stay, dtype=np.float64) / o.paths
    cols[:, :, window] = 1.0 - stay_mid.mean(axis=1, dtype=np.float64)
    p_esc = []
    for name in tier_names:
        rate = np.float32(np.exp(sim.tiers[name].escalation_log_hazard))
        p_esc.append((1.0 - np.exp(-rate * esc_cum).mean(axis=2, dtype=np.float64)).T)
    return gh, gm, np.stack(p_esc), cols, window


def _interp(gh, gm, table, tier, col, h, mu):
    """Bilinear interpolation of table[tier, g(h, mu), col], clipped to the grid."""

    def locate(grid, x):
        f = np.clip(
            (x - grid[0]) / (grid[1] - grid[0]) if len(grid) > 1 else 0 * x, 0, len(grid) - 1
        )
        i = np.minimum(np.floor(f).astype(np.int64), len(grid) - 2)
        return i, f - i

    ih, wh = locate(gh, h)
    im, wm = locate(gm, mu)
    nm = len(gm)
    out = 0.0
    for dh, fh in ((0, 1 - wh), (1, wh)):
        for dm, fm in ((0, 1 - wm), (1, wm)):
            out = out + fh * fm * table[tier, (ih + dh) * nm + (im + dm), col]
    return out


def _oracle(rng, acc, lat, life, sim: SimulationParams, cal: _Calendar) -> pd.DataFrame:
    o, c = sim.oracle, sim.churn
    mondays = np.flatnonzero(cal.weekday == 0)
    a = np.repeat(np.arange(acc["n"]), len(mondays))
    day = np.tile(mondays, acc["n"])
    # rows match the feature rows: an account is a row up to and including its churn day (the
    # churn is not known before it), where churn within the horizon is certain and escalation not
    keep = (day >= acc["start"][a]) & (day <= life["end"][a])
    a, day = a[keep], day[keep]
    h = lat["H"][a, day - 1 + cal.burn].astype(np.float64)
    mu = lat["MU"][a, day - 1 + cal.burn].astype(np.float64)
    if len(a) == 0:
        h_range = mu_range = (-1.0, 1.0)
    else:
        pad = 1e-6
        h_range = (float(h.min()) - pad, float(h.max()) + pad)
        mu_range = (float(mu.min()) - pad, float(mu.max()) + pad)
    gh, gm, p_esc, p_churn, window = _oracle_grid(rng, sim, acc["tier_names"], h_range, mu_range)
    tier = acc["tier"][a]
    pending = life["decision"][a] < day
    eff = life["effective"][a]
    esc_n = np.where(pending, np.clip(eff - day, 1, o.escalation_days), o.escalation_days)
    p_e = _interp(gh, gm, p_esc, tier, esc_n - 1, h, mu)
    p_e = np.where(pending & (eff <= day), 0.0, p_e)  # churned today: no longer a customer
    start, term = acc["start"][a], acc["term"][a]
    k = np.maximum(1, np.ceil((day - start + c.notice_days) / term).astype(np.int64))
    offset = start + k * term - c.notice_days - day
    col = np.where(offset < window, offset, window)
    p_c = _interp(gh, gm, p_churn, tier, col, h, mu)
    p_c = np.where(pending, (eff < day + o.churn_days).astype(float), p_c)
    return pd.DataFrame(
        {
            "account_id": acc["id"][a],
            "as_of": _ts(cal.start_ns + day * DAY_NS),
            "health": h,
            "baseline": mu,
            "notice_given": pending,
            "days_to_renewal": (start + k * term - day).astype(np.int64),
            f"escalation_{o.escalation_days}d": np.clip(p_e, 0.0, 1.0),
            f"churn_{o.churn_days}d": np.clip(p_c, 0.0, 1.0),
        }
    )
