"""End to end over real HTTP: a generated multi-speaker visit recording goes in; a transcript,
a redacted transcript and an evidence-linked draft note come out; the note is edited,
approved (locked) and exported; erasure removes everything but the audit trail.

Real components throughout: espeak-ng speech, Whisper tiny.en, Presidio on spaCy, SmolLM2,
SQLite, uvicorn on a loopback port and an httpx client.
"""

from __future__ import annotations

import json

import jsonschema
import pytest

from assistant.drafting.templates import load_template
from tests.conftest import add_user, wait_for_job
from tests.speech import VISIT_SCRIPT, espeak_available, synthesize_dialogue

pytestmark = [
    pytest.mark.models,
    pytest.mark.slow,
    pytest.mark.skipif(not espeak_available(), reason="espeak-ng not installed"),
]


@pytest.fixture(scope="module")
def visit_wav(tmp_path_factory):
    return synthesize_dialogue(VISIT_SCRIPT, tmp_path_factory.mktemp("audio") / "visit.wav")


def test_visit_recording_to_approved_exported_note(live, visit_wav):
    server, settings = live
    owner_id, token = add_user(settings, "Practitioner A", "practitioner")
    _, auditor_token = add_user(settings, "Auditor", "auditor")
    client = server.client(token)

    with visit_wav.open("rb") as f:
        r = client.post(
            "/v1/recordings",
            files={"audio": ("visit.wav", f, "audio/wav")},
            data={
                "visit_type": "home visit",
                "visit_date": "2026-11-20",
                "template": "visit_note",
                "language": "en",
            },
        )
    assert r.status_code == 202, r.text
    job_id, recording_id = r.json()["job_id"], r.json()["recording_id"]

    job = wait_for_job(client, job_id)
    assert job["status"] == "done", job
    assert set(job["timings"]) == {"transcribing", "diarising", "redacting", "drafting"}
    assert job["timings"]["transcribing"]["rtf"] > 0
    assert job["eta_s"] == 0.0

    # transcripts: raw (owner) and redacted
    raw = client.get(f"/v1/recordings/{recording_id}/transcript").json()
    assert raw["source"] == "audio" and len(raw["segments"]) >= 3
    assert all(s["words"] for s in raw["segments"])
    redacted = client.get(f"/v1/recordings/{recording_id}/transcript/redacted").json()
    ids = {s["id"] for s in raw["segments"]}
    assert {s["id"] for s in redacted["segments"]} == ids
    assert redacted["entities"], "the visit names people and a place: something is redacted"
    redacted_text = json.dumps(redacted["segments"])
    for e in redacted["entities"]:
        original = next(s for s in raw["segments"] if s["id"] == e["segment_id"])
        value = (original[e["field"]] or "")[e["start"] : e["end"]]
        assert value and value not in redacted_text.replace(e["placeholder"], "")

    # the draft: schema-valid, every statement's evidence exists in the transcript
    note = client.get(f"/v1/notes/{job['note_id']}").json()
    template = load_template(note["template"], note["template_version"])
    # a verbatim template's section may hold more statements than a generation schema allows
    schema = template.json_schema(sorted(ids), max_statements=len(ids))
    jsonschema.validate(
        {
            "sections": {
                s["key"]: [
                    {k: st[k] for k in ("text", "kind", "speaker", "evidence")}
                    for st in s["statements"]
                ]
                for s in note["sections"]
            }
        },
        schema,
    )
    statements = [st for s in note["sections"] for st in s["statements"]]
    assert all(set(st["evidence"]) <= ids for st in statements)
    assert note["revision"] == 1 and note["status"] == "draft"
    # the draft was checked in code: every statement counted, red flags gated
    review = note["review"]
    assert review["verification"]["total"] == len(statements)
    assert review["gating"]["lexicon_version"]
    assert note["provenance"]["model"]["sha256"].startswith("b179c952")

    # edit -> revision 2, AI draft kept as revision 1
    sections = [{"key": s["key"], "statements": s["statements"]} for s in note["sections"]]
    sections[0]["statements"] = [
        {
            "text": "Planned statutory visit.",
            "kind": "observed",
            "speaker": None,
            "evidence": [sorted(ids)[0]],
        }
    ]
    r = client.patch(f"/v1/notes/{note['note_id']}", json={"sections": sections})
    assert r.status_code == 200, r.text
    assert r.json()["revision"] == 2
    assert [v["author"] for v in r.json()["revisions"]] == ["ai", owner_id]
    # the header found at drafting (who spoke, with evidence) is stored with the AI draft and
    # carried to the new revision
    assert note["header"] and note["header"][0]["key"] == "present"
    assert r.json()["header"] == note["header"]

    # approve -> locked, correction burden recorded; statements raising a safeguarding
    # category are confirmed one by one first
    for item in r.json()["safeguarding"]:
        path = f"/v1/notes/{note['note_id']}/statements/{item['section']}/{item['index']}"
        assert client.post(f"{path}/confirm").status_code == 200
    r = client.post(f"/v1/notes/{note['note_id']}/approve")
    assert r.status_code == 200 and r.json()["status"] == "approved"
    assert r.json()["edit_distance"] > 0
    r = client.patch(f"/v1/notes/{note['note_id']}", json={"sections": sections})
    assert r.status_code == 409 and r.json()["error"]["code"] == "note_approved"

    # export in every format
    md = client.get(f"/v1/notes/{note['note_id']}/export", params={"format": "md"})
    assert md.status_code == 200 and "Planned statutory visit." in md.text
    assert sorted(ids)[0] in md.text  # evidence ids travel with the export
    txt = client.get(f"/v1/notes/{note['note_id']}/export", params={"format": "txt"})
    assert txt.status_code == 200 and "Planned statutory visit." in txt.text
    # a person's header, provenance in a footer: no Python reprs, no hashes in the head
    head, footer = md.text.split("## Provenance")
    assert "sha256" not in head and "{'" not in md.text
    assert "Visit date:** 20 November 2026" in head and "sha256" in footer
    js = client.get(f"/v1/notes/{note['note_id']}/export", params={"format": "json"}).json()
    assert js["meta"]["status"] == "approved"

    # erase: everything goes, the audit trail stays
    assert client.delete(f"/v1/recordings/{recording_id}").status_code == 204
    assert client.get(f"/v1/notes/{note['note_id']}").status_code == 404
    assert client.get(f"/v1/recordings/{recording_id}/transcript").status_code == 404
    assert not list((settings.uploads_dir).glob(f"{recording_id}*"))
    audit = server.client(auditor_token).get("/v1/audit").json()
    actions = [a["action"] for a in audit if a["object_id"] in (recording_id, note["note_id"])]
    for action in (
        "recording.upload",
        "transcript.view",
        "note.view",
        "note.edit",
        "note.approve",
        "note.export",
        "recording.erase",
    ):
        assert action in actions
    # the audit trail itself carries no words from the visit
    audit_text = json.dumps(audit).lower()
    for seg in raw["segments"]:
        for word in seg["text"].split():
            if len(word) > 7 and word.isalpha():
                assert word.lower() not in audit_text
