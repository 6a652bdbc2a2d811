"""The web app over real HTTP (FastAPI's TestClient on the real app, a SQLite file per test):
first sign-in from the link ``caseassist users add`` prints, cookie flags, CSRF on every
form, throttled and audited failures, the idle timeout, My visits, New visit, progress, review,
approval, export, the audio endpoint's ranges, and who may see what.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from assistant.api.app import create_app
from assistant.bootstrap import mapping_cipher
from assistant.cli import main
from assistant.storage import repo, session_scope
from assistant.storage.models import AuditEvent, Note, Recording, WebSession, utcnow
from tests.conftest import make_settings, seed_recording
from tests.speech import espeak_available, synthesize
from tests.web import PASSWORD, add_web_user, csrf_of, db, seed_note, sign_in

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
    ids = seed_note(settings, owner, mapping_cipher(settings))
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
    order = re.findall(r"visit number (\d+)<", first)
    assert order == [str(i) for i in range(20, 0, -1)]  # 20 on a page, newest first
    assert "Ben&#39;s visit" not in first and "Practitioner</th>" not in first
    second = ada.get("/?page=2").text
    assert re.findall(r"visit number (\d+)<", second) == ["0"]
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
    ids = seed_note(settings, owner, mapping_cipher(settings))
    c = client()
    sign_in(c, "Ada")
    page = c.get(f"/notes/{ids['note']}").text
    assert "Visit to see Amara at home." in page  # the owner reads real names
    assert 'id="seg-s0001"' in page and "Hello Amara." in page
    assert 'data-start="0.00" data-segments="s0001"' in page
    assert f'src="/v1/recordings/{ids["rec"]}/audio"' not in page  # no audio stored
    r = c.post(f"/notes/{ids['note']}/approve", data={"csrf_token": csrf_of(page)})
    assert r.status_code == 303
    approved = c.get(r.headers["location"]).text
    assert "approved and locked" in approved and 'id="approve"' not in approved
    again = c.post(f"/notes/{ids['note']}/approve", data={"csrf_token": csrf_of(page)})
    assert again.status_code == 409 and "already approved" in again.text
    md = c.get(f"/notes/{ids['note']}/export?format=md")
    assert md.status_code == 200 and "[PERSON_1]" in md.text
    assert "attachment" in md.headers["content-disposition"]
    named = c.get(f"/notes/{ids['note']}/export?format=txt&names=true")
    assert "Amara" in named.text
    assert c.get(f"/notes/{ids['note']}/export?format=exe").status_code == 400
    assert [e.actor_id for e in audit_actions(settings, "note.approve")] == [owner]


def test_audio_endpoint_serves_ranges_to_the_owner_only(web, tmp_path):
    settings, client = web()
    owner, token = add_web_user(settings, "Ada", "practitioner")
    _, other_token = add_web_user(settings, "Ben", "practitioner")
    _, manager_token = add_web_user(settings, "Mo", "manager")
    audio = tmp_path / "a.wav"
    audio.write_bytes(bytes(range(256)) * 40)
    ids = seed_note(settings, owner, mapping_cipher(settings), audio_path=audio)
    url = f"/v1/recordings/{ids['rec']}/audio"
    c = client()
    auth = {"Authorization": f"Bearer {token}"}
    whole = c.get(url, headers=auth)
    assert whole.status_code == 200 and whole.content == audio.read_bytes()
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
    ids = seed_note(settings, owner, mapping_cipher(settings))
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
    r = mo.post(f"/notes/{ids['note']}/approve", data={"csrf_token": csrf_of(page)})
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


def test_every_verification_finding_has_words_on_the_review_page():
    from assistant.review import repair, safeguarding, verify
    from assistant.web.routes.review import FLAG_LABELS, FLAG_PREFIXES

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
