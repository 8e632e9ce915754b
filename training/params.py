"""Settings owned by training: the simulated world, labels, splits, models, evaluation, promotion."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, TypeVar

from pydantic import AfterValidator, Field, StrictInt, field_validator, model_validator

from features.errors import UserError
from features.params import MAX_DAYS, Names, StrictModel

K = TypeVar("K", str, int)


def _some_share(shares: dict[K, float]) -> dict[K, float]:
    """A mix the simulator draws from: a negative share skewed the draw and an empty mix (or
    one of zeros only) stopped `escrisk simulate` with an internal error."""
    if not shares or sum(shares.values()) <= 0:
        raise ValueError("needs at least one share above 0")
    _sum_to_one(shares)
    return shares


def _sum_to_one(shares: dict[K, float]) -> None:
    """Shares the simulator draws from sum to 1: {en: 0.65, de: 0.45}, a typo, was drawn as
    0.59 and 0.41 without a word."""
    total = sum(shares.values())
    if abs(total - 1) > 1e-6:
        listed = ", ".join(f"{k} {v:g}" for k, v in shares.items())
        raise ValueError(f"shares must sum to 1, these sum to {total:g} ({listed})")


Share = Annotated[float, Field(ge=0)]
Shares = Annotated[dict[str, Share], AfterValidator(_some_share)]


class TierSimulation(StrictModel):
    """How one tier's accounts look and behave."""

    share: float = Field(ge=0, description="share of accounts in this tier")
    arr: tuple[float, float] = Field(description="ARR range (log-uniform)")
    seats: tuple[int, int] = Field(description="seat range (log-uniform)")
    tickets_per_month: float = Field(gt=0, description="tickets of a typical account at health 0")
    escalation_log_hazard: float = Field(description="log daily escalation hazard at health 0")
    renewal_churn_logit: float = Field(description="logit of churning at a renewal at health 0")
    custom_sla_share: float = Field(ge=0, le=1, description="accounts with contract-specific SLAs")

    @model_validator(mode="after")
    def _ranges(self) -> TierSimulation:
        if not 0 < self.arr[0] <= self.arr[1]:
            raise ValueError("arr: must be [low, high] with 0 < low <= high")
        if not 1 <= self.seats[0] <= self.seats[1]:
            raise ValueError("seats: must be [low, high] with 1 <= low <= high")
        return self


class ShockSimulation(StrictModel):
    """One kind of event that knocks an account's health down, then fades with recovery."""

    rate_per_year: float = Field(ge=0, description="events per account-year (platform: per year)")
    platform: bool = Field(description="one event hits `reach` of all accounts on the same day")
    reach: float = Field(gt=0, le=1, description="share of accounts a platform event hits")
    impact_mean: float = Field(ge=0, description="mean drop in health")
    impact_sd: float = Field(ge=0, description="log-scale spread of the drop")
    permanent_share: float = Field(
        ge=0, le=1, description="part of the drop that moves the baseline"
    )
    topic: str = Field(description="ticket topic that the shock triggers")
    ticket_burst: float = Field(
        ge=0, description="mean extra tickets on the day of a hit of mean impact (scales with it)"
    )


class HealthSimulation(StrictModel):
    """Latent health: mean-reverting around a slowly moving account baseline, plus shocks."""

    long_run_mean: float
    baseline_sd: float = Field(ge=0, description="spread of account baselines")
    initial_sd: float = Field(ge=0, description="spread of health around the baseline at the start")
    daily_sd: float = Field(ge=0, description="daily random drift")
    recovery_half_life_days: float = Field(
        gt=0, le=MAX_DAYS, description="how fast health returns to baseline"
    )
    baseline_half_life_days: float = Field(
        gt=0, le=MAX_DAYS, description="how fast the baseline returns to the mean"
    )
    burn_in_days: int = Field(
        ge=0, le=MAX_DAYS, description="days simulated before the world starts"
    )


class TicketSimulation(StrictModel):
    """Ticket arrivals, priorities, SLA performance, CSAT and tone as noisy functions of health."""

    seat_elasticity: float = Field(
        ge=0, description="tickets scale with (seats / typical seats)^this"
    )
    health_coef: float = Field(description="log-rate change per unit of lower health")
    account_sd: float = Field(ge=0, description="log-scale spread of accounts' ticket propensity")
    onboarding_boost: float = Field(ge=0, description="extra tickets (relative) at contract start")
    weekday: tuple[float, float, float, float, float, float, float] = Field(
        description="Mon..Sun factors"
    )
    holiday_factor: float = Field(ge=0)
    business_hours: tuple[int, int] = Field(description="local working hours, UTC")
    business_hours_share: float = Field(ge=0, le=1)
    priority_mix: Shares = Field(description="share of each priority at health 0")
    priority_severity: dict[str, float] = Field(
        description="how much each priority grows as health falls"
    )
    priority_health_coef: float
    burst_priority_shift: float = Field(
        description="extra severity logit for tickets a shock triggers"
    )
    channels: Shares
    topics: Shares = Field(description="topic mix of ordinary tickets")
    topic_follow_share: float = Field(
        ge=0, le=1, description="tickets after a shock that are about it"
    )
    topic_window_days: int = Field(ge=0, le=MAX_DAYS)
    first_response_log_ratio: float = Field(description="mean log(response time / SLA target)")
    resolution_log_ratio: float = Field(description="mean log(resolution time / SLA target)")
    sla_health_coef: float = Field(description="log-time change per unit of lower health")
    sla_sd: float = Field(gt=0)
    no_response_share: float = Field(
        ge=0, le=1, description="tickets never answered (spam, duplicates)"
    )
    own_sla_share: float = Field(
        ge=0, le=1, description="other tickets that still carry their SLA values"
    )
    custom_sla_factors: tuple[float, ...] = Field(
        min_length=1, description="custom SLA = policy x factor"
    )
    closed_after_days: float = Field(
        ge=0, le=MAX_DAYS, description="solved tickets close after this long"
    )
    csat_response_rate: float = Field(ge=0, le=1)
    csat_mean: float
    csat_health_coef: float
    csat_tone_coef: float
    csat_breach_penalty: float
    csat_sd: float = Field(gt=0)
    reopen_rate: float = Field(ge=0)
    reopen_health_coef: float
    tone_mean: float
    tone_health_coef: float
    tone_priority_coef: float = Field(
        description="tone shift per step of severity (P1 most negative)"
    )
    tone_sd: float = Field(gt=0)
    burst_tone_shift: float = Field(
        description="tone shift of the tickets a shock triggers (negative: angrier)"
    )

    @model_validator(mode="after")
    def _hours_of_a_day(self) -> TicketSimulation:
        """[7, 30] put office tickets at 30:00, the next morning; [18, 7] before the day began."""
        lo, hi = self.business_hours
        if not 0 <= lo < hi <= 24:
            raise ValueError(
                f"business_hours: must be [start, end] hours of one day, 0 <= start < end <= 24 "
                f"(got {[lo, hi]})"
            )
        return self


class UsageSimulation(StrictModel):
    """Daily active users and events per account."""

    active_logit: float = Field(description="logit of a seat being active on a workday at health 0")
    health_coef: float
    account_sd: float = Field(ge=0, description="spread of accounts' adoption (logit scale)")
    daily_sd: float = Field(ge=0, description="day-to-day noise (logit scale)")
    weekday: tuple[float, float, float, float, float, float, float] = Field(
        description="Mon..Sun factors"
    )
    holiday_factor: float = Field(ge=0, le=1)
    ramp_days: int = Field(
        ge=0, le=MAX_DAYS, description="onboarding: usage ramps up linearly over these days"
    )
    events_per_user: float = Field(gt=0)
    events_sd: float = Field(ge=0, description="log-scale noise of events per active user")
    notice_factor: float = Field(ge=0, le=1, description="usage multiplier once notice is given")


class EscalationSimulation(StrictModel):
    health_coef: float = Field(description="log-hazard change per unit of lower health")
    levels: Shares = Field(description="level mix at health 0")
    level_health_coef: float = Field(
        description="logit shift per level step per unit of lower health"
    )
    hierarchical_share: float = Field(ge=0, le=1)
    acknowledge_hours_median: float = Field(gt=0, le=MAX_DAYS * 24)
    close_days_median: float = Field(gt=0, le=MAX_DAYS)
    duration_sd: float = Field(gt=0)
    ticket_link_share: float = Field(ge=0, le=1, description="escalations tied to a recent ticket")
    ticket_link_days: int = Field(ge=1, le=MAX_DAYS)


class ChurnSimulation(StrictModel):
    notice_days: int = Field(
        ge=1, le=MAX_DAYS, description="a churn takes effect this long after the decision"
    )
    renewal_health_coef: float = Field(
        description="renewal-churn logit change per unit of lower health"
    )
    midterm_log_hazard: float = Field(
        description="log daily hazard of a mid-term cancellation at health 0"
    )
    midterm_health_coef: float
    contract_months: Annotated[
        dict[Annotated[int, Field(ge=1, le=1200)], Share], AfterValidator(_some_share)
    ] = Field(description="contract terms and their shares")
    reason_window_days: int = Field(
        ge=0, le=MAX_DAYS, description="a shock this recent names the churn reason"
    )
    notice_ticket_share: float = Field(
        ge=0,
        le=1,
        description="share of churn decisions whose written notice arrives as a helpdesk ticket",
    )


class OracleSimulation(StrictModel):
    """The Monte Carlo yardstick: true risk given the latent state, on a grid of states."""

    paths: int = Field(ge=50)
    grid_health: int = Field(ge=5)
    grid_baseline: int = Field(ge=3)
    escalation_days: int = Field(ge=1, le=MAX_DAYS)
    churn_days: int = Field(ge=1, le=MAX_DAYS)


class SimulationParams(StrictModel):
    """Everything `escrisk simulate` needs; `end_date` pins the world so it never reads the clock."""

    end_date: dt.date = Field(description="the world ends at this date's midnight UTC (exclusive)")
    existing_share: float = Field(ge=0, le=1, description="accounts already customers at the start")
    max_tenure_years: float = Field(gt=0, le=MAX_DAYS / 365)
    accounts_per_csm: int = Field(ge=1)
    tiers: dict[str, TierSimulation] = Field(min_length=1)

    @field_validator("tiers")
    @classmethod
    def _tier_shares(cls, tiers: dict[str, TierSimulation]) -> dict[str, TierSimulation]:
        _sum_to_one({t: v.share for t, v in tiers.items()})
        return tiers

    languages: Shares
    regions: dict[str, Shares] = Field(description="region mix by language")
    holidays: dict[str, tuple[str, ...]] = Field(description="public holidays (MM-DD) by language")
    health: HealthSimulation
    shocks: dict[str, ShockSimulation] = Field(min_length=1)
    tickets: TicketSimulation
    usage: UsageSimulation
    escalations: EscalationSimulation
    churn: ChurnSimulation
    oracle: OracleSimulation


# --- split, model, evaluation, promotion (issue 4) ------------------------------------------------


class SplitParams(StrictModel):
    """Time cut points between train, validation and test; chosen from the data when left empty.

    A snapshot belongs to a window only if its whole label horizon [as_of, as_of + horizon) lies
    inside it, so consecutive windows are separated by a gap of at least the horizon.
    """

    train_end: dt.date | None = Field(description="end of the training window (exclusive)")
    validation_end: dt.date | None = Field(description="end of the validation window (exclusive)")
    test_end: dt.date | None = Field(
        description="end of the test window; empty = end of the data; given alone, the other "
        "cuts are chosen from the data before it"
    )
    min_positives: int = Field(ge=1, description="labelled positives each window needs, per target")
    validation_share: float = Field(gt=0, lt=1, description="share of positives for validation")
    test_share: float = Field(gt=0, lt=1, description="share of positives for the test window")

    @model_validator(mode="after")
    def _ordered(self) -> SplitParams:
        if (self.train_end is None) != (self.validation_end is None):
            missing = "train_end" if self.train_end is None else "validation_end"
            raise ValueError(f"{missing}: give both train_end and validation_end, or neither")
        if self.train_end and self.validation_end and self.validation_end <= self.train_end:
            raise ValueError("validation_end: must be after train_end")
        if self.test_end and self.validation_end and self.test_end <= self.validation_end:
            raise ValueError("test_end: must be after validation_end")
        if round(self.validation_share + self.test_share, 9) >= 0.9:  # 0.2 + 0.7 < 0.9 in floats
            raise ValueError(
                "test_share: validation_share + test_share must leave most positives for "
                "training (together below 0.9)"
            )
        return self


C_INT = 2**31 - 1  # LightGBM reads its settings as C ints: a larger one failed mid-training


class LightGbmParams(StrictModel):
    """The booster's shape; kept small because SHAP latency grows with trees x leaves."""

    learning_rate: float = Field(gt=0, le=1)
    num_leaves: int = Field(ge=2, le=131_072)  # LightGBM's own limit: more failed mid-training
    max_depth: int = Field(ge=-C_INT, le=C_INT)  # <= 0: no limit
    min_child_samples: int = Field(ge=1, le=C_INT)
    min_sum_hessian_in_leaf: float = Field(ge=0)
    feature_fraction: float = Field(gt=0, le=1)
    bagging_fraction: float = Field(gt=0, le=1)
    bagging_freq: int = Field(ge=0, le=C_INT)
    lambda_l2: float = Field(ge=0)
    max_bin: int = Field(ge=2, le=C_INT)
    max_cat_to_onehot: int = Field(ge=1, le=C_INT)
    cat_smooth: float = Field(ge=0)
    scale_pos_weight: float = Field(
        gt=0, description="1 = no reweighting; calibration follows anyway"
    )


class LogisticParams(StrictModel):
    C: float = Field(gt=0, description="inverse L2 strength of the logistic baseline")
    max_iter: int = Field(ge=10)


class HealthRule(StrictModel):
    """One component of the rules-only health score: red/yellow bands on one feature."""

    feature: str
    risk_when: Literal["high", "low"] = Field(description="whether high or low values mean risk")
    yellow: float
    red: float
    weight: float = Field(gt=0)

    @model_validator(mode="after")
    def _bands(self) -> HealthRule:
        if self.risk_when == "high" and self.red < self.yellow:
            raise ValueError("red: risk_when=high needs red >= yellow")
        if self.risk_when == "low" and self.red > self.yellow:
            raise ValueError("red: risk_when=low needs red <= yellow")
        return self


class ModelParams(StrictModel):
    """LightGBM heads, their calibration, and the two baselines trained on the same split."""

    targets: Names = Field(min_length=1)
    seed: StrictInt = Field(ge=0, le=2**31 - 1)  # LightGBM's seeds are C ints
    num_threads: int = Field(ge=1, le=C_INT, description="fixed so that results are reproducible")
    num_boost_round: int = Field(ge=1, le=C_INT)
    early_stopping_rounds: int = Field(ge=1, le=C_INT)
    lightgbm: LightGbmParams
    isotonic_min_positives: int = Field(
        ge=1,
        description="calibrate with isotonic regression from this many validation positives, else sigmoid",
    )
    logistic: LogisticParams
    health_score: tuple[HealthRule, ...] = Field(min_length=1)
    monotone: dict[str, Literal[-1, 1]] = Field(
        description=(
            "feature -> +1 (risk never falls as it grows) or -1 (never rises), all else equal; "
            "LightGBM monotone constraints on both heads; features the data lacks are skipped"
        )
    )


class EvaluationParams(StrictModel):
    """How models are judged on the test window."""

    weekly_capacity: int = Field(ge=1, description="accounts the team can act on per week (k)")
    alert_threshold: float | None = Field(
        default=None,
        gt=0,
        lt=1,
        description=(
            "probability at which an account counts as alerted, for every target; null: each "
            "target follows the ladder (alert_thresholds)"
        ),
    )
    alert_thresholds: dict[str, Annotated[float, Field(gt=0, lt=1)]] = Field(
        default_factory=dict,
        description=(
            "target -> its alert threshold; when alert_threshold is null, filled at load from the "
            "lowest ladder level that the target's head enters"
        ),
    )
    ece_bins: int = Field(ge=2, le=100, description="more leave each bin a handful of scores")
    bootstrap_samples: int = Field(ge=10, le=10_000, description="draws per interval")
    bootstrap_seed: int = Field(ge=0, description="numpy's generators take no negative seed")
    min_positives: int = Field(ge=1, description="warn loudly when a window holds fewer positives")

    def for_target(self, target: str) -> EvaluationParams:
        """These settings with `alert_threshold` set to the one that judges `target`'s alerts."""
        t = (
            self.alert_threshold
            if self.alert_threshold is not None
            else self.alert_thresholds.get(target)
        )
        if t is None:
            raise UserError(
                f"evaluation: no alert threshold for {target}; set evaluation.alert_threshold or "
                "give a ladder level an entry threshold for its head"
            )
        return self.model_copy(update={"alert_threshold": t})


class PromotionParams(StrictModel):
    """The gate that moves the `champion` alias."""

    # the registry's name; models:/NAME@champion URIs need it plain (MLflow refuses / and :)
    model_name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=200)
    primary_metric: Literal["pr_auc", "roc_auc", "brier", "log_loss", "ece"]
    tolerance: float = Field(
        ge=0,
        lt=1,  # the metrics run 0..1 (log loss a little beyond): 1 passed any challenger at all
        description="how much worse the challenger may be and still win",
    )
    window_days: int = Field(
        ge=7, le=MAX_DAYS, description="length of the most recent labelled window"
    )


# --- labels (issue 3) -----------------------------------------------------------------------------


class LabelParams(StrictModel):
    """Label horizons: an event in [as_of, as_of + horizon) makes the snapshot positive."""

    escalation_days: StrictInt = Field(
        ge=1, le=366, description="horizon of escalation_30d, in days"
    )
    churn_days: StrictInt = Field(ge=1, le=730, description="horizon of churn_90d, in days")
    # where each label table is complete (training/labels.py `label_ends`): the data's end unless
    # the table is silent longer than its pace explains (auto), its own latest event, the latest
    # event of any table, or the day it was extracted
    escalations_until: Literal["auto", "table", "source"] | dt.date = Field(
        default="auto", description="end of the escalations table: auto, table, source or a date"
    )
    churn_until: Literal["auto", "table", "source"] | dt.date = Field(
        default="auto", description="end of the churn table: auto, table, source or a date"
    )

    @field_validator("escalations_until", "churn_until", mode="before")
    @classmethod
    def _until(cls, value: object) -> object:
        """One error naming the three forms, not one per branch of the union."""
        if isinstance(value, dt.date) or value in ("auto", "table", "source"):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            raise ValueError("must be auto, table, source or a date (YYYY-MM-DD)") from None
