"""The web app's Speakers page, "copy this section", the auditors' audit log and My visits'
search, over real HTTP (FastAPI's TestClient on the real app, a SQLite file per test): what
each page shows, who may open it, and bad input refused with nothing changed."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from sqlalchemy import select, update

from assistant.storage import repo, session_scope
from assistant.storage.models import AuditEvent, Note
from tests import test_web
from tests.test_web import audit_actions
from tests.web import (
    FLAGGED,
    SECTIONS,
    add_web_user,
    csrf_of,
    db,
    seed_note,
    seed_speakers,
    sign_in,
)

pytestmark = pytest.mark.models  # the app loads the test profile's models at start-up

web = test_web.web  # the fixture: a factory of TestClients on one running app


def signed_in(client, settings, name: str, role: str = "practitioner"):
    uid, _ = add_web_user(settings, name, role)
    c = client()
    assert sign_in(c, name).status_code == 303
    return uid, c


def stored(settings, ids) -> tuple:
    """Everything a speakers save may change: both transcripts and the note's revisions."""
    engine, sessions = db(settings)
    with session_scope(sessions) as s:
        raw = repo.find_transcript(session=s, recording_id=ids["rec"], kind="raw")
        red = repo.find_transcript(session=s, recording_id=ids["rec"], kind="redacted")
        revisions = [
            (r.number, r.body) for r in repo.list_revisions(session=s, note_id=ids["note"])
        ]
        state = (raw.model_dump_json(), red.model_dump_json(), revisions)
    engine.dispose()
    return state


def speakers_form(page_html: str, **roles: str) -> dict[str, str]:
    import re

    form = {
        "csrf_token": csrf_of(page_html),
        "version": re.search(r'name="version" value="([^"]+)"', page_html).group(1),
    }
    for label in re.findall(r'<select class="govuk-select" id="role-(S\d+)"', page_html):
        selected = re.search(
            rf'id="role-{label}".*?<option value="(\w+)" selected', page_html, re.S
        ).group(1)
        form[f"role-{label}"] = roles.get(label, selected)
    return form


# --- Speakers -------------------------------------------------------------------------------
def test_one_voice_merged_with_the_enrolled_one_is_shown_as_nobody_and_why(web):
    """The only voice found matched the owner's enrolled voice, but its words are a
    conversation: the page says the voice was heard and nobody was named (before, the whole
    visit was the social worker's; the API: tests/test_speakers.py)."""
    settings, client = web()
    owner, c = signed_in(client, settings, "Priya Shah")
    ids = seed_speakers(settings, owner, one_voice_enrolled=True)
    html = c.get(f"/visits/{ids['rec']}/speakers").text
    assert "Your enrolled voice was heard, but only one voice was found" in html
    assert "Recognised by your voice" not in html and "Role of S1</label>" in html
    assert re.search(r'id="role-S1".*?<option value="unknown" selected', html, re.S)


def test_speakers_page_shows_each_speakers_clip_words_and_role_and_saves_like_the_api(web):
    settings, client = web()
    owner, c = signed_in(client, settings, "Priya Shah")
    ids = seed_speakers(settings, owner)
    page = c.get(f"/visits/{ids['rec']}/speakers")
    assert page.status_code == 200, page.text
    html = page.text
    for label, shown in (("S1", "Social worker"), ("S2", "Parent"), ("S3", "Child")):
        assert f"Role of {shown} ({label})" in html
    # the suggested role is selected; every role of the vocabulary is offered
    assert speakers_form(html)["role-S3"] == "child"
    assert html.count('<option value="interpreter"') == 3
    # a few words from the redacted transcript (placeholders, never the real name)
    assert "Hi [PERSON_1]. How&#39;s school?" in html and "Hi Tom" not in html
    # the seeded recording has no audio: no clip, no audio element pointing nowhere
    assert "<audio" not in html
    assert len(audit_actions(settings, "speakers.view")) == 1
    assert [e.details for e in audit_actions(settings, "transcript.view")] == [{"kind": "redacted"}]

    # the child (S3) is a carer's foster child: S2 is a carer; S3 stays a child, confirmed
    r = c.post(f"/visits/{ids['rec']}/speakers", data=speakers_form(html, S2="carer"))
    assert r.status_code == 303, r.text
    assert r.headers["location"] == f"/visits/{ids['rec']}/speakers?saved=1"
    after = c.get(r.headers["location"]).text
    assert "Speakers' roles saved. 1 statement in the note now names the new roles" in after
    assert after.count('govuk-tag--green">Confirmed') == 3
    assert speakers_form(after)["role-S2"] == "carer"
    # the same code as PUT /v1/recordings/{id}/speakers: transcripts relabelled, a revision
    # whose reason says so, one speakers.edit event with counts only
    engine, sessions = db(settings)
    with session_scope(sessions) as s:
        raw = repo.find_transcript(session=s, recording_id=ids["rec"], kind="raw")
        assert raw.segments[1].speaker == "Carer"
        revisions = repo.list_revisions(session=s, note_id=ids["note"])
        assert [r.number for r in revisions] == [1, 2]
        assert revisions[1].reason.startswith("Speakers corrected (not drafted again)")
    engine.dispose()
    (event,) = audit_actions(settings, "speakers.edit")
    assert event.details == {"speakers": 3, "notes": 1, "statements": 1}
    # linked from the review page
    review = c.get(f"/notes/{ids['note']}").text
    assert f'href="/visits/{ids["rec"]}/speakers" id="speakers-link"' in review


def test_speakers_clip_starts_at_each_speakers_first_substantial_turn(web, tmp_path):
    from tests.web import write_tone

    settings, client = web()
    owner, c = signed_in(client, settings, "Priya Shah")
    wav = tmp_path / "visit.wav"
    write_tone(wav, seconds=2.0)
    ids = seed_speakers(settings, owner, audio_path=wav)
    html = c.get(f"/visits/{ids['rec']}/speakers").text
    src = f"/v1/recordings/{ids['rec']}/audio#t="
    # S1's first turn (2 s), S2's (4 s); S3's first of five words or more: "Good. I like ..."
    assert f'id="clip-S1" controls preload="none" src="{src}2.00,3.50"' in html
    assert f'id="clip-S2" controls preload="none" src="{src}4.00,5.50"' in html
    assert f'id="clip-S3" controls preload="none" src="{src}12.00,13.50"' in html
    # the clip is the existing audio endpoint: the browser's range requests work as before
    part = c.get(f"/v1/recordings/{ids['rec']}/audio", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.content) == 100


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"role-S2": "mum"}, 422, "Choose a role from the list for S2."),
        ({"role-S2": ""}, 422, "Choose a role from the list for S2."),
        ({"role-S9": "child"}, 422, "no speaker S9 in this recording"),
        ({"version": "0" * 16}, 409, "were changed since this page was opened"),
        ({"csrf_token": "forged"}, 403, "did not come from this service"),
    ],
    ids=["unknown-role", "empty-role", "unknown-speaker", "stale-page", "no-csrf"],
)
def test_a_bad_speakers_save_is_refused_and_changes_nothing(web, change, status, message):
    settings, client = web()
    owner, c = signed_in(client, settings, "Priya Shah")
    ids = seed_speakers(settings, owner)
    before = stored(settings, ids)
    form = {**speakers_form(c.get(f"/visits/{ids['rec']}/speakers").text, S3="carer"), **change}
    r = c.post(f"/visits/{ids['rec']}/speakers", data=form)
    assert r.status_code == status
    assert message in r.text.replace("&#39;", "'")
    assert stored(settings, ids) == before
    assert audit_actions(settings, "speakers.edit") == []


def test_a_stale_speakers_page_is_refused_after_another_tab_saved(web):
    settings, client = web()
    owner, c = signed_in(client, settings, "Priya Shah")
    ids = seed_speakers(settings, owner)
    first_tab = c.get(f"/visits/{ids['rec']}/speakers").text
    second_tab = c.get(f"/visits/{ids['rec']}/speakers").text
    r = c.post(f"/visits/{ids['rec']}/speakers", data=speakers_form(second_tab, S2="carer"))
    assert r.status_code == 303
    saved = stored(settings, ids)
    r = c.post(f"/visits/{ids['rec']}/speakers", data=speakers_form(first_tab, S3="parent"))
    assert r.status_code == 409 and "Nothing was saved" in r.text
    assert speakers_form(r.text)["role-S2"] == "carer"  # the page again, as it now stands
    assert stored(settings, ids) == saved


def test_speakers_page_owner_only_locked_once_approved_none_for_typed_transcripts(web):
    settings, client = web()
    owner, c = signed_in(client, settings, "Priya Shah")
    _, other = signed_in(client, settings, "Ben Cole")
    _, manager = signed_in(client, settings, "Mo Khan", "manager")
    ids = seed_speakers(settings, owner)
    form = speakers_form(c.get(f"/visits/{ids['rec']}/speakers").text, S2="carer")
    before = stored(settings, ids)
    for who in (other, manager):  # another's recording looks like no recording
        assert who.get(f"/visits/{ids['rec']}/speakers").status_code == 404
        form_of = {**form, "csrf_token": csrf_of(who.get("/").text)}
        assert who.post(f"/visits/{ids['rec']}/speakers", data=form_of).status_code == 404
        assert f"/visits/{ids['rec']}/speakers" not in who.get(f"/notes/{ids['note']}").text
    assert c.get("/visits/nope/speakers").status_code == 404
    assert stored(settings, ids) == before

    # approved: shown, but no longer changeable (409 from the API's own check)
    engine, sessions = db(settings)
    with session_scope(sessions) as s:
        s.execute(update(Note).where(Note.id == ids["note"]).values(status="approved"))
    engine.dispose()
    page = c.get(f"/visits/{ids['rec']}/speakers").text
    assert "can no longer be changed" in page and 'id="save-speakers"' not in page
    r = c.post(f"/visits/{ids['rec']}/speakers", data=form)
    assert r.status_code == 409 and "approved and locked" in r.text
    assert stored(settings, ids) == before

    # a typed transcript has no separated speakers: said so, and nothing to save
    typed = seed_note(settings, owner)
    page = c.get(f"/visits/{typed['rec']}/speakers")
    assert page.status_code == 200 and "no speakers to confirm" in page.text
    assert 'id="speakers-link"' not in c.get(f"/notes/{typed['note']}").text
    r = c.post(
        f"/visits/{typed['rec']}/speakers",
        data={"csrf_token": csrf_of(page.text), "version": "x", "role-S1": "child"},
    )
    assert r.status_code == 409


# --- Copy this section ----------------------------------------------------------------------
def test_copy_this_section_copies_the_txt_exports_lines_and_has_a_plain_text_view(web):
    from assistant.notes.render import render_section_text, render_text

    settings, client = web()
    owner, c = signed_in(client, settings, "Priya Shah")
    _, manager = signed_in(client, settings, "Mo Khan", "manager")
    _, other = signed_in(client, settings, "Ben Cole")
    ids = seed_note(settings, owner, draft=FLAGGED)
    expected = (
        "Purpose of the visit\n--------------------\n"
        "* (Observed) Visit to see Amara at home. [s0001]\n"
    )
    # the same lines the txt export writes for that section (names back for the owner)
    export = c.get(f"/notes/{ids['note']}/export?format=txt&names=true").text
    assert expected in export
    assert render_section_text(FLAGGED, "purpose") in render_text(FLAGGED, title="t", meta={})

    page = c.get(f"/notes/{ids['note']}").text
    assert page.count('app-copy__button"') == 2  # one a section
    assert f'data-copy-text="{expected}"' in page
    r = c.get(f"/notes/{ids['note']}/sections/purpose/text")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert r.text == expected
    assert c.get(f"/notes/{ids['note']}/sections/worries/text").text.startswith(
        "Worries\n-------\n* [PERSON_1]".replace("[PERSON_1]", "Amara")
    )
    # a manager reads placeholders; another practitioner, nothing; an unknown section, 404
    assert (
        "Visit to see [PERSON_1] at home."
        in manager.get(f"/notes/{ids['note']}/sections/purpose/text").text
    )
    assert other.get(f"/notes/{ids['note']}/sections/purpose/text").status_code == 404
    missing = c.get(f"/notes/{ids['note']}/sections/no_such/text")
    assert missing.status_code == 404 and "no such section" in missing.text
    events = [e.details for e in audit_actions(settings, "note.export") if "section" in e.details]
    assert events == [
        {"format": "txt", "section": "purpose", "reidentified": True},
        {"format": "txt", "section": "worries", "reidentified": True},
        {"format": "txt", "section": "purpose", "reidentified": False},
    ]


def test_copy_this_section_stays_after_approval(web):
    settings, client = web()
    owner, c = signed_in(client, settings, "Priya Shah")
    ids = seed_note(settings, owner)
    page = c.get(f"/notes/{ids['note']}").text
    r = c.post(
        f"/notes/{ids['note']}/approve", data={"csrf_token": csrf_of(page), "declaration": "yes"}
    )
    assert r.status_code == 303
    approved = c.get(f"/notes/{ids['note']}").text
    assert (
        "app-copy__button" in approved and f"/notes/{ids['note']}/sections/purpose/text" in approved
    )


# --- The audit log --------------------------------------------------------------------------
def test_the_audit_log_is_for_auditors_and_admins_only(web):
    settings, client = web()
    owner, c = signed_in(client, settings, "Priya Shah")
    _, manager = signed_in(client, settings, "Mo Khan", "manager")
    _, auditor = signed_in(client, settings, "Ada Audit", "auditor")
    _, admin = signed_in(client, settings, "Al Admin", "admin")
    for who in (c, manager):
        assert who.get("/audit").status_code == 403
        assert who.get("/audit/export?format=csv").status_code == 403
        assert 'href="/audit"' not in who.get("/").text
    for who in (auditor, admin):
        page = who.get("/audit")
        assert page.status_code == 200 and 'href="/audit"' in page.text
    anonymous = client()
    r = anonymous.get("/audit")
    assert r.status_code == 303 and r.headers["location"] == "/sign-in?next=/audit"


def test_the_audit_log_newest_first_filtered_paginated_with_the_chain_check(web):
    settings, client = web()
    owner, c = signed_in(client, settings, "Priya Shah")
    auditor_id, auditor = signed_in(client, settings, "Ada Audit", "auditor")
    ids = seed_note(settings, owner)
    c.get(
        f"/notes/{ids['note']}"
    )  # note.view (the note's id) and transcript.view (the recording's)
    engine, sessions = db(settings)
    with session_scope(sessions) as s:
        for n in range(55):
            repo.add_audit(session=s, actor_id=auditor_id, action="test.event", object_type="x",
                           object_id=f"obj{n}", details={"n": n}, request_id=None)  # fmt: skip
    engine.dispose()

    page = auditor.get("/audit").text
    # the head, always; the whole chain checked on request (it reads every record); the
    # viewing's own record (audit.view) comes after the head the page shows
    assert "Chain intact" not in page and 'id="check-chain"' in page
    assert f"record {total_rows(settings) - 1}, hash" in page
    assert "Chain intact" in auditor.get("/audit?check=1").text
    rows = page.split('class="govuk-table__row app-audit-row"')[1:]
    assert len(rows) == 50
    assert "n: 54" in rows[0] and "n: 53" in rows[1]  # newest first
    assert "page 1 of 2" in page and 'href="/audit?page=2"' in page
    older = auditor.get("/audit?page=2").text
    assert len(older.split("app-audit-row")[1:]) == total_rows(settings) - 1 - 50
    # no names: what the rows hold (ids, counts, formats)
    assert "Priya Shah" not in page + older and "Amara" not in page + older

    # by action, by user, by recording (its notes' records too)
    only = auditor.get("/audit?action=note.view").text
    assert "1 record found" in only and ids["note"] in only
    mine = table(auditor.get(f"/audit?user={owner}").text)
    assert "test.event" not in mine and "auth.sign_in" in mine
    rec = table(auditor.get(f"/audit?object={ids['rec']}").text)
    assert "note.view" in rec and "transcript.view" in rec and "test.event" not in rec
    assert "No records match" in auditor.get("/audit?object=" + "f" * 32).text

    # bad filters: named, left out, 400
    bad = auditor.get("/audit?action=no.such.action")
    assert bad.status_code == 400 and "Choose an action from the list." in bad.text
    bad = auditor.get("/audit?object=%3Cscript%3E")
    assert bad.status_code == 400 and "letters and digits" in bad.text
    assert "<script>" not in bad.text

    # the export links download the API's export, itself audited
    csv_file = auditor.get("/audit/export?format=csv")
    assert csv_file.status_code == 200 and "attachment" in csv_file.headers["content-disposition"]
    assert len(list(csv.reader(io.StringIO(csv_file.text)))) > 50
    assert json.loads(auditor.get("/audit/export?format=json").content)["head"]
    assert auditor.get("/audit/export?format=xml").status_code == 400
    assert len(audit_actions(settings, "audit.export")) == 2

    # a changed record breaks the chain, and the page says so
    engine, sessions = db(settings)
    with session_scope(sessions) as s:
        s.execute(update(AuditEvent).where(AuditEvent.object_id == "obj3").values(action="x.y"))
    engine.dispose()
    broken = auditor.get("/audit?check=1").text
    assert "The audit chain is broken" in broken and "Chain intact" not in broken


def test_viewing_the_audit_log_is_on_the_record(web, db_url):
    """Each page shown, chain check and export adds a record naming the viewer, with the
    filters as ids and action names (never a record's contents), chained like any other: the
    next view shows it, and the chain still verifies. A refused reader (403) leaves none, as
    no 403 does."""
    settings, client = web(database_url=db_url)
    owner, c = signed_in(client, settings, "Priya Shah")
    auditor_id, auditor = signed_in(client, settings, "Ada Audit", "auditor")
    admin_id, admin = signed_in(client, settings, "Al Admin", "admin")
    ids = seed_note(settings, owner)
    c.get(f"/notes/{ids['note']}")

    page = auditor.get(f"/audit?action=note.view&object={ids['rec']}&page=1")
    assert page.status_code == 200 and "audit.view" not in table(page.text)  # not yet
    [viewed] = audit_actions(settings, "audit.view")
    assert viewed.actor_id == auditor_id and viewed.object_type == "audit"
    assert viewed.details == {
        "filters": {"action": "note.view", "object": ids["rec"]},
        "page": 1,
        "records": 1,
        "via": "web",
    }
    again = table(auditor.get("/audit").text)
    assert "audit.view" in again and "note.view" in again  # the earlier viewing, listed

    assert "Chain intact" in admin.get("/audit?check=1&page=2").text
    [checked] = audit_actions(settings, "audit.verify")
    assert checked.actor_id == admin_id and checked.details["intact"] is True
    assert checked.details["via"] == "web" and checked.details["problem"] is None
    assert admin.get("/audit/export?format=csv").status_code == 200
    [exported] = audit_actions(settings, "audit.export")
    assert exported.actor_id == admin_id and exported.details["format"] == "csv"
    views = sorted(audit_actions(settings, "audit.view"), key=lambda e: e.seq)
    assert len(views) == 3 and views[-1].details["page"] == 2

    assert c.get("/audit").status_code == 403
    assert c.get("/audit/export?format=json").status_code == 403
    assert len(audit_actions(settings, "audit.view")) == 3
    assert len(audit_actions(settings, "audit.export")) == 1
    # nothing of the case in any of them, and the chain holds
    assert "Amara" not in repr([v.details for v in views])
    engine, sessions = db(settings)
    with session_scope(sessions) as s:
        assert repo.verify_audit(session=s).intact
    engine.dispose()


def table(page: str) -> str:
    """The audit log's rows (not its filter's choices)."""
    return page.split("<tbody", 1)[1] if "<tbody" in page else ""


def total_rows(settings) -> int:
    engine, sessions = db(settings)
    with session_scope(sessions) as s:
        n = len(list(s.scalars(select(AuditEvent.id))))
    engine.dispose()
    return n


# --- My visits: search ----------------------------------------------------------------------
def test_my_visits_searches_ids_templates_and_types_never_content(web):
    settings, client = web()
    owner, c = signed_in(client, settings, "Priya Shah")
    first = seed_note(settings, owner)
    second = seed_note(settings, owner, draft=SECTIONS)
    engine, sessions = db(settings)
    with session_scope(sessions) as s:
        rec = repo.get_recording(session=s, recording_id=second["rec"])
        rec.template, rec.visit_type = "cin_visit", "Child in need"
    engine.dispose()

    def found(query: str) -> str:
        r = c.get("/", params={"q": query})
        assert r.status_code == 200
        return r.text

    assert "1 visit found" in found(first["rec"][:8]) and first["rec"][:8] in found(
        first["rec"][:8]
    )
    assert "1 visit found" in found(first["note"][:10].upper())  # a note's id, any case
    assert "1 visit found" in found("cin visit")  # the template's name, as words
    assert "1 visit found" in found("child in")
    assert "1 visit found" in found("HOME visit")  # the first's type, any case
    assert "No visits match" in found("Amara")  # the transcript's words are not searched
    assert "No visits match" in found("vis%t")  # no wildcards: "%" is a character
    # search and the other filters together
    both = c.get("/", params={"q": "cin", "status": "approved"}).text
    assert "No visits match" in both


# --- the queries, on SQLite and PostgreSQL --------------------------------------------------
def test_search_and_audit_page_queries_on_each_database(db_sessions):
    from assistant.auth import hash_token
    from tests.conftest import seed_recording

    with session_scope(db_sessions) as s:
        user = repo.create_user(
            session=s, name="P", role="practitioner", token_hash=hash_token("t")
        )
        first, second = seed_recording(s, user.id), seed_recording(s, user.id)
        second.template, second.visit_type = "cin_visit", "50% visit"
        note_id = repo.create_note(
            session=s, recording_id=first.id, template="visit_note", template_version="v1",
            ai_draft=SECTIONS, provenance={},
        ).id  # fmt: skip
        for n in range(7):
            repo.add_audit(session=s, actor_id=user.id if n % 2 else None, action=f"a.{n % 3}",
                           object_type="recording", object_id=first.id if n < 3 else second.id,
                           details={"n": n}, request_id=None)  # fmt: skip

    def found(text: str) -> set[str]:
        with session_scope(db_sessions) as s:
            u = repo.get_user(session=s, user_id=user.id)
            recs, total = repo.page_recordings(
                session=s, user=u, where=repo.ListFilter(text=text), offset=0, limit=20
            )
            assert total == len(recs)
            return {r.id for r in recs}

    assert found(first.id[:6].upper()) == {first.id}
    assert found("CIN VISIT") == {second.id}
    assert found("50%") == {second.id} and found("5_%") == set()  # no wildcards
    assert found("home") == {first.id}
    assert found("Amara") == set()  # the transcript's words: never searched
    assert found(note_id[-6:]) == {first.id}  # a note's id finds its visit
    with session_scope(db_sessions) as s:
        u = repo.get_user(session=s, user_id=user.id)
        for text, expected in ((note_id[:8], [note_id]), ("cin", []), ("visit note", [note_id])):
            notes, _ = repo.page_notes(
                session=s, user=u, where=repo.ListFilter(text=text), offset=0, limit=20
            )
            assert [n.id for n, _ in notes] == expected, text
    with session_scope(db_sessions) as s:
        rows, total = repo.page_audit(session=s, offset=0, limit=3)
        assert total == 7 and [r.details["n"] for r in rows] == [6, 5, 4]
        rows, total = repo.page_audit(session=s, action="a.0", actor_id=None)
        assert sorted(r.details["n"] for r in rows) == [0, 3, 6]
        rows, _ = repo.page_audit(session=s, actor_id=user.id, object_ids=[first.id])
        assert [r.details["n"] for r in rows] == [1]
        assert repo.audit_actions(session=s) == ["a.0", "a.1", "a.2"]


def test_the_list_endpoints_take_the_same_search(web):
    settings, client = web()
    owner, token = add_web_user(settings, "Ada", "practitioner")
    other, _ = add_web_user(settings, "Ben", "practitioner")
    mine, theirs = seed_note(settings, owner), seed_note(settings, other)
    api = client()
    api.headers["Authorization"] = f"Bearer {token}"

    def ids(path: str, key: str) -> list[str]:
        r = api.get(path)
        assert r.status_code == 200, r.text
        return [i[key] for i in r.json()["items"]]

    assert ids(f"/v1/recordings?q={mine['rec'][:8]}", "recording_id") == [mine["rec"]]
    assert ids(f"/v1/recordings?q={theirs['rec'][:8]}", "recording_id") == []  # not theirs
    assert ids(f"/v1/notes?q={mine['note'][:8].upper()}", "note_id") == [mine["note"]]
    assert ids("/v1/notes?q=visit%20note", "note_id") == [mine["note"]]
    assert ids("/v1/notes?q=Amara", "note_id") == []  # never content
    r = api.get("/v1/recordings?q=" + "x" * 65)
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"


def test_a_sections_text_is_the_txt_exports_lines_for_it_note_style_too():
    from assistant.notes.render import render_section_text, render_text

    body = {
        "header": [{"key": "present", "title": "Present", "value": "Mum", "evidence": []}],
        "sections": [
            {"key": "voice", "title": "Child's voice", "statements": [
                {"text": "I like football.", "kind": "direct_quote", "speaker": "Child",
                 "evidence": ["s0006"], "flags": ["low_confidence_words"]},
            ]},
            {"key": "empty", "title": "Worries", "statements": []},
        ],
    }  # fmt: skip
    voice = render_section_text(body, "voice")
    assert voice == (
        "Child's voice\n-------------\n"
        "* The child said: “I like football.” [s0006]\n"
        "  ⚠ Check: Words the recogniser was unsure of\n"
    )
    assert render_section_text(body, "empty") == "Worries\n-------\nNothing recorded.\n"
    whole = render_text(body, title="Visit record", meta={})
    assert voice in whole and render_section_text(body, "empty") in whole
    with pytest.raises(KeyError):
        render_section_text(body, "nope")


# --- Review: what the checks found, where it belongs ------------------------------------------
REVIEW = {
    "verification": {},
    "gating": {},
    "removed_claims": [
        {
            "section": "worries",
            "categories": ["sexual_abuse"],
            "statement": {
                "text": "[PERSON_1] said someone touched her.",
                "kind": "reported",
                "speaker": "[PERSON_1]",
                "evidence": ["s0001"],
                "flags": [],
            },
        }
    ],
    "possible_omissions": [
        {"category": "neglect", "label": "Neglect", "segment_ids": ["s0001"]},
    ],
}


def test_review_shows_removed_claims_to_the_owner_and_omissions_to_every_reader(web):
    settings, client = web()
    owner, c = signed_in(client, settings, "Priya Shah")
    _, manager = signed_in(client, settings, "Mo Khan", "manager")
    ids = seed_note(settings, owner, draft=FLAGGED, review=REVIEW)
    page = c.get(f"/notes/{ids['note']}").text
    # a possible omission: the concern, and a link that plays where it is said
    assert "no statement of this note mentions" in page
    assert (
        'class="app-omission">Neglect: <a class="govuk-link app-evidence-link" href="#seg-s0001"'
        in page
    )
    # the removed AI statement, in its section, with the category it had no evidence for
    worries = page[page.index('id="sec-2"') :]
    assert "1 AI statement removed by the safeguarding check" in worries
    assert "[PERSON_1] said someone touched her." in worries
    assert "No evidence for: sexual abuse" in worries
    # a manager reading someone else's note sees the omission, not the removed words (they
    # quote the transcript: the owner's to review, as in the API)
    other = manager.get(f"/notes/{ids['note']}").text
    assert "Neglect" in other and "someone touched her" not in other
    # a note with no findings shows neither
    plain = seed_note(settings, owner)
    clean = c.get(f"/notes/{plain['note']}").text
    assert "app-omission" not in clean and "app-removed" not in clean


def test_words_the_recogniser_was_unsure_of_are_marked_in_the_transcript():
    from assistant.domain import RedactedSegment, Segment, Word
    from assistant.web.routes.review import unsure_parts

    raw = Segment(
        id="s0001",
        start=0,
        end=2,
        text="He went to Severnbank on Tuesday.",
        words=(
            Word(start=0, end=0.2, text=" He", probability=0.99),
            Word(start=0.2, end=0.4, text=" went", probability=0.98),
            Word(start=0.4, end=0.5, text=" to", probability=0.97),
            Word(start=0.5, end=1.0, text=" Severnbank", probability=0.31),
            Word(start=1.0, end=1.2, text=" on", probability=0.95),
            Word(start=1.2, end=1.6, text=" Tuesday.", probability=0.44),
        ),
    )
    parts = unsure_parts(raw)
    assert "".join(p for p, _ in parts) == raw.text  # the words as said, nothing lost
    assert [p.strip(".") for p, unsure in parts if unsure] == ["Severnbank", "Tuesday"]
    red = RedactedSegment(
        id="s0001", start=0, end=2, text="He went to [LOCATION_1] on Tuesday.",
        low_confidence_words=("Tuesday",),
    )  # fmt: skip
    assert [p for p, unsure in unsure_parts(red) if unsure] == ["Tuesday."]
    sure = Segment(id="s0002", start=2, end=3, text="Fine.", words=())
    assert unsure_parts(sure) == [("Fine.", False)]


# --- found walking through the app as a new practitioner ------------------------------------
def test_header_evidence_plays_from_a_time_never_shows_segment_ids(web):
    """The note's header lines (who spoke, the next visit) cited their evidence as raw segment
    ids ("[s0001]"); they now play it from a time, as each statement does."""
    settings, client = web()
    owner, c = signed_in(client, settings, "Priya Shah")
    header = {"key": "next_visit", "title": "Next visit", "value": "In four weeks."}
    ids = seed_note(
        settings, owner, draft={**SECTIONS, "header": [{**header, "evidence": ["s0001"]}]}
    )
    page = c.get(f"/notes/{ids['note']}").text
    row = re.search(
        r'<dt class="govuk-summary-list__key">Next visit</dt>\s*<dd[^>]*>(.*?)</dd>', page, re.S
    )
    assert row, page
    assert "s0001]" not in row.group(1) and "In four weeks." in row.group(1)
    assert (
        'class="govuk-link govuk-body-s app-evidence-link" href="#seg-s0001" data-start="0.00"'
        in row.group(1)
    )
    assert "Play evidence from 0:00" in row.group(1)


def test_the_download_with_real_names_is_named_so(web):
    """Both downloads of a note had one file name: the copy with real names could be filed or
    sent as the one with placeholders."""
    settings, client = web()
    owner, c = signed_in(client, settings, "Priya Shah")
    ids = seed_note(settings, owner)
    for fmt in ("docx", "md", "txt", "json"):
        plain = c.get(f"/notes/{ids['note']}/export?format={fmt}")
        named = c.get(f"/notes/{ids['note']}/export?format={fmt}&names=true")
        assert plain.status_code == named.status_code == 200
        assert f'filename="note-{ids["note"]}.{fmt}"' in plain.headers["content-disposition"]
        assert (
            f'filename="note-{ids["note"]}-real-names.{fmt}"'
            in named.headers["content-disposition"]
        )


def test_new_visit_with_no_file_chosen_says_to_choose_one(web):
    """A browser sends an empty file input as a nameless, empty part: the page said "The
    uploaded recording is empty (0 bytes)", as if a file had been chosen."""
    settings, client = web()
    _, c = signed_in(client, settings, "Priya Shah")
    # the body as Chromium sends it (httpx leaves out an empty filename)
    body = (
        f'--b\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
        f"{csrf_of(c.get('/visits/new').text)}\r\n"
        '--b\r\nContent-Disposition: form-data; name="audio"; filename=""\r\n'
        "Content-Type: application/octet-stream\r\n\r\n\r\n"
        '--b\r\nContent-Disposition: form-data; name="consent"\r\n\r\nyes\r\n--b--\r\n'
    )
    r = c.post(
        "/visits/new",
        content=body.encode(),
        headers={"content-type": "multipart/form-data; boundary=b"},
    )
    assert r.status_code == 400, r.text
    assert "Choose the recording of the visit" in r.text and 'href="#audio"' in r.text
    assert "0 bytes" not in r.text
    assert not list(settings.uploads_dir.glob("*"))


def test_an_approved_notes_edit_page_goes_to_the_locked_note(web):
    """After approving, Back (or a bookmark) opened the edit page with every form still there,
    each save only refused; it now shows the approved note."""
    settings, client = web()
    owner, c = signed_in(client, settings, "Priya Shah")
    ids = seed_note(settings, owner)
    assert c.get(f"/notes/{ids['note']}/edit").status_code == 200  # a draft: the forms
    review = c.get(f"/notes/{ids['note']}").text
    r = c.post(
        f"/notes/{ids['note']}/approve", data={"csrf_token": csrf_of(review), "declaration": "yes"}
    )
    assert r.status_code == 303
    r = c.get(f"/notes/{ids['note']}/edit")
    assert r.status_code == 303 and r.headers["location"] == f"/notes/{ids['note']}"
    assert c.get(f"/notes/{ids['note']}/edit", follow_redirects=True).status_code == 200


def test_a_speaker_without_a_role_is_named_once(web):
    """A speaker with no role shows their own label: the page said "S3 speaker S3" and
    "Role of S3 (S3)"."""
    settings, client = web()
    owner, c = signed_in(client, settings, "Priya Shah")
    ids = seed_speakers(settings, owner)
    html = c.get(f"/visits/{ids['rec']}/speakers").text
    r = c.post(f"/visits/{ids['rec']}/speakers", data=speakers_form(html, S3="unknown"))
    assert r.status_code == 303, r.text
    after = c.get(r.headers["location"]).text
    assert "Role of S3</label>" in after and "Role of S3 (S3)" not in after
    assert re.search(r'id="speaker-S3">S3</h2>', after), after
    assert "Role of Parent (S2)" in after  # a role's name still says which speaker it is


def test_a_transcript_line_has_a_space_after_its_speaker(web):
    """Found walking through the app: the transcript read "S1:Hello" (the template's block
    tags ate the space)."""
    settings, client = web()
    owner, c = signed_in(client, settings, "Priya Shah")
    ids = seed_speakers(settings, owner)
    page = c.get(f"/notes/{ids['note']}").text
    lines = re.findall(r'class="app-speaker">([^<]+):</strong>(.)', page)
    assert len(lines) >= 3, page
    assert all(after == " " for _, after in lines), lines


# --- every problem at once, the file to choose again, one date pattern, the declaration ----
def _multipart(parts: list[tuple[str, str]], audio: tuple[str, bytes] | None = None) -> bytes:
    """A form body as Chromium sends it: the file input is always there, empty (a nameless,
    empty part) when no file was chosen."""
    name, data = audio or ("", b"")
    body = b"".join(
        f'--b\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in parts
    )
    body += (
        (
            f'--b\r\nContent-Disposition: form-data; name="audio"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + b"\r\n--b--\r\n"
    )
    return body


def _post_new_visit(c, parts, audio=None):
    return c.post(
        "/visits/new",
        content=_multipart(parts, audio),
        headers={"content-type": "multipart/form-data; boundary=b"},
    )


def _summary_links(html: str) -> list[str]:
    summary = re.search(r'<div class="govuk-error-summary".*?</ul>', html, re.S).group(0)
    return re.findall(r'<a href="#([\w-]+)">', summary)


def test_new_visit_shows_every_problem_at_once(web):
    """No recording chosen, an impossible date and consent unticked: the page named only the
    first (the recording), so each was found one submit at a time."""
    settings, client = web()
    _, c = signed_in(client, settings, "Priya Shah")
    token = csrf_of(c.get("/visits/new").text)
    form = [
        ("csrf_token", token),
        ("day", "31"),
        ("month", "2"),
        ("year", "2026"),
        ("visit_type", "home visit"),
        ("vocabulary", "Oakwood, <b>"),
    ]
    r = _post_new_visit(c, form)
    assert r.status_code == 400, r.text
    # the summary: each problem, in the page's order, linking to its field
    assert _summary_links(r.text) == ["audio", "day", "vocabulary", "consent"]
    for field_id in ("audio", "day", "vocabulary", "consent"):
        assert f'id="{field_id}"' in r.text
    # and each beside its field, with the words it had before
    assert re.search(r'id="audio-error".*Choose the recording of the visit', r.text)
    assert re.search(r'id="visit-date-error".*real date', r.text)
    assert re.search(r'id="vocabulary-error".*term 2 may hold only', r.text)
    assert re.search(r'id="consent-error".*agreed to it', r.text)
    assert r.text.count("govuk-form-group--error") == 4
    # what was typed is kept, with no recording sent as well
    assert 'value="home visit"' in r.text and 'value="31"' in r.text
    assert 'value="Oakwood, &lt;b&gt;"' in r.text
    assert "Choose the recording again" not in r.text  # none was chosen
    assert not list(settings.uploads_dir.glob("*"))
    # one problem alone is still shown alone
    r = _post_new_visit(c, [("csrf_token", token), ("consent", "yes")])
    assert _summary_links(r.text) == ["audio"]


def test_new_visit_says_to_choose_the_recording_again(web):
    """A file sent with another field wrong comes back as an empty file input (a browser
    never keeps it), and nothing said so."""
    settings, client = web()
    _, c = signed_in(client, settings, "Priya Shah")
    token = csrf_of(c.get("/visits/new").text)
    wav = ("visit.wav", b"RIFF" + b"\0" * 100)
    form = [("csrf_token", token), ("day", "40"), ("month", "1"), ("year", "2026")]
    r = _post_new_visit(c, [*form, ("consent", "yes")], wav)
    assert r.status_code == 400 and _summary_links(r.text) == ["day"]
    again = re.search(r'<p id="audio-again"[^>]*>([^<]+)</p>', r.text)
    assert again and "Choose the recording again" in again.group(1)
    assert 'aria-describedby="audio-hint audio-again"' in r.text
    assert not list(settings.uploads_dir.glob("*"))
    # not when the recording itself was refused (its own error says what to do)
    refused = _post_new_visit(c, [("csrf_token", token), ("consent", "yes")], wav)
    assert refused.status_code in (415, 422) and _summary_links(refused.text) == ["audio"]
    assert "Choose the recording again" not in refused.text


def test_every_date_is_the_govuk_three_box_pattern(web):
    """My visits' filter was two browser date pickers (``type="date"``), New visit three
    boxes: one pattern now, from one macro, and the filter reads the boxes."""
    from pathlib import Path

    import assistant.web

    templates = Path(assistant.web.__file__).parent / "templates"
    for page in templates.glob("*.html"):
        assert 'type="date"' not in page.read_text(), page.name
    settings, client = web()
    owner, c = signed_in(client, settings, "Ada")
    other, _ = add_web_user(settings, "Ben", "practitioner")
    v = test_web._seed_visits(settings, owner, other)
    pages = {"/visits/new": ("", "visit-date"), "/": ("from_", "from-date")}
    for path, (prefix, group) in pages.items():
        html = c.get(path).text
        assert f'<div id="{group}-hint" class="govuk-hint">For example, 27 3 2026</div>' in html
        for part, width in (("day", 2), ("month", 2), ("year", 4)):
            box = re.search(rf'<input [^>]*id="{prefix}{part}"[^>]*>', html).group(0)
            assert f'name="{prefix}{part}"' in box and 'type="text"' in box, box
            assert 'inputmode="numeric"' in box and f"govuk-input--width-{width}" in box
    # the filter by the boxes, as by a link's from=YYYY-MM-DD
    boxes = c.get("/?visit_type=school+visit&from_day=1&from_month=3&from_year=2026")
    link = c.get("/?visit_type=school+visit&from=2026-03-01")
    for r in (boxes, link):
        assert "1 visit found" in r.text and f'href="/visits/{v["failed"]}"' in r.text
        assert 'id="from_month" name="from_month" type="text" inputmode="numeric" value="3"' in (
            r.text
        )
    r = c.get("/?from_day=1&from_month=2&from_year=2026&to_day=28&to_month=2&to_year=2026")
    assert "1 visit found" in r.text and f'href="/notes/{v["draft_note"]}"' in r.text
    # a bad date: named, linked to its first box, what was typed kept, left out of the filter
    r = c.get("/?to_day=31&to_month=2&to_year=2026")
    assert r.status_code == 400 and "visit date to as a real date" in r.text
    assert _summary_links(r.text) == ["to_day"] and 'id="to-date-error"' in r.text
    assert 'value="31"' in r.text and "4 visits found" in r.text
    assert c.get("/?from_day=1&from_month=x&from_year=2026").status_code == 400


def test_approving_needs_the_declaration(web):
    """Approve was one click: the web form now needs "I have checked this note against the
    recording"; without it nothing is approved. The API's approval is unchanged."""
    settings, client = web()
    owner, c = signed_in(client, settings, "Priya Shah")
    ids = seed_note(settings, owner)
    page = c.get(f"/notes/{ids['note']}").text
    box = re.search(r'<input [^>]*id="declaration"[^>]*>', page).group(0)
    assert 'name="declaration"' in box and 'type="checkbox"' in box and 'value="yes"' in box
    assert "it is an accurate record</label>" in page
    before = stored_note(settings, ids)
    r = c.post(f"/notes/{ids['note']}/approve", data={"csrf_token": csrf_of(page)})
    assert r.status_code == 400
    assert _summary_links(r.text) == ["declaration"]
    assert re.search(r'id="declaration-error".*Tick the box to confirm', r.text)
    assert 'id="note-status">Draft<' in r.text and 'id="approve"' in r.text
    assert stored_note(settings, ids) == before  # nothing changed
    assert test_web.audit_actions(settings, "note.approve") == []
    r = c.post(
        f"/notes/{ids['note']}/approve", data={"csrf_token": csrf_of(page), "declaration": "yes"}
    )
    assert r.status_code == 303 and stored_note(settings, ids)[0] == "approved"
    assert len(test_web.audit_actions(settings, "note.approve")) == 1


def test_the_declaration_and_unconfirmed_statements_are_named_together(web):
    settings, client = web()
    owner, c = signed_in(client, settings, "Priya Shah")
    ids = seed_note(settings, owner, draft=FLAGGED)
    page = c.get(f"/notes/{ids['note']}").text
    r = c.post(f"/notes/{ids['note']}/approve", data={"csrf_token": csrf_of(page)})
    assert r.status_code == 400
    assert _summary_links(r.text) == ["safeguarding-pending", "declaration"]
    assert stored_note(settings, ids)[0] == "draft"


def test_the_api_approves_without_a_declaration(web):
    settings, client = web()
    owner, token = add_web_user(settings, "Priya Shah", "practitioner")
    ids = seed_note(settings, owner)
    api = test_web._api(client(), token)
    r = api.post(f"/v1/notes/{ids['note']}/approve")
    assert r.status_code == 200 and r.json()["status"] == "approved"


def stored_note(settings, ids) -> tuple:
    engine, sessions = db(settings)
    with session_scope(sessions) as s:
        note = s.get(Note, ids["note"])
        state = (
            note.status,
            note.approved_at,
            len(repo.list_revisions(session=s, note_id=note.id)),
        )
    engine.dispose()
    return state


def test_new_visit_marks_the_fields_it_does_not_need_as_optional(web):
    """Visit date and type of visit may be left empty, but only "Local names" said so (hand
    walk, 2026-12-07): a GOV.UK form marks every optional field."""
    settings, client = web()
    _, c = signed_in(client, settings, "Priya Shah")
    page = c.get("/visits/new").text
    assert "Visit date (optional)</legend>" in page
    assert "Type of visit (optional)</label>" in page
    assert "Local names (optional)</label>" in page
    assert "Recording (optional)" not in page


def test_an_unknown_download_says_so_in_words(web):
    """Only reachable by editing the address, but the page said "format must be one of md,
    txt, json, docx." (hand walk, 2026-12-07)."""
    settings, client = web()
    user, c = signed_in(client, settings, "Priya Shah")
    ids = seed_note(settings, user)
    r = c.get(f"/notes/{ids['note']}/export?format=pdf")
    assert r.status_code == 400
    assert "There is no such download." in r.text and "md, txt" not in r.text
