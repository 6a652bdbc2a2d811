"""My visits (the list), New visit (the upload form) and a visit's progress."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import JSONResponse, RedirectResponse, Response

from assistant.api.deps import SessionDep, SettingsDep, may, reach_of
from assistant.api.routes.recordings import (
    accept_upload,
    erase_recording,
    form_problems,
    job_view,
    load_recording,
)
from assistant.api.schemas import MAX_PAGE
from assistant.drafting.templates import available_templates, load_template
from assistant.errors import BadInput, CaseAssistError, NoAudioFile, NotFound
from assistant.settings import Settings
from assistant.storage import Recording, User, repo
from assistant.storage.models import Job
from assistant.web.render import render
from assistant.web.routes.speakers import has_speakers
from assistant.web.security import CSRF_FIELD, PageUser, check_csrf

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20

STAGE_LABELS = {
    "queued": "Waiting to start",
    "transcribing": "Transcribing the recording",
    "diarising": "Telling the speakers apart",
    "redacting": "Removing names and other identifiers",
    "drafting": "Drafting the note",
    "done": "Note ready to review",
    "failed": "Failed",
}
#: (label, GOV.UK tag colour) of a row's status on My visits.
ROW_STATUS = {
    "approved": ("Approved", "green"),
    "draft": ("Ready to review", "blue"),
    "failed": ("Failed", "red"),
    "queued": ("Waiting", "grey"),
}
LANGUAGES = [
    ("en", "English"),
    ("cy", "Welsh"),
    ("pl", "Polish"),
    ("ro", "Romanian"),
    ("ur", "Urdu"),
    ("pa", "Punjabi"),
    ("ar", "Arabic"),
    ("auto", "Detect the language"),
]


#: The status filter's choices on My visits: (value, label).
STATUS_CHOICES = [
    ("draft", "Ready to review"),
    ("approved", "Approved"),
    ("processing", "In progress"),
    ("failed", "Failed"),
]


DATE_PARTS = ("day", "month", "year")


def _filters(
    params: dict[str, str],
) -> tuple[repo.ListFilter, dict[str, str], dict[str, str], str | None, str]:
    """The list's filter from the query string, the values to show back in the form (the
    dates as YYYY-MM-DD, for the page links; each date's three boxes apart), and the first
    problem with them (and its field): a bad value is left out of the filter.

    A date comes as GOV.UK's three boxes (``from_day``, ``from_month``, ``from_year``) or,
    from a link or a bookmark, as one ``from=YYYY-MM-DD``."""
    values = {k: params.get(k, "").strip() for k in ("q", "status", "visit_type", "from", "to")}
    boxes: dict[str, str] = {}
    problem, field = None, ""
    dates: dict[str, date | None] = {}
    for key in ("from", "to"):
        parts = {p: params.get(f"{key}_{p}", "").strip()[:8] for p in DATE_PARTS}
        typed = any(parts.values())
        if not typed and values[key]:  # YYYY-MM-DD, shown back in the boxes
            year, _, rest = values[key].partition("-")
            month, _, day = rest.partition("-")
            parts = {"day": day[:8], "month": month[:8], "year": year[:8]}
        boxes.update({f"{key}_{p}": v for p, v in parts.items()})
        try:
            if typed:
                dates[key] = _boxes_date(parts)
            else:
                dates[key] = date.fromisoformat(values[key]) if values[key] else None
        except ValueError:
            dates[key], problem, field = None, f"Enter the visit date {key} as a real date.", key
        found = dates[key]
        if found and not typed:  # from a link: the boxes as a person types them
            boxes.update({f"{key}_day": str(found.day), f"{key}_month": str(found.month)})
            boxes[f"{key}_year"] = str(found.year)
        values[key] = found.isoformat() if found else ""
    if values["status"] and values["status"] not in dict(STATUS_CHOICES):
        values["status"], problem, field = "", "Choose a status from the list.", "status"
    if dates["from"] and dates["to"] and dates["from"] > dates["to"]:
        problem, field = "The visit date from must be on or before the visit date to.", "from"
    if field in ("from", "to"):
        field = f"{field}_day"  # the error summary links to the date's first box
    where = repo.ListFilter(
        status=values["status"] or None,
        visit_type=values["visit_type"][:64] or None,
        visit_from=dates["from"],
        visit_to=dates["to"],
        text=values["q"][:64] or None,
    )
    return where, values, boxes, problem, field


@router.get("/")
def my_visits(request: Request, user: PageUser, session: SessionDep, page: str = "1") -> Response:
    """The visits the user may see, newest first: their own; a manager's, their team's and
    their own (everyone's for a manager with no team: ``auth``'s scope rule); narrowed by
    status, visit type, visit date and a search of ids, template and visit type (never of
    content)."""
    # a page past any list (or a number too long for int()) is page 1, never an error
    page_no = min(max(int(page), 1), MAX_PAGE) if page.isdigit() and len(page) <= 9 else 1
    where, values, boxes, problem, field = _filters(dict(request.query_params))
    recs, total = repo.page_recordings(
        session=session, user=user, where=where, offset=(page_no - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    total_pages = max(1, math.ceil(total / PAGE_SIZE))
    jobs = repo.latest_jobs(session=session, recording_ids=[r.id for r in recs])
    rows = [_row(session, rec, jobs.get(rec.id), user) for rec in recs]
    query = urlencode({k: v for k, v in values.items() if v})
    return render(
        request,
        "visits.html",
        {
            "rows": rows,
            "page": page_no,
            "total_pages": total_pages,
            "total": total,
            # whose visits the list holds: "all" and "team" show whose each one is
            "reach": reach_of("recording.view", user).value,
            "team": user.team,
            "may_upload": may("recording.upload", user, owner_id=user.id),
            "values": values,
            "dates": boxes,
            "filtered": any(values.values()) or any(boxes.values()),
            "statuses": STATUS_CHOICES,
            "visit_types": repo.visit_types(session=session, user=user),
            "query": ("&" + query) if query else "",
            "error": problem,
            "field": field,
        },
        status_code=400 if problem else 200,
    )


def _row(session: Session, rec: Recording, job: Job | None, user: User) -> dict[str, Any]:
    note = repo.get_note(session=session, note_id=job.note_id) if job and job.note_id else None
    key = note.status if note else (job.status if job else "queued")
    label, colour = ROW_STATUS.get(key, (STAGE_LABELS.get(key, key), "yellow"))
    owner = repo.get_user(session=session, user_id=rec.owner_id)
    return {
        "rec": rec,
        "label": label,
        "colour": colour,
        "href": f"/notes/{note.id}" if note else f"/visits/{rec.id}",
        "owner": "You" if rec.owner_id == user.id else owner.name,
    }


def _form_context(settings: Settings, values: dict[str, str] | None = None) -> dict[str, Any]:
    names = available_templates(settings.prompts_dir)
    templates = [(n, load_template(n, root=settings.prompts_dir).title) for n in names]
    values = values or {}
    return {
        "templates": templates,
        "languages": LANGUAGES,
        "values": {
            "template": values.get("template") or settings.default_template,
            "language": values.get("language") or settings.language,
            **{
                k: values.get(k, "")
                for k in ("visit_type", "day", "month", "year", "consent", "vocabulary")
            },
        },
    }


@router.get("/visits/new")
def new_visit_page(request: Request, user: PageUser, settings: SettingsDep) -> Response:
    return render(request, "new_visit.html", _form_context(settings))


@router.post("/visits/new")
async def new_visit(
    request: Request, user: PageUser, session: SessionDep, settings: SettingsDep
) -> Response:
    """The form posts to the same intake as ``POST /v1/recordings`` (streamed, probed, checked
    for speech); the consent confirmation is recorded in the upload's audit event. Every
    problem with the form's fields is shown at once (with "no recording chosen", if none
    was), each in the error summary and beside its field."""
    seen: dict[str, str] = {}
    chosen = False  # a recording came with the form (the browser forgets it on the way back)

    def check(fields: dict[str, str]) -> dict[str, Any]:
        nonlocal chosen
        seen.update(fields)
        chosen = True
        check_csrf(request, fields.get(CSRF_FIELD))
        problems = _field_problems(fields, settings)
        if problems:
            raise FormProblems(problems)
        return {"consent": "confirmed", "via": "web"}

    try:
        rec, _job = await accept_upload(request, user, session, settings, check_fields=check)
    except CaseAssistError as exc:
        if exc.code == "csrf_rejected":
            raise
        if isinstance(exc, FormProblems):
            problems = exc.problems
        elif isinstance(exc, NoAudioFile):
            # no recording chosen: the other fields' problems too, so all are fixed at once
            seen.update(exc.fields)
            problems = [exc, *_field_problems(dict(exc.fields), settings)]
        else:
            problems = [exc]
        problems.sort(key=lambda p: FIELD_ORDER.index(_field(p)))
        context = {
            **_form_context(settings, seen),
            "errors": [(_field(p), _page_words(p)) for p in problems],
            # a file was chosen but another field was wrong: the file input is empty now
            "choose_again": chosen and all(_field(p) != "audio" for p in problems),
        }
        return render(request, "new_visit.html", context, status_code=problems[0].http_status)
    return RedirectResponse(f"/visits/{rec.id}", status_code=303)


NO_FILE = "Choose the recording of the visit: a WAV, FLAC, MP3, OGG, M4A or WebM file."
#: The form's fields, in the page's order (the error summary lists problems in this order).
FIELD_ORDER = ["audio", "day", "template", "language", "vocabulary", "consent"]


class FormProblems(BadInput):
    """Every problem with the New visit form's fields (not its recording), raised together."""

    def __init__(self, problems: list[CaseAssistError]):
        super().__init__(problems[0].message, code=problems[0].code)
        self.http_status = problems[0].http_status
        self.problems = problems


def _field_problems(fields: dict[str, str], settings: Settings) -> list[CaseAssistError]:
    """Each problem of the form's fields: the date's boxes, the API intake's own checks of
    the template, language, visit date and vocabulary, and the consent box."""
    problems: list[CaseAssistError] = []
    try:
        fields["visit_date"] = _visit_date(fields)
    except BadInput as exc:
        fields["visit_date"] = ""  # reported here, not again by the intake's check
        problems.append(exc)
    problems += form_problems(fields, settings)
    if fields.get("consent") != "yes":
        problems.append(
            BadInput(
                "Confirm that the family were told about the recording and agreed to it.",
                code="consent_missing",
            )
        )
    return problems


def _page_words(exc: CaseAssistError) -> str:
    """The API's words name the form field; the page's say what to do on the page."""
    return NO_FILE if exc.code == "no_audio_file" else exc.message


def _boxes_date(parts: Mapping[str, str]) -> date | None:
    """The GOV.UK date pattern's three boxes (``day``, ``month``, ``year``) as a date; None
    when all are empty, ValueError when they are not a real date."""
    values = [parts.get(k, "").strip() for k in ("year", "month", "day")]
    if not any(values):
        return None
    if not all(v.isdigit() for v in values):
        raise ValueError("not a date")
    return date(*(int(v) for v in values))


def _visit_date(fields: dict[str, str]) -> str:
    """The GOV.UK date pattern's three fields as YYYY-MM-DD ('' when all are empty)."""
    try:
        found = _boxes_date(fields)
        return found.isoformat() if found else ""
    except ValueError:
        raise BadInput(
            "Enter the visit date as a real date, for example 27 3 2026.", code="invalid_date"
        ) from None


def _field(exc: CaseAssistError) -> str:
    """Which form field an error belongs to (the error summary links to it)."""
    if exc.code in ("invalid_date", "invalid_visit_date"):
        return "day"
    if exc.code == "consent_missing":
        return "consent"
    if exc.code in ("unknown_template",):
        return "template"
    if "language" in exc.code:
        return "language"
    if exc.code == "invalid_vocabulary":
        return "vocabulary"
    return "audio"


def eta_words(eta_s: float | None) -> str:
    """The time left as the progress page says it ("about 1 minute left in all"); '' if none."""
    if not eta_s:
        return ""
    minutes = max(1, math.ceil(eta_s / 60))
    return f"about {minutes} minute{'s' if minutes != 1 else ''} left in all"


def _progress(
    session: Session, settings: Settings, recording_id: str, user: User
) -> dict[str, Any]:
    rec = load_recording(session, recording_id, user, "job.view")
    jobs = repo.list_jobs_for_recording(session=session, recording_id=rec.id)
    if not jobs:
        raise NotFound("No such recording.")
    view = job_view(session, settings, jobs[-1], rec)
    return {
        "rec": rec,
        "job": view,
        "label": STAGE_LABELS.get(view.status, view.status),
        "percent": int(round(100 * (view.stage_progress or 0.0))),
        "eta": eta_words(view.eta_s),
        "finished": view.status in ("done", "failed"),
        "may_erase": may("recording.erase", user, owner_id=rec.owner_id),
        "speakers": view.status == "done" and has_speakers(session, rec, user),
    }


@router.get("/visits/{recording_id}")
def visit_progress(
    recording_id: str,
    request: Request,
    user: PageUser,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    return render(request, "progress.html", _progress(session, settings, recording_id, user))


@router.get("/visits/{recording_id}/progress")
def visit_progress_json(
    recording_id: str, user: PageUser, session: SessionDep, settings: SettingsDep
) -> JSONResponse:
    """What the progress page's script polls (the page works without it: reload)."""
    p = _progress(session, settings, recording_id, user)
    return JSONResponse(
        {
            "status": p["job"].status,
            "label": p["label"],
            "percent": p["percent"],
            "eta_s": p["job"].eta_s,
            "eta": p["eta"],
            "finished": p["finished"],
        }
    )


@router.get("/visits/{recording_id}/delete")
def delete_page(
    recording_id: str, request: Request, user: PageUser, session: SessionDep
) -> Response:
    """Ask before erasing: what goes, what stays."""
    rec = load_recording(session, recording_id, user, "recording.erase")
    return render(request, "delete.html", {"rec": rec})


@router.post("/visits/{recording_id}/delete")
def delete(
    recording_id: str,
    request: Request,
    user: PageUser,
    session: SessionDep,
    csrf_token: str = Form(""),
    confirm: str = Form(""),
) -> Response:
    """Erase the recording as ``DELETE /v1/recordings/{id}`` does (audio, transcripts, notes,
    name map; the audit record stays), once the box is ticked."""
    check_csrf(request, csrf_token)
    rec = load_recording(session, recording_id, user, "recording.erase")
    if confirm != "yes":
        context = {
            "rec": rec,
            "error": "Tick the box to confirm that this visit should be deleted.",
            "field": "confirm",
        }
        return render(request, "delete.html", context, status_code=400)
    erase_recording(rec.id, request, user, session)  # commits, then unlinks the audio
    return RedirectResponse("/?deleted=1", status_code=303)
