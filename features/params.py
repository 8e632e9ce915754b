"""Settings for the data contract and the feature builders, validated once at the entry point.

Every package defines the sections it owns; `serving.params` composes them into the root object
that `params.yaml` is loaded into. Library code receives only the section it needs.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import types
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from features.businesstime import (
    WEEKDAYS,
    closing,
    holidays_in,
    intervals,
    parse_intervals,
    read_holiday,
)

# Durations are added to timestamps, which reach only about 292 years from 1970: a bound far above
# any real setting makes a slip (1e15 hours, a date typed as days) an error at load, not an
# overflow in the middle of a daily run.
MAX_DAYS = 36_500
MAX_HOURS = MAX_DAYS * 24
MAX_SECONDS = MAX_HOURS * 3600
# The days pandas' nanosecond timestamps hold (1677-09-21 to 2262-04-11, whole days inside): a
# contract date beyond them compared wrongly with every row (all contract_starts "after 9999-12-31").
TIMESTAMP_DAYS = (dt.date(1677, 9, 22), dt.date(2262, 4, 10))


class StrictModel(BaseModel):
    """Frozen and closed: a misspelled key is an error, not a silent default. Numbers are finite:
    YAML's .inf and .nan passed every bound (an infinite weight ranked the list at random).
    true/false are no numbers and only they are true/false (see `bool_mismatch`)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_number(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        if field is not None and _number_for_date(field.annotation, value):
            raise SettingError("expected a date (YYYY-MM-DD)", "date")
        bad = bool_mismatch(field.annotation, value) if field is not None else None
        if bad is not None:
            where, expected, given = bad
            # "[2]: ..." and "key: ..." extend the error's path (serving.params._describe), which
            # adds the value given when it is the setting itself
            got = f" (got {yaml_text(given)})" if where else ""
            text = f"{where}{': ' if where else ''}expected {expected}{got}"
            kind = _BOOL_KINDS.get(expected)
            if kind is None:
                raise ValueError(text)
            raise SettingError(text, kind, yaml_text(given) if where else None)
        return value


class SettingError(ValueError):
    """An invalid setting of a common kind: `kind` keys its text in `serving.params_text`, so
    that it is told in the command's language; str() is the English. `got` is the value given
    when it is not the setting itself (an item of a list)."""

    def __init__(self, text: str, kind: str, got: str | None = None):
        super().__init__(text)
        self.kind, self.got = kind, got


_BOOL_KINDS = {
    "true or false": "true_false",
    "a whole number, not true/false": "whole_number_not_bool",
    "a number, not true/false": "number_not_bool",
}


def _number_for_date(ann: Any, value: Any) -> bool:
    """A number where a date is expected: pydantic took it as seconds since 1970, so
    `min_date: 0` was 1970-01-01 and `train_end: 86400` 1970-01-02, without a word."""
    dates = ann is dt.date or dt.date in get_args(ann)
    return dates and isinstance(value, int | float) and not isinstance(value, bool)


def yaml_text(value: Any) -> str:
    """A value as params.yaml spells it: true and null, not Python's True and None."""
    if value is None:
        return "null"
    return str(value).lower() if isinstance(value, bool) else repr(value)


def bool_mismatch(ann: Any, value: Any, where: str = "") -> tuple[str, str, Any] | None:
    """(where below the setting, what was expected, the value) when a YAML true/false stands
    for a number or a number (or text) for a true/false: pydantic's lax mode took `true` as a
    1-day window and `1` as true. None when `value` is no such mix-up of `ann`."""
    origin = get_origin(ann)
    args = get_args(ann)
    if origin is Annotated:
        return bool_mismatch(args[0], value, where)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        found = [bool_mismatch(a, value, where) for a in args if a is not type(None)]
        return None if any(f is None for f in found) else found[0]
    if ann is bool:
        return None if isinstance(value, bool) else (where, "true or false", value)
    if isinstance(value, bool):
        if ann is int:
            return (where, "a whole number, not true/false", value)
        if ann is float:
            return (where, "a number, not true/false", value)
        if origin is Literal and not any(isinstance(a, bool) for a in args):
            return (where, f"one of {list(args)}, not true/false", value)
        return None
    if origin in (tuple, list) and isinstance(value, list | tuple):
        each = origin is list or (len(args) == 2 and args[1] is Ellipsis)
        for i, item in enumerate(value):
            if each or i < len(args):
                found_item = bool_mismatch(args[0] if each else args[i], item, f"{where}[{i}]")
                if found_item is not None:
                    return found_item
    if origin is dict and isinstance(value, dict):
        for key, item in value.items():
            found_item = bool_mismatch(args[1], item, f"{where}.{key}" if where else str(key))
            if found_item is not None:
                return found_item
    return None


def distinct(values: tuple[str, ...]) -> tuple[str, ...]:
    """A list of names gives each once: a tier twice stopped `escrisk features` with an internal
    error (categories must be unique), a priority twice was told as a custom field's clash."""
    twice = [v for i, v in enumerate(values) if v in values[:i]]
    if twice:
        raise ValueError(f"{twice[0]!r} is given twice (give each value once)")
    return values


Names = Annotated[tuple[str, ...], AfterValidator(distinct)]


class SlaTarget(StrictModel):
    first_response: float = Field(
        gt=0, le=MAX_HOURS, description="hours allowed until the first response"
    )
    resolution: float = Field(gt=0, le=MAX_HOURS, description="hours allowed until resolution")

    @model_validator(mode="after")
    def _resolution_after_response(self) -> SlaTarget:
        if self.resolution < self.first_response:
            raise ValueError("resolution: must not be shorter than first_response")
        return self


class ContractParams(StrictModel):
    """Allowed values and the SLA policy that fills tickets without their own SLA targets."""

    tiers: Names = Field(min_length=1)
    languages: Names = Field(min_length=1)
    priorities: Names = Field(min_length=1)
    ticket_statuses: Names = Field(min_length=1)
    open_statuses: Names = Field(min_length=1)  # none: no ticket is ever open
    escalation_levels: Names = Field(min_length=1)
    escalation_kinds: Names = Field(min_length=1)
    min_date: dt.date
    max_date: dt.date = Field(
        description="latest plausible non-event date (contract_start, renewal_date)"
    )
    max_future_days: int = Field(
        ge=0, le=MAX_DAYS, description="how far after the run's clock an event may lie"
    )
    sla_policy: dict[str, dict[str, SlaTarget]]

    @model_validator(mode="after")
    def _policy_covers_tiers(self) -> ContractParams:
        # Messages start with the key's path ("sla_policy.starter: ..."): serving.params appends it
        # to the section's path, so the error names e.g. contract.sla_policy.starter.
        for tier in self.tiers:
            if tier not in self.sla_policy:
                raise ValueError(
                    f"sla_policy.{tier}: required key is missing (every tier needs SLA targets)"
                )
            missing = [p for p in self.priorities if p not in self.sla_policy[tier]]
            if missing:
                raise ValueError(
                    f"sla_policy.{tier}.{missing[0]}: required key is missing (no target for priorities {missing})"
                )
        unknown = [t for t in self.sla_policy if t not in self.tiers]
        if unknown:
            raise ValueError(f"sla_policy.{unknown[0]}: unknown tier (known: {list(self.tiers)})")
        for tier, by_priority in self.sla_policy.items():
            extra = [p for p in by_priority if p not in self.priorities]
            if extra:
                raise ValueError(
                    f"sla_policy.{tier}.{extra[0]}: unknown priority (known: {list(self.priorities)})"
                )
        if not set(self.open_statuses) <= set(self.ticket_statuses):
            raise ValueError("open_statuses: must be a subset of ticket_statuses")
        if self.max_date <= self.min_date:
            raise ValueError("max_date: must be after min_date")
        for key, day in (("min_date", self.min_date), ("max_date", self.max_date)):
            if not TIMESTAMP_DAYS[0] <= day <= TIMESTAMP_DAYS[1]:
                raise ValueError(
                    f"{key}: must lie from {TIMESTAMP_DAYS[0]} to {TIMESTAMP_DAYS[1]}, the days "
                    f"a timestamp can hold (got {day})"
                )
        return self


class GridParams(StrictModel):
    """The training grid of as_of dates: UTC midnights, one every `every_days`, on `weekday`."""

    every_days: int = Field(ge=1, le=MAX_DAYS)
    weekday: int = Field(ge=0, le=6, description="0 = Monday")


class TrendParams(StrictModel):
    """A trend compares the last `recent_days` with the `baseline_days` before them."""

    recent_days: int = Field(ge=1, le=MAX_DAYS)
    baseline_days: int = Field(ge=1, le=MAX_DAYS)


class TicketFeatureParams(StrictModel):
    by_priority_windows: tuple[int, ...] = Field(description="windows that get per-priority counts")
    trend: TrendParams


class SentimentFeatureParams(StrictModel):
    negative_below: float = Field(
        ge=-1, le=1, description="a ticket scoring below this is negative"
    )
    trend: TrendParams
    cache_dir: str | None = Field(
        default=".escrisk-cache",  # README's; omitted was no cache, each run scoring anew
        min_length=1,  # "" was the working folder, not "none" (that is null)
        description=(
            "where commands keep ticket scores and notice matches between runs "
            "(features.scorecache); null: each run handles its texts again"
        ),
    )


class CalendarParams(StrictModel):
    """Business hours: a weekly calendar of local opening intervals, holidays and a time zone."""

    time_zone: str
    weekly: dict[str, str | None] = Field(
        description='weekday -> "09:00-12:00,13:00-17:00" or null'
    )
    holidays: tuple[dt.date | str, ...] = Field(
        description='a day ("2026-12-24"), every year\'s day ("12-24"), Easter\'s ("easter+1") '
        'or a weekday of a month ("11-thu-4": the fourth Thursday of November; "05-mon-last")'
    )

    @field_validator("holidays", mode="before")
    @classmethod
    def _holidays(cls, given: Any) -> Any:
        """Each entry read now (a typo is an error at load, not a working day next year)."""
        if not isinstance(given, list | tuple):
            return given
        return tuple(read_holiday(h) for h in given)

    def is_holiday(self, day: dt.date) -> bool:
        """One-off days, days recurring every year ("MM-DD"), days relative to (Western)
        Easter, and weekdays of a month ("11-thu-4", Thanksgiving): a shipped list of dates would
        run out at its last year."""
        return day in holidays_in(self.holidays, day.year)

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, tz: str) -> str:
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {tz!r} (use an IANA name like Europe/Berlin)"
            ) from None
        return tz

    @field_validator("weekly")
    @classmethod
    def _intervals(cls, weekly: dict[str, str | None]) -> dict[str, str | None]:
        for day, spec in weekly.items():
            if day not in WEEKDAYS:
                raise ValueError(f"unknown weekday {day!r}; known: {list(WEEKDAYS)}")
            parse_intervals(spec, day)
        if not any(weekly.get(d) for d in WEEKDAYS):
            raise ValueError("the weekly calendar has no business hours at all")
        return weekly

    def weekly_hours(self) -> float:
        """Opening hours of a week without holidays: what a business-hours target is spent in."""
        day = dt.date(2000, 1, 1)
        return sum(
            (closing(day, close_t) - dt.datetime.combine(day, open_t)).total_seconds() / 3600
            for weekday in range(7)
            for open_t, close_t in self.intervals(weekday)
        )

    def intervals(self, weekday: int) -> tuple[tuple[dt.time, dt.time], ...]:
        """Opening intervals of a weekday (0 = Monday)."""
        return intervals(self, weekday)


class SlaFeatureParams(StrictModel):
    near_miss_share: float = Field(
        gt=0, lt=1, description="a target met with less than this share of its allowed time left"
    )
    by_priority_windows: tuple[int, ...]
    business_hours: CalendarParams | None = Field(
        default=None,
        description="null: SLA targets are clock hours; a calendar: they are business hours in it",
    )
    # contract.sla_policy, copied at load (never written in params.yaml): the targets of tickets
    # without their own, which the SLA features count against. A model keeps it with its other
    # settings, so its features count the policy it learnt from, not one restated since (in
    # business hours, say). None: a model trained before it was kept (the data's targets count).
    policy: dict[str, dict[str, SlaTarget]] | None = None


class UsageFeatureParams(StrictModel):
    short_days: int = Field(ge=1, le=MAX_DAYS)
    long_days: int = Field(ge=2, le=MAX_DAYS)
    baseline_days: int = Field(
        ge=2, le=MAX_DAYS, description="days before the long window forming the baseline"
    )


class CsatFeatureParams(StrictModel):
    low_at_most: int = Field(ge=1, le=5, description="a CSAT rating at or below this is low")


class EscalationFeatureParams(StrictModel):
    window_days: int = Field(ge=1, le=MAX_DAYS)


class NoticeFeatureParams(StrictModel):
    window_days: int = Field(ge=1, le=MAX_DAYS)
    phrases: tuple[str, ...] = Field(
        description=(
            "case-insensitive phrases that mark a ticket as notice of cancellation, matched as "
            "whole words; a * at the start or end lets the word go on ('*kündigung*')"
        )
    )

    @model_validator(mode="after")
    def _phrases_not_blank(self) -> NoticeFeatureParams:
        for i, p in enumerate(self.phrases):
            if not p.strip("* \t\n"):
                raise ValueError(
                    f"phrases[{i}]: {p!r} is blank (a blank phrase matches every ticket)"
                )
            if "*" in p.strip().strip("*"):
                raise ValueError(
                    f"phrases[{i}]: {p!r}: a * may only stand at the start or the end of a phrase"
                )
        return self


class AccountFeatureParams(StrictModel):
    renewal_cycle_days: int | None = Field(
        default=None,
        ge=1,
        le=MAX_DAYS,
        description=(
            "not read any more (params files that set it still load): the export's renewal date "
            "is stepped back by whole terms of accounts.term_months calendar months (12 where "
            "missing), as contracts renew on their anniversary; steps of this many days drifted "
            "by a day per 29 February"
        ),
    )


class CustomField(StrictModel):
    """An extra accounts column a user declares so it becomes a feature without code."""

    kind: Literal["float", "category"]
    levels: tuple[str, ...] | None = None
    unit: str = ""
    description: str = ""

    @model_validator(mode="after")
    def _levels_for_categories(self) -> CustomField:
        if self.kind == "category" and not self.levels:
            raise ValueError("a category field must list its levels")
        if self.kind == "float" and self.levels is not None:
            raise ValueError("a float field has no levels")
        if self.levels is not None and len(set(self.levels)) != len(self.levels):
            raise ValueError("levels must be distinct")
        return self


class FeatureParams(StrictModel):
    """Windows, thresholds and custom fields for the feature builders."""

    windows_days: tuple[int, ...] = Field(min_length=1)
    long_window_days: int = Field(
        ge=2,
        le=MAX_DAYS,
        description=(
            "how far back the long-memory features (escalations, CSAT) count: counted from the "
            "start of the data instead, they grow with the export's length, so a model trained on "
            "early weeks meets values it never saw when it scores today"
        ),
    )
    priorities: Names = Field(min_length=1)
    tiers: Names = Field(min_length=1)
    grid: GridParams
    tickets: TicketFeatureParams
    sentiment: SentimentFeatureParams
    sla: SlaFeatureParams
    usage: UsageFeatureParams
    csat: CsatFeatureParams
    escalations: EscalationFeatureParams
    notice: NoticeFeatureParams
    account: AccountFeatureParams = AccountFeatureParams()
    custom_fields: dict[str, CustomField]

    @model_validator(mode="after")
    def _windows_known(self) -> FeatureParams:
        if any(not 1 <= w <= MAX_DAYS for w in self.windows_days) or len(
            set(self.windows_days)
        ) != len(self.windows_days):
            raise ValueError(f"windows_days: must be distinct day counts from 1 to {MAX_DAYS:,}")
        for name, ws in (
            ("tickets", self.tickets.by_priority_windows),
            ("sla", self.sla.by_priority_windows),
        ):
            unknown = [w for w in ws if w not in self.windows_days]
            if unknown:
                raise ValueError(f"{name}.by_priority_windows: {unknown} are not in windows_days")
        if self.usage.short_days >= self.usage.long_days:
            raise ValueError("usage.short_days: must be shorter than usage.long_days")
        longest = max(*self.windows_days, self.escalations.window_days)
        if self.long_window_days <= longest:
            raise ValueError(
                f"long_window_days: {self.long_window_days} must be longer than the other windows "
                f"(windows_days and escalations.window_days reach {longest} days)"
            )
        return self


def as_trained(trained: FeatureParams | None, now: FeatureParams) -> FeatureParams:
    """The feature settings to score a model with: those it was trained with (a model's features
    are only what it learnt from when built the same way: a baseline or threshold changed in
    params.yaml since would feed it other values under the same names), keeping where this
    installation caches its texts. A model that does not carry them is scored with `now`."""
    if trained is None:
        return now
    sentiment = trained.sentiment.model_copy(update={"cache_dir": now.sentiment.cache_dir})
    return trained.model_copy(update={"sentiment": sentiment})


def changed_settings(trained: FeatureParams | None, now: FeatureParams) -> list[str]:
    """The `features.` keys whose value in `now` differs from a model's `trained` settings (not
    where texts are cached), and `contract.sla_policy` (kept as `features.sla.policy`): what
    reaches the scores only with the next model trained."""
    if trained is None:
        return []
    out: list[str] = []

    def walk(a: Any, b: Any, path: str) -> None:
        if isinstance(a, dict) and isinstance(b, dict) and set(a) == set(b):
            for k in a:
                walk(a[k], b[k], f"{path}.{k}")
        elif a != b:
            out.append(path)

    walk(trained.model_dump(mode="json"), now.model_dump(mode="json"), "features")
    out = [k for k in out if k != "features.sentiment.cache_dir"]
    policy = [k for k in out if k.startswith(POLICY_KEY)]
    out = [k for k in out if k not in policy]
    # written in params.yaml as the contract's; a model that did not keep it has nothing to compare
    if policy and trained.sla.policy is not None:
        out.append("contract.sla_policy")
    return out


POLICY_KEY = "features.sla.policy"


# features renamed since an earlier release (bundle format 2): the long memory counts
# `long_window_days` back, and its features carry that window, the longest of all, in their names
RENAMED_FEATURES = {
    "escalations_count": re.compile(r"escalations_(\d+)d"),
    "csat_mean": re.compile(r"csat_mean_(\d+)d"),
    "csat_count": re.compile(r"csat_count_(\d+)d"),
    "csat_low_count": re.compile(r"csat_low_count_(\d+)d"),
}


def did_you_mean(value: str, known: Sequence[str]) -> str:
    """ "; did you mean 'x'?" when `value` looks like a misspelling of one of `known`, else "":
    every setting naming something unknown (a key, a language, a family, a feature) says it so.
    A feature renamed since (`RENAMED_FEATURES`) is told its new name: the nearest spelling of
    `escalations_count` is `escalations_open`, of `csat_mean` the 90-day `csat_mean_90d`."""
    new = renamed_to(value, known)
    if new is not None:
        return (
            f"; did you mean {new!r}? ({value!r} was renamed: it counts "
            "features.long_window_days back, docs/features.md)"
        )
    close = difflib.get_close_matches(value, list(known), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def renamed_to(value: str, known: Sequence[str]) -> str | None:
    """The name among `known` a renamed feature (`RENAMED_FEATURES`) has now, if any."""
    pattern = RENAMED_FEATURES.get(value)
    days = {int(m[1]): k for k in known if pattern and (m := pattern.fullmatch(k))}
    return days[max(days)] if days else None


def closest(value: str, known: Sequence[str]) -> str | None:
    """What `value` likely means among `known` (its new name, or the nearest spelling)."""
    close = difflib.get_close_matches(value, list(known), n=1)
    return renamed_to(value, known) or (close[0] if close else None)


# --- importers (issue 8): how each system's export maps onto the contract's tables ----------------


class AccountDefaults(StrictModel):
    """Values for accounts whose export lacks them; every use is counted in the import report."""

    tier: str
    language: str
    csm_owner: str
    region: str
    arr: float = Field(ge=0)
    seats: int = Field(ge=1, le=2**63 - 1)  # the contract's 64-bit whole numbers
    term_months: int = Field(
        ge=1,
        le=1200,  # the contract's accounts.term_months; more stopped the import (year 8335356)
        description="contract length used to derive a missing renewal date",
    )


class ZendeskImportParams(StrictModel):
    escalation_tag: str = Field(min_length=1)
    priority_raise_is_escalation: bool
    priority_map: dict[str, str]
    status_map: dict[str, str]
    skip_statuses: tuple[str, ...]
    # a ticket merged into another is closed with this tag: it is not a second ticket
    skip_tags: tuple[str, ...] = ("closed_by_merge",)
    csat_map: dict[str, Annotated[int, Field(ge=1, le=5)]] = Field(
        description="satisfaction rating -> CSAT from 1 to 5 (the contract's range)"
    )
    organization_fields: dict[str, str] = Field(
        description="contract column -> organization_fields key"
    )


class SalesforceImportParams(StrictModel):
    priority_map: dict[str, str]
    status_map: dict[str, str]
    account_fields: dict[str, str] = Field(description="contract column -> Account export column")
    case_fields: dict[str, Annotated[str, Field(min_length=1)]] = Field(
        default_factory=dict,
        description="case field -> Case export column, tried before the API names and English "
        "report labels (a report in another language)",
    )
    first_response_milestone: str
    resolution_milestone: str


class JiraImportParams(StrictModel):
    priority_map: dict[str, str]
    status_map: dict[str, str]
    status_category_map: dict[str, str]
    organization_fields: tuple[str, ...] = Field(
        min_length=1, description="issue fields naming the customer"
    )
    priority_raise_is_escalation: bool
    # JSM SLA metrics by their name (as the instance's language writes it): their cycles give
    # the first response time and the SLA targets
    first_response_sla: tuple[str, ...] = ("Time to first response", "Zeit bis zur ersten Antwort")
    resolution_sla: tuple[str, ...] = ("Time to resolution", "Zeit bis zur Lösung")
    csv_columns: dict[str, Annotated[str, Field(min_length=1)]] = Field(
        default_factory=dict,
        description="issue field -> column of Jira's CSV export in another language, tried "
        "before the English names",
    )


class ServiceNowImportParams(StrictModel):
    priority_map: dict[str, str]
    state_map: dict[str, str]
    group_levels: dict[str, str] = Field(description="assignment group -> escalation level")
    reassignment_is_escalation: bool
    priority_raise_is_escalation: bool
    # task_sla rows by their SLA definition's name: a word of these lists (any case) in it
    response_slas: tuple[str, ...] = ("response", "reaktion", "antwort")
    resolution_slas: tuple[str, ...] = ("resolution", "lösung", "behebung")
    cancelled_sla_stages: tuple[str, ...] = ("cancelled", "canceled", "abgebrochen", "storniert")
    incident_fields: dict[str, Annotated[str, Field(min_length=1)]] = Field(
        default_factory=dict,
        description="incident field -> incident export column, tried before the API names and "
        "English labels (an Excel export in another language)",
    )


class HubSpotImportParams(StrictModel):
    priority_map: dict[str, str]
    stage_map: dict[str, str]
    company_fields: dict[str, str] = Field(description="contract column -> companies export column")
    ticket_fields: dict[str, Annotated[str, Field(min_length=1)]] = Field(
        default_factory=dict,
        description="ticket field -> tickets export column, tried before the English labels and "
        "property names (an export in another language)",
    )


def _time_zone(value: str) -> str:
    """An IANA time zone name, else a ValueError saying what to write."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {value!r} (use an IANA name such as UTC or Europe/Berlin)"
        ) from None
    return value


class UsageEventsImportParams(StrictModel):
    skip_event_types: tuple[str, ...] = Field(
        description="event types that are not product activity"
    )
    # analytics tools write UTC (Amplitude's event_time has no offset): not the helpdesk's zone
    naive_time_zone: str = Field(
        default="UTC", description="time zone of event times written without an offset"
    )
    # a Mixpanel project created before 2023 exports `properties.time` as seconds of its
    # project time zone's wall clock, not of UTC
    mixpanel_time_zone: str = Field(
        default="UTC", description="project time zone of Mixpanel's properties.time"
    )

    @field_validator("naive_time_zone", "mixpanel_time_zone")
    @classmethod
    def _known_time_zone(cls, value: str) -> str:
        return _time_zone(value)


class ImporterParams(StrictModel):
    """Settings of `escrisk import`: time zones, formats, value maps and account defaults."""

    naive_time_zone: str = Field(description="time zone of timestamps written without an offset")
    date_formats: tuple[str, ...] = Field(description="strftime formats tried after ISO 8601")
    csv_encoding: str = Field(
        default="utf-8", description="text encoding of CSV exports (e.g. cp1252 for Excel's ANSI)"
    )
    number_format: Literal["auto", "de", "en"] = Field(
        default="auto",
        description="how text numbers write thousands and decimals: de 84.000,5, en 84,000.5, "
        "auto by each file's column",
    )
    slash_dates: Literal["auto", "day_first", "month_first"] = Field(
        default="auto",
        description="how dates with slashes order day and month: day_first 25/12/2026 (UK), "
        "month_first 12/25/2026 (US), auto by each file's column",
    )
    tier_map: dict[str, str] = Field(
        default_factory=dict,
        description="an export's tier names -> contract tiers (Gold: enterprise)",
    )
    language_map: dict[str, str] = Field(
        default_factory=dict, description="an export's language values -> contract languages"
    )
    default_priority: str = Field(description="priority of tickets that have none")
    missing_channel: str = Field(min_length=1)
    escalation_level: str
    account_defaults: AccountDefaults
    zendesk: ZendeskImportParams
    salesforce: SalesforceImportParams
    jira: JiraImportParams
    servicenow: ServiceNowImportParams
    hubspot: HubSpotImportParams
    usage_events: UsageEventsImportParams

    @field_validator("csv_encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        import codecs

        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(
                f"unknown text encoding {value!r} (e.g. utf-8, cp1252, latin-1)"
            ) from None
        # separators, quotes and line ends are looked for as ASCII bytes: UTF-16 and UTF-32
        # stopped every import with an internal error
        sample = 'Id;x,"y"\r\n'
        try:
            ascii_compatible = sample.encode("ascii").decode(value) == sample
        except (UnicodeError, ValueError):
            ascii_compatible = False
        if not ascii_compatible:
            raise ValueError(
                f"{value!r} writes letters and separators in more than one byte, and CSV "
                "exports are read in an encoding that writes them as ASCII does (utf-8, cp1252, "
                "latin-1): save the files as UTF-8 (in Excel: CSV UTF-8)"
            )
        return value

    @field_validator("date_formats")
    @classmethod
    def _readable_formats(cls, formats: tuple[str, ...]) -> tuple[str, ...]:
        """Each format is one the importers' date parser takes: a bad directive ('%Q', a stray
        '%') stopped the first import that reached it; one without any ('DD.MM.YYYY') never
        matched a date and left its column unread."""
        import pandas as pd

        for fmt in formats:
            if "%" not in fmt:
                raise ValueError(
                    f"{fmt!r} has no strftime directive (write e.g. '%d.%m.%Y' for 31.12.2025)"
                )
            try:
                pd.to_datetime(pd.Series(["2025-12-31"]), errors="coerce", format=fmt)
            except ValueError as exc:
                raise ValueError(f"{fmt!r} is not a strftime format: {exc}") from None
        return formats

    @field_validator("naive_time_zone")
    @classmethod
    def _known_time_zone(cls, value: str) -> str:
        return _time_zone(value)

    def time_zone(self, kind: str) -> str:
        """The zone an import of `kind` reads times without an offset in: the product-analytics
        events their own (UTC by default), every helpdesk or CRM export `naive_time_zone`."""
        return self.usage_events.naive_time_zone if kind == "usage-events" else self.naive_time_zone


def importer_problems(p: ImporterParams, contract: ContractParams) -> list[str]:
    """`importers.KEY: ...` for each importer setting naming a value the contract does not allow:
    they span two sections, so the root settings check them at load (and `run_import` again for
    callers that built their own), not the import that first meets them."""
    maps = {
        "tier_map": (p.tier_map, "tiers"),
        "language_map": (p.language_map, "languages"),
        "zendesk.priority_map": (p.zendesk.priority_map, "priorities"),
        "zendesk.status_map": (p.zendesk.status_map, "ticket_statuses"),
        "salesforce.priority_map": (p.salesforce.priority_map, "priorities"),
        "salesforce.status_map": (p.salesforce.status_map, "ticket_statuses"),
        "jira.priority_map": (p.jira.priority_map, "priorities"),
        "jira.status_map": (p.jira.status_map, "ticket_statuses"),
        "jira.status_category_map": (p.jira.status_category_map, "ticket_statuses"),
        "servicenow.priority_map": (p.servicenow.priority_map, "priorities"),
        "servicenow.state_map": (p.servicenow.state_map, "ticket_statuses"),
        "servicenow.group_levels": (p.servicenow.group_levels, "escalation_levels"),
        "hubspot.priority_map": (p.hubspot.priority_map, "priorities"),
        "hubspot.stage_map": (p.hubspot.stage_map, "ticket_statuses"),
    }
    values = {
        "default_priority": (p.default_priority, "priorities"),
        "escalation_level": (p.escalation_level, "escalation_levels"),
        "account_defaults.tier": (p.account_defaults.tier, "tiers"),
        "account_defaults.language": (p.account_defaults.language, "languages"),
    }
    problems = []
    from features.contract import ACCOUNTS  # the contract imports these settings
    from features.importers.hubspot import TICKET_FIELDS
    from features.importers.jira import CSV_FIELDS as JIRA_CSV_FIELDS
    from features.importers.salesforce import CASE_FIELDS
    from features.importers.servicenow import FIELDS as INCIDENT_FIELDS

    # the account columns an export's fields may fill (a misspelled one was read into a column
    # of its own, and every account got the default); a CRM's own id column too, whose
    # report label is in its user's language (Account-ID)
    columns = [c.name for c in ACCOUNTS.columns if c.name != ACCOUNTS.key]
    # and the account's creation date (`created`: a missing contract start's stand-in), whose
    # label is in its user's language too (Erstelldatum)
    with_id = [str(ACCOUNTS.key), *columns, "created"]
    fields: dict[str, tuple[Mapping[str, str], list[str], str]] = {
        "zendesk.organization_fields": (p.zendesk.organization_fields, columns, "an account"),
        "salesforce.account_fields": (
            p.salesforce.account_fields,
            with_id,
            "an account",
        ),
        "hubspot.company_fields": (
            p.hubspot.company_fields,
            with_id,
            "an account",
        ),
        "salesforce.case_fields": (p.salesforce.case_fields, list(CASE_FIELDS), "a case"),
        "hubspot.ticket_fields": (p.hubspot.ticket_fields, list(TICKET_FIELDS), "a ticket"),
        "jira.csv_columns": (p.jira.csv_columns, list(JIRA_CSV_FIELDS.values()), "an issue"),
        "servicenow.incident_fields": (
            p.servicenow.incident_fields,
            list(INCIDENT_FIELDS),
            "an incident",
        ),
    }
    for key, (mapping, known, what) in fields.items():
        for column in mapping:
            if column not in known:
                problems.append(
                    f"importers.{key}.{column}: not {what} field the import reads (it reads "
                    f"{known}){did_you_mean(column, known)}"
                )
    for key, (mapping, field) in maps.items():
        allowed: tuple[str, ...] = getattr(contract, field)
        bad = sorted({v for v in mapping.values() if v not in allowed})
        if bad:
            problems.append(
                f"importers.{key}: maps to {bad}, not in contract.{field} {list(allowed)}"
            )
    for key, (value, field) in values.items():
        allowed = getattr(contract, field)
        if value not in allowed:
            problems.append(
                f"importers.{key}: {value!r} is not in contract.{field} {list(allowed)}"
            )
    return problems
