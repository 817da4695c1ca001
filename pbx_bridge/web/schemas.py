"""The API's request and response bodies; the OpenAPI document is generated from them."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from pbx_bridge.dispatch.model import (
    CallClosure,
    Category,
    HandoffState,
    IncidentStatus,
    LocationSource,
    VerificationState,
)

MAX_ID = 2**31 - 1


def _printable(value: str) -> str:
    # PostgreSQL refuses NUL in text, and control characters have no place in a report.
    if any(ord(ch) < 32 and ch not in "\t\n\r" for ch in value):
        raise ValueError("must not contain control characters")
    return value


# The error type of a control character in a value bound for the PBX: answered 400, not 422.
CONTROL_CHARACTERS = "control_characters"


def _one_line(value: str) -> str:
    # A value that reaches AMI, ARI or the dialplan: a CR/LF would end its AMI header and start
    # an action of the sender's choosing, and no control character belongs in a short reason.
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        raise PydanticCustomError(
            CONTROL_CHARACTERS, "must not contain control characters (CR, LF, TAB, ...)"
        )
    return value


Note = Annotated[str, Field(max_length=500), AfterValidator(_printable)]
Description = Annotated[str, Field(max_length=2000), AfterValidator(_printable)]
AgencyId = Annotated[str, Field(max_length=40), AfterValidator(_printable)]
Reason = Annotated[str, Field(max_length=200), AfterValidator(_printable)]
# Text sent on to Asterisk (a pause reason goes to app_queue over AMI).
PbxText = Annotated[str, Field(max_length=200), AfterValidator(_one_line)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- errors


class Problem(BaseModel):
    """Every error: what went wrong and what to do, and the request field at fault if any."""

    error: str
    field: str | None = None


# --- requests


class LocationIn(Strict):
    text: Note = ""
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    source: LocationSource = LocationSource.CALLER


class IncidentFromCall(Strict):
    """Either a new incident (category, description, location) or `incident_id` to attach to."""

    incident_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    category: Category | None = None
    description: Description = ""
    location: LocationIn = Field(default_factory=LocationIn)
    priority: int = Field(default=3, ge=1, le=5, description="1 is the most urgent")


class ClosureIn(Strict):
    disposition: CallClosure
    note: Note = ""


class VerificationIn(Strict):
    state: VerificationState
    note: Note = ""


class HandoffIn(Strict):
    agency: AgencyId = Field(default="", description="empty: the category's primary agency")


class CloseIn(Strict):
    note: Note = ""


class ListQuery(Strict):
    limit: int = Field(default=100, ge=1, le=1000)


class IncidentQuery(ListQuery):
    status: IncidentStatus | None = None


# The earliest and latest days a report may ask for, and its longest span: a period of hourly
# buckets stays a few thousand rows, and the bounds keep local midnights inside datetime's range.
FIRST_REPORT_DAY = date(2000, 1, 1)
LAST_REPORT_DAY = date(2999, 12, 31)
MAX_REPORT_DAYS = 366
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_day(value: object) -> object:
    # Only YYYY-MM-DD, as documented: not a Unix time, not a datetime at midnight.
    if isinstance(value, str) and not ISO_DAY.fullmatch(value):
        raise ValueError("a local day, YYYY-MM-DD")
    return value


def _reportable(day: date) -> date:
    # Checked here rather than with Field(ge=, le=), which would put non-JSON-Schema keywords
    # into the OpenAPI document.
    if not FIRST_REPORT_DAY <= day <= LAST_REPORT_DAY:
        raise ValueError(f"a day from {FIRST_REPORT_DAY} to {LAST_REPORT_DAY}")
    return day


ReportDay = Annotated[date, BeforeValidator(_iso_day), AfterValidator(_reportable)]


class ReportQuery(Strict):
    """Local days in the centre's time zone, `to` included."""

    first: ReportDay = Field(
        alias="from", description="first local day, YYYY-MM-DD (2000-01-01 to 2999-12-31)"
    )
    last: ReportDay = Field(
        alias="to", description=f"last local day, included; at most {MAX_REPORT_DAYS} days"
    )
    format: Literal["json", "csv"] = "json"

    @field_validator("last")
    @classmethod
    def _within_reach(cls, last: date, info: ValidationInfo) -> date:
        first = info.data.get("first")
        if first is None:
            return last  # `from` has its own error
        if last < first:
            raise ValueError(f"the period ends ({last}) before it starts ({first})")
        if (last - first).days >= MAX_REPORT_DAYS:
            raise ValueError(f"at most {MAX_REPORT_DAYS} days in one report")
        return last


class StatsQuery(ReportQuery):
    by: Literal["hour", "day"] = "day"


class EventsQuery(Strict):
    token: str = Field(
        default="",
        max_length=200,
        description="the bearer token, for EventSource clients that cannot send headers "
        "(accepted on /api/events only)",
    )


class CallQuery(Strict):
    why: Reason = Field(
        default="", description="why you need the caller's number (kept in the audit)"
    )


# --- responses


class TimelineEntryOut(BaseModel):
    at: datetime
    kind: str
    detail: str


class CallOut(BaseModel):
    id: str
    caller_number: str = Field(description="masked unless your role needs it (audited)")
    caller_name: str
    arrived_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    ring_seconds: float | None
    connected_seconds: float | None
    total_seconds: float | None
    validity: str
    disposition: str
    queue_reason: str
    queue_priority: int | None
    cannot_speak: bool
    agent: str = Field(default="", description="the call taker who answered (SIP id)")
    connected_at: datetime | None = Field(default=None, description="a call taker answered")
    repeat_of: str | None = Field(default=None, description="the same number's earlier call")
    hangup_cause: int | None
    hangup_cause_text: str
    adopted: bool
    sip_call_id: str
    timeline: list[TimelineEntryOut]


class EarlierCallOut(BaseModel):
    id: str
    arrived_at: datetime
    disposition: str
    validity: str
    agent: str


class CallDetailOut(CallOut):
    incident_id: int | None
    closure: CallClosure | None
    earlier_calls: list[EarlierCallOut] = Field(
        default_factory=list, description="the same number's calls of the last 30 days"
    )


class CallList(BaseModel):
    calls: list[CallOut]


class LocationOut(BaseModel):
    text: str
    latitude: float | None
    longitude: float | None
    source: LocationSource


class IncidentOut(BaseModel):
    id: int
    category: Category
    description: str
    location: LocationOut
    priority: int
    verification: VerificationState
    status: IncidentStatus
    created_at: datetime
    created_by: str
    closed_at: datetime | None
    call_ids: list[str]


class IncidentList(BaseModel):
    incidents: list[IncidentOut]


class IncidentEventOut(BaseModel):
    at: datetime
    kind: str
    actor: str
    detail: str


class HandoffOut(BaseModel):
    id: int
    incident_id: int
    agency: str
    second_agency: str
    state: HandoffState
    sent_at: datetime | None
    due_at: datetime | None = Field(description="when it escalates unless acknowledged")
    acknowledged_at: datetime | None
    acknowledged_by: str
    closed_at: datetime | None
    agencies: list[str] = Field(description="the agencies told so far")


class HandoffList(BaseModel):
    handoffs: list[HandoffOut]


class IncidentDetailOut(IncidentOut):
    timeline: list[IncidentEventOut]
    handoffs: list[HandoffOut]


class ClosureOut(BaseModel):
    call_id: str
    disposition: CallClosure


class AgencyOut(BaseModel):
    id: str
    name: str


class RouteOut(BaseModel):
    category: Category
    primary: str
    second: str


class AgenciesOut(BaseModel):
    regency: str
    agencies: list[AgencyOut]
    routes: list[RouteOut]


class NumberViewOut(BaseModel):
    who: str
    call_id: str
    at: datetime
    why: str


class NumberViewList(BaseModel):
    views: list[NumberViewOut]


class WhoAmI(BaseModel):
    name: str
    role: str
    agency: str


# --- reports (the same figures as `pbx-bridge report` and `stats`; no caller's number)


class AnswerTimesOut(BaseModel):
    """Answer time runs from arrival to a call taker's answer; shares say what they are of."""

    offered: int
    answered: int
    abandoned_in_queue: int
    abandoned_pct_of_offered: float | None
    answered_within_10s: int
    within_10s_pct_of_answered: float | None
    within_10s_pct_of_offered: float | None
    answered_within_15s: int
    within_15s_pct_of_answered: float | None
    within_15s_pct_of_offered: float | None
    answered_within_20s: int
    within_20s_pct_of_answered: float | None
    within_20s_pct_of_offered: float | None
    answer_p50_seconds: float | None
    answer_p90_seconds: float | None
    answer_p95_seconds: float | None
    longest_answer_seconds: float | None
    longest_wait_seconds: float | None
    nena_90pct_within_15s: bool | None
    nena_95pct_within_20s: bool | None


class DispatchOut(BaseModel):
    """From the incident records: emergencies by the day of their first call, handoffs sent."""

    verified_emergencies: int
    emergencies_by_category: dict[str, int]
    emergencies_by_agency: dict[str, int]
    handoffs_sent: int
    handoffs_acknowledged: int
    handoff_ack_p50_seconds: float | None
    handoff_ack_p90_seconds: float | None
    handoff_ack_longest_seconds: float | None


class ReportOut(BaseModel):
    first: date = Field(alias="from")
    last: date = Field(alias="to")
    timezone: str
    total_calls: int
    unanswered_in_queue: int
    answered_valid: int
    answered_invalid: int
    silent: int
    hung_up_at_once: int
    pressed_55: int
    answer_times: AnswerTimesOut
    dispatch: DispatchOut | None = Field(description="null: no incident records to read")


class StatsBucketOut(AnswerTimesOut):
    start: datetime = Field(description="local start of the hour or day")


class StatsOut(BaseModel):
    first: date = Field(alias="from")
    last: date = Field(alias="to")
    timezone: str
    by: Literal["hour", "day"]
    buckets: list[StatsBucketOut]
    total: AnswerTimesOut
