"""Teams (issue 25: "managers see their team's"): a manager reads the visits of the users in
their own team, and their own; a manager with no team reads every visit; out of reach answers
exactly as a visit that does not exist. Over real HTTP (FastAPI's TestClient on the real app)
on SQLite and PostgreSQL (``db_url``); the team set through the admin API and the command
line, whose bad input changes nothing.

The site: practitioners Ann and Aled in team "North CIN", Bea in "South CIN", Cai in none;
managers Mona (North CIN, with a visit of her own), Max (South CIN) and Nia (no team). Each
practitioner and Mona has one visit with a draft note.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from assistant.cli import main
from assistant.storage import repo, session_scope
from assistant.storage.models import AuditEvent, User
from tests import test_web
from tests.web import add_web_user, db, seed_note, sign_in

pytestmark = pytest.mark.models  # the app loads the test profile's models at start-up

web = test_web.web

NORTH, SOUTH = "North CIN", "South CIN"
PEOPLE = {  # name: (role, team)
    "Ann": ("practitioner", NORTH),
    "Aled": ("practitioner", NORTH),
    "Bea": ("practitioner", SOUTH),
    "Cai": ("practitioner", None),
    "Mona": ("manager", NORTH),
    "Max": ("manager", SOUTH),
    "Nia": ("manager", None),
    "Ada": ("admin", None),
}
OWNERS = ("Ann", "Aled", "Bea", "Cai", "Mona")


@pytest.fixture
def site(web, db_url):
    settings, client = web(database_url=db_url)
    users = {name: add_web_user(settings, name, role) for name, (role, _) in PEOPLE.items()}
    engine, sessions = db(settings)
    with session_scope(sessions) as s:
        for name, (_, team) in PEOPLE.items():
            if team:
                repo.set_team(session=s, user_id=users[name][0], team=team)
    engine.dispose()
    visits = {name: seed_note(settings, users[name][0]) for name in OWNERS}
    return settings, client, users, visits


def api(client, token: str):
    c = client()
    c.headers["Authorization"] = f"Bearer {token}"
    return c


def listed(c, path: str, key: str, **params) -> set[str]:
    r = c.get(path, params=params)
    assert r.status_code == 200, r.text
    return {item[key] for item in r.json()["items"]}


def recs(visits, *names) -> set[str]:
    return {visits[n]["rec"] for n in names}


def notes(visits, *names) -> set[str]:
    return {visits[n]["note"] for n in names}


#: Who reaches whose visits (through recording.view and note.view).
REACH = {
    "Mona": ("Ann", "Aled", "Mona"),  # her team and her own
    "Max": ("Bea",),  # his team (he has no visit of his own)
    "Nia": OWNERS,  # no team: every visit, as before teams existed
    "Ann": ("Ann",),  # a practitioner: her own only, whatever her team
    "Cai": ("Cai",),
}


@pytest.mark.parametrize("who", list(REACH))
def test_the_lists_hold_the_visits_in_reach(site, who):
    _, client, users, visits = site
    c = api(client, users[who][1])
    assert listed(c, "/v1/recordings", "recording_id") == recs(visits, *REACH[who])
    assert listed(c, "/v1/notes", "note_id") == notes(visits, *REACH[who])


def test_a_team_managers_lists_page_and_filter_within_the_team(site):
    _, client, users, visits = site
    c = api(client, users["Mona"][1])
    first = c.get("/v1/recordings", params={"per_page": 2}).json()
    second = c.get("/v1/recordings", params={"per_page": 2, "page": 2}).json()
    assert first["total"] == second["total"] == 3
    ids = {i["recording_id"] for i in first["items"] + second["items"]}
    assert ids == recs(visits, "Ann", "Aled", "Mona")
    # a search for another team's visit by its id finds nothing, as for a made-up id
    assert listed(c, "/v1/recordings", "recording_id", q=visits["Bea"]["rec"][:12]) == set()
    assert listed(c, "/v1/notes", "note_id", q=visits["Bea"]["note"][:12]) == set()
    assert listed(c, "/v1/notes", "note_id", status="draft") == notes(visits, "Ann", "Aled", "Mona")
    assert listed(c, "/v1/recordings", "recording_id", status="draft", visit_type="home visit") == (
        recs(visits, "Ann", "Aled", "Mona")
    )


#: Each read a manager may make of someone else's visit (owner-only reads are 404 anyway).
READS = [
    "/v1/recordings/{rec}/transcript/redacted",
    "/v1/notes/{note}",
    "/v1/notes/{note}/export?format=md",
    "/v1/jobs/{job}",
]
#: And the owner's own, refused to every manager whatever the team.
OWNER_ONLY = [
    "/v1/recordings/{rec}/transcript",
    "/v1/notes/{note}?reidentify=true",
    "/v1/recordings/{rec}/audio",
]


def test_out_of_reach_reads_answer_as_for_a_visit_that_does_not_exist(site):
    _, client, users, visits = site
    mona = api(client, users["Mona"][1])
    made_up = {"rec": "f" * 32, "note": "e" * 32, "job": "d" * 32}
    for path in READS:
        assert mona.get(path.format(**visits["Ann"])).status_code == 200, path
        theirs = mona.get(path.format(**visits["Bea"]))
        nobodys = mona.get(path.format(**made_up))
        assert theirs.status_code == nobodys.status_code == 404, path
        assert theirs.json()["error"]["code"] == nobodys.json()["error"]["code"], path
        assert theirs.json()["error"]["message"] == nobodys.json()["error"]["message"], path
    for path in OWNER_ONLY:
        assert mona.get(path.format(**visits["Ann"])).status_code == 404, path
    # reading is all: no edit or approval of a teammate's note
    note = visits["Ann"]["note"]
    assert mona.post(f"/v1/notes/{note}/approve", json={}).status_code == 404
    assert mona.delete(f"/v1/recordings/{visits['Ann']['rec']}").status_code == 404
    # Max (South CIN) reads Bea's, not Ann's; Nia (no team) reads both
    max_ = api(client, users["Max"][1])
    nia = api(client, users["Nia"][1])
    for path in READS:
        assert max_.get(path.format(**visits["Bea"])).status_code == 200, path
        assert max_.get(path.format(**visits["Ann"])).status_code == 404, path
        for owner in OWNERS:
            assert nia.get(path.format(**visits[owner])).status_code == 200, (path, owner)


def test_a_practitioner_in_a_team_reads_only_their_own(site):
    _, client, users, visits = site
    ann = api(client, users["Ann"][1])
    for path in READS + OWNER_ONLY[:2]:
        assert ann.get(path.format(**visits["Ann"])).status_code == 200, path
        assert ann.get(path.format(**visits["Aled"])).status_code == 404, path  # same team


def test_my_visits_and_the_review_page_for_a_team_manager(site):
    _, client, _users, visits = site
    c = client()
    assert sign_in(c, "Mona").status_code == 303
    page = c.get("/")
    assert page.status_code == 200
    assert "Team visits" in page.text and f"Visits of the {NORTH} team" in page.text
    for name in ("Ann", "Aled", "Mona"):
        assert visits[name]["note"] in page.text or visits[name]["rec"] in page.text, name
    for name in ("Bea", "Cai"):
        assert visits[name]["rec"] not in page.text and visits[name]["note"] not in page.text
    assert "3 visits" in page.text
    assert c.get(f"/notes/{visits['Ann']['note']}").status_code == 200
    assert c.get(f"/notes/{visits['Bea']['note']}").status_code == 404
    assert c.get(f"/visits/{visits['Bea']['rec']}").status_code == 404

    nia = client()
    assert sign_in(nia, "Nia").status_code == 303
    everyone = nia.get("/").text
    assert "All visits" in everyone and "5 visits" in everyone


def test_moving_users_between_teams_changes_what_managers_read_at_once(site):
    settings, client, users, visits = site
    admin = api(client, users["Ada"][1])
    mona = api(client, users["Mona"][1])
    bea_note = f"/v1/notes/{visits['Bea']['note']}"
    assert mona.get(bea_note).status_code == 404

    moved = admin.put(f"/v1/users/{users['Bea'][0]}/team", json={"team": "  North   CIN "})
    assert moved.status_code == 200 and moved.json()["team"] == NORTH  # spaces tidied
    assert mona.get(bea_note).status_code == 200
    assert listed(mona, "/v1/recordings", "recording_id") == recs(
        visits, "Ann", "Aled", "Bea", "Mona"
    )

    # the manager herself leaves her team: with none, she reads every visit
    assert admin.put(f"/v1/users/{users['Mona'][0]}/team", json={"team": None}).status_code == 200
    assert listed(mona, "/v1/recordings", "recording_id") == recs(visits, *OWNERS)
    # and into South CIN, now empty of practitioners: her own visit only
    admin.put(f"/v1/users/{users['Mona'][0]}/team", json={"team": SOUTH})
    admin.put(f"/v1/users/{users['Bea'][0]}/team", json={"team": NORTH})
    assert listed(mona, "/v1/recordings", "recording_id") == recs(visits, "Mona")

    everyone = {u["user_id"]: u for u in admin.get("/v1/users").json()}
    assert everyone[users["Mona"][0]]["team"] == SOUTH
    assert everyone[users["Cai"][0]]["team"] is None
    # bad input: refused, nothing changed
    for body in ({"team": ""}, {"team": "   "}, {"team": "x" * 65}, {}):
        r = admin.put(f"/v1/users/{users['Bea'][0]}/team", json=body)
        assert r.status_code == 422, body
    assert admin.put(f"/v1/users/{'f' * 32}/team", json={"team": NORTH}).status_code == 404
    assert mona.put(f"/v1/users/{users['Bea'][0]}/team", json={"team": SOUTH}).status_code == 403
    assert mona.get("/v1/users").status_code == 403
    assert {
        u["team"] for u in admin.get("/v1/users").json() if u["user_id"] == users["Bea"][0]
    } == {NORTH}
    # each change is audited (who moved whom; the label stays on the user)
    engine, sessions = db(settings)
    with session_scope(sessions) as s:
        moves = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "user.team_set")))
        assert len(moves) == 4 and {m.actor_id for m in moves} == {users["Ada"][0]}
        assert repo.verify_audit(session=s).intact
    engine.dispose()


def test_adding_a_user_in_a_team_through_the_api(site):
    _, client, users, visits = site
    admin = api(client, users["Ada"][1])
    r = admin.post("/v1/users", json={"name": "Pam", "role": "manager", "team": NORTH})
    assert r.status_code == 201 and r.json()["team"] == NORTH
    pam = api(client, r.json()["token"])
    assert listed(pam, "/v1/recordings", "recording_id") == recs(visits, "Ann", "Aled", "Mona")
    bad = admin.post("/v1/users", json={"name": "Pip", "role": "manager", "team": " "})
    assert bad.status_code == 422


# --- the command line ---------------------------------------------------------------------------
@pytest.fixture
def cli(tmp_path, monkeypatch, db_url):
    monkeypatch.setenv("CASEASSIST_PROFILE", "test")
    monkeypatch.setenv("CASEASSIST_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("CASEASSIST_DATABASE_URL", db_url)
    return db_url


def teams(db_url: str) -> dict[str, str | None]:
    from assistant.storage.db import make_engine, session_factory

    engine = make_engine(db_url)
    with session_scope(session_factory(engine)) as s:
        found = {u.name: u.team for u in s.scalars(select(User))}
    engine.dispose()
    return found


def test_cli_sets_teams_and_lists_them(cli, capsys):
    assert main(["users", "add", "--name", "Mo", "--role", "manager", "--team", "North CIN"]) == 0
    out = capsys.readouterr().out
    assert "team: North CIN" in out
    mo = out.split("user_id: ", 1)[1].split()[0]
    assert main(["users", "add", "--name", "Pat", "--role", "practitioner"]) == 0
    pat = capsys.readouterr().out.split("user_id: ", 1)[1].split()[0]
    assert teams(cli) == {"Mo": NORTH, "Pat": None}

    assert main(["users", "set-team", pat, "--team", " South  CIN"]) == 0
    assert "team: South CIN" in capsys.readouterr().out
    assert main(["users", "list"]) == 0
    listing = capsys.readouterr().out.splitlines()
    [mo_row] = [line for line in listing if line.startswith(mo)]
    assert "\tmanager\tNorth CIN\tyes\tpassword\tMo\tteam North CIN and own" == mo_row[len(mo) :]
    [pat_row] = [line for line in listing if line.startswith(pat)]
    assert "\tSouth CIN\t" in pat_row

    assert main(["users", "set-team", mo, "--no-team"]) == 0
    assert "with no team, they read every visit" in capsys.readouterr().out
    assert main(["users", "list"]) == 0
    assert "every visit (no team)" in capsys.readouterr().out
    assert teams(cli) == {"Mo": None, "Pat": SOUTH}


@pytest.mark.parametrize(
    "argv, message",
    [
        (["users", "set-team", "f" * 32, "--team", "North CIN"], "not_found"),
        (["users", "set-team", "{pat}", "--team", ""], "cannot be empty"),
        (["users", "set-team", "{pat}", "--team", "   "], "cannot be empty"),
        (["users", "set-team", "{pat}", "--team", "x" * 65], "at most 64"),
        (["users", "set-team", "{pat}", "--team", "North\tCIN\x07"], "control characters"),
        (["users", "add", "--name", "Zed", "--role", "manager", "--team", ""], "cannot be empty"),
    ],
)
def test_cli_bad_team_input_is_refused_with_nothing_changed(cli, capsys, argv, message):
    assert main(["users", "add", "--name", "Pat", "--role", "practitioner", "--team", SOUTH]) == 0
    pat = capsys.readouterr().out.split("user_id: ", 1)[1].split()[0]
    before = teams(cli)
    assert main([a.format(pat=pat) for a in argv]) == 2
    assert message in capsys.readouterr().err
    assert teams(cli) == before


def test_cli_set_team_needs_exactly_one_of_team_and_no_team(cli, capsys):
    for argv in (
        ["users", "set-team", "x"],
        ["users", "set-team", "x", "--team", "A", "--no-team"],
    ):
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == 2
    capsys.readouterr()
