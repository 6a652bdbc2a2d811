"""/v1/users and /v1/audit (the trail, its hash-chain check and export): for admins and
auditors. No case content here."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request, Response

from assistant.api import schemas
from assistant.api.deps import CurrentUser, SessionDep, audit, authorize
from assistant.auth import hash_token, new_token
from assistant.errors import BadInput
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
