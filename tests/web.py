"""Helpers for the web app's tests: users with a password, signing in through the real form,
the CSRF token a page carries, a seeded note."""

from __future__ import annotations

import re

import httpx

from assistant.auth import hash_password, hash_token, new_token
from assistant.storage import repo
from assistant.storage.db import session_scope

PASSWORD = "correct horse battery staple"

SECTIONS = {
    "sections": [
        {
            "key": "purpose",
            "title": "Purpose of the visit",
            "statements": [
                {
                    "text": "Visit to see [PERSON_1] at home.",
                    "kind": "observed",
                    "speaker": None,
                    "evidence": ["s0001"],
                    "flags": [],
                }
            ],
        }
    ]
}

#: A draft with a statement that raises a safeguarding category (suicidal ideation) beside one
#: that raises none.
FLAGGED = {
    "sections": [
        SECTIONS["sections"][0],
        {
            "key": "worries",
            "title": "Worries",
            "statements": [
                {
                    "text": "[PERSON_1] said she had thoughts of suicide last month.",
                    "kind": "reported",
                    "speaker": "[PERSON_1]",
                    "evidence": ["s0001"],
                    "flags": [],
                }
            ],
        },
    ]
}


def db(settings):
    """The app's database as the app opens it: migrated, with its keyring (key file)."""
    from assistant.bootstrap import open_database

    engine, _, sessions = open_database(settings)
    return engine, sessions


def add_web_user(settings, name: str, role: str, password: str = PASSWORD) -> tuple[str, str]:
    """A user with an API token and a password already set; returns (user_id, token)."""
    engine, sessions = db(settings)
    token = new_token()
    with session_scope(sessions) as s:
        user = repo.create_user(session=s, name=name, role=role, token_hash=hash_token(token))
        user.password_hash = hash_password(password)
        uid = user.id
    engine.dispose()
    return uid, token


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has a form with a CSRF token"
    return match.group(1)


def sign_in(client: httpx.Client, name: str, password: str = PASSWORD) -> httpx.Response:
    """Sign in through the form, as a browser does: the page first (its CSRF cookie and
    token), then the post. Returns the post's answer (a 303 on success)."""
    page = client.get("/sign-in")
    return client.post(
        "/sign-in",
        data={"name": name, "password": password, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )


def seed_note(settings, owner_id: str, *, audio_path=None, draft=None) -> dict[str, str]:
    """A recording (tests.conftest.seed_recording: 'Hello Amara.'), its name map and a draft
    note citing its one segment (``draft``: another body, e.g. ``FLAGGED``); ``audio_path`` (a
    copy is encrypted in place) its audio."""
    from assistant.domain import PseudonymMap
    from tests.conftest import seed_recording

    engine, sessions = db(settings)
    with session_scope(sessions) as s:
        rec = seed_recording(s, owner_id)
        if audio_path is not None:
            rec.audio_path = str(audio_path)
            repo.seal_plain_audio(session=s)
        repo.save_mapping(
            session=s,
            recording_id=rec.id,
            mapping=PseudonymMap(entries={"[PERSON_1]": "Amara"}),
        )
        note = repo.create_note(
            session=s,
            recording_id=rec.id,
            template="visit_note",
            template_version="v1",
            ai_draft=draft or SECTIONS,
            provenance={"model": {"name": "m", "sha256": "0"}},
        )
        job = repo.create_job(session=s, recording_id=rec.id)
        repo.update_job(session=s, job_id=job.id, status="done", note_id=note.id, progress=1.0)
        ids = {"rec": rec.id, "note": note.id, "job": job.id}
    engine.dispose()
    return ids
