"""The root settings object: `params.yaml` is loaded here, once, at the entry point.

Each package owns the models of its own sections; this module only composes them and turns
pydantic's errors into messages that name the key's path.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import math
import re
import types
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from features.errors import UserError
from features.params import (
    MAX_DAYS,
    MAX_HOURS,
    MAX_SECONDS,
    CalendarParams,
    ContractParams,
    FeatureParams,
    ImporterParams,
    SettingError,
    StrictModel,
    did_you_mean,
    distinct,
    importer_problems,
    yaml_text,
)
from serving.params_text import t as pt
from training.labels import LABELS
from training.params import (
    EvaluationParams,
    LabelParams,
    ModelParams,
    PromotionParams,
    SimulationParams,
    SplitParams,
)
from training.simulate import simulation_problems

# --- The escalation ladder and its notifications (issue 5) -----------------------------------

CHANNELS = ("email", "phone", "slack", "ticket")
SCORES = ("escalation_risk", "churn_risk")
# Account facts a rule or the priority matrix may name: `serving.ladder.AccountFacts`' fields but
# language, csm_owner and name (who is told, not how risky the account is).
FACTS = (
    "arr",
    "tier",
    "seats",
    "days_to_renewal",
    "open_p1",
    "open_p2",
    "open_p1_past_sla",
    "open_p2_past_sla",
)
OPERATORS = (">=", ">", "<=", "<", "==", "!=", "in", "not_in")
TEXT_FACTS = ("tier",)  # the other facts and the scores are numbers
# Names the audit store keeps in columns of a fixed width (serving.store): PostgreSQL refuses a
# longer one ("value too long") in the middle of a daily run, after the scoring; SQLite keeps it.
Stored16 = Annotated[str, Field(min_length=1, max_length=16)]
Stored64 = Annotated[str, Field(min_length=1, max_length=64)]
LEVEL_NAME_CHARS = 64
# what people read (a title, a playbook action): "" showed a blank in messages and on the page
Text = Annotated[str, Field(min_length=1)]


def _known(value: str, known: tuple[str, ...], what: str, key: str = "") -> str:
    """`value` when it is one of `known`; else a ValueError starting with `key`'s path."""
    if value not in known:
        where = f"{key}: " if key else ""
        raise ValueError(f"{where}unknown {what} {value!r}; known: {list(known)}")
    return value


def _spoken(texts: dict[str, str] | None) -> dict[str, str] | None:
    """Texts by language must name languages the ladder speaks: a misspelled one ('dee') was
    kept and never shown, the English text standing in for it."""
    from serving.ladder_text import CATALOG

    for language in texts or {}:
        if language not in CATALOG:
            raise ValueError(
                f"{language}: unknown language (supported: {list(CATALOG)}){did_you_mean(language, list(CATALOG))}"
            )
    return texts


class Condition(StrictModel):
    """One test on one input: exactly one of `fact`, `feature` or `score`, an operator and a value."""

    fact: str | None = None
    feature: str | None = None
    score: str | None = None
    op: str
    value: float | str | list[float | str]

    @field_validator("value", mode="before")
    @classmethod
    def _plain_value(cls, value: Any) -> Any:
        """One error naming the value, not one per member of the union (value.float,
        value.str, value.list[...]); true/false are no numbers here."""
        for v in value if isinstance(value, list) else [value]:
            item = f" ({v!r} in the list)" if isinstance(value, list) else ""
            if isinstance(v, bool) or not isinstance(v, (int, float, str)):
                raise ValueError(f"must be a number, a text or a list of them{item}")
            if isinstance(v, float) and not math.isfinite(v):
                raise ValueError(f"must be a finite number{item}")
        return value

    @model_validator(mode="after")
    def _one_subject(self) -> Condition:
        named = [k for k in ("fact", "feature", "score") if getattr(self, k) is not None]
        if len(named) != 1:
            raise ValueError(f"name exactly one of fact, feature or score (got {named or 'none'})")
        if self.fact is not None:
            _known(self.fact, FACTS, "fact", "fact")
        if self.score is not None:
            _known(self.score, SCORES, "score", "score")
            numbers = self.value if isinstance(self.value, list) else [self.value]
            if any(not isinstance(v, str) and not 0 <= v <= 1 for v in numbers):
                raise ValueError(
                    f"value: a score is a calibrated probability from 0 to 1 (got {self.value!r}; "
                    "30% is 0.3)"
                )
        _known(self.op, OPERATORS, "operator", "op")
        if self.op in ("in", "not_in") and not isinstance(self.value, list):
            raise ValueError(f"value: operator {self.op!r} needs a list value")
        if self.op in (">=", ">", "<=", "<") and isinstance(self.value, (str, list)):
            raise ValueError(f"value: operator {self.op!r} needs a number, got {self.value!r}")
        # a text compared with a number (or the other way round) never holds: the rule or class
        # was dead without a word (tier >= 2, arr == "250000", churn_risk == "high")
        values = self.value if isinstance(self.value, list) else [self.value]
        if self.fact is not None or self.score is not None:
            text = self.fact in TEXT_FACTS
            if text and self.op in (">=", ">", "<=", "<"):
                raise ValueError(
                    f"op: {self.subject} is a text; compare it with in, not_in, == or != "
                    f"(got {self.op!r})"
                )
            wrong = [v for v in values if isinstance(v, str) != text]
            if wrong:
                raise ValueError(
                    f"value: {self.subject} is {'a text' if text else 'a number'}; "
                    f"{wrong[0]!r} never matches it"
                )
        return self

    @property
    def subject(self) -> str:
        return self.fact or self.feature or self.score or ""


class RuleParams(StrictModel):
    """A hard rule: when every condition holds, the account is at least at `min_level`."""

    name: str = Field(min_length=1, max_length=123)  # stored as "rule:<name>" in 128
    when: tuple[Condition, ...] = Field(min_length=1)
    min_level: str
    title: dict[str, Text] | None = Field(
        default=None, description="language -> what people read (default: the name)"
    )

    _title_spoken = field_validator("title")(_spoken)


class EntryParams(StrictModel):
    """A level is entered when either calibrated risk reaches its threshold (null: head not used)."""

    escalation_risk: float | None = Field(ge=0, le=1)
    churn_risk: float | None = Field(ge=0, le=1)


class LevelParams(StrictModel):
    title: dict[str, Text] = Field(min_length=1, description="language -> display name")
    _title_spoken = field_validator("title")(_spoken)
    entry: EntryParams | None
    owners: tuple[str, ...] = Field(description="owner roles, e.g. csm, cs_manager")
    response_hours: float | None = Field(
        gt=0, le=MAX_HOURS, description="acknowledge within; null: no target"
    )
    business_hours: bool
    channels: tuple[str, ...]
    actions: tuple[str, ...]

    @field_validator("owners")
    @classmethod
    def _has_owner(cls, owners: tuple[str, ...]) -> tuple[str, ...]:
        if not owners or any(not o.strip() for o in owners):
            raise ValueError("every level needs at least one non-empty owner role")
        return owners

    @field_validator("channels")
    @classmethod
    def _known_channels(cls, channels: tuple[str, ...]) -> tuple[str, ...]:
        for c in channels:
            _known(c, CHANNELS, "channel")
        return channels


class HysteresisParams(StrictModel):
    margin: float = Field(
        ge=0, le=1, description="risk must fall below entry minus this to go down"
    )
    cooldown_days: float = Field(ge=0, le=MAX_DAYS, description="...and stay there this long")


class TimeoutParams(StrictModel):
    max_repeats: int = Field(
        ge=0, description="automatic one-level steps per unacknowledged episode"
    )
    while_cooling_down: bool = Field(
        default=False,
        description="step up by timeout also while the risk is below the level's entry minus the margin",
    )


class ClassParams(StrictModel):
    """An impact or urgency class: matched when any condition holds (first class wins; the last
    class is the default and has no conditions)."""

    name: str
    any: tuple[Condition, ...]


class PriorityParams(StrictModel):
    impact: tuple[ClassParams, ...] = Field(min_length=1)
    urgency: tuple[ClassParams, ...] = Field(min_length=1)
    matrix: dict[str, dict[str, Stored16]] = Field(description="impact -> urgency -> priority")

    @model_validator(mode="after")
    def _matrix_complete(self) -> PriorityParams:
        for axis in ("impact", "urgency"):
            classes: tuple[ClassParams, ...] = getattr(self, axis)
            if classes[-1].any:
                raise ValueError(
                    f"priority.{axis}: the last class ({classes[-1].name}) is the default and must have `any: []`"
                )
        for imp in self.impact:
            row = self.matrix.get(imp.name)
            if row is None:
                raise ValueError(f"matrix.{imp.name}: no row for this impact class")
            missing = [u.name for u in self.urgency if u.name not in row]
            if missing:
                raise ValueError(f"matrix.{imp.name}: no priority for urgency {missing}")
        unknown = [k for k in self.matrix if k not in {c.name for c in self.impact}]
        if unknown:
            raise ValueError(
                f"matrix.{unknown[0]}: unknown impact class (known: {[c.name for c in self.impact]})"
            )
        return self


# families the shipped params.yaml listed until they were checked at load: no reason has them, so
# they never routed anything; a params file copied from an older version still loads without them
RETIRED_FAMILIES = frozenset({"adoption", "billing", "contract", "bugs", "engineering"})


class RoutingParams(StrictModel):
    """Functional routing: the dominant reason family picks the team."""

    teams: Annotated[tuple[Stored64, ...], AfterValidator(distinct)] = Field(min_length=1)
    families: dict[str, str] = Field(description="reason family -> team")
    default_team: str

    @field_validator("families", mode="before")
    @classmethod
    def _without_retired(cls, value: Any) -> Any:
        from features.build import FAMILIES

        if not isinstance(value, dict):
            return value
        known = {f.FAMILY for f in FAMILIES}
        return {k: v for k, v in value.items() if k not in RETIRED_FAMILIES or k in known}

    @model_validator(mode="after")
    def _teams_known(self) -> RoutingParams:
        from features.build import FAMILIES

        _known(self.default_team, self.teams, "routing.default_team team")
        known = [f.FAMILY for f in FAMILIES]  # what `dominant_family` can name, model or not
        # every unknown family at once, one line each: told one a run, two typos took two runs
        unknown = [
            f"families.{family}: unknown reason family (known: {known}){did_you_mean(family, known)}"
            for family in self.families
            if family not in known
        ]
        if unknown:
            raise ValueError("\n".join(unknown))
        for family, team in self.families.items():
            _known(team, self.teams, f"team in routing.families.{family}:")
        return self


class LadderParams(StrictModel):
    """The escalation ladder: ordered levels (lowest first), hard rules, priority, routing, timers."""

    levels: dict[str, LevelParams] = Field(min_length=2)
    rules: tuple[RuleParams, ...]
    hysteresis: HysteresisParams
    timeout: TimeoutParams
    business_calendar: CalendarParams
    priority: PriorityParams
    routing: RoutingParams
    actions: dict[str, dict[str, Text]] = Field(description="playbook action -> language -> text")
    outcomes: Annotated[tuple[Stored64, ...], AfterValidator(distinct)] = Field(
        min_length=1, description="allowed resolution outcomes"
    )

    @model_validator(mode="after")
    def _consistent(self) -> LadderParams:
        names = list(self.levels)
        for name in names:
            if not 1 <= len(name.strip()) <= len(name) <= LEVEL_NAME_CHARS:
                raise ValueError(
                    f"levels.{name}: a level name is stored in at most {LEVEL_NAME_CHARS} "
                    f"characters and is not blank (got {len(name)})"
                )
        first = self.levels[names[0]]
        if first.entry is not None and (first.entry.escalation_risk or first.entry.churn_risk):
            raise ValueError(
                f"levels.{names[0]}.entry: the lowest level is the floor; set `entry: null`"
            )
        for head in SCORES:
            prev: tuple[str, float] | None = None
            for name in names[1:]:
                entry = self.levels[name].entry
                value = getattr(entry, head) if entry is not None else None
                if value is None:
                    continue
                if prev is not None and value <= prev[1]:
                    raise ValueError(
                        f"levels.{name}.entry.{head}: thresholds not monotonic: {value} is not above "
                        f"{prev[1]} of the lower level {prev[0]}"
                    )
                if value <= self.hysteresis.margin:
                    raise ValueError(
                        f"hysteresis.margin: {self.hysteresis.margin} is not below levels.{name}.entry."
                        f"{head} ({value}); an account at {name} by that risk would never step down"
                    )
                prev = (name, value)
        for name, level in self.levels.items():
            for action in level.actions:
                if action not in self.actions:
                    raise ValueError(
                        f"levels.{name}.actions: unknown action {action!r}; define it under ladder.actions"
                    )
            if "en" not in level.title:
                raise ValueError(f"levels.{name}.title: needs at least an English (en) title")
            yearly = 52 * self.business_calendar.weekly_hours()
            if level.business_hours and level.response_hours and level.response_hours > yearly:
                raise ValueError(
                    f"levels.{name}.response_hours: {level.response_hours:g} business hours is more "
                    f"than a year of the business calendar ({yearly:g} hours); due times are "
                    "looked for within three years"
                )
        for i, rule in enumerate(self.rules):
            if rule.title is not None and "en" not in rule.title:
                raise ValueError(
                    f"rules[{i}].title: rule {rule.name!r} needs at least an English (en) title"
                )
            if rule.min_level not in self.levels:
                raise ValueError(
                    f"rules[{i}].min_level: unknown level {rule.min_level!r} in rule {rule.name!r}; "
                    f"known: {names}"
                )
        seen = [r.name for r in self.rules]
        dupes = sorted({n for n in seen if seen.count(n) > 1})
        if dupes:
            raise ValueError(f"rules: duplicate rule names {dupes}")
        for key, texts in self.actions.items():
            if "en" not in texts:
                raise ValueError(f"actions.{key}: needs at least an English (en) text")
            try:
                _spoken(texts)
            except ValueError as exc:
                raise ValueError(f"actions.{key}.{exc}") from None
        return self


class ChannelParams(StrictModel):
    """How one channel is delivered: `smtp`, `webhook` (Slack/Teams-style JSON) or `none` (manual)."""

    notifier: str
    url: str | None = None
    team_urls: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _needs_url(self) -> ChannelParams:
        _known(self.notifier, ("smtp", "webhook", "none"), "notifier")
        if self.notifier == "webhook" and not self.url:
            raise ValueError("a webhook channel needs a url")
        for where, url in [("url", self.url)] + [
            (f"team_urls.{k}", u) for k, u in self.team_urls.items()
        ]:
            if url is not None:
                _http_url(url, where)
        return self


def _http_url(url: str, where: str) -> None:
    """A webhook address must be http(s) with a host: found at load, not as failed sends later."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{where}: {url!r} is not an http(s) URL")


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")


def _email(address: str, where: str) -> str:
    if not _EMAIL.fullmatch(address):
        raise ValueError(f"{where}: {address!r} is not an email address")
    return address


class SmtpParams(StrictModel):
    host: str
    port: int = Field(gt=0, lt=65536)
    sender: str

    @field_validator("sender")
    @classmethod
    def _sender(cls, sender: str) -> str:
        return _email(sender, "sender")

    starttls: bool
    username: str | None
    timeout_seconds: float = Field(gt=0, le=MAX_SECONDS)


class RetryParams(StrictModel):
    max_attempts: int = Field(
        ge=1,
        description="attempts for an error that is no outage (an outage is retried until "
        "max_age_hours; with no age limit, max_attempts times too)",
    )
    backoff_seconds: float = Field(ge=0, le=MAX_SECONDS)
    backoff_factor: float = Field(ge=1)
    max_backoff_seconds: float = Field(ge=0, le=MAX_SECONDS)
    lease_seconds: float = Field(
        gt=0, le=MAX_SECONDS, description="a claim older than this was a crashed sender"
    )
    max_age_hours: float | None = Field(
        default=48,  # as params.yaml and docs/ladder.md give it; omitted was no limit
        gt=0,
        le=MAX_HOURS,
        description="a message queued longer ago is not sent (failed, expired); null: no limit",
    )


class NotificationParams(StrictModel):
    default_language: str
    on_deescalation: bool
    channels: dict[str, ChannelParams]
    smtp: SmtpParams
    recipients: dict[str, tuple[str, ...]] = Field(description="owner role -> email addresses")
    webhook_timeout_seconds: float = Field(gt=0, le=MAX_SECONDS)
    retry: RetryParams

    @field_validator("channels")
    @classmethod
    def _known_channels(cls, channels: dict[str, ChannelParams]) -> dict[str, ChannelParams]:
        for c in channels:
            _known(c, CHANNELS, "channel")
        return channels

    @field_validator("recipients")
    @classmethod
    def _addresses(cls, recipients: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for role, addresses in recipients.items():
            for i, address in enumerate(addresses):
                _email(address, f"{role}[{i}]")
        return recipients

    @model_validator(mode="after")
    def _lease_outlasts_a_send(self) -> NotificationParams:
        """A claim older than the lease is taken as a crashed sender's: one that lapses while a
        send may still be waiting on its server lets `escrisk notify` (from cron) take the
        message from `escrisk daily` and send it a second time."""
        longest = max(self.smtp.timeout_seconds, self.webhook_timeout_seconds)
        if self.retry.lease_seconds <= longest:
            raise ValueError(
                f"retry.lease_seconds: {self.retry.lease_seconds:g} is not above the longest send "
                f"timeout ({longest:g} s, smtp.timeout_seconds or webhook_timeout_seconds): "
                "another sender would take a message still being sent and send it twice"
            )
        return self


MAX_WORKERS = 64  # service.workers and `escrisk serve --workers`


class ServiceParams(StrictModel):
    """The scoring service (issue 6): processes, time and size limits, reasons per head."""

    workers: int = Field(
        ge=1,
        le=MAX_WORKERS,  # each loads the model (~0.3 GB); thousands took the machine down
        description="worker processes of `escrisk serve` (each loads the model)",
    )
    timeout_seconds: float = Field(
        gt=0, le=MAX_SECONDS, description="a request taking longer is answered 504"
    )
    max_request_mb: float = Field(gt=0, description="larger request bodies are refused with 413")
    large_request_mb: float = Field(
        gt=0, description="a body above this is large: only so many are handled at once"
    )
    concurrent_large_requests: int = Field(
        ge=1, description="large bodies a worker holds at once; more are answered 503, retry"
    )
    clock_skew_seconds: float = Field(
        ge=0, le=MAX_SECONDS, description="how far an event may lie after our clock"
    )
    top_reasons: int = Field(ge=0, le=20, description="reasons per head in each answer")
    inline_accounts: int = Field(
        ge=0, description="requests with up to this many accounts are scored on the event loop"
    )
    inline_rows: int = Field(
        ge=0, description="... and up to this many history rows (tickets, usage days, escalations)"
    )
    access_log: bool = Field(description="one log line per request (method, path, status, time)")
    tracing: bool = Field(description="BentoML's OpenTelemetry spans and request-id header")
    auth_free_failures: int = Field(
        default=20,
        ge=1,
        le=100_000,
        description="wrong bearer tokens in a row a client address has before it waits",
    )
    auth_max_wait_seconds: float = Field(
        default=300,
        ge=0,
        le=MAX_SECONDS,
        description="longest wait after wrong bearer tokens (1 s, 2 s, 4 s, ... up to this); 0: none",
    )

    @model_validator(mode="after")
    def _large_within_max(self) -> ServiceParams:
        if self.large_request_mb > self.max_request_mb:
            raise ValueError("large_request_mb: must not exceed max_request_mb")
        return self

    def runs_inline(self, accounts: int, rows: int) -> bool:
        """Whether a call is small enough to score on the event loop: it blocks the worker's
        other requests and health checks meanwhile, so its history rows count, not only its
        accounts."""
        return accounts <= self.inline_accounts and rows <= self.inline_rows


class DailyPriorityParams(StrictModel):
    """priority = (escalation_weight * escalation_risk + churn_weight * churn_risk)
    * (max(arr, arr_floor) / arr_scale) ** arr_exponent"""

    escalation_weight: float = Field(ge=0)
    churn_weight: float = Field(ge=0)
    arr_floor: float = Field(gt=0, description="ARR below this counts as this (no zero priority)")
    arr_scale: float = Field(gt=0, description="ARR that counts 1x")
    arr_exponent: float = Field(
        ge=0,
        le=2,  # above, large ARRs overflowed to an infinite priority (tied, ranked at random)
        description="0: ARR ignored; 1: proportional to ARR; 2: to its square",
    )

    @model_validator(mode="after")
    def _some_risk(self) -> DailyPriorityParams:
        """Both weights 0 made every priority 0: the list was ranked by neither risk nor ARR."""
        if self.escalation_weight + self.churn_weight <= 0:
            raise ValueError(
                "churn_weight: escalation_weight and churn_weight are both 0 (every priority "
                "would be 0: give one a weight above 0)"
            )
        return self


class DriftParams(StrictModel):
    """Input and score drift against the training reference (PSI)."""

    main_features: int = Field(ge=1, description="the most important features shown")
    warn_psi: float = Field(gt=0, description="moderate shift from here")
    retrain_psi: float = Field(gt=0, description="major shift: retrain from here")
    retrain_features: int = Field(
        ge=1, description="retrain when this many main features shift majorly"
    )
    bins: int = Field(ge=2, le=100, description="quantile bins of the reference (set at training)")
    reference_weeks: int = Field(
        ge=1,
        le=MAX_DAYS // 7,
        description="the reference: the last weeks of train+validation snapshots (set at training)",
    )
    epsilon: float = Field(gt=0, lt=0.01, description="share given to an empty bin")
    min_accounts: int = Field(
        default=200, ge=1, description="fewer accounts scored: drift is not judged (PSI is noise)"
    )

    @model_validator(mode="after")
    def _ordered(self) -> DriftParams:
        if self.retrain_psi <= self.warn_psi:
            raise ValueError("retrain_psi: must be above warn_psi")
        return self


class BenchmarkHoursParams(StrictModel):
    first_response: float = Field(gt=0, le=MAX_HOURS)
    resolution: float = Field(gt=0, le=MAX_HOURS)


class DailyParams(StrictModel):
    """`escrisk daily`: ranking, deltas, the terminal table and the HTML report (issue 7)."""

    priority: DailyPriorityParams
    top_reasons: int = Field(ge=1, le=10, description="reasons per account in the list")
    delta_days: int = Field(
        ge=1, le=MAX_DAYS, description="the second delta compares with this many days ago"
    )
    why_changed_min_delta: float = Field(
        ge=0, le=1, description="smaller risk changes are not explained (a risk is 0..1)"
    )
    why_changed_features: int = Field(ge=1, description="features named in why_changed")
    trend_runs: int = Field(ge=2, description="runs shown in the report's trend")
    kpi_window_days: int = Field(
        ge=1, le=MAX_DAYS, description="KPIs over this many days before as_of"
    )
    csat_after_days: int = Field(
        ge=1, le=MAX_DAYS, description="tickets opened this long after an escalation"
    )
    benchmark_hours: BenchmarkHoursParams
    drift: DriftParams
    terminal_rows: int = Field(ge=1, description="rows of the terminal table")
    language: str = Field(description="language of the terminal table and report (en, de)")
    max_source_lag_days: int | None = Field(
        default=7,
        ge=0,
        le=MAX_DAYS,
        description="a table the model uses without rows in more than this many whole days "
        "before as_of, or usage missing days amid its features' reach, stops the run (null: "
        "only absent or empty tables do)",
    )
    keep_days: int | None = Field(
        default=400,  # docs/ladder.md's default; omitted kept every day, unbounded
        ge=1,
        le=MAX_DAYS,
        description="stored lists and scores older than this many days are deleted (null: kept)",
    )

    @model_validator(mode="after")
    def _keeps_what_it_reads(self) -> DailyParams:
        """The run reads back the run delta_days ago, the last trend_runs runs and the stored
        scores of the KPI window: pruning them would quietly empty delta_7d and the trend, and
        divide the window's flags (the audit trail, never pruned) by the few account-days left
        (keep_days 8 of a 90-day window: an escalation rate three times too high)."""
        need = max(self.delta_days, self.trend_runs, self.kpi_window_days)
        if self.keep_days is not None and self.keep_days < need:
            raise ValueError(
                f"keep_days {self.keep_days} is shorter than what each run reads back "
                f"(delta_days {self.delta_days}, trend_runs {self.trend_runs}, kpi_window_days "
                f"{self.kpi_window_days}): at least {need}"
            )
        return self


class ReplayParams(StrictModel):
    """`escrisk replay`: the ladder run day by day over history, to tune thresholds (issue 5)."""

    flag_level: str = Field(description="an account at this level or above counts as flagged")
    flap_days: int = Field(
        ge=1, le=MAX_DAYS, description="a level change reversed within this many days flaps"
    )
    assume_acknowledged: bool = Field(
        description="true: every level is acknowledged within its target (no timeout steps)"
    )


class UiParams(StrictModel):
    """The CSM web page under /ui (issue 7): language, session, list paging, chart windows."""

    language: str = Field(description="page language when the user picked none (en, de)")
    session_hours: float = Field(gt=0, le=MAX_HOURS, description="a login lasts this long")
    page_size: int = Field(ge=1, le=1000, description="accounts per page of the list")
    history_runs: int = Field(
        ge=1,
        le=MAX_DAYS,  # one run a day; 10**20 stopped the account page (no SQL LIMIT that large)
        description="daily runs shown in the score history",
    )
    timeline_days: int = Field(
        ge=1, le=MAX_DAYS, description="days of tickets and usage on the account page"
    )
    waterfall_features: int = Field(ge=1, le=30, description="bars of the reasons waterfall")
    source_refresh_seconds: float = Field(
        ge=0,
        le=MAX_SECONDS,
        description="re-read the source (ESCRISK_SOURCE) for timelines after this long",
    )
    login_free_failures: int = Field(
        default=5,
        ge=1,
        le=1000,
        description="failed sign-ins in a row a client has before it waits",
    )
    login_max_wait_seconds: float = Field(
        default=300,
        ge=0,
        le=MAX_SECONDS,
        description="longest wait after failed sign-ins (1 s, 2 s, 4 s, ... up to this); 0: none",
    )


class Params(StrictModel):
    """Everything tunable, validated. Sections are added by the package that owns them."""

    contract: ContractParams
    simulation: SimulationParams
    features: FeatureParams
    labels: LabelParams
    split: SplitParams
    model: ModelParams
    evaluation: EvaluationParams
    promotion: PromotionParams
    importers: ImporterParams
    ladder: LadderParams
    notifications: NotificationParams
    service: ServiceParams
    daily: DailyParams
    replay: ReplayParams
    ui: UiParams

    @model_validator(mode="after")
    def _alerts_follow_ladder(self) -> Params:
        """Evaluation counts an alert where the ladder raises one: each head's lowest entry."""
        ev = self.evaluation
        if ev.alert_threshold is not None:
            return self
        filled = dict(ev.alert_thresholds)
        for target in LABELS:
            if target in filled:
                continue
            score = f"{head_of(target)}_risk"
            entries = [getattr(lv.entry, score) for lv in self.ladder.levels.values() if lv.entry]
            entries = [e for e in entries if e is not None]
            if not entries:
                raise ValueError(
                    f"evaluation.alert_threshold: null, and no ladder level has an entry for "
                    f"{score}; set a number"
                )
            filled[target] = entries[0]
        return self.model_copy(
            update={"evaluation": ev.model_copy(update={"alert_thresholds": filled})}
        )

    @model_validator(mode="after")
    def _features_keep_the_sla_policy(self) -> Params:
        """The SLA features count against contract.sla_policy: a copy goes with the feature
        settings (`features.sla.policy`), which a model keeps, so that it is scored with the
        policy it was trained with. Only the contract's is written in params.yaml."""
        sla = self.features.sla
        if sla.policy is not None and sla.policy != self.contract.sla_policy:
            raise ValueError(
                "features.sla.policy: set from contract.sla_policy, not written here; leave it out"
            )
        sla = sla.model_copy(update={"policy": self.contract.sla_policy})
        return self.model_copy(update={"features": self.features.model_copy(update={"sla": sla})})

    @model_validator(mode="after")
    def _sla_policy_in_business_hours(self) -> Params:
        """With features.sla.business_hours the policy's targets are business hours: one longer
        than two business weeks (ten working days, about the longest a support contract states)
        is a clock-hour target left as it was, such as the shipped 336 hours (14 days, read as
        6.7 weeks of 50 business hours): refused rather than quietly stretched."""
        cal = self.features.sla.business_hours
        if cal is None:
            return self
        week = cal.weekly_hours()
        long = [
            (f"{tier}.{priority}.{kind}", hours)
            for tier, by_priority in self.contract.sla_policy.items()
            for priority, target in by_priority.items()
            for kind in ("first_response", "resolution")
            if (hours := getattr(target, kind)) > 2 * week
        ]
        if long:
            where, hours = long[0]
            more = f" (and {len(long) - 1} more)" if len(long) > 1 else ""
            raise ValueError(
                f"contract.sla_policy.{where}: {hours:g} hours{more} read as business hours of "
                f"features.sla.business_hours ({week:g} a week) last {hours / week:.1f} business "
                "weeks, longer than two: clock hours, as the policy stated them before the "
                "calendar was set? Restate the policy in business hours (10 working days of 8 "
                "hours: 80), or set features.sla.business_hours: null"
            )
        return self

    @model_validator(mode="after")
    def _names_known(self) -> Params:
        """Names one section gives to another's things must exist: a misspelled feature in a
        rule would otherwise be skipped silently, an unknown target fail in the middle of
        training, an unknown level or language only when the command runs."""
        from features.build import full_spec
        from serving import daily_text, ladder_text, ui_text
        from serving.ladder import unknown_features
        from serving.notify import config_problems

        problems = [
            f"model.targets: {t!r} is not a label (known: {list(LABELS)})"
            for t in self.model.targets
            if t not in LABELS
        ]
        problems += [  # a misspelled target's threshold was ignored, the ladder's used instead
            f"evaluation.alert_thresholds.{t}: not a label (known: {list(LABELS)})"
            f"{did_you_mean(t, list(LABELS))}"
            for t in self.evaluation.alert_thresholds
            if t not in LABELS
        ]
        # the daily run and the service score every head: a model without one could not serve
        heads = {head_of(t) for t in self.model.targets if t in LABELS}
        problems += [
            f"model.targets: no {h} target; the daily run and the service score {list(HEADS)} "
            f"(known labels: {list(LABELS)})"
            for h in HEADS
            if h not in heads
        ]
        # the features count per contract priority (the first one the most urgent: tickets_p1)
        # and encode the contract's tiers: a tier missing here would be read as unknown
        problems += [
            f"features.{key}: {list(getattr(self.features, key))} is not contract.{key} "
            f"{list(getattr(self.contract, key))} (the same values in the same order; "
            f"params.yaml gives both from one anchor, *{key})"
            for key in ("tiers", "priorities")
            if getattr(self.features, key) != getattr(self.contract, key)
        ]
        # a custom field reusing a built-in feature's name: named under its key here (full_spec
        # refuses it with a line that names no key), the built-in kept for the checks below
        custom = self.features.custom_fields
        builtin = full_spec(self.features.model_copy(update={"custom_fields": {}})).names
        taken = [*builtin, "account_id", "as_of"]
        clashes = [
            f"features.custom_fields.{name}: {name!r} is already a built-in feature's name "
            "(docs/features.md) or a key column; give the field another"
            for name in custom
            if name in taken
        ]
        problems += clashes
        names = list(builtin) if clashes else full_spec(self.features).names
        features = set(names)
        problems += [
            f"model.monotone: {name!r} is not a feature (see docs/features.md)"
            f"{did_you_mean(name, names)}"
            for name in self.model.monotone
            if name not in features
        ]
        problems += [
            f"model.health_score[{i}].feature: {rule.feature!r} is not a feature"
            f"{did_you_mean(rule.feature, names)}"
            for i, rule in enumerate(self.model.health_score)
            if rule.feature not in features
        ]
        problems += [
            f"ladder.{where}.value: {v!r} is not in contract.tiers {list(self.contract.tiers)} "
            f"(it never matches){did_you_mean(str(v), self.contract.tiers)}"
            for where, c in _conditions(self.ladder)
            if c.fact == "tier"
            for v in (c.value if isinstance(c.value, list) else [c.value])
            if v not in self.contract.tiers
        ]
        # a model has these or fewer (a family its data lacked): checked against it when loaded
        problems += unknown_features(
            self.ladder, names, "the features params.yaml defines, docs/features.md"
        )
        if self.replay.flag_level not in self.ladder.levels:
            problems.append(
                f"replay.flag_level: {self.replay.flag_level!r} is not a ladder level "
                f"(known: {list(self.ladder.levels)})"
            )
        for key, value, spoken in (  # each setting against the texts it picks from
            ("daily.language", self.daily.language, tuple(daily_text.CATALOG)),
            ("ui.language", self.ui.language, tuple(ui_text.CATALOG)),
            (
                "notifications.default_language",
                self.notifications.default_language,
                tuple(ladder_text.CATALOG),
            ),
        ):
            if value not in spoken:
                problems.append(f"{key}: {value!r} is not one of {list(spoken)}")
        problems += self._untranslated(tuple(ladder_text.CATALOG))
        problems += importer_problems(self.importers, self.contract)
        problems += simulation_problems(self.simulation, self.contract)
        problems += config_problems(self.ladder, self.notifications)
        if problems:
            raise ValueError("\n".join(problems))  # one line each (`_problems`)
        return self

    def _untranslated(self, spoken: tuple[str, ...]) -> list[str]:
        """Ladder texts lacking a language the product speaks here (an account's, the report's,
        the page's or the messages' default): German messages read "Stufe: CS manager" without a
        word at load. A shop speaking only English needs no German texts."""
        used = {*self.contract.languages, self.daily.language, self.ui.language}
        used.add(self.notifications.default_language)
        needed = [lang for lang in spoken if lang != "en" and lang in used]
        texts: list[tuple[str, dict[str, str]]] = [
            (f"ladder.levels.{name}.title", level.title)
            for name, level in self.ladder.levels.items()
        ]
        texts += [
            (f"ladder.rules.{i}.title", rule.title)
            for i, rule in enumerate(self.ladder.rules)
            if rule.title is not None
        ]
        texts += [(f"ladder.actions.{key}", t) for key, t in self.ladder.actions.items()]
        return [
            f"{where}.{lang}: missing; {lang!r} is spoken here (contract.languages, "
            "daily.language, ui.language or notifications.default_language), and the messages, "
            f"report and page in it would show the English text: add it, or drop {lang!r} from "
            "those settings"
            for where, t in texts
            if "en" in t
            for lang in needed
            if lang not in t
        ]


def _conditions(ladder: LadderParams) -> list[tuple[str, Condition]]:
    """Every condition of the ladder's rules and priority classes, with its key path."""
    out = [
        (f"rules[{i}].when[{j}]", c)
        for i, rule in enumerate(ladder.rules)
        for j, c in enumerate(rule.when)
    ]
    for axis in ("impact", "urgency"):
        for i, cls in enumerate(getattr(ladder.priority, axis)):
            out += [(f"priority.{axis}[{i}].any[{j}]", c) for j, c in enumerate(cls.any)]
    return out


HEADS = ("escalation", "churn")  # the model's heads; each scores `<head>_risk`


def head_of(target: str) -> str:
    """escalation_30d -> escalation, churn_90d -> churn."""
    for h in HEADS:
        if target.startswith(h):
            return h
    raise ValueError(f"target {target!r} is neither an escalation nor a churn target")


@dataclass(frozen=True)
class Problem:
    """One invalid setting: its key path and what is wrong, as a catalog key of
    `serving.params_text` with its values, or (a rule of this setting alone) English text."""

    path: str
    key: str | None = None
    values: Mapping[str, Any] = field(default_factory=dict)
    text: str = ""
    got: str | None = None  # the value given, as params.yaml spells it

    def told(self, language: str) -> str:
        said = pt(self.key, language, **self.values) if self.key else self.text
        if self.key == "unknown_key" and self.values.get("close"):
            said += pt("did_you_mean", language, close=self.values["close"])
        if self.got is not None:
            said += pt("got", language, got=self.got)
        return f"{self.path}: {said}"


class ParamsError(UserError):
    """A params file that cannot be used, told in a command's language (`told`): `what`, a key of
    `serving.params_text` says what, one line per invalid setting follows. `file_language` is
    the file's own daily.language, for `escrisk daily` run without --language."""

    def __init__(
        self,
        source: str,
        what: str,
        problems: Sequence[Problem] = (),
        file_language: str | None = None,
        **values: Any,
    ):
        self.source, self.what, self.problems, self.values = source, what, tuple(problems), values
        self.file_language = file_language
        super().__init__(self.told("en"))

    def told(self, language: str) -> str:
        lines = [f"{self.source}: {pt(self.what, language, **self.values)}"]
        return "\n".join(lines + [f"  {p.told(language)}" for p in self.problems])


def _file_language(data: Any) -> str | None:
    """daily.language as the file gives it, when it is one the texts speak."""
    from serving.params_text import CATALOG

    daily = data.get("daily") if isinstance(data, dict) else None
    language = daily.get("language") if isinstance(daily, dict) else None
    return language if isinstance(language, str) and language in CATALOG else None


def parse_params(data: Any, source: str = "params.yaml") -> Params:
    """Validate an already-parsed mapping; errors name every offending key path."""
    if data is None:  # YAML reads an empty file, or one of comments only, as nothing at all
        raise ParamsError(source, "empty", sections=", ".join(Params.model_fields))
    if not isinstance(data, dict):
        raise ParamsError(source, "not_mapping")
    try:
        return Params.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        # a list whose bad item was left out is then "too short": the item's error says it all
        errors = [
            e
            for e in errors
            if not (
                e["type"] == "too_short"
                and any(
                    len(o["loc"]) > len(e["loc"]) and o["loc"][: len(e["loc"])] == e["loc"]
                    for o in errors
                )
            )
        ]
        problems = [p for err in errors for p in _problems(err)]
        raise ParamsError(
            source, "invalid", problems, _file_language(data), n=len(problems)
        ) from None


# A validator's message may start with the key's path below the model it checks
# ("sla_policy.starter: ..."); that path is appended to the error's location.
_REL_PATH = re.compile(r"^((?:[A-Za-z_][\w-]*|\[\d+\])(?:\.[\w-]+|\[\d+\])*): (.+)$", re.DOTALL)

# pydantic's error types of the common rule kinds -> the catalog's key and the bound it names
_KINDS: dict[str, tuple[str, str | None]] = {
    "int_type": ("whole_number", None),
    "int_parsing": ("whole_number", None),
    "int_from_float": ("whole_number", None),
    "float_type": ("number", None),
    "float_parsing": ("number", None),
    "bool_type": ("true_false", None),
    "bool_parsing": ("true_false", None),
    "string_type": ("text", None),
    "dict_type": ("mapping", None),
    "model_type": ("mapping", None),
    "model_attributes_type": ("mapping", None),
    "list_type": ("list", None),
    "tuple_type": ("list", None),
    "date_type": ("date", None),
    "date_parsing": ("date", None),
    "date_from_datetime_parsing": ("date", None),
    "date_from_datetime_inexact": ("date", None),
    "greater_than_equal": ("at_least", "ge"),
    "greater_than": ("above", "gt"),
    "less_than_equal": ("at_most", "le"),
    "less_than": ("below", "lt"),
    "too_short": ("min_items", "min_length"),
    "too_long": ("max_items", "max_length"),
    "string_too_short": ("min_chars", "min_length"),
    "string_too_long": ("max_chars", "max_length"),
    "finite_number": ("finite", None),
    "literal_error": ("one_of", "expected"),
    "invalid_key": ("key_text", None),  # a top-level key YAML reads as a number or null
}


def _problems(err: Any) -> list[Problem]:
    """The invalid settings one pydantic error tells: one, or one per line of a cross-check."""
    msg = str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if err["type"] == "value_error" and "\n" in msg:
        return [p for line in msg.split("\n") for p in _problems({**err, "msg": line})]
    return [_describe({**err, "msg": msg})]


def _describe(err: Any) -> Problem:
    """The key path and what is wrong for one pydantic error, with a suggestion for a
    misspelled key; the common kinds from the catalog, a validator's own text as it is."""
    # pydantic marks an error in a mapping's key with a last part "[key]": the key is the path
    loc = _path_parts(tuple(p for p in err["loc"] if p != "[key]"))
    msg = str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    kind, bound = _KINDS.get(err["type"], (None, None))
    values: dict[str, Any] = {}
    if err["type"] == "extra_forbidden":
        close = difflib.get_close_matches(loc[-1], _known_keys(err["loc"]), n=1)
        return Problem(_joined(loc), "unknown_key", {"close": repr(close[0]) if close else ""})
    if err["type"] == "missing":
        return _missing(_joined(loc) or "(top level)", err["loc"])
    if kind is not None and bound is not None:
        value = err.get("ctx", {}).get(bound)
        name = "n" if bound.endswith("length") else "allowed" if bound == "expected" else "bound"
        values[name] = value
    if kind is None:
        m = _REL_PATH.match(msg)
        if m:
            if m.group(1).startswith("[") and loc:  # an item of a list: windows_days[0]
                loc[-1] += m.group(1)
            else:
                loc.append(m.group(1))
            msg = m.group(2)
    error = err.get("ctx", {}).get("error")
    got = err.get("input")
    shown = yaml_text(got) if got is None or isinstance(got, (str, int, float)) else None
    if isinstance(error, SettingError):
        kind, shown = error.kind, error.got or shown
    elif kind is None and shown is not None and shown in msg:  # the text quotes it already
        shown = None
    if shown is not None and len(shown) > 60:  # a number of 400 digits
        shown = f"{shown[:57]}..."
    return Problem(_joined(loc) or "(top level)", kind, values, msg, shown)


SHIPPED = Path(__file__).resolve().parents[1] / "params.yaml"  # as this version comes


def _missing(path: str, loc: tuple[Any, ...]) -> Problem:
    """A missing key, with the value the params.yaml of this version gives it: a file kept from
    an older version lacks the settings added since, and the key alone did not say what to
    write."""
    node: Any = _shipped()
    for part in loc:
        listed = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if not listed and not (isinstance(node, dict) and part in node):
            return Problem(path, "missing")
        node = node[part]
    if isinstance(node, (dict, list)):
        return Problem(path, "missing_section_shipped")
    shown = node.isoformat() if isinstance(node, dt.date) else yaml_text(node)
    return Problem(path, "missing_shipped", {"value": f"{loc[-1]}: {shown}"})


@functools.cache
def _shipped() -> Any:
    """The params.yaml next to the code, None where there is none (an installed wheel)."""
    try:
        return read_yaml(SHIPPED) if SHIPPED.is_file() else None
    except UserError:
        return None


def _path_parts(loc: tuple[Any, ...]) -> list[str]:
    """pydantic's location as key path parts, a list's item as "[i]" (`rules[0].when[1]`, as the
    validators' own messages and docs write it; pydantic says `rules.0.when.1`), a mapping's
    key as itself (`contract_months.12`)."""
    ann: Any = Params
    out: list[str] = []
    for part in loc:
        ann = _unwrap(ann)
        origin = get_origin(ann)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            field = ann.model_fields.get(str(part))
            ann = field.annotation if field is not None else None
        elif origin in (tuple, list) and isinstance(part, int):
            out.append(f"[{part}]")
            ann = get_args(ann)[0] if get_args(ann) else None
            continue
        elif origin is dict:
            ann = get_args(ann)[-1] if get_args(ann) else None
        else:
            ann = None
        out.append("null" if part is None else str(part))
    return out


def _joined(parts: list[str]) -> str:
    """Path parts as one key path: `ladder.rules[0].when`."""
    return "".join(p if p.startswith("[") or i == 0 else f".{p}" for i, p in enumerate(parts))


def _known_keys(loc: tuple[Any, ...]) -> list[str]:
    """The setting names allowed where an unknown key `loc` was found (for did-you-mean)."""
    ann: Any = Params
    for part in loc[:-1]:
        ann = _unwrap(ann)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            field = ann.model_fields.get(str(part))
            if field is None:
                return []
            ann = field.annotation
        elif get_origin(ann) in (dict, tuple, list):
            ann = get_args(ann)[-1 if get_origin(ann) is dict else 0]
        else:
            return []
    ann = _unwrap(ann)
    return list(ann.model_fields) if isinstance(ann, type) and issubclass(ann, BaseModel) else []


def _unwrap(ann: Any) -> Any:
    """`X | None` -> X, `Annotated[X, ...]` -> X."""
    while get_origin(ann) is Annotated:
        ann = get_args(ann)[0]
    if get_origin(ann) in (Union, types.UnionType):
        args = [a for a in get_args(ann) if a is not type(None)]
        return args[0] if len(args) == 1 else ann
    return ann


class _Duplicate(yaml.YAMLError):
    """A key given twice in one mapping: where each stands (1-based lines)."""

    def __init__(self, key: str, first: int, line: int):
        super().__init__(key, first, line)
        self.key, self.first, self.line = key, first, line


class _BadDate(yaml.YAMLError):
    """A scalar YAML reads as a date but no calendar has (2025-13-24)."""

    def __init__(self, value: str, error: str, line: int):
        super().__init__(value, error, line)
        self.value, self.error, self.line = value, error, line


class _StrictLoader(yaml.SafeLoader):
    """Reads dates strictly (`_timestamp`); `_duplicate` looks for keys given twice first."""


def _duplicate(node: yaml.Node, path: str = "", seen: set[int] | None = None) -> None:
    """Raise `_Duplicate` for the first key given twice in one mapping, with its path: PyYAML
    keeps the last of two equal keys silently, and a settings file must not. A node an alias
    repeats is looked at once."""
    seen = set() if seen is None else seen
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        first: dict[tuple[str, Any], int] = {}
        for key_node, value in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            name = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            where = f"{path}.{name}" if path else name
            key = (
                key_node.tag,
                key_node.value if isinstance(key_node, yaml.ScalarNode) else id(key_node),
            )
            if key in first:
                raise _Duplicate(where, first[key], key_node.start_mark.line + 1)
            first[key] = key_node.start_mark.line + 1
            _duplicate(value, where, seen)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _duplicate(item, f"{path}[{i}]", seen)


def _timestamp(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    """YAML reads 2025-13-24 as a date and fails with a bare ValueError: say where."""
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except ValueError as exc:
        raise _BadDate(node.value, str(exc), node.start_mark.line + 1) from None


_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


def _yaml_error(source: str, exc: yaml.YAMLError) -> ParamsError:
    """What is wrong with a file that is not YAML, in one line with where: PyYAML's own text
    spans four lines and names the file twice."""
    if isinstance(exc, _Duplicate):
        return ParamsError(source, "duplicate_key", name=exc.key, first=exc.first, line=exc.line)
    if isinstance(exc, _BadDate):
        return ParamsError(
            source, "bad_date", value=repr(exc.value), error=exc.error, line=exc.line
        )
    mark = getattr(exc, "problem_mark", None)
    problem = str(getattr(exc, "problem", None) or exc).strip()
    if mark is None:
        return ParamsError(source, "not_yaml", problem=" ".join(problem.split()))
    where = {"line": mark.line + 1, "column": mark.column + 1}
    context, start = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and start is not None and start.line != mark.line:  # where the unclosed [ began
        problem += f" ({context} from line {start.line + 1})"
    if "'\\t'" in problem:  # PyYAML: "found character '\t' that cannot start any token"
        return ParamsError(source, "yaml_tab", **where)
    return ParamsError(source, "not_yaml_at", problem=problem, **where)


def _unreadable_text(p: Path, exc: yaml.reader.ReaderError) -> ParamsError:
    """A file that is no UTF-8 text (saved as ANSI/Latin-1: 'ä' is byte 0xe4) or holds a
    control character YAML refuses, told with its line: PyYAML says only its position."""
    data = p.read_bytes()
    if exc.encoding != "unicode":  # PyYAML's word for a character read, not a byte undecoded
        line = data[: exc.position].count(b"\n") + 1
        return ParamsError(str(p), "not_utf8", byte=f"0x{exc.character:02x}", line=line)
    text = data.decode("utf-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig")
    line = text[: exc.position].count("\n") + 1
    return ParamsError(str(p), "control_char", code=f"#x{exc.character:04x}", line=line)


def read_yaml(path: str | Path) -> Any:
    """Parse a YAML settings file strictly (duplicate keys are errors); ParamsError when it
    cannot."""
    p = Path(path)
    if p.is_dir():
        raise ParamsError(str(p), "a_folder")
    if not p.is_file():
        raise ParamsError(str(p), "not_found")
    try:
        with p.open("rb") as stream:  # YAML reads UTF-8 and UTF-16 by their byte order marks
            loader = _StrictLoader(stream)
            try:
                node = loader.get_single_node()
                if node is None:  # empty, or comments only
                    return None
                _duplicate(node)
                return loader.construct_document(node)
            finally:
                loader.dispose()
    except yaml.reader.ReaderError as exc:
        raise _unreadable_text(p, exc) from None
    except yaml.YAMLError as exc:
        raise _yaml_error(str(p), exc) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ParamsError(str(p), "unreadable", error=str(exc)) from None


def load_params(path: str | Path = "params.yaml") -> Params:
    """Read and validate a params file."""
    return parse_params(read_yaml(path), str(path))
