"""/v1/users, /v1/audit (the trail, its hash-chain check and export) and the retry of a failed
job: for admins and auditors. No case content here."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request, Response

from assistant.api import schemas
from assistant.api.deps import CurrentUser, SessionDep, SettingsDep, audit, authorize
from assistant.auth import hash_token, new_token
from assistant.errors import BadInput, NotFound
from assistant.storage import repo
from assistant.storage.audit_chain import ChainHead

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
        session=session, name=body.name, role=body.role.value, token_hash=hash_token(token)
    )
    audit(session, request, user, "user.add", "user", created.id, role=body.role.value)
    return schemas.UserCreated(user_id=created.id, name=created.name, role=body.role, token=token)


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


@router.get(
    "/audit", response_model=list[schemas.AuditEventView], summary="Audit trail (auditor, admin)"
)
def list_audit(
    user: CurrentUser,
    session: SessionDep,
    object_id: str | None = None,
    action: str | None = None,
    limit: int = Query(200, ge=1, le=5000),
) -> list[schemas.AuditEventView]:
    authorize("audit.view", user, owner_id=None)
    rows = repo.list_audit(session=session, object_id=object_id, action=action, limit=limit)
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
    user: CurrentUser,
    session: SessionDep,
    anchor: list[str] = Query(
        default=[], description="SEQ:HASH, the head of an earlier export (repeatable)"
    ),
) -> schemas.AuditChainReport:
    """200 whether or not the chain is intact: ``intact`` says, ``problem`` names the first
    broken link (a record id and seq, never a record's details)."""
    authorize("audit.view", user, owner_id=None)
    try:
        anchors = [ChainHead.parse(a) for a in anchor]
    except ValueError as exc:
        raise BadInput(str(exc), code="invalid_anchor", http_status=422) from None
    report = repo.verify_audit(session=session, anchors=anchors)
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


@router.get("/audit/export", summary="Export the audit trail and its chain head (auditor, admin)")
def export_audit(
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    format: Literal["csv", "json"] = "json",
) -> Response:
    """Every record, oldest first, with the chain head (JSON: ``head``; CSV: the last row, and
    the ``X-Audit-Chain-Head`` header as ``SEQ:HASH``). The export is itself audited."""
    authorize("audit.view", user, owner_id=None)
    export = repo.export_audit(session=session, format=format)
    audit(
        session, request, user, "audit.export", "audit", None, format=format, records=export.records
    )
    return Response(
        export.content,
        media_type=export.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="audit-{export.head.seq}.{format}"',
            "X-Audit-Chain-Head": str(export.head),
        },
    )
