"""API input and output models. Requests are validated by these models and the OpenAPI document is
generated from them (``api/spec.py``), so the contract and the validation cannot drift apart."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StringConstraints,
    field_validator,
    model_serializer,
)

from .inputs import string_problems


def _blank_is_none(value: Any) -> Any:
    """Forms and integrations send "" for a field left blank: blank (empty or whitespace-only) optional text is
    "not given". The key still counts as given: in a PATCH, blank removes the field as null does."""
    return None if isinstance(value, str) and not value.strip() else value


BlankIsNone = BeforeValidator(_blank_is_none)  # on every optional text field of every input model

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
OptionalShortText = Annotated[ShortText | None, BlankIsNone]
OptionalLongText = Annotated[LongText | None, BlankIsNone]
OptionalNote = Annotated[Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None, BlankIsNone]


def _split_commas(value: Any) -> Any:
    """A repeatable query parameter: ``?status=a&status=b`` arrives as a list, ``?status=a,b`` as one string;
    both become ``["a", "b"]`` (a blank item stays, for the item's validation to refuse)."""
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(v, str) for v in items):
        return value
    return [part for v in items for part in v.split(",")]


SplitCommas = BeforeValidator(_split_commas)  # on every repeatable query parameter (``registry.parse_query``)


class In(BaseModel):
    """Request bodies: strict types (no "yes" for true), unknown fields rejected, and no string (value or key,
    at any depth) with NUL or a lone surrogate: nothing could store or send it on."""
    model_config = ConfigDict(extra="forbid", strict=True)

    @field_validator("*")
    @classmethod
    def _storable_strings(cls, value: Any) -> Any:
        for _loc, problem in string_problems(value):
            raise ValueError(problem)
        return value


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Sparse(Out):
    """An output object that shows only the keys that hold a value (a case's sections keep what was given; an
    area is one of circle, regions or polygon). The OpenAPI document still names every possible key."""

    # No return annotation on purpose: with one, pydantic would describe the object as a plain mapping.
    @model_serializer(mode="wrap")
    def _without_nulls(self, handler: SerializerFunctionWrapHandler):
        return {k: v for k, v in handler(self).items() if v is not None}


# --- problems -------------------------------------------------------------------------------------
class FieldError(Out):
    field: str
    message: str


class Problem(Out):
    """RFC 9457 problem details."""
    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = Field(default=None, description="At most the first 50 field errors.")
    error_count: int | None = Field(default=None, description="How many field errors there are in all.")


# --- auth -----------------------------------------------------------------------------------------
class TokenIn(In):
    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class TokenOut(Out):
    token: str
    expires_at: datetime


class WhoAmI(Out):
    id: int
    username: str
    role: str


# --- criteria -------------------------------------------------------------------------------------
class CriterionOut(Out):
    model_config = ConfigDict(extra="allow")
    id: str
    text: str
    rule: str | None = None
    required: bool = True


class ChecklistItemOut(Out):
    id: str
    text: str


class ProfileOut(Out):
    model_config = ConfigDict(extra="allow")
    id: str
    title: str
    version: str
    description: str | None = None
    criteria: list[CriterionOut]
    approval_checklist: list[ChecklistItemOut]


class CriteriaOut(Out):
    profile: ProfileOut


class CriteriaCheckOut(Out):
    """The active profile's verdicts on the facts given (nothing stored): ``results`` have the shape of a case
    evaluation's (``CaseOut.evaluation.results``)."""
    profile: str = Field(description="The active profile's id.")
    title: str
    version: str = Field(description="sha256 of the profile file.")
    met: bool = Field(description="The profile's decision: every required criterion is met.")
    results: list[ResultOut]
    evaluated_at: datetime


# --- cases ----------------------------------------------------------------------------------------
class ChildIn(In):
    name: OptionalShortText = None
    age: int = Field(ge=0, le=120, description="Age in years.")
    sex: Literal["f", "m", "x"] | None = None
    description: OptionalLongText = None


class LastSeenIn(In):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    place: OptionalShortText = None
    at: AwareDatetime


class CircumstancesIn(In):
    abduction_suspected: bool | None = None
    abduction_witnessed: bool | None = None
    imminent_danger: bool | None = None
    medical_or_disability: bool | None = None
    suspect: OptionalLongText = None
    vehicle: OptionalShortText = None
    plate: Annotated[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)] | None,
                     BlankIsNone] = None


class PoliceIn(In):
    confirmed: bool | None = None
    reference: OptionalShortText = None


class ReporterIn(In):
    name: OptionalShortText = None
    phone: Annotated[Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=32,
                                                      pattern=r"^\+?[0-9 ()./-]{3,32}$")] | None,
                     BlankIsNone] = None


class CaseIn(In):
    child: ChildIn
    last_seen: LastSeenIn
    circumstances: CircumstancesIn = CircumstancesIn()
    police: PoliceIn = PoliceIn()
    reporter: ReporterIn = ReporterIn()


class ChildPatch(In):
    name: OptionalShortText = None
    age: int | None = Field(default=None, ge=0, le=120)
    sex: Literal["f", "m", "x"] | None = None
    description: OptionalLongText = None


class LastSeenPatch(In):
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    place: OptionalShortText = None
    at: AwareDatetime | None = None


class CasePatch(In):
    """Partial update: only the fields present change; each change re-evaluates the case."""
    child: ChildPatch | None = None
    last_seen: LastSeenPatch | None = None
    circumstances: CircumstancesIn | None = None
    police: PoliceIn | None = None
    reporter: ReporterIn | None = None


class CaseCloseIn(In):
    outcome: Literal["found", "withdrawn", "other"]
    note: OptionalNote = None


class CaseFactsIn(In):
    """The sections of ``CaseIn`` with every field optional (what the intake form holds so far), for evaluating
    the criteria without opening a case. A missing fact is "not known" (an ``unknown`` verdict)."""
    child: ChildPatch | None = None
    last_seen: LastSeenPatch | None = None
    circumstances: CircumstancesIn | None = None
    police: PoliceIn | None = None
    reporter: ReporterIn | None = Field(default=None, description="Accepted (the intake form sends it), never "
                                                                  "read: nothing about the reporter decides.")


class ResultOut(Out):
    criterion: str
    verdict: Literal["met", "not_met", "unknown"]
    reason: str


class EvaluationOut(Out):
    profile: str
    version: str
    met: bool
    results: list[ResultOut]
    evaluated_at: datetime
    trigger: str
    case_revision: int


class CaseAlertOut(Out):
    """One alert of a case, in the case's list (the whole alert is at ``/alerts/{id}``)."""
    id: str
    status: str
    territories: list[str]
    requested_at: datetime
    estimated_recipients: dict[str, int] = Field(description="Recipients per channel and in total.")


class ChildOut(Sparse):
    name: str | None = None
    age: int | None = None
    sex: str | None = Field(default=None, description="f, m or x.")
    description: str | None = None


class LastSeenOut(Sparse):
    lat: float | None = None
    lon: float | None = None
    place: str | None = None
    at: str | None = Field(default=None, description="RFC 3339 time, as given.")


class CircumstancesOut(Sparse):
    abduction_suspected: bool | None = None
    abduction_witnessed: bool | None = None
    imminent_danger: bool | None = None
    medical_or_disability: bool | None = None
    suspect: str | None = None
    vehicle: str | None = None
    plate: str | None = None


class PoliceOut(Sparse):
    confirmed: bool | None = None
    reference: str | None = None


class ReporterOut(Sparse):
    name: str | None = None
    phone: str | None = None


class CircleOut(Out):
    lat: float
    lon: float
    radius_km: float


class GeoJsonPolygonOut(Out):
    """A GeoJSON Polygon (rings of [lon, lat] positions) or MultiPolygon (a list of those)."""
    type: Literal["Polygon", "MultiPolygon"]
    coordinates: list[Any]


class AreaOut(Sparse):
    """One of ``circle``, ``regions`` (catalogue codes) or ``polygon`` (a GeoJSON Polygon or MultiPolygon)."""
    circle: CircleOut | None = None
    regions: list[str] | None = None
    polygon: GeoJsonPolygonOut | None = None


class CaseOut(Out):
    id: str
    reference: str
    status: str
    child: ChildOut
    last_seen: LastSeenOut
    circumstances: CircumstancesOut
    police: PoliceOut
    reporter: ReporterOut
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None
    revision: int
    evaluation: EvaluationOut
    evaluations: list[EvaluationOut]
    alerts: list[CaseAlertOut] = []


CaseStatusName = Literal["open", "closed"]
AlertStatusName = Literal["pending_approval", "rejected", "active", "resolved", "expired", "withdrawn"]
DistrictCode = Annotated[Annotated[str, StringConstraints(strip_whitespace=True, max_length=16)] | None,
                         BlankIsNone]
PageCursor = Annotated[Annotated[str, StringConstraints(strip_whitespace=True, max_length=256)] | None,
                       BlankIsNone]


class CaseListQuery(In):
    model_config = ConfigDict(extra="forbid", strict=False)
    status: Annotated[list[CaseStatusName], SplitCommas] = Field(
        default=[], description="Only cases in these statuses (repeat the parameter or separate by commas).")
    district: DistrictCode = Field(default=None, description="A region code of the catalogue (e.g. RS-00): cases "
                                                             "last seen in that district.")
    limit: int = Field(50, ge=1, le=200, description="Items per page.")
    cursor: PageCursor = Field(default=None, description="``next_cursor`` of the previous page.")


class AlertCountsOut(Out):
    """A case's alerts by status."""
    total: int = 0
    pending_approval: int = 0
    active: int = 0
    rejected: int = 0
    resolved: int = 0
    expired: int = 0
    withdrawn: int = 0


class EvaluationSummaryOut(Out):
    profile: str
    version: str
    met: bool


class CaseSummaryOut(Out):
    """A case in a work queue. No personal data (no name, description, place or reporter): reading those is an
    audited read of the case itself (``GET /cases/{id}``)."""
    id: str
    reference: str
    status: str
    opened_at: datetime
    opened_by: str | None = None
    updated_at: datetime
    closed_at: datetime | None = None
    revision: int
    child_age: int | None = None
    district: str | None = Field(default=None, description="The catalogue region containing the last-seen "
                                                           "coordinates (null when outside every region or purged).")
    evaluation: EvaluationSummaryOut | None = Field(default=None, description="The latest evaluation.")
    alerts: AlertCountsOut


class CasePageOut(Out):
    items: list[CaseSummaryOut]
    next_cursor: str | None = Field(default=None, description="Pass as ``cursor`` for the next page; null on the "
                                                              "last page.")


# --- audit ----------------------------------------------------------------------------------------
class AuditEventOut(Out):
    """One event of the hash chain. ``details`` depend on the action (ids, counts, verdicts, reasons; never
    personal data), so they are an open object."""
    id: int
    at: datetime
    actor: str
    role: str
    action: str
    object_type: str
    object_id: str
    case_id: str | None
    details: dict[str, Any]
    prev_hash: str
    hash: str


class AuditQuery(In):
    model_config = ConfigDict(extra="forbid", strict=False)
    case_id: Annotated[str | None, BlankIsNone] = None
    after_id: int = Field(0, ge=0, le=2_147_483_647)
    limit: int = Field(500, ge=1, le=5000)


# --- subscriptions --------------------------------------------------------------------------------
class CircleIn(In):
    model_config = ConfigDict(extra="forbid", strict=False)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    radius_km: float = Field(gt=0, le=500)


class SubscriptionAreaIn(In):
    """Exactly one of ``circle`` or ``regions`` (region codes of the loaded catalogue, e.g. RS-00)."""
    circle: CircleIn | None = None
    regions: list[Annotated[str, StringConstraints(min_length=1, max_length=16)]] | None = Field(
        default=None, min_length=1, max_length=30)


class SubscriptionIn(In):
    channel: Literal["sms", "email"]
    address: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=320)]
    language: Literal["sr-Latn", "sr-Cyrl", "en"] = "sr-Latn"
    area: SubscriptionAreaIn


class SubscriptionCreated(Out):
    id: str
    status: Literal["pending"]


class ConfirmIn(In):
    code: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{6}$")]


class SubscriptionStatusOut(Out):
    status: Literal["pending", "active", "unsubscribed"]


class UnsubscribeIn(In):
    token: Annotated[str, StringConstraints(min_length=1, max_length=512)]


# --- alerts ---------------------------------------------------------------------------------------
class AlertAreaIn(SubscriptionAreaIn):
    """Exactly one of ``circle``, ``regions`` or ``polygon`` (a GeoJSON Polygon or MultiPolygon)."""
    polygon: dict[str, Any] | None = None


class AlertMessageIn(In):
    text: Annotated[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)] | None,
                    BlankIsNone] = None


class AlertIn(In):
    area: AlertAreaIn
    message: AlertMessageIn = AlertMessageIn()


class ApproveIn(In):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000)]
    checklist: dict[Annotated[str, StringConstraints(max_length=64)], bool]
    case_revision: int | None = Field(
        default=None, ge=1, description="The case revision the supervisor read (the brief's case.revision): "
                                        "an approval of a case that changed since is refused with 409.")


class ReasonIn(In):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000)]


class ResolveIn(In):
    outcome: Literal["found", "withdrawn", "other"]
    note: Annotated[Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] | None,
                    BlankIsNone] = None


class UpdateIn(In):
    """An update waits for a supervisor who is someone else. With ``facts: true`` it also publishes the case's
    public facts as they are now (what the public sees changes only through such an approved update)."""
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
    facts: bool = False


class DeliveryCounts(Out):
    queued: int = 0
    sending: int = 0
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    suppressed: int = 0
    cancelled: int = 0


class PublishedChild(Out):
    name: str | None = None
    age: int | None = None
    sex: str | None = None
    description: str | None = None


class PublishedLastSeen(Out):
    place: str | None = None
    at: str | None = None


class PublishedFacts(Out):
    """What the public sees of a case: the snapshot a supervisor approved."""
    reference: str | None = None
    child: PublishedChild = PublishedChild()
    last_seen: PublishedLastSeen = PublishedLastSeen()
    vehicle: str | None = None
    plate: str | None = None
    suspect: str | None = None


class OverrideOut(Out):
    by: str | None
    reason: str
    at: datetime


class MessagePreview(Out):
    sms: str
    sms_segments: int | None
    email_subject: str | None
    email_text: str


class UpdateOut(Out):
    id: int
    alert_id: str
    kind: Literal["update", "closing"]
    status: Literal["pending_approval", "sent", "rejected", "withdrawn"]
    text: str | None = None
    facts: PublishedFacts | None = Field(
        default=None, description="The public facts this update publishes (pending) or carried (sent).")
    case_revision: int | None = None
    requested_by: str | None = None
    requested_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None
    preview: dict[str, MessagePreview] | None = Field(
        default=None, description="Pending updates: the message in each language, as subscribers would get it.")
    deliveries: DeliveryCounts | None = None


class TerritoryUseOut(Out):
    """Alerts activated in one territory within the fatigue window."""
    territory: str
    used: int
    limit: int
    remaining: int
    window_hours: int


class BriefTerritoryUse(TerritoryUseOut):
    remaining_after_approval: int


class BriefCase(Out):
    id: str
    reference: str
    status: str
    revision: int


class BriefEvaluation(Out):
    profile: str
    version: str
    met: bool
    results: list[ResultOut]


class CannotApprove(Out):
    username: str
    why: str


class SinceDecisionOut(Out):
    """What changed in the case since the alert was decided (read from what is stored, nothing evaluated again)."""
    case_revision: int
    evaluation: BriefEvaluation | None = Field(
        default=None, description="The case's latest evaluation, when it was evaluated after the decision.")
    facts_changed_since_approval: list[str] = Field(
        description="Published facts that differ from the case now (an update with facts: true publishes them).")


class DecisionBrief(Out):
    """Everything a supervisor needs to decide on one screen."""
    case: BriefCase
    evaluation: BriefEvaluation = Field(description="The case against the active profile (now while pending; "
                                                    "as at the decision once decided).")
    approval_checklist: list[ChecklistItemOut]
    facts: PublishedFacts = Field(description="The public facts to publish (as at the decision, once decided).")
    cannot_approve: list[CannotApprove]
    area: AreaOut
    territories: list[str]
    estimated_recipients: dict[str, int]
    fatigue: list[BriefTerritoryUse]
    fatigue_blocked: list[str]
    sms_segments: dict[str, int] = Field(description="SMS segments of the alert message per language.")


class AlertMessageOut(Out):
    text: str | None = Field(default=None, description="The operator's own text, or null for the default text.")


class AlertOut(Out):
    id: str
    case_id: str
    status: str
    area: AreaOut
    territories: list[str]
    estimated_recipients: dict[str, int] = Field(description="Recipients per channel and in total.")
    message: AlertMessageOut
    requested_at: datetime
    requested_by: str | None = None
    decided_at: datetime | None = None
    decided_by: str | None = None
    decision_reason: str | None = None
    checklist: dict[str, bool] | None = None
    overrides: list[OverrideOut] = []
    case_revision: int
    approved_revision: int | None = None
    facts: PublishedFacts | None = None
    activated_at: datetime | None = None
    expires_at: datetime | None = None
    resolved_at: datetime | None = None
    outcome: str | None = None
    deliveries: DeliveryCounts
    updates: list[UpdateOut] = []
    brief: DecisionBrief | None = Field(
        default=None, description="Pending: computed on each read. Approved or rejected: the brief exactly as it "
                                  "stood at the decision; null for alerts decided before briefs were stored.")
    since_decision: SinceDecisionOut | None = Field(
        default=None, description="Decided alerts: what changed in the case since the decision.")


class AlertListQuery(In):
    model_config = ConfigDict(extra="forbid", strict=False)
    status: Annotated[list[AlertStatusName], SplitCommas] = Field(
        default=[], description="Only alerts in these statuses (repeat the parameter or separate by commas).")
    district: DistrictCode = Field(default=None, description="A region code of the catalogue (e.g. RS-00): alerts "
                                                             "whose territories include it.")
    case_id: Annotated[Annotated[str, StringConstraints(strip_whitespace=True, max_length=36)] | None,
                       BlankIsNone] = None
    order: Literal["newest", "oldest"] = Field(default="newest", description="By request time: newest first "
                                                                              "(default) or oldest first.")
    limit: int = Field(50, ge=1, le=200, description="Items per page.")
    cursor: PageCursor = Field(default=None, description="``next_cursor`` of the previous page (with the same "
                                                         "``order``).")


class AlertSummaryOut(Out):
    id: str
    case_id: str
    case_reference: str
    status: str
    requested_at: datetime
    requested_by: str | None = None
    decided_at: datetime | None = None
    decided_by: str | None = None
    activated_at: datetime | None = None
    expires_at: datetime | None = None
    resolved_at: datetime | None = None
    territories: list[str]
    estimated_recipients: dict[str, int] = Field(description="Recipients per channel and in total.")
    deliveries: DeliveryCounts | None = Field(
        default=None, description="The alert message's deliveries by status; null for alerts never approved.")
    pending_updates: int = Field(description="Updates waiting for a supervisor's approval.")


class AlertPageOut(Out):
    items: list[AlertSummaryOut]
    next_cursor: str | None = Field(default=None, description="Pass as ``cursor`` for the next page; null on the "
                                                              "last page.")


class DeliveryOut(Out):
    subscription_id: str
    channel: str
    kind: str
    status: str
    attempts: int


class FatigueOut(Out):
    territory_max_alerts: int
    territory_window_hours: int
    subscriber_max_messages: int
    subscriber_window_hours: int
    territories: list[TerritoryUseOut]


class PublicAlert(Out):
    """What anyone may see of an alert. Never the reporter, the police reference or the family's address;
    once resolved, only a stub."""
    id: str
    status: str
    reference: str | None = None
    child: PublishedChild | None = None
    last_seen: PublishedLastSeen | None = None
    vehicle: str | None = None
    plate: str | None = None
    suspect: str | None = None
    area: AreaOut | None = None
    territories: list[str] = []
    activated_at: datetime | None = None
    expires_at: datetime | None = None
    resolved_at: datetime | None = None
    cap_url: str
    page_url: str
