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


def seed_note(
    settings, owner_id: str, *, audio_path=None, draft=None, review=None
) -> dict[str, str]:
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
            provenance={
                "model": {"name": "m", "sha256": "0"},
                **({"review": review} if review is not None else {}),
            },
        )
        job = repo.create_job(session=s, recording_id=rec.id)
        repo.update_job(session=s, job_id=job.id, status="done", note_id=note.id, progress=1.0)
        ids = {"rec": rec.id, "note": note.id, "job": job.id}
    engine.dispose()
    return ids


#: A diarised home visit (speaker separation's labels): the social worker, a parent, a child.
VISIT_LINES = [
    ("S1", "Hello, I'm Sam, the social worker from children's services. Is it okay to record?"),
    ("S2", "Yes, come in. My son is just upstairs, he's been a bit quiet today."),
    ("S1", "How's he been sleeping since my last visit?"),
    ("S2", "Better. He goes to bed at eight now and she helps him with his reading."),
    ("S1", "Hi [PERSON_1]. How's school? What do you like doing with your friends?"),
    ("S3", "Good. I like football and Minecraft."),
    ("S1", "Do you feel safe at home?"),
    ("S3", "Yes. My mum reads me a story. I had thoughts of suicide last month."),
    ("S1", "I'll come back in four weeks and I'll speak to the school."),
]


def write_tone(path, seconds: float = 20.0) -> None:
    """A quiet 16 kHz mono WAV tone: audio for the player to seek in (its words do not matter)."""
    import math
    import struct
    import wave

    rate = 16_000
    frames = b"".join(
        struct.pack("<h", int(2000 * math.sin(2 * math.pi * 220 * n / rate)))
        for n in range(int(rate * seconds))
    )
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)


def seed_speakers(
    settings, owner_id: str, *, audio_path=None, one_voice_enrolled: bool = False
) -> dict[str, str]:
    """A recording whose transcripts (raw and redacted) are ``VISIT_LINES``, diarised with roles
    suggested (S1 social worker, S2 parent, S3 child; segment i from 2i s to 2i + 1.5 s), its
    name map, and a draft note citing them: the child's words, a safeguarding statement and the
    parent's view. ``audio_path``: its audio (encrypted in place). ``one_voice_enrolled``: every
    line heard as one voice (``S1``) that the owner's enrolled voice matched."""
    from assistant.diarisation import with_roles
    from assistant.domain import (
        Diarisation,
        ModelRef,
        PseudonymMap,
        RedactedSegment,
        RedactedTranscript,
        Segment,
        Transcript,
        VoiceMatch,
    )
    from tests.conftest import seed_recording

    match = VoiceMatch(label="S1", similarity=0.98, threshold=0.85)
    raw = with_roles(
        Transcript(
            segments=tuple(
                Segment(id=f"s{i:04d}", start=2.0 * i, end=2.0 * i + 1.5, text=text.replace(
                    "[PERSON_1]", "Tom"), speaker="S1" if one_voice_enrolled else label)
                for i, (label, text) in enumerate(VISIT_LINES, start=1)
            ),
            language="en",
            duration_s=2.0 * len(VISIT_LINES) + 2,
            source="audio",
            diarisation=Diarisation(
                model=ModelRef(name="m", sha256="0"), speakers=1 if one_voice_enrolled else 3,
                min_speakers=1, max_speakers=8, windows=10,
                voice=match if one_voice_enrolled else None,
            ),
        ),
        social_worker="S1" if one_voice_enrolled else None,
    )  # fmt: skip
    red = RedactedTranscript(
        segments=tuple(
            RedactedSegment(id=g.id, start=g.start, end=g.end, speaker=g.speaker,
                            text=VISIT_LINES[i][1])
            for i, g in enumerate(raw.segments)
        ),
        language="en", duration_s=raw.duration_s, entities=(), config_hash="x",
    )  # fmt: skip
    sections = [
        {"key": "child_voice", "title": "Child's voice", "statements": [
            {"text": "I like football and Minecraft.", "kind": "direct_quote", "speaker": "Child",
             "evidence": ["s0006"], "flags": []},
            {"text": "[PERSON_1] said he had thoughts of suicide last month.", "kind": "reported",
             "speaker": "Child", "evidence": ["s0008"], "flags": []},
        ]},
        {"key": "parents_views", "title": "Parents' views", "statements": [
            {"text": "He goes to bed at eight now.", "kind": "reported", "speaker": "Parent",
             "evidence": ["s0004"], "flags": []},
        ]},
    ]  # fmt: skip
    engine, sessions = db(settings)
    with session_scope(sessions) as s:
        rec = seed_recording(s, owner_id)
        rec.duration_s = raw.duration_s
        repo.save_transcript(session=s, recording_id=rec.id, kind="raw", body=raw)
        repo.save_transcript(session=s, recording_id=rec.id, kind="redacted", body=red)
        if audio_path is not None:
            rec.audio_path = str(audio_path)
            repo.seal_plain_audio(session=s)
        repo.save_mapping(
            session=s, recording_id=rec.id, mapping=PseudonymMap(entries={"[PERSON_1]": "Tom"})
        )
        note = repo.create_note(
            session=s, recording_id=rec.id, template="visit_note", template_version="v1",
            ai_draft={"sections": sections}, provenance={"model": {"name": "m", "sha256": "0"}},
        )  # fmt: skip
        job = repo.create_job(session=s, recording_id=rec.id)
        repo.update_job(session=s, job_id=job.id, status="done", note_id=note.id, progress=1.0)
        ids = {"rec": rec.id, "note": note.id, "job": job.id}
    engine.dispose()
    return ids
