"""Canary identifiers planted in a visit never reach the LLM prompt, a log line, the redacted
transcript or the draft: they live only in the encrypted placeholder map.

Runs the real pipeline (test profile): redaction on the bundled spaCy model, drafting with
SmolLM2 through llama.cpp. Every prompt the model receives and every log record at DEBUG from
every logger is searched.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest

from assistant.domain import Transcript
from assistant.drafting.drafter import Drafter
from assistant.drafting.templates import PROMPTS_DIR, NoteTemplate, load_template
from assistant.pipeline import run_stages
from assistant.transcription.files import parse_text

pytestmark = [pytest.mark.models, pytest.mark.slow]

CANARIES = {
    "person": "Zbigniewa Quixley-Obuya",
    "first name alone": "Zbigniewa",
    "phone (Whisper commas)": "07700, 900, 417",
    "phone spoken": "oh seven seven double oh nine double oh four one seven",
    "postcode (Whisper commas)": "LS6, 2QT",
    "nhs": "999 123 4560",
    "address": "27 Wyvernholt Crescent",
    "email": "zq.canary@example.org",
    "date of birth": "born on the 4th of February 2016",
}

POSTCODE = CANARIES["postcode (Whisper commas)"]
VISIT = f"""Social worker: Hello, I'm here to see {CANARIES["person"]}.
Mum: Come in. {CANARIES["first name alone"]} is upstairs, she's nine.
Social worker: Can I check your address is still {CANARIES["address"]}, {POSTCODE}?
Mum: Yes. And my number is {CANARIES["phone (Whisper commas)"]}, or {CANARIES["phone spoken"]}.
Social worker: Her NHS number is {CANARIES["nhs"]} and she was {CANARIES["date of birth"]}.
Mum: My email is {CANARIES["email"]}. {CANARIES["first name alone"]} has been happier at school.
Child: I like my teacher and I have a new friend.
"""


def _asking_note_template(root: Path) -> NoteTemplate:
    prompts = root / "prompts"
    shutil.copytree(PROMPTS_DIR / "visit_note", prompts / "visit_note")
    spec = prompts / "visit_note" / "v6" / "template.yaml"
    spec.write_text(spec.read_text().replace("sort: words", "sort: model"))
    return load_template("visit_note", "v6", root=prompts)


def _leaks(text: str) -> list[str]:
    low = text.lower()
    return [name for name, value in CANARIES.items() if value.lower() in low]


def test_canaries_stay_out_of_prompts_logs_and_outputs(engines, monkeypatch, caplog, tmp_path):
    prompts: list[str] = []
    real = engines.llm.create_chat_completion

    def spy(*args, **kwargs):
        messages = kwargs.get("messages", args[0] if args else [])
        prompts.append(json.dumps(messages))
        return real(*args, **kwargs)

    monkeypatch.setattr(engines.llm, "create_chat_completion", spy)
    transcript = Transcript(
        segments=tuple(parse_text(VISIT)), language="en", duration_s=60.0, source="text"
    )
    caplog.set_level(logging.DEBUG)
    result = run_stages(engines, template="visit_note", transcript=transcript)
    # the released note templates ask the model nothing (sort: words); the note style that
    # asks it (sort: model) and the v4 classify template draft the same redacted transcript
    for template in (_asking_note_template(tmp_path), load_template("visit_note", "v4")):
        Drafter(engines.llm, template, model=engines.models.llm, max_tokens=256).draft(
            result.redacted
        )

    assert prompts, "the model was called"
    for prompt in prompts:
        assert _leaks(prompt) == [], "an identifier reached the drafting prompt"
    assert _leaks(json.dumps(result.redacted.model_dump(mode="json"))) == []
    assert _leaks(json.dumps(result.note.model_dump(mode="json"))) == []
    logged = "\n".join(
        r.getMessage() + " " + json.dumps(r.__dict__, default=str) for r in caplog.records
    )
    assert _leaks(logged) == [], "an identifier reached a log record"
    # ...and the placeholder map does hold them, for the owner's view only
    mapped = " ".join(result.mapping.entries.values()).lower()
    assert "zbigniewa" in mapped and "wyvernholt" in mapped
