"""The audit log, for auditors and admins: the trail newest first, filtered by action, user or
recording, with the hash chain's check (on request: it reads every record) and the CSV/JSON
export. It shows what the audit rows
hold (ids, counts and formats), nothing more: no names, no case content. Everyone else is
refused (403), as ``GET /v1/audit`` refuses them (a refusal is not audited, like every other
403: only failed sign-ins are).

Reading the log is itself on the record: each page shown adds ``audit.view`` (the filters as
ids and action names, and the page number), a chain check ``audit.verify``, an export
``audit.export``, all naming the viewer and chained like any record. Each is appended after
the reading, so it shows in the next one."""

from __future__ import annotations

import math
import re
from typing import Any, cast
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import Response

from assistant.api.deps import SessionDep, authorize
from assistant.api.routes import admin
from assistant.errors import BadInput, NotFound
from assistant.storage import repo
from assistant.web.render import render
from assistant.web.security import PageUser

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
#: What an id typed into a filter may look like (ids are hex; a typo gets an error, not a query).
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


@router.get("/audit")
def audit_log(request: Request, user: PageUser, session: SessionDep, page: str = "1") -> Response:
    authorize("audit.view", user, owner_id=None)
    params = request.query_params
    values = {k: params.get(k, "").strip() for k in ("action", "user", "object")}
    # (the chain check's own parameter, ``check``, is not a filter and is not carried along)
    actions = repo.audit_actions(session=session)
    problem, field = None, ""
    if values["action"] and values["action"] not in actions:
        values["action"], problem, field = "", "Choose an action from the list.", "action"
    for key, words in (("user", "user id"), ("object", "recording, note or user id")):
        if values[key] and not _ID.fullmatch(values[key]):
            values[key] = ""
            problem, field = f"Enter a {words} as it appears in the log (letters and digits).", key
    object_ids = None
    if values["object"]:
        # a recording's notes are audited under their own ids: include them (an erased
        # recording's notes are gone; its own records stay)
        try:
            notes = repo.notes_for_recording(session=session, recording_id=values["object"])
        except NotFound:
            notes = []
        object_ids = [values["object"], *(n.id for n in notes)]
    page_no = max(int(page), 1) if page.isdigit() else 1
    rows, total = repo.page_audit(
        session=session,
        action=values["action"] or None,
        actor_id=values["user"] or None,
        object_ids=object_ids,
        offset=(page_no - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
    )
    query = urlencode({k: v for k, v in values.items() if v})
    # the check reads the whole chain (about 0.1 ms a record): on request only
    chain = repo.verify_audit(session=session) if params.get("check") else None
    head = repo.audit_head(session=session)
    # only the filters that were used, and those only once checked above (ids, action names)
    filters = {k: v for k, v in values.items() if v}
    admin.audit_reading(
        session, request, user, "audit.view",
        filters=filters, page=page_no, records=len(rows), via="web",
    )  # fmt: skip
    if chain is not None:
        admin.audit_verified(session, request, user, chain, via="web")
    return render(
        request,
        "audit.html",
        {
            "rows": [_row(r) for r in rows],
            "total": total,
            "page": page_no,
            "total_pages": max(1, math.ceil(total / PAGE_SIZE)),
            "values": values,
            "filtered": any(values.values()),
            "actions": actions,
            "query": ("&" + query) if query else "",
            "chain": chain,
            "head": head,
            "error": problem,
            "field": field,
        },
        status_code=400 if problem else 200,
    )


def _row(r: Any) -> dict[str, Any]:
    details = r.details or {}
    return {
        "seq": r.seq,
        "at": r.at,
        "actor_id": r.actor_id,
        "action": r.action,
        "object_type": r.object_type,
        "object_id": r.object_id,
        "details": [(k, _value(v)) for k, v in sorted(details.items())],
    }


def _value(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(_value(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k} {_value(v)}" for k, v in sorted(value.items()))
    return "yes" if value is True else "no" if value is False else str(value)


@router.get("/audit/export")
def audit_export(
    request: Request, user: PageUser, session: SessionDep, format: str = "csv"
) -> Response:
    """The API's export as a download (audited as ``audit.export``)."""
    if format not in ("csv", "json"):
        raise BadInput("format must be csv or json.")
    return admin.export_audit(request, user, session, format=cast(Any, format))
