"""SQLModel tables. Statuses are StrEnums valued as the API strings; datetimes are aware UTC."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from channels import ChannelName

from .db import JSONType, UTCDateTime


def new_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(UTC)


class Role(StrEnum):
    OPERATOR = "operator"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class CaseStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class SubscriptionStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"


class AlertStatus(StrEnum):
    PENDING_APPROVAL = "pending_approval"
    REJECTED = "rejected"
    ACTIVE = "active"
    RESOLVED = "resolved"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"  # still pending when its case was closed: never decided, never published


class UpdateStatus(StrEnum):
    """An update of an active alert waits for a second person's approval; a closing message does not."""
    PENDING_APPROVAL = "pending_approval"
    SENT = "sent"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"  # its alert ended before anyone decided


class DeliveryStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    SUPPRESSED = "suppressed"
    CANCELLED = "cancelled"


class DeliveryKind(StrEnum):
    """What a message is: the alert, an approved update, the closing message (stored in ``delivery.kind``), or a
    subscription's confirmation code (sent at once, never stored)."""
    ALERT = "alert"
    UPDATE = "update"
    CLOSING = "closing"
    CONFIRMATION = "confirmation"


_D = DeliveryStatus
# Which status may follow which: the one table of the delivery state machine. ``alertsvc/store/deliveries.py``
# applies it and is the only code that changes a delivery's status; each of its UPDATEs names the statuses it
# moves from (checked against this table) in its WHERE, so a row never leaves a final state. A fan-out writes
# rows ``queued`` or (over a subscriber's budget) ``suppressed``.
DELIVERY_TRANSITIONS: dict[DeliveryStatus, frozenset[DeliveryStatus]] = {
    _D.QUEUED: frozenset({_D.SENDING,        # claimed by a worker
                          _D.CANCELLED,      # its alert ended first
                          _D.SUPPRESSED}),   # over the subscriber's budget
    _D.SENDING: frozenset({_D.SENT,          # the provider accepted it
                           _D.FAILED,        # refused, or the outcome is unknown (the sweep)
                           _D.QUEUED,        # a retry: only after an error the channel marks safe to retry
                           _D.CANCELLED,     # unsubscribed between the fan-out and the send
                           _D.DELIVERED}),   # the provider's callback came before the worker recorded "sent"
    _D.SENT: frozenset({_D.DELIVERED, _D.FAILED}),  # provider callbacks
    _D.DELIVERED: frozenset(),
    _D.FAILED: frozenset(),
    _D.SUPPRESSED: frozenset(),
    _D.CANCELLED: frozenset(),
}
FINAL_DELIVERY = frozenset(s for s, following in DELIVERY_TRANSITIONS.items() if not following)


class Staff(SQLModel, table=True):
    __tablename__ = "staff"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, sa_column_kwargs={"unique": True, "nullable": False})
    role: Role = Field(sa_type=sa.String(16))
    password_hash: str = Field(max_length=255)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Sign-in lockout (services/staff.py): consecutive wrong passwords, counted by one atomic UPDATE each.
    failed_logins: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    last_failed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True, "nullable": False})
    staff_id: int = Field(foreign_key="staff.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ReferenceCounter(SQLModel, table=True):
    """Per-year sequence behind human case references such as ``RS-2026-000123``."""
    __tablename__ = "reference_counter"
    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    last: int = 0


class Case(SQLModel, table=True):
    """A missing-child report. Personal data lives in the JSON sections and is purged after closing."""
    __tablename__ = "case"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    reference: str = Field(max_length=32, sa_column_kwargs={"unique": True, "nullable": False})
    status: CaseStatus = Field(default=CaseStatus.OPEN, sa_type=sa.String(16), index=True)
    child: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    last_seen: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    circumstances: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    police: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    reporter: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    created_by: int = Field(foreign_key="staff.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    purged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revision: int = 1


class CaseEvaluation(SQLModel, table=True):
    """One evaluation of a case against a criteria profile; every one is kept."""
    __tablename__ = "case_evaluation"
    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="case.id", index=True, max_length=36)
    case_revision: int
    profile: str = Field(max_length=128)
    version: str = Field(max_length=64)
    met: bool
    results: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONType)
    trigger: str = Field(max_length=32)
    evaluated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    evaluated_by: int | None = Field(default=None, foreign_key="staff.id")


class AuditEvent(SQLModel, table=True):
    """Append-only, hash-chained record of every decision; never holds personal data."""
    __tablename__ = "audit_event"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime)
    actor_id: int | None = Field(default=None)
    actor: str = Field(max_length=64)
    role: str = Field(max_length=16)
    action: str = Field(max_length=64, index=True)
    object_type: str = Field(max_length=32)
    object_id: str = Field(max_length=64)
    case_id: str | None = Field(default=None, max_length=36, index=True)
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, sa_column_kwargs={"unique": True, "nullable": False})


class Subscription(SQLModel, table=True):
    """A citizen's subscription. The address is deleted on unsubscribe; only counts remain."""
    __tablename__ = "subscription"
    __table_args__ = (
        sa.Index("ix_subscription_active_dedupe", "dedupe_key", unique=True,
                 sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'")),
        sa.UniqueConstraint("seq", name="uq_subscription_seq"),
    )
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    # Compact numbers for the fan-out (a million deliveries hold two integers, not two strings):
    # ``seq`` names the subscription (``store.subscriptions.next_numbers``); ``address_no`` is shared by every live
    # subscription of one (channel, address), so an alert reaches an address once and the subscriber budget counts
    # per address.
    seq: int = Field(sa_type=sa.BigInteger, sa_column_kwargs={"nullable": False})
    address_no: int | None = Field(default=None, sa_type=sa.BigInteger)
    channel: ChannelName = Field(sa_type=sa.String(8))
    address: str | None = Field(default=None, max_length=320)
    # HMAC of the normalised address: finds a number's subscriptions (STOP) without scanning plaintext.
    address_key: str | None = Field(default=None, max_length=64, index=True)
    # HMAC of channel + address + area: makes imports idempotent.
    dedupe_key: str | None = Field(default=None, max_length=64)
    language: str = Field(max_length=8)
    area: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    lat: float | None = None
    lon: float | None = None
    radius_km: float | None = None
    regions: list[str] | None = Field(default=None, sa_type=JSONType)
    status: SubscriptionStatus = Field(default=SubscriptionStatus.PENDING, sa_type=sa.String(16), index=True)
    code_hash: str | None = Field(default=None, max_length=64)
    code_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    code_attempts: int = 0
    source: str = Field(default="api", max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    unsubscribed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Alert(SQLModel, table=True):
    """An activation request for a case: pending approval, then active until resolved or expired."""
    __tablename__ = "alert"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    case_id: str = Field(foreign_key="case.id", index=True, max_length=36)
    status: AlertStatus = Field(default=AlertStatus.PENDING_APPROVAL, sa_type=sa.String(20), index=True)
    area: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    territories: list[str] = Field(default_factory=list, sa_type=JSONType)
    message_text: str | None = Field(default=None, max_length=1000)
    estimated_recipients: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    requested_by: int = Field(foreign_key="staff.id")
    requested_at: datetime = Field(sa_type=UTCDateTime)
    decided_by: int | None = Field(default=None, foreign_key="staff.id")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decision_reason: str | None = Field(default=None, max_length=2000)
    checklist: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    # The case's revision when the alert was requested, and the one whose facts were approved.
    case_revision: int = 1
    approved_revision: int | None = None
    # What the public sees (page, API, CAP, messages): the facts as approved, never the live case.
    facts: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    activated_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_by: int | None = Field(default=None, foreign_key="staff.id")
    outcome: str | None = Field(default=None, max_length=16)
    # The decision brief as it stood when the alert was approved or rejected (what the supervisor decided on);
    # NULL while pending and for alerts decided before 0007.
    decision_brief: dict[str, Any] | None = Field(default=None, sa_type=JSONType)


class AlertOverride(SQLModel, table=True):
    """A supervisor lifted the territory fatigue budget for one alert. Every override is kept; none of
    their authors may approve that alert."""
    __tablename__ = "alert_override"
    id: int | None = Field(default=None, primary_key=True)
    alert_id: str = Field(foreign_key="alert.id", index=True, max_length=36)
    granted_by: int = Field(foreign_key="staff.id")
    reason: str = Field(max_length=2000)
    granted_at: datetime = Field(sa_type=UTCDateTime)


class AlertUpdate(SQLModel, table=True):
    """A follow-up message of an active alert (``update``) or its end (``closing``).

    An update is requested by one person and sent only when a supervisor who is someone else approves it
    (``pending_approval`` -> ``sent`` | ``rejected``). With ``facts`` it also replaces the alert's published
    facts by the case's, as of ``case_revision``."""
    __tablename__ = "alert_update"
    id: int | None = Field(default=None, primary_key=True)
    alert_id: str = Field(foreign_key="alert.id", index=True, max_length=36)
    kind: DeliveryKind = Field(sa_type=sa.String(16))
    status: UpdateStatus = Field(default=UpdateStatus.SENT, sa_type=sa.String(20))
    text: str | None = Field(default=None, max_length=1000)
    facts: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    case_revision: int | None = None
    created_by: int | None = Field(default=None, foreign_key="staff.id")
    created_at: datetime = Field(sa_type=UTCDateTime)
    decided_by: int | None = Field(default=None, foreign_key="staff.id")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decision_reason: str | None = Field(default=None, max_length=2000)


class Delivery(SQLModel, table=True):
    """One message to one subscriber (the outbox row). Written with the approval, claimed by workers.

    Rows are written a batch at a time (``DeliveryBatch``) and claimed through the batch's cursor over the primary
    key, so a fresh row needs no index but the primary key: a million of them are written in one ``COPY``.
    The partial indexes hold only the rows that wait for a retry, are being sent, or have a provider id."""
    __tablename__ = "delivery"
    __table_args__ = (
        sa.Index("ix_delivery_retry", "next_attempt_at",
                 sqlite_where=sa.text("status = 'queued' AND next_attempt_at IS NOT NULL"),
                 postgresql_where=sa.text("status = 'queued' AND next_attempt_at IS NOT NULL")),
        sa.Index("ix_delivery_sending", "updated_at", sqlite_where=sa.text("status = 'sending'"),
                 postgresql_where=sa.text("status = 'sending'")),
        sa.Index("ix_delivery_provider_id", "provider_id", sqlite_where=sa.text("provider_id IS NOT NULL"),
                 postgresql_where=sa.text("provider_id IS NOT NULL")),
    )
    id: int | None = Field(default=None, sa_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                           primary_key=True)
    # No foreign key and no unique index here on purpose: a million rows are written per approval, and the
    # approval transaction (row lock + status check) is what makes a fan-out happen once.
    alert_id: str = Field(max_length=36)
    subscription_seq: int = Field(sa_type=sa.BigInteger)
    address_no: int | None = Field(default=None, sa_type=sa.BigInteger)
    channel: ChannelName = Field(sa_type=sa.String(8))
    kind: DeliveryKind = Field(sa_type=sa.String(16))  # the enums' strings in a VARCHAR, as ever
    update_id: int = 0
    status: DeliveryStatus = Field(default=DeliveryStatus.QUEUED, sa_type=sa.String(16))
    attempts: int = 0
    provider_id: str | None = Field(default=None, max_length=128)
    error: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class DeliveryBatch(SQLModel, table=True):
    """The delivery rows one fan-out wrote (an alert, an update or a closing message): every one of them has an
    id in ``first_id..last_id``. Workers claim the batch's rows in id order from ``next_id`` (the cursor); the
    per-alert queries (counts, follow-ups, cancel) read the alert's ranges over the primary key.

    A range may also hold rows of another batch written at the same moment: every query that reads a range
    also filters on the alert (or on the status, for claiming, where any queued row is fair game)."""
    __tablename__ = "delivery_batch"
    id: int | None = Field(default=None, primary_key=True)
    alert_id: str = Field(max_length=36, index=True)
    kind: DeliveryKind = Field(sa_type=sa.String(16))
    update_id: int = 0
    first_id: int = Field(sa_type=sa.BigInteger)
    last_id: int = Field(sa_type=sa.BigInteger)
    next_id: int = Field(sa_type=sa.BigInteger)
    total: int = 0
    created_at: datetime = Field(sa_type=UTCDateTime, index=True)


class SchedulerLock(SQLModel, table=True):
    """One row per periodic job: the worker that holds the lease runs it (once per deployment)."""
    __tablename__ = "scheduler_lock"
    name: str = Field(primary_key=True, max_length=64)
    holder: str = Field(max_length=128)
    expires_at: datetime = Field(sa_type=UTCDateTime)


class LoginFailure(SQLModel, table=True):
    """Sign-in lockout counters of usernames that are not staff accounts, keyed by an HMAC of the username (never
    the name itself), so an unknown name is answered exactly as a real account would be."""
    __tablename__ = "login_failure"
    key_hash: str = Field(primary_key=True, max_length=64)
    failed_logins: int = 0
    last_failed_at: datetime = Field(sa_type=UTCDateTime, index=True)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RateLimitCounter(SQLModel, table=True):
    """Fixed-window rate-limit counters shared by every process (alertsvc/ratelimit.py); ``expires_at`` is epoch
    seconds, as the ``limits`` package counts time."""
    __tablename__ = "rate_limit_counter"
    key: str = Field(primary_key=True, max_length=255)
    count: int = 0
    expires_at: float = Field(sa_type=sa.Double, index=True)


metadata: sa.MetaData = SQLModel.metadata
