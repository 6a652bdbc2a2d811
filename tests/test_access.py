"""The role and ownership matrix, over real HTTP.

A recording with a transcript, a redacted transcript, a name mapping and a note is seeded for
practitioner A; every role (and a second practitioner) then tries every endpoint. Another
user's ids answer 404, exactly as ids that do not exist.
"""

from __future__ import annotations

import pytest

from assistant.api.app import create_app
from assistant.bootstrap import open_database
from assistant.domain import PseudonymMap
from assistant.storage import repo
from assistant.storage.db import session_scope
from tests.conftest import LiveServer, add_user, free_port, make_settings, seed_recording

pytestmark = pytest.mark.models

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


@pytest.fixture(scope="module")
def world(tmp_path_factory, engines):
    tmp = tmp_path_factory.mktemp("access")
    settings = make_settings(tmp, run_worker=False)
    with LiveServer(create_app(settings, engines=engines), free_port()) as srv:
        users = {
            role: add_user(settings, role, role.split("_")[0])
            for role in ("practitioner", "practitioner_b", "manager", "auditor", "admin")
        }
        owner = users["practitioner"][0]
        engine, _, sessions = open_database(settings)
        with session_scope(sessions) as s:
            rec = seed_recording(s, owner)
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
                ai_draft=SECTIONS,
                provenance={"model": {"name": "m", "sha256": "0"}},
            )
            ids = {"rec": rec.id, "note": note.id}
        engine.dispose()
        yield srv, users, ids


READS = [
    ("get", "/v1/recordings/{rec}/transcript", None),
    ("get", "/v1/recordings/{rec}/transcript/redacted", None),
    ("get", "/v1/notes/{note}", None),
    ("get", "/v1/notes/{note}?reidentify=true", None),
    ("get", "/v1/notes/{note}/export?format=md", None),
    ("get", "/v1/audit", None),
]

# expected status per role for each read above
MATRIX = {
    "practitioner": [200, 200, 200, 200, 200, 403],
    "practitioner_b": [404, 404, 404, 404, 404, 403],
    "manager": [404, 200, 200, 404, 200, 403],
    "auditor": [404, 404, 404, 404, 404, 200],
    "admin": [404, 404, 404, 404, 404, 200],
}


@pytest.mark.parametrize("role", list(MATRIX))
def test_read_matrix(world, role):
    srv, users, ids = world
    client = srv.client(users[role][1])
    got = [getattr(client, m)(path.format(**ids)).status_code for m, path, _ in READS]
    assert got == MATRIX[role], role


def test_owner_sees_real_names_only_when_asked(world):
    srv, users, ids = world
    client = srv.client(users["practitioner"][1])
    plain = client.get(f"/v1/notes/{ids['note']}").json()
    assert "[PERSON_1]" in plain["sections"][0]["statements"][0]["text"]
    real = client.get(f"/v1/notes/{ids['note']}", params={"reidentify": "true"}).json()
    assert real["sections"][0]["statements"][0]["text"] == "Visit to see Amara at home."
    assert real["reidentified"] is True


@pytest.mark.parametrize("role", ["practitioner_b", "manager", "auditor", "admin"])
def test_only_the_owner_edits_or_approves(world, role):
    srv, users, ids = world
    client = srv.client(users[role][1])
    edit = {"sections": [{"key": "purpose", "statements": []}]}
    assert client.patch(f"/v1/notes/{ids['note']}", json=edit).status_code == 404
    assert client.post(f"/v1/notes/{ids['note']}/approve").status_code == 404


def test_edit_citing_unknown_segment_is_refused(world):
    srv, users, ids = world
    client = srv.client(users["practitioner"][1])
    bad = {
        "sections": [
            {
                "key": "purpose",
                "statements": [{"text": "x", "kind": "observed", "evidence": ["s9999"]}],
            }
        ]
    }
    r = client.patch(f"/v1/notes/{ids['note']}", json=bad)
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_edit"
    r = client.patch(
        f"/v1/notes/{ids['note']}", json={"sections": [{"key": "nope", "statements": []}]}
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_edit"


@pytest.mark.parametrize(
    "role,status", [("auditor", 403), ("admin", 201), ("practitioner", 403), ("manager", 403)]
)
def test_only_admins_add_users(world, role, status):
    srv, users, _ = world
    r = srv.client(users[role][1]).post("/v1/users", json={"name": "New", "role": "auditor"})
    assert r.status_code == status
    if status == 201:
        token = r.json()["token"]
        assert srv.client(token).get("/v1/audit").status_code == 200


@pytest.mark.parametrize("role", ["auditor", "admin"])
def test_roles_without_upload_right(world, role):
    srv, users, _ = world
    r = srv.client(users[role][1]).post("/v1/recordings", files={"audio": ("a.wav", b"RIFF")})
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    # said in words, not as the permission's name ('recording.upload')
    assert r.json()["error"]["message"] == f"Your role ({role}) may not upload recordings."


def test_every_permission_has_words_for_a_refusal():
    from assistant.auth import ACTION_WORDS, PERMISSIONS

    assert set(ACTION_WORDS) == set(PERMISSIONS)


def test_other_practitioner_cannot_erase_but_admin_can(world, tmp_path):
    srv, users, ids = world
    assert (
        srv.client(users["practitioner_b"][1]).delete(f"/v1/recordings/{ids['rec']}").status_code
        == 404
    )
    assert srv.client(users["admin"][1]).delete(f"/v1/recordings/{ids['rec']}").status_code == 204
    assert srv.client(users["practitioner"][1]).get(f"/v1/notes/{ids['note']}").status_code == 404
