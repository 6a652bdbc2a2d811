"""Tables, as SQLAlchemy 2 typed ORM classes.

Tables are not API schemas: nothing here is ever a ``response_model``. The raw transcript and the
pseudonym map live in their own tables so that no join used for listing work can reach them.

Portability rules (the same URL-only switch between SQLite and PostgreSQL):
- ids are uuid4 hex strings (``String(32)``);
- JSON columns use ``sqlalchemy.JSON`` and are replaced, never mutated in place;
- datetimes are timezone-aware UTC on the way in and on the way out (``UTCDateTime``);
- enumerations are short strings guarded by named CHECK constraints (no native ENUM types, so a
  new value is one appended migration that swaps a CHECK constraint).

The CHECK constraint value lists are literals on purpose: they must match what the migrations
created, and ``tests/test_storage.py`` checks they cover every ``Role`` and ``JobStatus`` value.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar
from uuid import uuid4

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Mapper, mapped_column
from sqlalchemy.types import TypeDecorator

#: Constraint names are deterministic so later migrations can drop them by name on both backends.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ROLE_VALUES = ("practitioner", "manager", "auditor", "admin")
JOB_STATUS_VALUES = (
    "queued",
    "transcribing",
    "diarising",
    "redacting",
    "drafting",
    "done",
    "failed",
)
TRANSCRIPT_KINDS = ("raw", "redacted")
NOTE_STATUSES = ("draft", "approved")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def new_id() -> str:
    return uuid4().hex


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that refuses naive datetimes and always returns aware UTC.

    SQLite has no time zone storage, so values are stored as naive UTC there and given their
    ``tzinfo`` back on load; PostgreSQL stores ``timestamptz`` and we normalise to UTC on load.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; use datetime.now(UTC)")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }


class User(Base):
    """A practitioner, manager, auditor or admin. Only the sha256 of the bearer token is kept,
    and for the web app an argon2 hash of the password the user set (none until they do)."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(_in("role", ROLE_VALUES), name="role"),
        # One account per person at the provider: found by (issuer, subject), never by name
        # or e-mail, which change and are reused.
        Index("ix_users_oidc_identity", "oidc_issuer", "oidc_subject", unique=True),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    password_set_at: Mapped[datetime | None] = mapped_column()
    #: When the user was last deactivated (null while active): starts the retention period
    #: of the recordings they own (``retention_deactivated_users_days``).
    deactivated_at: Mapped[datetime | None] = mapped_column()
    #: Single sign-on: the OpenID provider and its ``sub`` for this person (both null for a
    #: local account). Their role is set from the provider's claims at every sign-in.
    oidc_issuer: Mapped[str | None] = mapped_column(String(255))
    oidc_subject: Mapped[str | None] = mapped_column(String(255))
    #: The team they belong to (a label such as "North CIN"; null: none). A manager reads
    #: their team's visits; a manager with no team, every visit (``auth``'s scope rule).
    team: Mapped[str | None] = mapped_column(String(64), index=True)


class OidcLogin(Base):
    """A single sign-on under way: the browser holds a random secret in a cookie, of which
    only the sha256 is kept here. The flow's ``state``, ``nonce`` and PKCE verifier are derived
    from that secret (``web.oidc``), so none of them is stored; the row makes the secret
    single-use (``used_at``) and short-lived (``created_at``)."""

    __tablename__ = "oidc_logins"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    next_path: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column()


class PasswordLink(Base):
    """A one-time link to set a password (``caseassist users add`` prints it). Only the sha256
    of its token is kept; it expires, and is spent once a password is set with it."""

    __tablename__ = "password_links"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()


class WebSession(Base):
    """A signed-in browser. The cookie holds a random token; only its sha256 is kept. Ended by
    signing out, by a new password, or by ``last_seen_at`` falling out of the idle timeout."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column()


class Recording(Base):
    """An uploaded visit recording. No original filename: it may identify a family."""

    __tablename__ = "recordings"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    visit_type: Mapped[str | None] = mapped_column(String(64))
    visit_date: Mapped[date | None] = mapped_column(Date)
    template: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(16))
    audio_path: Mapped[str | None] = mapped_column(String(1024))
    audio_sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    duration_s: Mapped[float | None] = mapped_column(Float)
    format: Mapped[str] = mapped_column(String(16))
    erased_at: Mapped[datetime | None] = mapped_column()
    # the upload's own terms for speech recognition, one a line (may name local places)
    vocabulary: Mapped[str | None] = mapped_column(Text)


class Job(Base):
    """Processing of one recording.

    ``timings`` is ``{stage: {"wall_s": float, "rtf": float | None}}``."""

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(_in("status", JOB_STATUS_VALUES), name="status"),
        CheckConstraint("progress >= 0 AND progress <= 1", name="progress"),
        CheckConstraint("attempts >= 0", name="attempts"),
        Index("ix_jobs_status_created_at", "status", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    recording_id: Mapped[str] = mapped_column(ForeignKey("recordings.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    stage: Mapped[str | None] = mapped_column(String(32))
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    heartbeat_at: Mapped[datetime | None] = mapped_column()
    timings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    note_id: Mapped[str | None] = mapped_column(ForeignKey("notes.id"))


class TranscriptRow(Base):
    """A raw or redacted transcript, the domain value's ``model_dump(mode="json")``, stored
    encrypted (``assistant.storage.sealing``: the ORM object holds the plain value)."""

    __tablename__ = "transcripts"
    __table_args__ = (
        CheckConstraint(_in("kind", TRANSCRIPT_KINDS), name="kind"),
        UniqueConstraint("recording_id", "kind", name="uq_transcripts_recording_id_kind"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    recording_id: Mapped[str] = mapped_column(ForeignKey("recordings.id"))
    kind: Mapped[str] = mapped_column(String(16))
    body: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PseudonymMapRow(Base):
    """The placeholder -> original-value map, encrypted under the recording's data key.
    ``key_id`` says which: ``"data-key"`` (since 0006), or the old mapping key's id."""

    __tablename__ = "pseudonym_maps"

    recording_id: Mapped[str] = mapped_column(ForeignKey("recordings.id"), primary_key=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    key_id: Mapped[str] = mapped_column(String(16))


class DataKey(Base):
    """A recording's data key, wrapped by the key-encryption key ``kek_id`` (see
    ``assistant.storage.keys``). Deleted when the recording is erased: what it encrypted, in
    any backup, can then never be read again."""

    __tablename__ = "data_keys"

    recording_id: Mapped[str] = mapped_column(ForeignKey("recordings.id"), primary_key=True)
    kek_id: Mapped[str] = mapped_column(String(64), index=True)
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    rewrapped_at: Mapped[datetime | None] = mapped_column()


class VoiceEnrolment(Base):
    """A user's enrolled voice (``PUT /v1/me/voice``): one speaker embedding, the mean of a
    short sample's window embeddings, never the sample. Encrypted (AES-256-GCM) under a data
    key of its own, which is stored only wrapped by the key-encryption key, like a recording's
    (``storage.repo.voices``). Deleting the row erases the voice, key and all."""

    __tablename__ = "voice_enrolments"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    kek_id: Mapped[str] = mapped_column(String(64), index=True)
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    embedding: Mapped[bytes] = mapped_column(LargeBinary)
    #: the speaker encoder that made it: another one's embedding means nothing
    model_sha256: Mapped[str] = mapped_column(String(64))
    speech_s: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Note(Base):
    """A note for one recording: the AI draft as drafted, its provenance and its approval.
    ``ai_draft`` and ``provenance`` (whose review quotes removed statements) are encrypted."""

    __tablename__ = "notes"
    __table_args__ = (
        CheckConstraint(_in("status", NOTE_STATUSES), name="status"),
        # one note per job, however many times a queue runs its drafting stage (0010)
        Index("uq_notes_job_id", "job_id", unique=True),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    recording_id: Mapped[str] = mapped_column(ForeignKey("recordings.id"), index=True)
    template: Mapped[str] = mapped_column(String(64))
    template_version: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    ai_draft: Mapped[dict[str, Any]] = mapped_column()
    provenance: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column()
    approved_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    edit_distance: Mapped[int | None] = mapped_column(Integer)
    #: Which AI statements were kept, edited or removed (``notes.changes``), set at approval.
    approval_record: Mapped[dict[str, Any] | None] = mapped_column()
    #: The job that drafted it (null: made otherwise). No foreign key: ``jobs.note_id`` already
    #: points here, and a key each way would make the two tables a cycle.
    job_id: Mapped[str | None] = mapped_column(String(32))


class StatementConfirmation(Base):
    """The practitioner confirmed one statement that raises a safeguarding category. Keyed by
    the sha256 of the statement's content (``notes.statement_sha256``): an edited statement is
    a different one and needs confirming again; a moved one keeps its confirmation."""

    __tablename__ = "statement_confirmations"
    __table_args__ = (
        UniqueConstraint("note_id", "statement_sha256", name="uq_statement_confirmations_note_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    note_id: Mapped[str] = mapped_column(ForeignKey("notes.id"))
    statement_sha256: Mapped[str] = mapped_column(String(64))
    section: Mapped[str] = mapped_column(String(64))
    categories: Mapped[list[str]] = mapped_column(JSON)
    confirmed_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime] = mapped_column(default=utcnow)


class NoteRevision(Base):
    """Append-only history of a note's body (encrypted). Number 1 is the AI draft
    (``author_id`` null)."""

    __tablename__ = "note_revisions"
    __table_args__ = (
        UniqueConstraint("note_id", "number", name="uq_note_revisions_note_id_number"),
        CheckConstraint("number >= 1", name="number"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    note_id: Mapped[str] = mapped_column(ForeignKey("notes.id"))
    number: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict[str, Any]] = mapped_column()
    author_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # why the revision was written when it was not typed (a correction of who spoke); no names
    reason: Mapped[str | None] = mapped_column(String(500))


class AuditEvent(Base):
    """Who did what to which object. Ids, counts and formats only: never text, never names.

    ``object_id`` is deliberately not a foreign key: the rows outlive an erased recording.
    The rows form a hash chain (``assistant.storage.audit_chain``): ``seq`` numbers them 1, 2,
    3 ... in the order they were appended, ``prev_hash`` is the ``hash`` of record ``seq - 1``
    and ``hash`` the sha256 of this record's fields and ``prev_hash``.
    """

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_object", "object_type", "object_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditChainHead(Base):
    """The audit chain's last link, one row (``id`` 1). Every append locks it first, so appends
    are serialised; and a verifier compares it with the last record, so removing records from
    the end of the chain is noticed too."""

    __tablename__ = "audit_chain_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


class AppendOnlyViolation(RuntimeError):
    """An ORM update of a history row, or an ORM delete of an audit row: a programming error."""


def _refuse_update(mapper: Mapper[Any], connection: Any, target: Any) -> None:
    raise AppendOnlyViolation(f"{type(target).__name__} rows are append-only (id {target.id})")


# History is append-only. Erasure removes revisions with a bulk DELETE (which bypasses these
# mapper hooks on purpose); audit rows are never deleted or changed through the ORM.
event.listen(NoteRevision, "before_update", _refuse_update)
event.listen(AuditEvent, "before_update", _refuse_update)
event.listen(AuditEvent, "before_delete", _refuse_update)
