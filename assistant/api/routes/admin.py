"""/v1/users, /v1/audit (the trail, its hash-chain check and export) and the retry of a failed
job: for admins and auditors. No case content here."""

from __future__ import annotations

import logging
from typing import Any, Literal

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.orm import Session

from assistant.api import schemas
from assistant.api.deps import CurrentUser, SessionDep, SettingsDep, audit, authorize
from assistant.auth import hash_token, new_token
from assistant.domain import Role
from assistant.errors import BadInput, NotFound
from assistant.storage import User, repo
from assistant.storage.audit_chain import ChainHead, ChainReport

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1", tags=["administration"], responses=schemas.V1_ERRORS)


@router.post(
    "/users", status_code=201, response_model=schemas.UserCreated, summary="Add a user (admin)"
)
def add_user(
    body: schemas.UserCreate, request: Request, user: CurrentUser, session: SessionDep
) -> schemas.UserCreated:
    authorize("user.add", user, owner_id=None)
    token = new_token()
    created = repo.create_user(
        session=session,
        name=body.name,
        role=body.role.value,
        token_hash=hash_token(token),
        team=body.team,
    )
    audit(
        session, request, user, "user.add", "user", created.id,
        role=body.role.value, in_team=created.team is not None,
    )  # fmt: skip
    return schemas.UserCreated(
        user_id=created.id, name=created.name, role=body.role, team=created.team, token=token
    )


@router.get("/users", response_model=list[schemas.UserView], summary="List users (admin)")
def list_users(user: CurrentUser, session: SessionDep) -> list[schemas.UserView]:
    """Every user, oldest first, with their role and team (what ``caseassist users list``
    prints)."""
    authorize("user.list", user, owner_id=None)
    return [user_view(u) for u in repo.list_users(session=session)]


@router.put(
    "/users/{user_id}/team",
    response_model=schemas.UserView,
    summary="Put a user in a team, or in none (admin)",
)
def set_user_team(
    user_id: str,
    body: schemas.UserTeam,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
) -> schemas.UserView:
    """What managers read follows at once: a manager reads their own team's visits (and all
    visits with no team). Audited as ``user.team_set`` (whether there is a team before and
    after; the label is on the user, not in the trail, whose values carry no spaces)."""
    authorize("user.team", user, owner_id=None)
    try:
        target = repo.get_user(session=session, user_id=user_id)
    except NotFound:
        raise NotFound("No such user.") from None
    before = target.team
    repo.set_team(session=session, user_id=target.id, team=body.team)
    audit(
        session, request, user, "user.team_set", "user", target.id,
        had_team=before is not None, in_team=target.team is not None,
        changed=before != target.team,
    )  # fmt: skip
    return user_view(target)


def user_view(u: User) -> schemas.UserView:
    return schemas.UserView(
        user_id=u.id,
        name=u.name,
        role=Role(u.role),
        team=u.team,
        active=u.active,
        single_sign_on=u.oidc_subject is not None,
    )


@router.post(
    "/admin/jobs/{job_id}/retry",
    response_model=schemas.JobView,
    summary="Queue a failed job again from its last saved stage (admin)",
    responses=schemas.error_responses(409),
)
def retry_job(
    job_id: str,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
) -> schemas.JobView:
    """A failed job (the queue's dead letter: it kept failing, or its workers kept dying) goes
    back to ``queued`` with its attempts reset; stages it saved are not run again. 409
    ``job_not_failed`` for a job that has not failed; 404 for an erased recording's job."""
    from assistant.api.routes.recordings import job_view
    from assistant.jobs.queue import retry_failed_job

    authorize("job.retry", user, owner_id=None)
    try:
        job = repo.get_job(session=session, job_id=job_id)
        rec = repo.get_recording(session=session, recording_id=job.recording_id)
        if rec.erased_at is not None:
            raise NotFound("gone")
    except NotFound:
        raise NotFound("No such job.") from None
    stage = retry_failed_job(session, settings, job_id)
    audit(session, request, user, "job.retry", "job", job_id, stage=stage)
    return job_view(session, settings, job, rec)


#: What an id or an action name given as a filter may look like (ids are hex, actions dotted
#: names): anything else matches no record, and a filter is written into the viewing's own
#: audit record, which holds ids and names only.
FILTER_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"


@router.get(
    "/audit", response_model=list[schemas.AuditEventView], summary="Audit trail (auditor, admin)"
)
def list_audit(
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    object_id: str | None = Query(None, pattern=FILTER_PATTERN, description="a record's object"),
    action: str | None = Query(None, pattern=FILTER_PATTERN, description="e.g. note.view"),
    limit: int = Query(200, ge=1, le=5000),
) -> list[schemas.AuditEventView]:
    """Oldest first. The reading is itself audited (``audit.view``: the filters and how many
    records came back, never their contents), after the records are read, so it is in the
    next reading."""
    authorize("audit.view", user, owner_id=None)
    rows = repo.list_audit(session=session, object_id=object_id, action=action, limit=limit)
    filters = {k: v for k, v in (("object", object_id), ("action", action)) if v}
    audit_reading(
        session, request, user, "audit.view",
        filters=filters, limit=limit, records=len(rows), via="api",
    )  # fmt: skip
    return [
        schemas.AuditEventView(
            at=r.at,
            actor_id=r.actor_id,
            action=r.action,
            object_type=r.object_type,
            object_id=r.object_id,
            request_id=r.request_id,
            details=r.details or {},
            id=r.id,
            seq=r.seq,
            hash=r.hash,
        )
        for r in rows
    ]


@router.get(
    "/audit/verify",
    response_model=schemas.AuditChainReport,
    summary="Check the audit hash chain (auditor, admin)",
)
def verify_audit(
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    anchor: list[str] = Query(
        default=[], description="SEQ:HASH, the head of an earlier export (repeatable)"
    ),
) -> schemas.AuditChainReport:
    """200 whether or not the chain is intact: ``intact`` says, ``problem`` names the first
    broken link (a record id and seq, never a record's details). The check is itself audited
    (``audit.verify``: the outcome and counts), appended after the check."""
    authorize("audit.view", user, owner_id=None)
    try:
        anchors = [ChainHead.parse(a) for a in anchor]
    except ValueError as exc:
        raise BadInput(str(exc), code="invalid_anchor", http_status=422) from None
    report = repo.verify_audit(session=session, anchors=anchors)
    audit_verified(session, request, user, report, anchors=len(anchors), via="api")
    p = report.problem
    return schemas.AuditChainReport(
        intact=report.intact,
        records=report.records,
        head=schemas.AuditChainHeadView(seq=report.head.seq, hash=report.head.hash),
        problem=None
        if p is None
        else schemas.AuditChainBreakView(
            kind=p.kind, record_id=p.record_id, seq=p.seq, message=p.message
        ),
    )


def audit_reading(
    session: Session, request: Request, user: User, action: str, **details: Any
) -> None:
    """Audit a reading of the audit trail (``audit.view``, ``audit.verify``, ``audit.export``),
    chained like every record. If the chain's head row is gone (a tampered trail) nothing can
    be appended: the reading still goes ahead, as it is how the damage is seen, and the
    failure is logged."""
    try:
        audit(session, request, user, action, "audit", None, **details)
    except RuntimeError:
        log.warning("audit chain head missing: %s by %s not recorded", action, user.id)


def audit_verified(
    session: Session, request: Request, user: User, report: ChainReport, **details: Any
) -> None:
    """The ``audit.verify`` record of a chain check: intact or not, how many records, and the
    first broken link's kind and seq (never a record's details)."""
    problem = report.problem
    audit_reading(
        session, request, user, "audit.verify",
        intact=report.intact, records=report.records,
        problem=None if problem is None else {"kind": problem.kind, "seq": problem.seq},
        **details,
    )  # fmt: skip


@router.get("/audit/export", summary="Export the audit trail and its chain head (auditor, admin)")
def export_audit(
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    format: Literal["csv", "json"] = "json",
) -> Response:
    """Every record, oldest first, with the chain head (JSON: ``head``; CSV: the last row, and
    the ``X-Audit-Chain-Head`` header as ``SEQ:HASH``). The export is itself audited
    (``audit.export``: the format and how many records), after the export, so the next one
    holds it."""
    authorize("audit.view", user, owner_id=None)
    export = repo.export_audit(session=session, format=format)
    audit_reading(session, request, user, "audit.export", format=format, records=export.records)
    return Response(
        export.content,
        media_type=export.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="audit-{export.head.seq}.{format}"',
            "X-Audit-Chain-Head": str(export.head),
        },
    )
