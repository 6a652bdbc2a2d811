"""What a new practitioner tripped over walking the web app (sign in, New visit, progress,
speakers, review, edit, approve, export), each over real HTTP (FastAPI's TestClient on the real
app, a SQLite file per test): the page as it was, then as it should read."""

from __future__ import annotations

import html
import re

import pytest

from assistant.diarisation import with_roles
from assistant.storage import repo, session_scope
from tests import test_web
from tests.conftest import seed_recording
from tests.test_web import audit_actions
from tests.web import FLAGGED, add_web_user, csrf_of, db, seed_note, seed_speakers, sign_in

pytestmark = pytest.mark.models  # the app loads the test profile's models at start-up

web = test_web.web  # the fixture: a factory of TestClients on one running app


def signed_in(client, settings, name: str = "Priya Shah"):
    uid, _ = add_web_user(settings, name, "practitioner")
    c = client()
    assert sign_in(c, name).status_code == 303
    return uid, c


def title_of(page: str) -> str:
    return html.unescape(re.search(r"<title>(.*?)</title>", page, re.S).group(1))


def test_a_page_with_several_problems_is_titled_error_too(web):
    """New visit and approval name every problem at once (``errors``); the title said
    "Error:" only for pages with one problem, so a screen reader heard no error on these."""
    settings, client = web()
    owner, c = signed_in(client, settings)
    # no recording chosen, no consent: as Chromium sends the form
    body = (
        f'--b\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
        f"{csrf_of(c.get('/visits/new').text)}\r\n"
        '--b\r\nContent-Disposition: form-data; name="audio"; filename=""\r\n'
        "Content-Type: application/octet-stream\r\n\r\n\r\n--b--\r\n"
    )
    r = c.post(
        "/visits/new",
        content=body.encode(),
        headers={"content-type": "multipart/form-data; boundary=b"},
    )
    assert r.status_code == 400 and "Confirm that the family were told" in r.text
    assert title_of(r.text).startswith("Error: New visit")
    ids = seed_note(settings, owner)
    page = c.get(f"/notes/{ids['note']}").text
    assert not title_of(page).startswith("Error:")
    r = c.post(f"/notes/{ids['note']}/approve", data={"csrf_token": csrf_of(page)})
    assert r.status_code == 400 and title_of(r.text).startswith("Error: Review the note")


def test_an_empty_sign_in_says_what_to_enter_and_counts_no_failure(web):
    """Sign in with nothing typed said "Enter a correct user name and password" and counted a
    failed attempt (five lock the name); each empty box now says what to enter."""
    settings, client = web(sign_in_attempts=2)
    add_web_user(settings, "Ada", "practitioner")
    c = client()
    for name, password in (("", ""), ("Ada", ""), ("", "x")):
        page = c.get("/sign-in").text
        r = c.post(
            "/sign-in", data={"name": name, "password": password, "csrf_token": csrf_of(page)}
        )
        assert r.status_code == 400 and title_of(r.text).startswith("Error: Sign in")
        words = html.unescape(r.text)
        assert ("Enter your name." in words) == (not name)
        assert ("Enter your password." in words) == (not password)
        assert "Enter a correct user name and password" not in words
        if not password:
            assert 'id="password-error"' in r.text and 'aria-describedby="password-error"' in r.text
    assert audit_actions(settings, "auth.failed") == []
    assert sign_in(c, "Ada").status_code == 303  # not locked out


def test_progress_says_minute_for_one_minute_left(web):
    """The page said "about 1 minutes left in all": now words that agree."""
    from assistant.web.routes.visits import eta_words

    assert eta_words(None) == "" and eta_words(0) == ""
    assert eta_words(12) == "about 1 minute left in all"
    assert eta_words(61) == "about 2 minutes left in all"
    settings, client = web()
    owner, c = signed_in(client, settings)
    engine, sessions = db(settings)
    with session_scope(sessions) as s:
        rec = seed_recording(s, owner)  # three seconds: well under a minute left
        job = repo.create_job(session=s, recording_id=rec.id)
        repo.update_job(session=s, job_id=job.id, status="transcribing", progress=0.5)
        rec_id = rec.id
    engine.dispose()
    page = c.get(f"/visits/{rec_id}").text
    said = " ".join(re.sub(r"<[^>]+>", "", re.search(r'id="progress-text">.*?</p>', page, re.S)
                           .group(0)).split())  # fmt: skip
    assert said.endswith("% of this stage done, about 1 minute left in all."), said
    polled = c.get(f"/visits/{rec_id}/progress").json()
    assert polled["eta"] == "about 1 minute left in all"


def test_refused_approval_keeps_the_declaration_and_says_statements_in_words(web):
    """Declaration ticked, a safeguarding statement unconfirmed: the page said "1 of 1
    statement(s) ..." (the API's words) and came back with the declaration unticked."""
    settings, client = web()
    owner, c = signed_in(client, settings)
    ids = seed_note(settings, owner, draft=FLAGGED)
    page = c.get(f"/notes/{ids['note']}").text
    r = c.post(
        f"/notes/{ids['note']}/approve",
        data={"csrf_token": csrf_of(page), "declaration": "yes"},
    )
    assert r.status_code == 409
    words = html.unescape(r.text)
    assert "statement(s)" not in words
    assert "1 statement raising a safeguarding concern is not confirmed yet" in words
    box = re.search(r'<input [^>]*id="declaration"[^>]*>', r.text).group(0)
    assert "checked" in box
    # drawn afresh, the box is not ticked for them
    fresh = c.get(f"/notes/{ids['note']}").text
    assert "checked" not in re.search(r'<input [^>]*id="declaration"[^>]*>', fresh).group(0)


NOTE_STYLE = {
    "header": [
        {"key": "present", "title": "Who spoke at the visit",
         "value": "The social worker", "evidence": ["s0001"]},
    ],
    "sections": [
        {"key": "actions", "title": "Agreed actions", "statements": [
            {"text": "I'll ring the school by Friday.", "kind": "agreed_action",
             "speaker": "Social worker", "evidence": ["s0001"], "flags": [],
             "action": {"who": "The social worker",
                        "what": "I'll ring the school by Friday.", "by": "by Friday"}}]},
    ],
}  # fmt: skip


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("The social worker will ring the school on Monday.", "agreed_action"),
        ("I'll ring the school by Friday.", "reported"),
    ],
)
def test_an_edited_agreed_action_shows_the_practitioners_words(web, text, kind):
    """An agreed action is shown as its row (who: what — by when), cut from the AI's words:
    after the practitioner changed the words (or the kind) the review, the exports and the
    approved record still showed the AI's row, not what they saved."""
    settings, client = web()
    owner, c = signed_in(client, settings)
    ids = seed_note(settings, owner, draft=NOTE_STYLE)
    edit = c.get(f"/notes/{ids['note']}/edit").text
    r = c.post(
        f"/notes/{ids['note']}/edit/actions/0",
        data={"csrf_token": csrf_of(edit), "revision": "1", "action": "save",
              "text": text, "kind": kind},
    )  # fmt: skip
    assert r.status_code == 303, r.text
    review = html.unescape(c.get(f"/notes/{ids['note']}").text)
    assert text in review
    assert "— when: by Friday" not in review
    export = c.get(f"/notes/{ids['note']}/export?format=txt").text
    assert text in export and "when: by Friday" not in export


def test_an_unchanged_agreed_action_keeps_its_row(web):
    """Moving the statement or saving it unchanged leaves the row (who, what, by when)."""
    settings, client = web()
    owner, c = signed_in(client, settings)
    ids = seed_note(settings, owner, draft=NOTE_STYLE)
    edit = c.get(f"/notes/{ids['note']}/edit").text
    r = c.post(
        f"/notes/{ids['note']}/edit/actions/0",
        data={"csrf_token": csrf_of(edit), "revision": "1", "action": "save",
              "text": "I'll ring the school by Friday.", "kind": "agreed_action",
              "move_to": "next_visit"},
    )  # fmt: skip
    assert r.status_code == 303, r.text
    review = html.unescape(c.get(f"/notes/{ids['note']}").text)
    assert "The social worker: I'll ring the school by Friday. — when: by Friday" in review


def test_edit_page_says_where_the_evidence_is_not_its_segment_ids(web):
    """The edit page's hint read "Evidence: s0001, s0002": ids the review page never shows.
    It now gives the times the review page's transcript shows."""
    settings, client = web()
    owner, c = signed_in(client, settings)
    ids = seed_speakers(settings, owner)  # segment i starts at 2i seconds
    page = html.unescape(c.get(f"/notes/{ids['note']}/edit").text)
    hints = re.findall(r'class="govuk-hint" id="text-edit-[^"]+-hint">([^<]*)<', page)
    assert hints and not any(re.search(r"\bs\d{4}\b", h) for h in hints)
    assert "Evidence: the transcript at 0:12; speaker Child" in hints  # s0006: 12 s


def _one_voice(settings, owner):
    """A diarised visit in which every line was heard as one voice (S1), no voice enrolled."""
    ids = seed_speakers(settings, owner)
    engine, sessions = db(settings)
    with session_scope(sessions) as s:
        raw = repo.find_transcript(session=s, recording_id=ids["rec"], kind="raw")
        merged = raw.model_copy(
            update={
                "segments": tuple(g.model_copy(update={"speaker": "S1"}) for g in raw.segments),
                "speakers": (),  # as speaker separation leaves it: roles not yet suggested
                "diarisation": raw.diarisation.model_copy(update={"speakers": 1}),
            }
        )
        repo.save_transcript(
            session=s, recording_id=ids["rec"], kind="raw", body=with_roles(merged)
        )
    engine.dispose()
    return ids


def test_one_voice_without_a_role_says_so_not_zero_percent_sure(web):
    """One voice found, no role suggested: the page said "Suggested (0% sure)" beside "Not
    sure", and nothing said that the others' words were in that one speaker's."""
    settings, client = web()
    owner, c = signed_in(client, settings)
    ids = _one_voice(settings, owner)
    page = html.unescape(c.get(f"/visits/{ids['rec']}/speakers").text)
    assert "0% sure" not in page and "No role suggested" in page
    assert re.search(r'id="role-S1".*?<option value="unknown" selected', page, re.S)
    assert 'id="one-voice"' in page and "Only one voice was found" in page
    # several speakers told apart: neither
    ids = seed_speakers(settings, owner)
    page = html.unescape(c.get(f"/visits/{ids['rec']}/speakers").text)
    assert 'id="one-voice"' not in page and "No role suggested" not in page
    assert "% sure)" in page


def test_changes_page_says_what_changed_when_the_words_did_not(web):
    """After the Speakers page re-attributed a statement, "Changes from the AI draft" said
    "Edited" beside the same words twice, with nothing to say what was edited."""
    from tests.test_web_pages import speakers_form

    settings, client = web()
    owner, c = signed_in(client, settings)
    ids = seed_speakers(settings, owner)
    page = c.get(f"/visits/{ids['rec']}/speakers").text
    r = c.post(f"/visits/{ids['rec']}/speakers", data=speakers_form(page, S2="carer"))
    assert r.status_code == 303, r.text
    changes = html.unescape(c.get(f"/notes/{ids['note']}/changes").text)
    row = re.search(r"<tr[^>]*>(?:(?!</tr>).)*He goes to bed at eight now\..*?</tr>", changes, re.S)
    cells = [" ".join(re.sub(r"<[^>]+>", " ", td).split()) for td in re.findall(
        r"<td[^>]*>(.*?)</td>", row.group(0), re.S)]  # fmt: skip
    assert cells[1] == "Edited"
    assert cells[2] == "Same words Speaker: Carer (was Parent)"
    # a statement whose words changed shows them, as before
    assert "I like football and Minecraft." in changes
