"""Single sign-on against a real OpenID provider: oidc-provider-mock (pinned in pyproject's dev
extra) runs as its own process on a loopback port, the service under uvicorn on another, and
an httpx client follows the redirects between them as a browser would, submitting the
provider's sign-in form.

The provider needs Python 3.12; on the project's 3.11 it lives in ``.venv-oidc-mock``
(``scripts/test.sh`` makes it) or wherever ``CASEASSIST_TEST_OIDC_PYTHON`` points.

A relay (``Relay``) sits in front of the provider for two tests: it passes everything on, but
can make the provider sign ID tokens as another issuer, or for another client (audience),
so those tokens are real ones from the real provider that our checks must refuse.

What this provider does not check, said plainly: it accepts any client id and secret and
ignores the PKCE challenge (the service sends one; a real provider checks it).
"""

from __future__ import annotations

import base64
import http.client
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from sqlalchemy import select

from assistant.storage import session_scope
from assistant.storage.models import AuditEvent, User, WebSession
from tests.conftest import REPO, LiveServer, free_port, make_settings
from tests.web import add_web_user, csrf_of, db, seed_note, sign_in

pytestmark = pytest.mark.models  # the app loads the test profile's models at start-up

CLIENT_ID = "caseassist-test"
ROLE_MAP = "cw-staff=practitioner,cw-leads=manager,ig-team=auditor"


# --- the provider -----------------------------------------------------------------------------
def mock_python() -> str:
    """An interpreter that has oidc-provider-mock."""
    configured = os.environ.get("CASEASSIST_TEST_OIDC_PYTHON")
    candidates = [configured] if configured else []
    candidates += [str(REPO / ".venv-oidc-mock" / "bin" / "python"), sys.executable]
    for python in candidates:
        if (
            Path(python).exists()
            and subprocess.run(
                [python, "-c", "import oidc_provider_mock"], capture_output=True
            ).returncode
            == 0
        ):
            return python
    pytest.fail(
        "oidc-provider-mock is not installed: run scripts/test.sh, or make its venv with "
        "python3.12 -m venv .venv-oidc-mock && .venv-oidc-mock/bin/pip install "
        "oidc-provider-mock==0.4.8"
    )


def wait_until_up(url: str, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if (proc is not None and proc.poll() is not None) or time.monotonic() > deadline:
            raise RuntimeError(f"the OpenID provider did not start at {url}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    """The real provider's issuer URL (nonce required, as ours always sends one)."""
    port = free_port()
    proc = subprocess.Popen(
        [mock_python(), "-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port", str(port),
         "--require-nonce"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url + "/.well-known/openid-configuration", proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def give_claims(provider: str, sub: str, **claims: object) -> None:
    """What the provider says about ``sub`` from the next sign-in on (its ``PUT /users``)."""
    httpx.put(f"{provider}/users/{sub}", json=claims).raise_for_status()


# --- the service ------------------------------------------------------------------------------
@pytest.fixture
def service(tmp_path, engines, provider):
    """A factory: the service on a loopback port, single sign-on to ``provider`` (or the
    ``issuer`` given) with the test role map; (LiveServer, settings)."""
    opened: list[LiveServer] = []

    def start(issuer: str | None = None, **overrides) -> tuple[LiveServer, object]:
        port = free_port()
        values: dict[str, object] = dict(
            run_worker=False,
            public_url=f"http://127.0.0.1:{port}",
            oidc_issuer=issuer or provider,
            oidc_client_id=CLIENT_ID,
            oidc_client_secret="not-so-secret",
            oidc_role_map=ROLE_MAP,
        )
        values.update(overrides)
        settings = make_settings(tmp_path, **values)
        from assistant.api.app import create_app

        server = LiveServer(create_app(settings, engines=engines), port).__enter__()
        opened.append(server)
        return server, settings

    yield start
    for server in opened:
        server.__exit__(None, None, None)


def browser(server: LiveServer) -> httpx.Client:
    """A browser: follows redirects between the service and the provider, keeps cookies."""
    client = server.client()
    client.follow_redirects = True
    return client


def provider_form(client: httpx.Client, next_path: str = "/") -> httpx.Response:
    """Press "Sign in with your council account": the provider's sign-in form."""
    page = client.get("/sign-in")
    assert "Sign in with your council account" in page.text
    form = client.get("/sign-in/oidc", params={"next": next_path})
    assert form.status_code == 200 and 'name="sub"' in form.text, form.text[:300]
    return form


def sso_sign_in(client: httpx.Client, sub: str, next_path: str = "/") -> httpx.Response:
    """Sign in as ``sub`` at the provider; the response the browser ends on."""
    form = provider_form(client, next_path)
    return client.post(str(form.url), data={"sub": sub})


def callback_url(response: httpx.Response) -> str:
    """The provider's redirect back to us (with its code and our state) in a redirect chain."""
    for hop in response.history:
        location = hop.headers.get("location", "")
        if "/sign-in/oidc/callback?" in location:
            return location
    raise AssertionError("no callback in the redirect chain")


def rows(settings, model, *where):
    engine, sessions = db(settings)
    with session_scope(sessions) as s:
        found = list(s.scalars(select(model).where(*where)))
        s.expunge_all()
    engine.dispose()
    return found


def failures(settings, reason: str) -> list[AuditEvent]:
    return [
        e
        for e in rows(settings, AuditEvent, AuditEvent.action == "auth.failed")
        if e.details.get("reason") == reason and e.details.get("method") == "oidc"
    ]


def signed_in(client: httpx.Client) -> bool:
    return client.get("/", follow_redirects=False).status_code == 200


# --- the flow ---------------------------------------------------------------------------------
def test_first_sign_in_creates_the_user_with_the_mapped_role(service, provider, db_url):
    server, settings = service(database_url=db_url)  # SQLite, and PostgreSQL when reachable
    give_claims(provider, "u-1001", name="Sam Okafor", roles=["cw-staff", "other-app"])
    c = browser(server)
    end = sso_sign_in(c, "u-1001", next_path="/visits/new")
    assert end.status_code == 200 and str(end.url).endswith("/visits/new")
    assert "Sam Okafor" in end.text  # the header shows who is signed in
    [user] = rows(settings, User, User.oidc_subject == "u-1001")
    assert (user.oidc_issuer, user.role, user.name) == (provider, "practitioner", "Sam Okafor")
    assert user.password_hash is None
    [sign_in_row] = [
        e for e in rows(settings, AuditEvent, AuditEvent.action == "auth.sign_in")
        if e.actor_id == user.id
    ]  # fmt: skip
    assert sign_in_row.details["method"] == "oidc" and sign_in_row.details["role"] == "practitioner"
    [added] = rows(settings, AuditEvent, AuditEvent.action == "user.add")
    assert added.object_id == user.id and added.details == {"role": "practitioner", "via": "oidc"}
    # the same server-side session as a password sign-in, and no token value in the audit
    [web_session] = rows(settings, WebSession, WebSession.user_id == user.id)
    assert web_session.ended_at is None
    code = dict(parse_qsl(urlsplit(callback_url(end)).query))["code"]
    audit_text = repr([e.details for e in rows(settings, AuditEvent)])
    assert code not in audit_text and c.cookies["caseassist_session"] not in audit_text
    assert "caseassist_oidc" not in c.cookies  # the sign-in secret is spent and cleared


def test_a_second_sign_in_sets_the_role_from_the_changed_claims(service, provider, db_url):
    server, settings = service(database_url=db_url)
    give_claims(provider, "u-1002", name="Lee Grant", roles=["cw-staff"])
    sso_sign_in(browser(server), "u-1002")
    give_claims(provider, "u-1002", name="Lee Grant-Hall", roles=["cw-leads"])
    end = sso_sign_in(browser(server), "u-1002")
    assert end.status_code == 200
    [user] = rows(settings, User, User.oidc_subject == "u-1002")  # one account, not two
    assert (user.role, user.name) == ("manager", "Lee Grant-Hall")
    [changed] = rows(settings, AuditEvent, AuditEvent.action == "user.role_changed")
    assert changed.details == {"old": "practitioner", "new": "manager", "via": "oidc"}
    # found by (issuer, sub), never by name: another person with the same name is another user
    give_claims(provider, "u-1003", name="Lee Grant-Hall", roles=["cw-staff"])
    sso_sign_in(browser(server), "u-1003")
    assert len(rows(settings, User, User.name == "Lee Grant-Hall")) == 2


def test_claims_that_map_to_no_role_are_refused_without_an_account(service, provider):
    server, settings = service()
    give_claims(provider, "u-2001", name="Pat Visitor", roles=["finance"])
    c = browser(server)
    end = sso_sign_in(c, "u-2001")
    assert end.status_code == 403
    assert "no role in this service" in end.text and "Go to sign in" in end.text
    assert rows(settings, User, User.oidc_subject == "u-2001") == []
    assert rows(settings, WebSession) == []
    assert len(failures(settings, "oidc_no_role")) == 1
    assert not signed_in(c)
    # no roles claim at all: the same
    give_claims(provider, "u-2002", name="No Claims")
    assert sso_sign_in(browser(server), "u-2002").status_code == 403
    assert rows(settings, User, User.oidc_subject == "u-2002") == []


def test_a_user_whose_role_is_taken_away_is_refused_and_signed_out(service, provider):
    server, settings = service()
    give_claims(provider, "u-2101", name="Jo Leaver", roles=["cw-staff"])
    first = browser(server)
    sso_sign_in(first, "u-2101")
    assert signed_in(first)
    give_claims(provider, "u-2101", name="Jo Leaver", roles=[])
    assert sso_sign_in(browser(server), "u-2101").status_code == 403
    assert not signed_in(first)  # their open session ended too
    [refused] = failures(settings, "oidc_no_role")
    assert refused.details["user_id"] == rows(settings, User, User.oidc_subject == "u-2101")[0].id


def test_a_deactivated_account_is_refused_though_the_provider_vouches(service, provider):
    from assistant.storage import repo

    server, settings = service()
    give_claims(provider, "u-2201", name="Di Gone", roles=["cw-staff"])
    sso_sign_in(browser(server), "u-2201")
    [user] = rows(settings, User, User.oidc_subject == "u-2201")
    engine, sessions = db(settings)
    with session_scope(sessions) as s:
        repo.set_user_active(session=s, user_id=user.id, active=False)
    engine.dispose()
    c = browser(server)
    end = sso_sign_in(c, "u-2201")
    assert end.status_code == 403 and "switched off" in end.text and not signed_in(c)
    [refused] = failures(settings, "deactivated")
    assert refused.details["user_id"] == user.id
    [still] = rows(settings, User, User.oidc_subject == "u-2201")
    assert not still.active  # the provider's word does not switch it back on


def test_the_team_claim_sets_the_team_at_every_sign_in(service, provider, db_url):
    """With ``oidc_team_claim`` set, the team follows the provider's claim at each sign-in (and
    with it what a manager reads); a value that is no team label refuses the sign-in rather
    than leave the manager with no team, which reads every visit."""
    from tests.web import seed_note

    server, settings = service(database_url=db_url, oidc_team_claim="org.team")
    give_claims(provider, "u-3001", name="Kim Lead", roles=["cw-leads"],
                org={"team": ["North  CIN", "ignored"]})  # fmt: skip
    give_claims(provider, "u-3002", name="Pat North", roles=["cw-staff"], org={"team": "North CIN"})
    give_claims(provider, "u-3003", name="Sol South", roles=["cw-staff"], org={"team": "South CIN"})
    for sub in ("u-3001", "u-3002", "u-3003"):
        assert sso_sign_in(browser(server), sub).status_code == 200
    team = {u.oidc_subject: u.team for u in rows(settings, User)}
    assert team == {"u-3001": "North CIN", "u-3002": "North CIN", "u-3003": "South CIN"}
    [pat] = rows(settings, User, User.oidc_subject == "u-3002")
    [sol] = rows(settings, User, User.oidc_subject == "u-3003")
    north, south = seed_note(settings, pat.id), seed_note(settings, sol.id)
    kim = browser(server)
    sso_sign_in(kim, "u-3001")
    page = kim.get("/").text
    assert "Team visits" in page and north["note"] in page and south["note"] not in page

    # moved at the provider: moved here at the next sign-in, and audited
    give_claims(provider, "u-3001", name="Kim Lead", roles=["cw-leads"], org={"team": "South CIN"})
    kim = browser(server)
    sso_sign_in(kim, "u-3001")
    page = kim.get("/").text
    assert south["note"] in page and north["note"] not in page
    [moved] = rows(settings, AuditEvent, AuditEvent.action == "user.team_set")
    assert moved.details == {"had_team": True, "in_team": True, "changed": True, "via": "oidc"}
    # no team claim: no team (a manager with none reads every visit, as locally)
    give_claims(provider, "u-3001", name="Kim Lead", roles=["cw-leads"])
    sso_sign_in(browser(server), "u-3001")
    assert rows(settings, User, User.oidc_subject == "u-3001")[0].team is None
    # a claim that is not a team label: refused, the team left as it was
    give_claims(provider, "u-3002", name="Pat North", roles=["cw-staff"], org={"team": "x" * 65})
    c = browser(server)
    assert sso_sign_in(c, "u-3002").status_code == 403 and not signed_in(c)
    assert len(failures(settings, "oidc_team")) == 1
    assert rows(settings, User, User.oidc_subject == "u-3002")[0].team == "North CIN"


def test_without_a_team_claim_single_sign_on_leaves_teams_alone(service, provider):
    from assistant.storage import repo

    server, settings = service()
    give_claims(provider, "u-3101", name="Lou Lead", roles=["cw-leads"], team="Ignored")
    sso_sign_in(browser(server), "u-3101")
    [user] = rows(settings, User, User.oidc_subject == "u-3101")
    assert user.team is None
    engine, sessions = db(settings)
    with session_scope(sessions) as s:
        repo.set_team(session=s, user_id=user.id, team="East CIN")  # as users set-team does
    engine.dispose()
    sso_sign_in(browser(server), "u-3101")
    assert rows(settings, User, User.oidc_subject == "u-3101")[0].team == "East CIN"


def test_a_tampered_state_is_refused(service, provider):
    server, settings = service()
    give_claims(provider, "u-3001", name="Ana Forge", roles=["cw-staff"])
    c = browser(server)
    start = c.get("/sign-in/oidc", follow_redirects=False)
    assert start.status_code == 303
    url = urlsplit(start.headers["location"])
    query = dict(parse_qsl(url.query))
    assert query["code_challenge_method"] == "S256" and query["nonce"] and query["state"]
    query["state"] = query["state"][:-2] + ("AA" if not query["state"].endswith("AA") else "BB")
    form = c.get(urlunsplit(url._replace(query=urlencode(query))))
    end = c.post(str(form.url), data={"sub": "u-3001"})
    assert end.status_code == 400 and "could not be checked" in end.text
    assert rows(settings, User, User.oidc_subject == "u-3001") == []
    assert len(failures(settings, "oidc_state")) == 1
    assert not signed_in(c)
    # a callback from a browser that never started a sign-in (no cookie): refused as well
    stranger = browser(server)
    r = stranger.get("/sign-in/oidc/callback", params={"code": "x", "state": query["state"]})
    assert r.status_code == 400 and len(failures(settings, "oidc_state")) == 2


def test_a_code_is_good_once(service, provider):
    server, settings = service()
    give_claims(provider, "u-4001", name="Kit Replay", roles=["cw-staff"])
    c = browser(server)
    back = callback_url(sso_sign_in(c, "u-4001"))
    # the same callback again: our sign-in secret is spent
    again = c.get(back)
    assert again.status_code == 400 and len(failures(settings, "oidc_state")) == 1
    # the old code in a fresh sign-in of this browser (valid state): the provider refuses it
    fresh = urlsplit(c.get("/sign-in/oidc", follow_redirects=False).headers["location"])
    state = dict(parse_qsl(fresh.query))["state"]
    code = dict(parse_qsl(urlsplit(back).query))["code"]
    replay = c.get("/sign-in/oidc/callback", params={"code": code, "state": state})
    assert replay.status_code == 400 and "refused this sign-in" in replay.text
    assert len(failures(settings, "oidc_code")) == 1
    assert len(rows(settings, WebSession)) == 1  # only the first sign-in made a session


def test_the_provider_refusing_is_a_clear_page(service, provider):
    server, settings = service()
    c = browser(server)
    form = provider_form(c)
    end = c.post(str(form.url), data={"action": "deny"})
    assert end.status_code == 403 and "did not let you sign in" in end.text
    assert len(failures(settings, "oidc_denied")) == 1 and rows(settings, WebSession) == []


# --- ID tokens from the real provider that must not be accepted -------------------------------
class Relay:
    """A pass-through in front of the provider on its own port. The provider names its
    endpoints and its issuer after the Host it is asked at, so through the relay it is a
    provider at the relay's address. ``token_host``: ask its token endpoint at its own address
    instead (it then signs ID tokens as issuer ``provider``, not the relay). ``client_id``:
    put this client id in the authorization and token requests (the ID token's audience)."""

    def __init__(self, provider: str, *, token_host: bool = False, client_id: str | None = None):
        target = urlsplit(provider)

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.forward()

            def do_POST(self) -> None:
                self.forward()

            def forward(self) -> None:
                url = urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                headers["Host"] = self.headers["Host"]
                query = url.query
                if client_id and url.path == "/oauth2/authorize":
                    query = urlencode({**dict(parse_qsl(query)), "client_id": client_id})
                if url.path == "/oauth2/token":
                    if token_host:
                        headers["Host"] = target.netloc
                    if client_id:
                        basic = base64.b64encode(f"{client_id}:any".encode()).decode()
                        headers["Authorization"] = "Basic " + basic
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
                path = url.path + ("?" + query if query else "")
                conn.request(self.command, path, body=body or None, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for k, v in answer.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Relay:
        self.thread.start()
        wait_until_up(self.url + "/.well-known/openid-configuration")
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_an_id_token_from_another_issuer_is_refused(service, provider):
    with Relay(provider, token_host=True) as relay:
        server, settings = service(issuer=relay.url)
        give_claims(provider, "u-5001", name="Iss Wrong", roles=["cw-staff"])
        c = browser(server)
        end = sso_sign_in(c, "u-5001")
        assert end.status_code == 400 and "could not be verified" in end.text
        assert rows(settings, User, User.oidc_subject == "u-5001") == []
        assert len(failures(settings, "oidc_id_token")) == 1 and not signed_in(c)
        # the relay itself is a working provider: without the swap, the same flow signs in
    with Relay(provider) as relay:
        server, settings = service(issuer=relay.url)
        assert sso_sign_in(browser(server), "u-5001").status_code == 200
        assert len(rows(settings, User, User.oidc_subject == "u-5001")) == 1


def test_an_id_token_for_another_client_is_refused(service, provider):
    with Relay(provider, client_id="some-other-app") as relay:
        server, settings = service(issuer=relay.url)
        give_claims(provider, "u-5101", name="Aud Wrong", roles=["cw-staff"])
        c = browser(server)
        end = sso_sign_in(c, "u-5101")
        assert end.status_code == 400 and "could not be verified" in end.text
        assert rows(settings, User, User.oidc_subject == "u-5101") == []
        assert len(failures(settings, "oidc_id_token")) == 1 and not signed_in(c)


def test_a_discovery_document_naming_another_issuer_is_refused(service, provider):
    # the issuer set with a trailing slash the provider's own issuer does not have: its
    # discovery document is found, but names another issuer than the one configured
    server, settings = service(issuer=provider + "/")
    c = browser(server)
    r = c.get("/sign-in/oidc")
    assert r.status_code == 502 and "not set up as this service expects" in r.text
    assert len(failures(settings, "oidc_discovery")) == 1 and not signed_in(c)


# --- using the service ------------------------------------------------------------------------
def test_an_sso_user_uses_the_web_app_and_cannot_see_anothers_recording(service, provider):
    server, settings = service()
    other, _ = add_web_user(settings, "Ada Local", "practitioner")
    theirs = seed_note(settings, other)
    give_claims(provider, "u-6001", name="Sid Single", roles=["cw-staff"])
    c = browser(server)
    visits = sso_sign_in(c, "u-6001")
    assert visits.status_code == 200 and "My visits" in visits.text
    assert theirs["rec"] not in visits.text and theirs["note"] not in visits.text
    for path in (f"/notes/{theirs['note']}", f"/visits/{theirs['rec']}"):
        r = c.get(path)
        assert r.status_code == 404, path
        assert "Amara" not in r.text
    assert c.get(f"/v1/recordings/{theirs['rec']}/audio").status_code == 404
    # the New visit form is theirs to use (a practitioner uploads)
    assert c.get("/visits/new").status_code == 200
    # local accounts keep working beside single sign-on
    local = server.client()
    sign_in(local, "Ada Local")
    assert theirs["note"] in local.get("/").text


def test_sign_out_ends_our_session_and_offers_the_providers(service, provider):
    server, settings = service()
    give_claims(provider, "u-7001", name="Out Going", roles=["cw-staff"])
    c = browser(server)
    page = sso_sign_in(c, "u-7001")
    out = c.post("/sign-out", data={"csrf_token": csrf_of(page.text)})
    assert out.status_code == 200 and "You have signed out" in out.text
    assert 'href="/sign-out/oidc"' in out.text  # sign out of the council account too
    assert not signed_in(c)
    [web_session] = rows(settings, WebSession)
    assert web_session.ended_at is not None
    # RP-initiated logout: to the provider's end_session_endpoint, and back to us
    to_provider = c.get("/sign-out/oidc", follow_redirects=False)
    assert to_provider.status_code == 303
    end = urlsplit(to_provider.headers["location"])
    assert f"{end.scheme}://{end.netloc}" == provider and end.path == "/oauth2/end_session"
    query = dict(parse_qsl(end.query))
    assert query["client_id"] == CLIENT_ID
    assert query["post_logout_redirect_uri"] == server.base_url + "/sign-in?done=signed-out"
    # a local account's sign-out offers nothing of the kind
    add_web_user(settings, "Ada Local", "practitioner")
    local = server.client()
    sign_in(local, "Ada Local")
    token = csrf_of(local.get("/").text)
    gone = local.post("/sign-out", data={"csrf_token": token}, follow_redirects=True)
    assert "You have signed out" in gone.text and "/sign-out/oidc" not in gone.text


# --- configuration and the sign-in page -------------------------------------------------------
def test_local_passwords_can_be_switched_off(service, provider):
    server, settings = service(local_passwords=False)
    add_web_user(settings, "Ada Local", "practitioner")
    c = server.client()
    page = c.get("/sign-in")
    assert "Sign in with your council account" in page.text
    assert 'name="password"' not in page.text
    token = c.cookies["caseassist_csrf"]  # the page's double-submit token, form or not
    refused = c.post(
        "/sign-in", data={"name": "Ada Local", "password": "x" * 12, "csrf_token": token}
    )
    assert refused.status_code == 403 and "switched off" in refused.text
    assert rows(settings, WebSession) == []
    assert c.get("/set-password?token=anything").status_code == 403


def test_the_provider_is_not_contacted_until_someone_signs_in_with_it(tmp_path, engines):
    from assistant.api.app import create_app

    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens here
    port = free_port()
    settings = make_settings(
        tmp_path,
        run_worker=False,
        public_url=f"http://127.0.0.1:{port}",
        oidc_issuer=dead,
        oidc_client_id=CLIENT_ID,
        oidc_role_map=ROLE_MAP,
    )
    with LiveServer(create_app(settings, engines=engines), port) as server:
        c = server.client()
        assert "Sign in with your council account" in c.get("/sign-in").text
        r = c.get("/sign-in/oidc")
        assert r.status_code == 502 and "could not be reached" in r.text
        assert len(failures(settings, "oidc_unreachable")) == 1


def test_without_oidc_the_sign_in_page_has_no_button_and_the_routes_are_absent(tmp_path, engines):
    from fastapi.testclient import TestClient

    from assistant.api.app import create_app

    settings = make_settings(tmp_path, run_worker=False)
    with TestClient(create_app(settings, engines=engines)) as c:
        assert "council account" not in c.get("/sign-in").text
        assert c.get("/sign-in/oidc").status_code == 404
        assert c.get("/sign-in/oidc/callback?code=x&state=y").status_code == 404


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"oidc_issuer": "http://login.council.example"}, "https"),
        ({"oidc_issuer": "ftp://127.0.0.1"}, "https"),
        ({"oidc_client_id": None}, "oidc_client_id"),
        ({"oidc_role_map": None}, "oidc_role_map"),
        ({"oidc_role_map": "cw-staff=superuser"}, "oidc_role_map"),
        ({"oidc_role_map": "cw-staff"}, "oidc_role_map"),
        ({"oidc_scopes": "profile email"}, "openid"),
        ({"oidc_client_secret_file": "/nonexistent"}, "not both"),
        ({"oidc_issuer": None, "local_passwords": False}, "nobody could sign in"),
    ],
    ids=[
        "http-issuer-on-the-network",
        "not-http",
        "no-client-id",
        "no-role-map",
        "unknown-role",
        "pair-without-role",
        "no-openid-scope",
        "secret-and-secret-file",
        "passwords-off-without-sso",
    ],
)
def test_bad_single_sign_on_settings_refuse_to_start(tmp_path, overrides, message):
    from pydantic import ValidationError

    values = dict(
        oidc_issuer="https://login.council.example",
        oidc_client_id=CLIENT_ID,
        oidc_client_secret="s",
        oidc_role_map=ROLE_MAP,
    )
    values.update(overrides)
    with pytest.raises(ValidationError, match=message):
        make_settings(tmp_path, **values)


def test_an_unreadable_client_secret_file_refuses_to_start(tmp_path):
    from assistant.errors import ConfigurationError
    from assistant.web.oidc import OidcProvider

    settings = make_settings(
        tmp_path,
        oidc_issuer="https://login.council.example",
        oidc_client_id=CLIENT_ID,
        oidc_client_secret_file=tmp_path / "missing",
        oidc_role_map=ROLE_MAP,
    )
    with pytest.raises(ConfigurationError, match="cannot be read"):
        OidcProvider(settings)
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(ConfigurationError, match="empty"):
        OidcProvider(settings.model_copy(update={"oidc_client_secret_file": tmp_path / "empty"}))


def test_role_mapping_takes_the_first_matching_pair_and_reads_nested_claims():
    from assistant.domain import Role
    from assistant.web.oidc import claim_values, map_role

    pairs = (("leads", "manager"), ("staff", "practitioner"))
    assert map_role(["staff", "leads"], pairs) is Role.MANAGER
    assert map_role(["staff"], pairs) is Role.PRACTITIONER
    assert map_role(["Staff", "other"], pairs) is None  # exact values only
    claims = {"realm_access": {"roles": ["staff", 3]}, "groups": "leads"}
    assert claim_values(claims, "realm_access.roles") == ["staff"]
    assert claim_values(claims, "groups") == ["leads"]
    assert claim_values(claims, "missing.path") == []


def test_in_a_browser_the_council_account_button_signs_in(service, provider):
    """Chromium presses the button and submits the provider's form; axe-core checks our sign-in
    page with the button, and the refusal page."""
    from tests.test_web_browser import CHROMIUM, check_accessibility, playwright_api

    if not CHROMIUM.exists():
        pytest.skip("apt-get install chromium")
    server, settings = service()
    give_claims(provider, "u-8001", name="Bea Browser", roles=["cw-staff"])
    give_claims(provider, "u-8002", name="Nora Norole", roles=["finance"])
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            # bypass_csp: axe-core is injected as an inline script (as in test_web_browser)
            page = chromium.new_context(bypass_csp=True).new_page()
            page.goto(server.base_url + "/sign-in")
            check_accessibility(page)
            page.get_by_role("button", name="Sign in with your council account").click()
            page.fill("#subject-input", "u-8001")
            page.get_by_role("button", name="Authorize", exact=True).click()
            page.wait_for_url(server.base_url + "/")
            assert page.get_by_role("heading", name="My visits").is_visible()
            assert "Bea Browser" in page.content()
            # sign out (the CSP's form-action is in force here), then at the provider too
            page.get_by_role("button", name="Sign out").click()
            page.wait_for_url("**/sign-in?done=signed-out-sso")
            check_accessibility(page)
            page.get_by_role("link", name="Sign out of your council account too").click()
            page.wait_for_url(provider + "/oauth2/end_session**")
            other = chromium.new_context(bypass_csp=True).new_page()
            other.goto(server.base_url + "/sign-in")
            other.get_by_role("button", name="Sign in with your council account").click()
            other.fill("#subject-input", "u-8002")
            other.get_by_role("button", name="Authorize", exact=True).click()
            other.wait_for_url("**/sign-in/oidc/callback**")
            assert other.get_by_role("heading", name="You cannot sign in").is_visible()
            check_accessibility(other)
        finally:
            chromium.close()
    assert len(rows(settings, User, User.oidc_subject == "u-8001")) == 1
    assert rows(settings, User, User.oidc_subject == "u-8002") == []
