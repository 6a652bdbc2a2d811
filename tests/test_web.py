"""The web app over real HTTP (FastAPI's TestClient on the real app, a SQLite file per test):
first sign-in from the link ``caseassist users add`` prints, cookie flags, CSRF on every
form, throttled and audited failures, the idle timeout, My visits, New visit, progress, review,
approval, export, the audio endpoint's ranges, and who may see what.
"""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from assistant.api.app import create_app
from assistant.cli import main
from assistant.storage import repo, session_scope
from assistant.storage.models import AuditEvent, Note, Recording, WebSession, utcnow
from tests.conftest import make_settings, seed_recording
from tests.speech import espeak_available, synthesize
from tests.web import FLAGGED, PASSWORD, SECTIONS, add_web_user, csrf_of, db, seed_note, sign_in

pytestmark = pytest.mark.models  # the app loads the test profile's models at start-up


@pytest.fixture
def web(tmp_path, engines):
    """(settings, a factory of TestClients on one running app)."""

    def start(**overrides):
        settings = make_settings(tmp_path, run_worker=False, **overrides)
        app = create_app(settings, engines=engines)
        clients = []

        def client(base_url: str = "http://testserver") -> TestClient:
            c = TestClient(app, base_url=base_url, follow_redirects=False)
            c.__enter__()
            clients.append(c)
            return c

        return settings, client, clients

    opened = []

    def factory(**overrides):
        settings, client, clients = start(**overrides)
        opened.append(clients)
        return settings, client

    yield factory
    for clients in opened:
        for c in clients:
            c.__exit__(None, None, None)


def audit_actions(settings, action: str) -> list[AuditEvent]:
    engine, sessions = db(settings)
    with session_scope(sessions) as s:
        rows = list(s.scalars(select(AuditEvent).where(AuditEvent.action == action)))
    engine.dispose()
    return rows


# --- sign-in -------------------------------------------------------------------------------
def test_first_sign_in_from_the_link_users_add_prints(web, tmp_path, monkeypatch, capsys):
    settings, client = web()
    monkeypatch.setenv("CASEASSIST_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("CASEASSIST_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("CASEASSIST_PUBLIC_URL", "https://caseassist.example")
    assert main(["users", "add", "--name", "Sam Jones", "--role", "practitioner"]) == 0
    out = capsys.readouterr().out
    token = re.search(r"^token: (\S+)$", out, re.M).group(1)
    link = re.search(r"^set-password link: (\S+)$", out, re.M).group(1)
    assert link.startswith("https://caseassist.example/set-password?token=")
    secret = link.split("token=", 1)[1]
    assert secret.encode() not in (tmp_path / "test.db").read_bytes()  # stored hashed

    c = client()
    page = c.get(link.removeprefix("https://caseassist.example"))
    assert page.status_code == 200 and "Sam Jones" in page.text
    form = {"token": secret, "csrf_token": csrf_of(page.text)}
    short = c.post("/set-password", data={**form, "password": "short", "confirm": "short"})
    assert short.status_code == 400 and "at least 10 characters" in short.text
    r = c.post("/set-password", data={**form, "password": PASSWORD, "confirm": PASSWORD})
    assert r.status_code == 303 and r.headers["location"] == "/sign-in?done=password"
    again = c.get(f"/set-password?token={secret}")  # one time only
    assert again.status_code == 404 and "cannot be used" in again.text
    # the sign-in page that follows has their name filled in (hand walk: it was empty), from a
    # short-lived cookie for that page only, never from the address
    just = next(h for h in r.headers.get_list("set-cookie") if "caseassist_name=" in h)
    assert "Path=/sign-in" in just and "HttpOnly" in just and "Max-Age=600" in just
    following = c.get("/sign-in?done=password")
    assert 'value="Sam Jones"' in following.text
    assert 'value="Sam Jones"' not in c.get("/sign-in").text  # only straight after setting it

    assert sign_in(c, "Sam Jones", "not the password").status_code == 400
    r = sign_in(c, "sam jones")  # the name as printed, in any case
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = next(h for h in r.headers.get_list("set-cookie") if "caseassist_session=" in h)
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    home = c.get("/")
    assert home.status_code == 200 and "My visits" in home.text and "Sam Jones" in home.text
    # the API token printed beside the link works as before
    api = c.get("/v1/jobs/nope", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 404
    assert [e.details["reason"] for e in audit_actions(settings, "auth.failed")] == ["bad_password"]
    assert len(audit_actions(settings, "auth.sign_in")) == 1
    assert len(audit_actions(settings, "user.password_set")) == 1


def test_users_password_link_prints_a_fresh_link_for_a_known_user(web, monkeypatch, capsys):
    settings, client = web()
    monkeypatch.setenv("CASEASSIST_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("CASEASSIST_DATA_DIR", str(settings.data_dir))
    assert main(["users", "add", "--name", "Kit Lee", "--role", "practitioner"]) == 0
    uid = re.search(r"^user_id: (\S+)$", capsys.readouterr().out, re.M).group(1)
    assert main(["users", "password-link", "--user-id", uid]) == 0
    link = re.search(r"^set-password link: (\S+)$", capsys.readouterr().out, re.M).group(1)
    page = client().get("/set-password?token=" + link.split("token=", 1)[1])
    assert page.status_code == 200 and "Kit Lee" in page.text
    assert main(["users", "password-link", "--user-id", "0" * 32]) == 2  # unknown: an error
    assert len(audit_actions(settings, "user.password_link")) == 2


def test_an_expired_link_sets_nothing(web, tmp_path):
    settings, client = web()
    uid, _ = add_web_user(settings, "Ada", "practitioner")
    engine, sessions = db(settings)
    with session_scope(sessions) as s:
        repo.create_password_link(
            session=s, user_id=uid, token_hash=repo_hash("old-link"), valid_for=timedelta(0)
        )
    engine.dispose()
    c = client()
    assert c.get("/set-password?token=old-link").status_code == 404
    page = c.get("/sign-in")
    r = c.post(
        "/set-password",
        data={
            "token": "old-link",
            "password": "a new password 1",
            "confirm": "a new password 1",
            "csrf_token": csrf_of(page.text),
        },
    )
    assert r.status_code == 404
    assert sign_in(c, "Ada").status_code == 303  # the old password still works


def repo_hash(secret: str) -> str:
    from assistant.auth import hash_token

    return hash_token(secret)


@pytest.mark.parametrize(
    ("base_url", "setting", "secure"),
    [
        ("https://testserver", None, True),  # over https: Secure
        ("http://testserver", None, False),
        ("http://testserver", True, True),  # forced, e.g. behind a proxy without its headers
    ],
)
def test_cookie_flags(web, base_url, setting, secure):
    settings, client = web(cookie_secure=setting)
    add_web_user(settings, "Ada", "practitioner")
    c = client(base_url)
    page = c.get("/sign-in")
    csrf_cookie = next(h for h in page.headers.get_list("set-cookie") if "caseassist_csrf" in h)
    r = c.post(
        "/sign-in",
        data={"name": "Ada", "password": PASSWORD, "csrf_token": csrf_of(page.text)},
    )
    if secure and base_url.startswith("http:"):
        # the browser would not send the Secure CSRF cookie back over http: refused
        assert r.status_code == 403
        assert "Secure" in csrf_cookie
        return
    assert r.status_code == 303
    session_cookie = next(h for h in r.headers.get_list("set-cookie") if "caseassist_session" in h)
    for cookie in (csrf_cookie, session_cookie):
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert ("Secure" in cookie) == secure


def test_pages_ask_to_sign_in_and_come_back(web):
    settings, client = web()
    add_web_user(settings, "Ada", "practitioner")
    c = client()
    for path in ("/", "/visits/new", "/visits/abc", "/notes/abc?x=1"):
        r = c.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/sign-in?next=/")
    r = c.get("/notes/abc?x=1")
    page = c.get(r.headers["location"])
    assert 'name="next" value="/notes/abc?x=1"' in page.text
    r = c.post(
        "/sign-in",
        data={
            "name": "Ada",
            "password": PASSWORD,
            "csrf_token": csrf_of(page.text),
            "next": "https://elsewhere.example/",
        },
    )
    assert r.headers["location"] == "/"  # never off the service
    assert c.get("/v1/recordings/abc/audio").status_code == 404  # the cookie reaches audio


# --- CSRF ----------------------------------------------------------------------------------
def test_every_form_refuses_a_missing_or_foreign_csrf_token(web):
    settings, client = web()
    owner, _ = add_web_user(settings, "Ada", "practitioner")
    ids = seed_note(settings, owner)
    c = client()
    page = c.get("/sign-in")
    good = csrf_of(page.text)
    for token in ("", "x" * 43):
        r = c.post("/sign-in", data={"name": "Ada", "password": PASSWORD, "csrf_token": token})
        assert r.status_code == 403 and "did not come from this service" in r.text
    r = c.post("/sign-in", data={"name": "Ada", "password": PASSWORD, "csrf_token": good})
    assert r.status_code == 303
    signed_in = csrf_of(c.get("/").text)
    assert signed_in != good  # bound to the session now
    # another browser's token is not this one's
    other = client()
    assert sign_in(other, "Ada").status_code == 303
    foreign = csrf_of(other.get("/").text)
    assert foreign != signed_in

    for token in ("", good, foreign):
        r = c.post(f"/notes/{ids['note']}/approve", data={"csrf_token": token})
        assert r.status_code == 403, token
        r = c.post("/sign-out", data={"csrf_token": token})
        assert r.status_code == 403
    wav = b"RIFF" + b"\0" * 100
    r = c.post(
        "/visits/new",
        data={"csrf_token": foreign, "consent": "yes"},
        files={"audio": ("v.wav", wav, "audio/wav")},
    )
    assert r.status_code == 403
    assert not list(settings.uploads_dir.glob("*")), "nothing of the refused upload is kept"
    engine, sessions = db(settings)
    with session_scope(sessions) as s:
        assert s.get(Note, ids["note"]).status == "draft"
        assert s.scalar(select(func.count()).select_from(Recording)) == 1
    engine.dispose()
    assert c.get("/").status_code == 200  # still signed in
    # with its own token, each form works
    assert c.post("/sign-out", data={"csrf_token": signed_in}).status_code == 303
    assert c.get("/").status_code == 303


def test_sign_out_ends_the_session_on_the_server(web):
    settings, client = web()
    add_web_user(settings, "Ada", "practitioner")
    c = client()
    sign_in(c, "Ada")
    stolen = c.cookies.get("caseassist_session")
    r = c.post("/sign-out", data={"csrf_token": csrf_of(c.get("/").text)})
    assert r.status_code == 303 and r.headers["location"] == "/sign-in?done=signed-out"
    replay = client()
    replay.cookies.set("caseassist_session", stolen)
    assert replay.get("/").status_code == 303  # the old cookie is worth nothing
    assert len(audit_actions(settings, "auth.sign_out")) == 1


# --- failures: throttled and audited; the idle timeout --------------------------------------
def test_repeated_failures_lock_the_name_and_are_audited(web):
    settings, client = web(sign_in_attempts=3)
    add_web_user(settings, "Ada", "practitioner")
    c = client()
    for _ in range(3):
        assert sign_in(c, "Ada", "wrong password!").status_code == 400
    locked = sign_in(c, "ada", PASSWORD)  # the right password, too late
    assert locked.status_code == 429 and "Too many failed attempts" in locked.text
    failures = audit_actions(settings, "auth.failed")
    assert len(failures) == 3
    assert {e.details["client"] for e in failures} == {"testclient"}
    assert all("Ada" not in str(e.details) and "wrong" not in str(e.details) for e in failures)


def test_an_idle_session_is_signed_out_an_active_one_until_its_lifetime(web):
    settings, client = web(session_idle_minutes=5, session_max_hours=1)
    add_web_user(settings, "Ada", "practitioner")
    engine, sessions = db(settings)

    def age(**columns):
        with session_scope(sessions) as s:
            s.execute(update(WebSession).values(**columns))

    c = client()
    sign_in(c, "Ada")
    age(last_seen_at=utcnow() - timedelta(minutes=4))
    assert c.get("/").status_code == 200  # used within the timeout: still signed in ...
    with session_scope(sessions) as s:  # ... and that use counts as activity
        seen = s.scalar(select(WebSession.last_seen_at))
        assert utcnow() - seen < timedelta(seconds=30)
    age(created_at=utcnow() - timedelta(minutes=59))
    assert c.get("/").status_code == 200
    age(created_at=utcnow() - timedelta(minutes=61))
    r = c.get("/")  # past the lifetime, however active
    assert r.status_code == 303 and r.headers["location"].startswith("/sign-in")

    sign_in(c, "Ada")
    with session_scope(sessions) as s:
        s.execute(
            update(WebSession)
            .where(WebSession.ended_at.is_(None))
            .values(last_seen_at=utcnow() - timedelta(minutes=6))
        )
    r = c.get("/")  # idle past the timeout
    assert r.status_code == 303 and r.headers["location"].startswith("/sign-in")
    engine.dispose()


# --- My visits -----------------------------------------------------------------------------
def test_my_visits_newest_first_paginated_own_only_managers_all(web):
    settings, client = web()
    a, _ = add_web_user(settings, "Ada", "practitioner")
    b, _ = add_web_user(settings, "Ben", "practitioner")
    add_web_user(settings, "Mo", "manager")
    engine, sessions = db(settings)
    with session_scope(sessions) as s:
        recs = [seed_recording(s, a) for _ in range(21)]
        for i, rec in enumerate(recs):
            rec.visit_type = f"visit number {i}"
            rec.created_at = utcnow() - timedelta(hours=100 - i)
        theirs = seed_recording(s, b)
        theirs.visit_type = "Ben's visit"
    engine.dispose()

    ada = client()
    sign_in(ada, "Ada")
    first = ada.get("/").text
    assert "21 visits, newest first" in first
    order = re.findall(r"cell\"[^>]*>visit number (\d+)<", first)
    assert order == [str(i) for i in range(20, 0, -1)]  # 20 on a page, newest first
    assert "Ben&#39;s visit" not in first and "Practitioner</th>" not in first
    second = ada.get("/?page=2").text
    assert re.findall(r"cell\"[^>]*>visit number (\d+)<", second) == ["0"]
    assert 'aria-current="page">2<' in second

    mo = client()
    sign_in(mo, "Mo")
    all_visits = mo.get("/").text
    assert "All visits" in all_visits and "22 visits" in all_visits
    assert "Ben&#39;s visit" in all_visits and "Practitioner</th>" in all_visits


# --- New visit and progress ----------------------------------------------------------------
@pytest.mark.skipif(not espeak_available(), reason="espeak-ng not installed")
def test_new_visit_uses_the_api_intake_and_records_consent(web, tmp_path):
    settings, client = web()
    add_web_user(settings, "Ada", "practitioner")
    wav = synthesize("Hello, I am the social worker. How has your week been?", tmp_path / "v.wav")
    c = client()
    sign_in(c, "Ada")
    form = {
        "csrf_token": csrf_of(c.get("/visits/new").text),
        "day": "3",
        "month": "11",
        "year": "2026",
        "visit_type": "home visit",
        "template": "visit_note",
        "language": "en",
    }
    files = {"audio": ("visit.wav", wav.read_bytes(), "audio/wav")}
    no_consent = c.post("/visits/new", data=form, files=files)
    assert no_consent.status_code == 400
    assert "agreed to it" in no_consent.text and 'href="#consent"' in no_consent.text
    assert 'value="home visit"' in no_consent.text  # what was typed is kept
    bad_date = c.post("/visits/new", data={**form, "day": "31", "consent": "yes"}, files=files)
    assert bad_date.status_code == 400 and "real date" in bad_date.text
    bad_terms = c.post(
        "/visits/new", data={**form, "consent": "yes", "vocabulary": "Oakwood, <b>"}, files=files
    )
    assert bad_terms.status_code == 400 and 'href="#vocabulary"' in bad_terms.text
    assert "term 2 may hold only" in bad_terms.text
    assert 'value="Oakwood, &lt;b&gt;"' in bad_terms.text  # kept, escaped
    assert not list(settings.uploads_dir.glob("*"))

    form["vocabulary"] = "Oakwood Primary, Holm Lane"
    r = c.post("/visits/new", data={**form, "consent": "yes"}, files=files)
    assert r.status_code == 303
    rec_id = r.headers["location"].rsplit("/", 1)[1]
    uploads = audit_actions(settings, "recording.upload")
    assert [(e.object_id, e.details["consent"], e.details["via"]) for e in uploads] == [
        (rec_id, "confirmed", "web")
    ]
    engine, sessions = db(settings)
    with session_scope(sessions) as s:
        rec = s.get(Recording, rec_id)
        assert (rec.visit_type, rec.visit_date.isoformat()) == ("home visit", "2026-11-03")
        assert rec.vocabulary == "Oakwood Primary\nHolm Lane"
    engine.dispose()
    progress = c.get(f"/visits/{rec_id}")
    assert progress.status_code == 200 and "Waiting to start" in progress.text
    # found walking through the app: "0% of this stage done" while nothing had started
    assert "% of this stage done" not in progress.text
    assert "Processing starts when the recordings uploaded before it are done" in progress.text
    assert 'data-status="queued"' in progress.text
    state = c.get(f"/visits/{rec_id}/progress").json()
    assert state["status"] == "queued" and state["finished"] is False
    listing = c.get("/").text
    assert f'href="/visits/{rec_id}"' in listing and ">Waiting<" in listing


def test_progress_page_says_what_failed_and_what_to_do(web):
    settings, client = web()
    owner, _ = add_web_user(settings, "Ada", "practitioner")
    engine, sessions = db(settings)
    with session_scope(sessions) as s:
        rec = seed_recording(s, owner)
        job = repo.create_job(session=s, recording_id=rec.id)
        repo.update_job(
            session=s,
            job_id=job.id,
            status="failed",
            error_code="drafting_failed",
            error_message="The draft could not be made.",
        )
        ids = (rec.id, job.id)
    engine.dispose()
    c = client()
    sign_in(c, "Ada")
    page = c.get(f"/visits/{ids[0]}").text
    assert "The draft could not be made." in page
    assert ids[1] in page and "Upload the recording again" in page


# --- Review, approve, export; the audio ----------------------------------------------------
def test_review_approve_export(web):
    settings, client = web()
    owner, _ = add_web_user(settings, "Ada", "practitioner")
    ids = seed_note(settings, owner)
    c = client()
    sign_in(c, "Ada")
    page = c.get(f"/notes/{ids['note']}").text
    assert "Visit to see Amara at home." in page  # the owner reads real names
    assert 'id="seg-s0001"' in page and "Hello Amara." in page
    assert 'data-start="0.00" data-segments="s0001"' in page
    assert f'src="/v1/recordings/{ids["rec"]}/audio"' not in page  # no audio stored
    r = c.post(
        f"/notes/{ids['note']}/approve", data={"csrf_token": csrf_of(page), "declaration": "yes"}
    )
    assert r.status_code == 303
    approved = c.get(r.headers["location"]).text
    assert "approved and locked" in approved and 'id="approve"' not in approved
    again = c.post(
        f"/notes/{ids['note']}/approve", data={"csrf_token": csrf_of(page), "declaration": "yes"}
    )
    assert again.status_code == 409 and "already approved" in again.text
    md = c.get(f"/notes/{ids['note']}/export?format=md")
    assert md.status_code == 200 and "[PERSON_1]" in md.text
    assert "attachment" in md.headers["content-disposition"]
    named = c.get(f"/notes/{ids['note']}/export?format=txt&names=true")
    assert "Amara" in named.text
    assert c.get(f"/notes/{ids['note']}/export?format=exe").status_code == 400
    assert [e.actor_id for e in audit_actions(settings, "note.approve")] == [owner]


def test_the_approval_audit_event_records_the_declaration_or_its_absence(web):
    """The web form asks for the declaration "I have checked this note against the recording
    and it is an accurate record"; its audit event did not record it, so an auditor could not
    tell a declared approval from the API's, which asks for none. Each now says which."""
    from assistant.web.routes.review import DECLARATION

    settings, client = web()
    owner, token = add_web_user(settings, "Ada", "practitioner")
    by_page, by_api = seed_note(settings, owner), seed_note(settings, owner)
    c = client()
    sign_in(c, "Ada")
    page = c.get(f"/notes/{by_page['note']}").text
    r = c.post(
        f"/notes/{by_page['note']}/approve",
        data={"csrf_token": csrf_of(page), "declaration": "yes"},
    )
    assert r.status_code == 303
    assert _api(client(), token).post(f"/v1/notes/{by_api['note']}/approve").status_code == 200
    events = {e.object_id: e.details for e in audit_actions(settings, "note.approve")}
    assert set(events) == {by_page["note"], by_api["note"]}
    web_event, api_event = events[by_page["note"]], events[by_api["note"]]
    assert (web_event["via"], web_event["declaration"]) == ("web", DECLARATION)
    assert (api_event["via"], api_event["declaration"]) == ("api", None)


def test_a_note_style_draft_shows_its_header_and_who_said_each_thing(web):
    """A v5 note on the review page: the header found in code, with its evidence; statements
    written as a practitioner reads them ("Mum said: “...”"), an agreed action as its row."""
    settings, client = web()
    owner, _ = add_web_user(settings, "Ada", "practitioner")
    body = {
        "header": [
            {"key": "present", "title": "Who spoke at the visit",
             "value": "The social worker, Mum", "evidence": ["s0001"]},
        ],
        "sections": [
            {"key": "worries", "title": "Worries", "statements": [
                {"text": "He has not been sleeping.", "kind": "direct_quote", "speaker": "Mum",
                 "evidence": ["s0001"], "flags": []}]},
            {"key": "actions", "title": "Agreed actions", "statements": [
                {"text": "I'll ring the school by Friday.", "kind": "agreed_action",
                 "speaker": "Social worker", "evidence": ["s0001"], "flags": [],
                 "action": {"who": "The social worker",
                            "what": "I'll ring the school by Friday.", "by": "by Friday"}}]},
        ],
    }  # fmt: skip
    ids = seed_note(settings, owner, draft=body)
    c = client()
    sign_in(c, "Ada")
    page = html.unescape(c.get(f"/notes/{ids['note']}").text)
    assert "Who spoke at the visit" in page and "The social worker, Mum" in page
    assert "Mum said: “He has not been sleeping.”" in page
    assert "The social worker: I'll ring the school by Friday. — when: by Friday" in page


def test_audio_endpoint_serves_ranges_to_the_owner_only(web, tmp_path):
    settings, client = web()
    owner, token = add_web_user(settings, "Ada", "practitioner")
    _, other_token = add_web_user(settings, "Ben", "practitioner")
    _, manager_token = add_web_user(settings, "Mo", "manager")
    audio = tmp_path / "a.wav"
    original = bytes(range(256)) * 40
    audio.write_bytes(original)
    ids = seed_note(settings, owner, audio_path=audio)  # encrypts it in place
    assert original not in audio.read_bytes()
    url = f"/v1/recordings/{ids['rec']}/audio"
    c = client()
    auth = {"Authorization": f"Bearer {token}"}
    whole = c.get(url, headers=auth)
    assert whole.status_code == 200 and whole.content == original
    assert whole.headers["content-type"] == "audio/wav"
    assert whole.headers["accept-ranges"] == "bytes"
    part = c.get(url, headers={**auth, "Range": "bytes=256-511"})
    assert part.status_code == 206 and part.content == bytes(range(256))
    assert part.headers["content-range"] == f"bytes 256-511/{256 * 40}"
    assert c.get(url, headers={**auth, "Range": "bytes=99999-"}).status_code == 416
    assert len(audit_actions(settings, "recording.audio")) == 1  # the first byte, once
    for other in (other_token, manager_token):
        assert c.get(url, headers={"Authorization": f"Bearer {other}"}).status_code == 404
    assert c.get(url).status_code == 401
    # the owner's signed-in browser plays it (no token), and the review page embeds it
    sign_in(c, "Ada")
    assert c.get(url, headers={"Range": "bytes=0-9"}).content == bytes(range(10))
    assert f'src="{url}"' in c.get(f"/notes/{ids['note']}").text


def test_another_practitioner_cannot_open_the_first_ones_pages(web):
    settings, client = web()
    owner, _ = add_web_user(settings, "Ada", "practitioner")
    add_web_user(settings, "Ben", "practitioner")
    add_web_user(settings, "Mo", "manager")
    ids = seed_note(settings, owner)
    ben = client()
    sign_in(ben, "Ben")
    token = csrf_of(ben.get("/").text)
    for path in (
        f"/notes/{ids['note']}",
        f"/visits/{ids['rec']}",
        f"/visits/{ids['rec']}/progress",
        f"/notes/{ids['note']}/export?format=md",
        f"/v1/recordings/{ids['rec']}/audio",
    ):
        r = ben.get(path)
        assert r.status_code == 404, path
        assert "Amara" not in r.text and "PERSON_1" not in r.text
    assert ben.post(f"/notes/{ids['note']}/approve", data={"csrf_token": token}).status_code == 404
    assert f"/notes/{ids['note']}" not in ben.get("/").text
    # a manager reads it for supervision: placeholders, redacted transcript, no audio, no approve
    mo = client()
    sign_in(mo, "Mo")
    page = mo.get(f"/notes/{ids['note']}").text
    assert "Visit to see [PERSON_1] at home." in page and "Amara" not in page
    assert "<audio" not in page and 'id="approve"' not in page
    r = mo.post(
        f"/notes/{ids['note']}/approve", data={"csrf_token": csrf_of(page), "declaration": "yes"}
    )
    assert r.status_code == 404  # approving is the owner's: as if there were no such note


def test_pages_carry_a_strict_content_policy_and_static_files_are_served(web):
    settings, client = web()
    c = client()
    page = c.get("/sign-in")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "form-action 'self'" in csp and "unsafe" not in csp
    assert "<script>" not in page.text  # no inline script anywhere
    for path in ("/static/govuk/govuk-frontend.min.css", "/static/govuk/govuk-frontend.min.js"):
        assert c.get(path).status_code == 200
    assert c.get("/v1/nope").headers["content-type"] == "application/json"
    missing = c.get("/no-such-page")
    assert missing.status_code == 404 and "Page not found" in missing.text


def test_every_page_names_its_icon_and_the_service_serves_it(web):
    """Found walking through the app: every page asked for /favicon.ico and got a 404 in the
    browser's console. The icon is the service's own file (no CDN, allowed by img-src 'self')."""
    settings, client = web()
    c = client()
    page = c.get("/sign-in")
    assert '<link rel="icon" href="/static/web/favicon.svg" type="image/svg+xml">' in page.text
    icon = c.get("/static/web/favicon.svg")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert "img-src 'self'" in page.headers["content-security-policy"]


def test_every_verification_finding_has_words_on_the_review_page():
    from assistant.notes.flags import FLAG_LABELS, FLAG_PREFIXES
    from assistant.review import repair, safeguarding, verify

    flags = {
        value
        for module in (repair, safeguarding, verify)
        for name, value in vars(module).items()
        if name.startswith("FLAG_") and isinstance(value, str)
    }
    assert len(flags) >= 9
    for flag in flags:
        known = FLAG_PREFIXES if flag.endswith(":") else FLAG_LABELS
        assert flag in known, flag


# --- safeguarding confirmations, statement edits, the approval record ------------------------
def _api(client, token):
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def _revisions(settings, note_id) -> int:
    engine, sessions = db(settings)
    with session_scope(sessions) as s:
        n = len(repo.list_revisions(session=s, note_id=note_id))
    engine.dispose()
    return n


def test_safeguarding_statements_must_each_be_confirmed_before_approval(web):
    settings, client = web()
    owner, token = add_web_user(settings, "Ada", "practitioner")
    _, ben_token = add_web_user(settings, "Ben", "practitioner")
    _, mo_token = add_web_user(settings, "Mo", "manager")
    ids = seed_note(settings, owner, draft=FLAGGED)
    note = f"/v1/notes/{ids['note']}"
    api = _api(client(), token)
    view = api.get(note).json()
    assert view["safeguarding"] == [
        {"section": "worries", "index": 0, "categories": ["suicidal_ideation"], "confirmed": False}
    ]
    refused = api.post(f"{note}/approve")
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "safeguarding_unconfirmed" and "1 of 1" in error["message"]
    assert "suicide" not in error["message"]  # counts, never the words

    confirm = f"{note}/statements/worries/0/confirm"
    for path, status, code in [
        (f"{note}/statements/purpose/0/confirm", 422, "not_safeguarding"),
        (f"{note}/statements/worries/5/confirm", 404, "no_such_statement"),
        (f"{note}/statements/nope/0/confirm", 422, "invalid_edit"),
        (f"{confirm}?revision=7", 409, "stale_revision"),
        (f"{confirm}?revision=0", 422, "validation_error"),
    ]:
        r = api.post(path)
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), path
    for other in (ben_token, mo_token):  # not theirs to sign off
        r = client().post(confirm, headers={"Authorization": f"Bearer {other}"})
        assert r.status_code == 404
    assert audit_actions(settings, "note.confirm_statement") == []

    # the web: a confirm button on the statement, then approval
    c = client()
    sign_in(c, "Ada")
    page = c.get(f"/notes/{ids['note']}").text
    assert "Safeguarding: suicidal ideation" in page and "1 statement raising" in page
    r = c.post(
        f"/notes/{ids['note']}/approve", data={"csrf_token": csrf_of(page), "declaration": "yes"}
    )
    assert r.status_code == 409 and "not confirmed yet: confirm each one" in r.text
    assert 'href="#safeguarding-pending"' in r.text
    action = f"/notes/{ids['note']}/confirm/worries/0"
    assert f'action="{action}"' in page
    assert c.post(action, data={"csrf_token": "", "revision": "1"}).status_code == 403
    r = c.post(action, data={"csrf_token": csrf_of(page), "revision": "1", "anchor": "st-1-0"})
    assert r.status_code == 303 and r.headers["location"].endswith("?confirmed=1#st-1-0")
    page = c.get(r.headers["location"]).text
    assert "app-confirmed" in page and f'action="{action}"' not in page
    assert api.get(note).json()["safeguarding"][0]["confirmed"] is True
    [event] = audit_actions(settings, "note.confirm_statement")
    assert event.details == {
        "revision": 1,
        "section": "worries",
        "index": 0,
        "categories": ["suicidal_ideation"],
    }

    # new words need a new confirmation; a move keeps it
    r = api.patch(f"{note}/statements/worries/0", json={"text": "[PERSON_1] spoke of suicide."})
    assert r.status_code == 200 and r.json()["safeguarding"][0]["confirmed"] is False
    assert api.post(f"{note}/approve").json()["error"]["code"] == "safeguarding_unconfirmed"
    assert api.post(confirm).status_code == 200
    moved = api.patch(f"{note}/statements/worries/0", json={"section": "purpose"})
    assert moved.json()["safeguarding"] == [
        {"section": "purpose", "index": 1, "categories": ["suicidal_ideation"], "confirmed": True}
    ]
    approved = api.post(f"{note}/approve")
    assert approved.status_code == 200, approved.text
    assert approved.json()["approval"]["edited"] == 1
    assert api.post(f"{note}/statements/purpose/1/confirm").json()["error"]["code"] == (
        "note_approved"
    )
    [event] = audit_actions(settings, "note.approve")
    assert event.details["safeguarding_confirmed"] == 1 and event.details["edited"] == 1


def test_statement_level_edits_each_a_revision_bad_input_changes_nothing(web):
    settings, client = web()
    owner, token = add_web_user(settings, "Ada", "practitioner")
    _, ben_token = add_web_user(settings, "Ben", "practitioner")
    _, mo_token = add_web_user(settings, "Mo", "manager")
    ids = seed_note(settings, owner, draft=FLAGGED)
    note = f"/v1/notes/{ids['note']}"
    api = _api(client(), token)

    added = api.post(
        f"{note}/statements?revision=1",
        json={"section": "actions", "text": "Review in two weeks.", "kind": "agreed_action"},
    )
    assert added.status_code == 201 and added.json()["revision"] == 2
    actions = next(s for s in added.json()["sections"] if s["key"] == "actions")
    assert actions["statements"][0]["flags"] == ["added_by_practitioner"]
    changed = api.patch(f"{note}/statements/purpose/0", json={"kind": "reported"})
    assert changed.status_code == 200 and changed.json()["revision"] == 3
    removed = api.delete(f"{note}/statements/actions/0?revision=3")
    assert removed.status_code == 200 and removed.json()["revision"] == 4
    assert [e.details["op"] for e in audit_actions(settings, "note.edit")] == [
        "add",
        "change",
        "remove",
    ]

    bad = [
        ("post", "/statements", {"section": "purpose", "text": ""}, 422, "validation_error"),
        (
            "post",
            "/statements",
            {"section": "purpose", "text": "x", "kind": "gossip"},
            422,
            "validation_error",
        ),
        ("post", "/statements", {"section": "nope", "text": "x"}, 422, "invalid_edit"),
        (
            "post",
            "/statements",
            {"section": "purpose", "text": "x", "position": 5},
            422,
            "invalid_edit",
        ),
        (
            "post",
            "/statements",
            {"section": "purpose", "text": "x", "evidence": ["s9999"]},
            422,
            "invalid_edit",
        ),
        ("post", "/statements", {"section": "purpose", "text": "   "}, 422, "invalid_edit"),
        ("patch", "/statements/purpose/0", {}, 400, "nothing_to_change"),
        ("patch", "/statements/purpose/0", {"text": None}, 400, "bad_request"),
        ("patch", "/statements/purpose/9", {"text": "x"}, 404, "no_such_statement"),
        ("patch", "/statements/purpose/0", {"section": "nope"}, 422, "invalid_edit"),
        ("patch", "/statements/purpose/0?revision=2", {"text": "x"}, 409, "stale_revision"),
        ("delete", "/statements/purpose/3", None, 404, "no_such_statement"),
    ]
    for method, path, body, status, code in bad:
        kwargs = {"json": body} if body is not None else {}
        r = getattr(api, method)(note + path, **kwargs)
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), (path, body)
    for other in (ben_token, mo_token):
        r = client().delete(
            f"{note}/statements/purpose/0", headers={"Authorization": f"Bearer {other}"}
        )
        assert r.status_code == 404
    assert _revisions(settings, ids["note"]) == 4  # nothing refused was stored
    assert len(audit_actions(settings, "note.edit")) == 3

    spec = api.get("/openapi.json").json()["paths"]
    assert {"post"} <= set(spec["/v1/notes/{note_id}/statements"])
    assert {"patch", "delete"} <= set(spec["/v1/notes/{note_id}/statements/{section}/{index}"])
    assert "post" in spec["/v1/notes/{note_id}/statements/{section}/{index}/confirm"]
    assert "get" in spec["/v1/notes"] and "get" in spec["/v1/recordings"]


def test_the_approval_record_says_which_ai_statements_were_kept_edited_or_removed(web):
    settings, client = web()
    owner, token = add_web_user(settings, "Ada", "practitioner")
    ids = seed_note(settings, owner, draft=FLAGGED)
    note = f"/v1/notes/{ids['note']}"
    api = _api(client(), token)
    api.delete(f"{note}/statements/worries/0")  # the safeguarding statement removed
    api.patch(
        f"{note}/statements/purpose/0", json={"text": "Visit to see [PERSON_1] at home today."}
    )
    api.post(f"{note}/statements", json={"section": "actions", "text": "Call school."})
    r = api.post(f"{note}/approve")  # nothing left to confirm
    assert r.status_code == 200, r.text
    record = r.json()["approval"]
    assert {k: record[k] for k in ("ai_statements", "kept", "edited", "removed", "added")} == {
        "ai_statements": 2,
        "kept": 0,
        "edited": 1,
        "removed": 1,
        "added": 1,
    }
    assert record["revision"] == 4
    assert [(s["ai"]["section"], s["outcome"]) for s in record["statements"]] == [
        ("purpose", "edited"),
        ("worries", "removed"),
    ]
    assert api.get(note).json()["approval"] == record  # stored with the approval
    exported = api.get(f"{note}/export?format=json").json()
    assert exported["approval"] == record
    [event] = audit_actions(settings, "note.approve")
    assert (event.details["kept"], event.details["edited"], event.details["removed"]) == (0, 1, 1)

    c = client()
    sign_in(c, "Ada")
    page = c.get(f"/notes/{ids['note']}").text
    assert 'id="approval-record"' in page and "0 kept unchanged, 1 edited, 1 removed" in page
    changes = c.get(f"/notes/{ids['note']}/changes")
    assert changes.status_code == 200 and "As approved (revision 4)" in changes.text
    assert "thoughts of suicide" in changes.text and ">Removed<" in changes.text
    assert "at home today." in changes.text and "Call school." in changes.text
    assert 'href="/notes/' + ids["note"] + '/edit"' not in changes.text  # locked


def test_edit_page_saves_moves_adds_and_removes_refuses_bad_input(web):
    settings, client = web()
    owner, _ = add_web_user(settings, "Ada", "practitioner")
    add_web_user(settings, "Ben", "practitioner")
    ids = seed_note(settings, owner, draft=FLAGGED)
    base = f"/notes/{ids['note']}/edit"
    c = client()
    sign_in(c, "Ada")
    page = c.get(base)
    assert page.status_code == 200
    assert "[PERSON_1] said she had thoughts of suicide" in page.text  # stored as placeholders
    assert '<dt class="govuk-summary-list__key">[PERSON_1]</dt>' in page.text
    token = csrf_of(page.text)

    def post(path, **fields):
        return c.post(path, data={"csrf_token": token, **fields})

    r = post(
        f"{base}/purpose/0",
        revision="1",
        action="save",
        text="Visit to see [PERSON_1].",
        kind="observed",
        move_to="purpose",
    )
    assert r.status_code == 303 and r.headers["location"] == f"{base}?saved=save"
    assert "Saved as revision 2" in c.get(r.headers["location"]).text
    r = post(
        f"{base}/worries/0",
        revision="2",
        action="save",
        text="[PERSON_1] said she had thoughts of suicide last month.",
        kind="reported",
        move_to="purpose",
    )
    assert r.status_code == 303  # moved to purpose, now its statement 1
    r = post(f"{base}/purpose/1", revision="3", action="up")
    assert r.status_code == 303
    r = post(f"{base}/actions", revision="4", text="Call school on Monday.", kind="agreed_action")
    assert r.status_code == 303
    r = post(f"{base}/actions/0", revision="5", action="remove")
    assert r.status_code == 303
    engine, sessions = db(settings)
    with session_scope(sessions) as s:
        body = repo.latest_body(session=s, note_id=ids["note"])
    engine.dispose()
    purpose = next(sec for sec in body.sections if sec.key == "purpose")
    assert [st.text for st in purpose.statements] == [
        "[PERSON_1] said she had thoughts of suicide last month.",
        "Visit to see [PERSON_1].",
    ]
    assert not next(sec for sec in body.sections if sec.key == "actions").statements
    assert _revisions(settings, ids["note"]) == 6

    for fields, status, words in [
        (
            {"action": "save", "text": "  ", "kind": "reported", "revision": "6"},
            422,
            "Enter the statement",
        ),
        (
            {"action": "save", "text": "x", "kind": "gossip", "revision": "6"},
            422,
            "Choose what kind",
        ),
        (
            {"action": "jump", "text": "x", "kind": "reported", "revision": "6"},
            400,
            "Unknown action",
        ),
        (
            {"action": "save", "text": "Typed words.", "kind": "reported", "revision": "2"},
            409,
            "has changed since you read it",
        ),
    ]:
        r = post(f"{base}/purpose/0", **fields)
        assert r.status_code == status and words in r.text, fields
        assert 'class="govuk-error-summary"' in r.text
    assert "Typed words." in r.text  # what was typed is kept
    r = post(f"{base}/actions", revision="6", text="", kind="reported")
    assert r.status_code == 422 and 'href="#text-add-actions"' in r.text
    assert post(f"{base}/purpose/7", revision="6", action="remove").status_code == 404
    assert c.post(f"{base}/purpose/0", data={"action": "remove"}).status_code == 403
    assert _revisions(settings, ids["note"]) == 6  # nothing refused was stored

    changes = c.get(f"/notes/{ids['note']}/changes").text
    assert "Revision 6, not approved yet" in changes
    assert "1 kept unchanged, 1 edited, 0 removed (1 moved to another section)" in changes

    ben = client()
    sign_in(ben, "Ben")
    for path in (base, f"/notes/{ids['note']}/changes"):
        assert ben.get(path).status_code == 404
    r = ben.post(
        f"{base}/purpose/0",
        data={"csrf_token": csrf_of(ben.get("/").text), "action": "remove", "revision": "6"},
    )
    assert r.status_code == 404


def test_word_download_reads_back_with_python_docx(web):
    import io

    from docx import Document

    settings, client = web()
    owner, token = add_web_user(settings, "Ada", "practitioner")
    ids = seed_note(settings, owner, draft=FLAGGED)
    c = client()
    sign_in(c, "Ada")
    page = c.get(f"/notes/{ids['note']}").text
    assert f'href="/notes/{ids["note"]}/export?format=docx"' in page
    r = c.get(f"/notes/{ids['note']}/export?format=docx")
    assert r.status_code == 200
    assert r.headers["content-type"].endswith("wordprocessingml.document")
    assert f'filename="note-{ids["note"]}.docx"' in r.headers["content-disposition"]
    doc = Document(io.BytesIO(r.content))
    text = [p.text for p in doc.paragraphs]
    assert text[0] == "Visit record" and "Visit type: home visit" in text
    assert "Purpose of the visit" in text and "Worries" in text
    assert "Observed: Visit to see [PERSON_1] at home. [s0001]" in text
    assert "[PERSON_1] said she had thoughts of suicide last month. — [PERSON_1] [s0001]" in text
    footer = " ".join(p.text for p in doc.sections[0].footer.paragraphs)
    assert "Drafted by AI (m" in footer and "Draft: not approved" in footer
    named = Document(
        io.BytesIO(c.get(f"/notes/{ids['note']}/export?format=docx&names=true").content)
    )
    assert "Observed: Visit to see Amara at home. [s0001]" in [p.text for p in named.paragraphs]

    api = _api(client(), token)
    api.post(f"/v1/notes/{ids['note']}/statements/worries/0/confirm")
    api.post(f"/v1/notes/{ids['note']}/approve")
    r = api.get(f"/v1/notes/{ids['note']}/export?format=docx")
    footer = " ".join(p.text for p in Document(io.BytesIO(r.content)).sections[0].footer.paragraphs)
    assert "Approved by Ada" in footer and "2 kept, 0 edited, 0 removed; 0 added" in footer
    assert [e.details["format"] for e in audit_actions(settings, "note.export")] == ["docx"] * 3
    assert api.get(f"/v1/notes/{ids['note']}/export?format=pdf").status_code == 422


def test_a_reworded_statement_is_exported_in_words_not_as_its_flag(web):
    """Exports printed "Check: reworded_by_practitioner", an internal flag name, to whoever
    reads the note. The statement's line says it in words, as it does "through the
    interpreter", in every format, a note-style body or not; other findings stay checks."""
    import io

    from docx import Document

    from assistant.notes.statements import REWORDED

    settings, client = web()
    owner, token = add_web_user(settings, "Ada", "practitioner")
    note_style = {
        "header": [{"key": "present", "title": "Who spoke at the visit", "value": "Mum",
                    "evidence": ["s0001"]}],
        "sections": [{"key": "worries", "title": "Worries", "statements": [
            {"text": "He has not been sleeping.", "kind": "direct_quote", "speaker": "Mum",
             "evidence": ["s0001"], "flags": []},
            {"text": "The flat was cold.", "kind": "observed", "speaker": None,
             "evidence": ["s0001"], "flags": ["low_confidence_words"]}]}],
    }  # fmt: skip
    api = _api(client(), token)
    for draft in (FLAGGED, note_style):
        note = seed_note(settings, owner, draft=draft)["note"]
        worries = f"/v1/notes/{note}/statements/worries/0"
        r = api.patch(worries, json={"text": "Mum told me [PERSON_1] sleeps badly."})
        assert r.status_code == 200, r.text
        stored = next(s for s in r.json()["sections"] if s["key"] == "worries")
        assert stored["statements"][0]["flags"] == [REWORDED]  # still marked in the data
        exports = {
            fmt: api.get(f"/v1/notes/{note}/export", params={"format": fmt}) for fmt in
            ("md", "txt", "docx")
        }  # fmt: skip
        doc = Document(io.BytesIO(exports["docx"].content))
        texts = {
            "md": exports["md"].text,
            "txt": exports["txt"].text,
            "docx": "\n".join(p.text for p in doc.paragraphs),
        }
        for fmt, text in texts.items():
            assert REWORDED not in text, (fmt, draft is note_style)
            line = next(ln for ln in text.splitlines() if "sleeps badly" in ln)
            assert "in the practitioner's words" in line, (fmt, line)
            assert "“" not in line  # not printed as Mum's quote
        if draft is note_style:  # a finding to check is still listed as one
            assert "Check: Words the recogniser was unsure of" in texts["txt"]
            assert "**Check:** Words the recogniser was unsure of" in texts["md"]
            assert "low_confidence_words" not in texts["txt"] + texts["md"] + texts["docx"]


# --- lists: the API's and My visits' filters ------------------------------------------------
def _seed_visits(settings, owner: str, other: str) -> dict[str, str]:
    """Four of the owner's visits in four states and one of someone else's."""
    engine, sessions = db(settings)
    out = {}
    with session_scope(sessions) as s:
        for n, (state, vtype, day) in enumerate(
            [
                ("approved", "home visit", "2026-01-10"),
                ("draft", "home visit", "2026-02-10"),
                ("failed", "school visit", "2026-03-10"),
                ("processing", "School visit", None),
            ]
        ):
            rec = seed_recording(s, owner)
            rec.visit_type = vtype
            rec.visit_date = date.fromisoformat(day) if day else None
            rec.created_at = utcnow() - timedelta(hours=10 - n)
            job = repo.create_job(session=s, recording_id=rec.id)
            if state in ("approved", "draft"):
                note = repo.create_note(
                    session=s,
                    recording_id=rec.id,
                    template="visit_note",
                    template_version="v1",
                    ai_draft=SECTIONS,
                    provenance={},
                )
                repo.update_job(session=s, job_id=job.id, status="done", note_id=note.id)
                if state == "approved":
                    repo.approve_note(session=s, note_id=note.id, user_id=owner, edit_distance=0)
                out[f"{state}_note"] = note.id
            elif state == "failed":
                repo.update_job(session=s, job_id=job.id, status="failed", error_code="x")
            out[state] = rec.id
        out["theirs"] = seed_recording(s, other).id
    engine.dispose()
    return out


def test_list_recordings_and_notes_filtered_paginated_owner_scoped(web):
    settings, client = web()
    owner, token = add_web_user(settings, "Ada", "practitioner")
    other, _ = add_web_user(settings, "Ben", "practitioner")
    _, mo_token = add_web_user(settings, "Mo", "manager")
    _, auditor_token = add_web_user(settings, "Aud", "auditor")
    v = _seed_visits(settings, owner, other)
    api = _api(client(), token)

    def ids(path):
        r = api.get(path)
        assert r.status_code == 200, r.text
        return [
            i.get("note_id") if "/notes" in path else i["recording_id"] for i in r.json()["items"]
        ]

    assert ids("/v1/recordings") == [v["processing"], v["failed"], v["draft"], v["approved"]]
    for status in ("approved", "draft", "failed", "processing"):
        assert ids(f"/v1/recordings?status={status}") == [v[status]]
    assert ids("/v1/recordings?visit_type=SCHOOL%20VISIT") == [v["processing"], v["failed"]]
    assert ids("/v1/recordings?visit_from=2026-02-01&visit_to=2026-03-31") == [
        v["failed"],
        v["draft"],
    ]
    page = api.get("/v1/recordings?per_page=3&page=2").json()
    assert (page["total"], page["page"], len(page["items"])) == (4, 2, 1)
    row = api.get("/v1/recordings?status=draft").json()["items"][0]
    assert row["note_id"] == v["draft_note"] and row["status"] == "draft"
    assert ids("/v1/notes") == [v["draft_note"], v["approved_note"]]
    assert ids("/v1/notes?status=approved") == [v["approved_note"]]
    assert ids("/v1/notes?visit_to=2026-01-31") == [v["approved_note"]]
    for bad in (
        "/v1/recordings?status=lost",
        "/v1/recordings?visit_from=10%2F01%2F2026",
        "/v1/recordings?page=0",
        "/v1/recordings?per_page=101",
        "/v1/notes?status=processing",
    ):
        r = api.get(bad)
        assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error", bad

    mo = client()
    mo.headers["Authorization"] = f"Bearer {mo_token}"
    assert mo.get("/v1/recordings").json()["total"] == 5  # a manager sees the team's
    assert mo.get("/v1/notes").json()["total"] == 2
    aud = client()
    aud.headers["Authorization"] = f"Bearer {auditor_token}"
    assert aud.get("/v1/notes").json()["total"] == 0  # no case content for an auditor
    assert client().get("/v1/notes").status_code == 401


def test_my_visits_filters_by_status_type_and_date(web):
    settings, client = web()
    owner, _ = add_web_user(settings, "Ada", "practitioner")
    other, _ = add_web_user(settings, "Ben", "practitioner")
    v = _seed_visits(settings, owner, other)
    c = client()
    sign_in(c, "Ada")
    home = c.get("/").text
    assert '<option value="home visit"' in home and "4 visits, newest first" in home
    r = c.get("/?status=draft")
    assert "1 visit found" in r.text and f'href="/notes/{v["draft_note"]}"' in r.text
    r = c.get("/?visit_type=school+visit&from=2026-03-01")
    assert "1 visit found" in r.text and f'href="/visits/{v["failed"]}"' in r.text
    assert "Clear filters" in r.text
    assert "No visits match" in c.get("/?from=2030-01-01").text
    for query, words in [
        ("/?from=2026-13-01", "visit date from as a real date"),
        ("/?status=lost", "Choose a status"),
        ("/?from=2026-03-01&to=2026-01-01", "on or before"),
    ]:
        r = c.get(query)
        assert r.status_code == 400 and words in r.text and "govuk-error-summary" in r.text
    assert c.get("/?page=x").status_code == 200


# --- delete ---------------------------------------------------------------------------------
def test_delete_a_visit_after_confirming(web, tmp_path):
    settings, client = web()
    owner, _ = add_web_user(settings, "Ada", "practitioner")
    add_web_user(settings, "Ben", "practitioner")
    audio = tmp_path / "a.wav"
    audio.write_bytes(b"RIFF" + b"\0" * 100)
    ids = seed_note(settings, owner, audio_path=audio)
    c = client()
    sign_in(c, "Ada")
    review = c.get(f"/notes/{ids['note']}").text
    assert f'href="/visits/{ids["rec"]}/delete"' in review
    page = c.get(f"/visits/{ids['rec']}/delete")
    assert page.status_code == 200 and "cannot be undone" in page.text
    token = csrf_of(page.text)
    ben = client()
    sign_in(ben, "Ben")
    assert ben.get(f"/visits/{ids['rec']}/delete").status_code == 404
    ben_token = csrf_of(ben.get("/").text)
    r = ben.post(f"/visits/{ids['rec']}/delete", data={"csrf_token": ben_token, "confirm": "yes"})
    assert r.status_code == 404
    assert c.post(f"/visits/{ids['rec']}/delete", data={"confirm": "yes"}).status_code == 403
    unticked = c.post(f"/visits/{ids['rec']}/delete", data={"csrf_token": token})
    assert unticked.status_code == 400 and "Tick the box" in unticked.text
    assert audio.exists() and audit_actions(settings, "recording.erase") == []

    r = c.post(f"/visits/{ids['rec']}/delete", data={"csrf_token": token, "confirm": "yes"})
    assert r.status_code == 303 and r.headers["location"] == "/?deleted=1"
    assert "The visit was deleted." in c.get("/?deleted=1").text
    assert not audio.exists()
    assert c.get(f"/notes/{ids['note']}").status_code == 404
    [event] = audit_actions(settings, "recording.erase")
    assert event.object_id == ids["rec"] and event.actor_id == owner
    engine, sessions = db(settings)
    with session_scope(sessions) as s:
        assert s.get(Recording, ids["rec"]).erased_at is not None
        assert s.get(Note, ids["note"]) is None
    engine.dispose()


def test_pages_show_uk_time_not_utc():
    """Found walking through the app: times read "14:49 UTC", an hour from the clock on the
    wall in summer. Stored in UTC, shown as GMT or BST."""
    from datetime import UTC, datetime

    from assistant.web.render import env

    when = env.filters["when"]
    assert when(datetime(2026, 7, 1, 12, 30, tzinfo=UTC)) == "1 July 2026 13:30 BST"
    assert when(datetime(2026, 12, 7, 14, 51, tzinfo=UTC)) == "7 December 2026 14:51 GMT"
    assert when(datetime(2026, 7, 1, 12, 30)) == "1 July 2026 13:30 BST"  # naive: stored UTC
    assert when(None) == ""


def test_a_name_in_any_script_is_filled_in_after_setting_a_password(web, monkeypatch, capsys):
    """The name travels in a cookie, which carries only some ASCII: "Łucja Siân" is
    percent-encoded there and read back whole."""
    settings, client = web()
    monkeypatch.setenv("CASEASSIST_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("CASEASSIST_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("CASEASSIST_PUBLIC_URL", "https://caseassist.example")
    assert main(["users", "add", "--name", "Łucja Siân", "--role", "practitioner"]) == 0
    link = re.search(r"^set-password link: (\S+)$", capsys.readouterr().out, re.M).group(1)
    secret = link.split("token=", 1)[1]
    c = client()
    page = c.get(f"/set-password?token={secret}")
    form = {"token": secret, "csrf_token": csrf_of(page.text)}
    r = c.post("/set-password", data={**form, "password": PASSWORD, "confirm": PASSWORD})
    assert r.status_code == 303
    assert 'value="Łucja Siân"' in c.get("/sign-in?done=password").text


def test_a_name_that_starts_with_a_letter_beyond_ascii_can_sign_in(web):
    """Found clicking through as a user: "Łucja Siân" set her password and could never sign in
    on SQLite, whose lower() folds ASCII only ("Łucja" against Python's "łucja")."""
    settings, client = web()
    add_web_user(settings, "Łucja Siân", "practitioner")
    for typed in ("Łucja Siân", "łucja siân", " ŁUCJA SIÂN "):
        r = sign_in(client(), typed)
        assert r.status_code == 303, (typed, r.status_code)
    assert sign_in(client(), "Lucja Sian").status_code == 400  # no accent folding: another name
