"""/v1/users and /v1/audit: for admins and auditors. No case content here."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request

from assistant.api import schemas
from assistant.api.deps import CurrentUser, SessionDep, audit, authorize
from assistant.auth import hash_token, new_token
from assistant.storage import repo

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
        )
        for r in rows
    ]
