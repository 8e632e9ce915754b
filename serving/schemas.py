"""Request and response bodies of the scoring service, in the data contract's field names.

Strict on purpose: numbers sent as strings, NaN or infinity, unknown keys, empty or oversized lists
are rejected by pydantic before any of our code runs, and the error names the field. Rules that
need the run's clock or the params (allowed tiers, future timestamps, duplicate ids) are checked
afterwards by `serving.intake` through the same data contract the batch path uses.
The limits below are part of the published API (its JSON schema is committed), not tunables.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Annotated, Any, Literal, NotRequired

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    Strict,
    StringConstraints,
    WithJsonSchema,
    with_config,
)
from pydantic_core import PydanticCustomError
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from features.contract import ACCOUNTS, iso_time_text

MAX_ACCOUNTS = 1000
MAX_TICKETS = 5000  # per account in one request
MAX_USAGE_DAYS = 1500  # per account
MAX_ESCALATIONS = 1000  # per account
MAX_FEATURES = 1000  # per precomputed feature row

# ids hold no control characters (a NUL cannot even be stored in PostgreSQL text)
Id = Annotated[
    str,
    StringConstraints(
        min_length=1, max_length=200, strip_whitespace=True, pattern=r"^[^\x00-\x1f\x7f]+$"
    ),
]
Name = Annotated[str, StringConstraints(min_length=1, max_length=500)]

# the schema publishes what the data contract (and the state database behind it) accepts, not a
# looser limit that is a 422 later
_LIMIT = {c.name: c.max_length for c in ACCOUNTS.columns}
AccountId = Annotated[Id, StringConstraints(max_length=_LIMIT["account_id"])]
AccountName = Annotated[Name, StringConstraints(max_length=_LIMIT["name"])]
Owner = Annotated[Name, StringConstraints(max_length=_LIMIT["csm_owner"])]
Text = Annotated[str, StringConstraints(max_length=100_000)]
Count = Annotated[int, Field(ge=0, le=10**12)]
Hours = Annotated[float, Field(gt=0, le=10**6)]

# one way to match each number (`\d+\.?\d*` split a run of digits in n^2 ways: 20,000 digits
# held a worker 20 s)
_NUMBER = re.compile(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*")
_LONGEST_TIME = 64  # characters: "2025-06-01T09:30:00.123456789+02:00" is 35


def _iso_text(kind: str, example: str) -> BeforeValidator:
    """Times and dates are ISO 8601 text. pydantic would read a string of digits as Unix time
    ("1700000000" is 2023-11-14, "20240101" 1970-08-23): a number sent as a string, refused like
    every other; and so is a number. The text is then parsed leniently: after a validator,
    strict mode would take only datetime objects."""

    def check(value: Any) -> Any:
        if not isinstance(value, str) or len(value) > _LONGEST_TIME or _NUMBER.fullmatch(value):
            raise PydanticCustomError(
                f"{kind}_type", f"a {kind} must be ISO 8601 text such as {example}"
            )
        # the forms the data contract takes from files, in one canonical form (or refused)
        text = iso_time_text(value)
        if text is None:
            raise PydanticCustomError(
                f"{kind}_parsing", f"a {kind} must be ISO 8601 text such as {example}"
            )
        return text

    return BeforeValidator(check)


def _utc_day(value: Any) -> Any:
    """A date sent with a time and an offset is the UTC day it falls on, as the data contract
    reads a file's dates ("2024-03-30T00:00:00+02:00" is 2024-03-29; pydantic would drop the
    offset and say 2024-03-30, and refuse any time but midnight)."""
    if isinstance(value, str) and len(value.strip()) > 10:
        try:
            t = dt.datetime.fromisoformat(value.strip().replace("z", "Z"))
        except ValueError:
            return value  # pydantic names what is wrong with it
        try:  # "0001-01-01T00:00:00+14:00" is a day of year 0 in UTC: no date holds it
            day = t if t.tzinfo is None else t.astimezone(dt.UTC)
        except OverflowError:
            raise PydanticCustomError(
                "date_range", "a date's day in UTC must lie in the years 1 to 9999"
            ) from None
        # text again, so that running the validators twice (BentoML's request descriptor
        # repeats a top-level field's) gives the same day
        return day.date().isoformat()
    return value


Time = Annotated[dt.datetime, Strict(False), _iso_text("datetime", "2025-06-01T09:30:00Z")]
Day = Annotated[dt.date, Strict(False), BeforeValidator(_utc_day), _iso_text("date", "2025-06-01")]


class ApiModel(BaseModel):
    """Closed, strict and finite; input values never appear in error messages (nor in logs)."""

    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        frozen=True,
        allow_inf_nan=False,
        hide_input_in_errors=True,
    )


class Account(ApiModel):
    """One row of the accounts table. Extra keys are allowed only for the custom fields declared
    in params.yaml (features.custom_fields); `serving.intake` checks their names and values."""

    model_config = ConfigDict(**{**ApiModel.model_config, "extra": "allow"})

    account_id: AccountId
    name: AccountName
    tier: Id = Field(description="one of the tiers in params.yaml contract.tiers")
    arr: float = Field(ge=0, le=1e13, description="annual recurring revenue")
    seats: int = Field(ge=1, le=10**9)
    contract_start: Day
    renewal_date: Day
    csm_owner: Owner
    region: Id
    language: Id = Field(description="one of params.yaml contract.languages, e.g. en or de")
    term_months: int | None = Field(
        default=None,
        ge=1,
        le=1200,
        description="contract term in months; missing: renews every 12 months",
    )
    notice_at: Day | None = Field(
        default=None,
        description="day the customer gave notice of cancellation or non-renewal, if it did",
    )


# History rows are TypedDicts (plain dicts once validated), not models: a 1,000-account request
# holds ~100,000 of them, and building a model instance per row tripled pydantic's time.
ROW_CONFIG = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False, hide_input_in_errors=True)


OwnId = Annotated[
    AccountId | None, Field(description="optional; must equal the enclosing account's id")
]


@with_config(ROW_CONFIG)
class Ticket(TypedDict):
    """One ticket; timestamps without an offset are UTC."""

    ticket_id: Id
    account_id: NotRequired[OwnId]
    created_at: Time
    priority: Id
    channel: Id
    subject: NotRequired[Text | None]
    body: NotRequired[Text | None]
    first_response_at: NotRequired[Time | None]
    resolved_at: NotRequired[Time | None]
    status: Id
    reopen_count: Count
    csat: NotRequired[Annotated[int, Field(ge=1, le=5)] | None]
    sla_first_response_hours: NotRequired[Hours | None]
    sla_resolution_hours: NotRequired[Hours | None]
    language: NotRequired[Id | None]


@with_config(ROW_CONFIG)
class UsageDay(TypedDict):
    account_id: NotRequired[OwnId]
    date: Day
    active_users: Count
    events: Count


@with_config(ROW_CONFIG)
class Escalation(TypedDict):
    escalation_id: Id
    account_id: NotRequired[OwnId]
    opened_at: Time
    acknowledged_at: NotRequired[Time | None]
    closed_at: NotRequired[Time | None]
    level: Id
    kind: Id
    reason: NotRequired[Text | None]
    ticket_id: NotRequired[Id | None]


class AccountHistory(ApiModel):
    """An account with its recent history. Leaving out `usage` (or `escalations`) in every account
    of a request means the source has no such table; leaving it out in some means none for those."""

    account: Account
    # the first row that is wrong, not every one: an export's mistake is in every row, and
    # 100,000 rows' errors held the worker's event loop for seconds and made a 10 MB answer
    tickets: list[Ticket] = Field(max_length=MAX_TICKETS, fail_fast=True)
    usage: list[UsageDay] | None = Field(default=None, max_length=MAX_USAGE_DAYS, fail_fast=True)
    escalations: list[Escalation] | None = Field(
        default=None, max_length=MAX_ESCALATIONS, fail_fast=True
    )


class ScoreRequest(ApiModel):
    accounts: list[AccountHistory] = Field(min_length=1, max_length=MAX_ACCOUNTS)
    as_of: Day | None = Field(
        default=None,
        description="score as of this day (midnight UTC; only data before it is used); "
        "default today. At most tomorrow, which includes everything known today.",
    )


def _feature_value(value: Any) -> Any:
    """A number, a category's text or null, checked in one step: an error names the feature, not
    each member of a union ("float", "int", "str") that the value failed."""
    if value is None or isinstance(value, str | int) and not isinstance(value, bool):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        raise PydanticCustomError("finite_number", "a feature value must be a finite number")
    raise PydanticCustomError(
        "feature_value", "a feature value is a number, a category's text or null"
    )


FeatureValue = Annotated[
    float | int | str | None,
    PlainValidator(_feature_value),
    WithJsonSchema(
        {"anyOf": [{"type": "number"}, {"type": "integer"}, {"type": "string"}, {"type": "null"}]}
    ),
]


class Facts(ApiModel):
    """What the ladder's rules need besides the features (see serving.ladder.AccountFacts)."""

    arr: float = Field(ge=0, le=1e13)
    tier: Id
    seats: int = Field(ge=1, le=10**9)
    days_to_renewal: int | None = Field(ge=-(10**5), le=10**5)
    open_p1: Count
    open_p2: Count
    open_p1_past_sla: Count
    open_p2_past_sla: Count
    language: Id
    csm_owner: Owner | None = None


class FeatureRow(ApiModel):
    account_id: AccountId
    features: dict[str, FeatureValue] = Field(
        max_length=MAX_FEATURES,
        fail_fast=True,  # the first value of the wrong kind in a row (see AccountHistory)
        description="every feature of the model's feature spec by name; null means missing",
    )
    facts: Facts


class ScoreFeaturesRequest(ApiModel):
    rows: list[FeatureRow] = Field(min_length=1, max_length=MAX_ACCOUNTS)
    as_of: Day | None = Field(default=None, description="reported back; default today")


class AccountRequest(ApiModel):
    account_id: AccountId


class Reason(ApiModel):
    """One feature's push on one head's risk, on the probability scale."""

    head: Literal["escalation", "churn"]
    feature: str
    family: str
    direction: Literal["up", "down"]
    value: float | str | None
    contribution: float
    text: str


class AccountScore(ApiModel):
    account_id: str
    as_of: dt.date
    escalation_risk: float = Field(ge=0, le=1)
    churn_risk: float = Field(ge=0, le=1)
    level: str = Field(description="the ladder level the risks and rules call for now")
    owner: str | None = Field(description="the account's CSM")
    owners: list[str] = Field(description="roles that act at this level")
    team: str | None
    priority: str
    reasons: list[Reason]
    model_version: str


class ScoreResponse(ApiModel):
    model_version: str
    as_of: dt.date
    unavailable: dict[str, str] = Field(
        description="feature families left out for lack of data (NaN to the model), and why"
    )
    scores: list[AccountScore]


class ErrorDetail(BaseModel):
    loc: list[str | int] = Field(description="path of the offending field in the request")
    msg: str
    type: str


class ErrorResponse(BaseModel):
    error: str
    detail: list[ErrorDetail] = Field(default_factory=list)


def json_schemas() -> dict[str, dict]:
    """The published schemas of every request and response body, as committed under serving/schema/."""
    models: list[type[BaseModel]] = [
        ScoreRequest,
        ScoreFeaturesRequest,
        AccountRequest,
        ScoreResponse,
        AccountScore,
        ErrorResponse,
    ]
    return {m.__name__: m.model_json_schema() for m in models}
