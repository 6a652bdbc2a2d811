"""Drafted notes kept on disk, so an evaluation run can be resumed, or scored again, without
drafting the same notes twice.

    caseassist eval run --suite notes --profile default --out DIR --drafts DRAFTS

keeps every note the run drafts in ``DRAFTS`` (one JSON file a note, written as soon as the note
is made) and takes a note from there instead of drafting it when everything drafting reads is
the same (:func:`identity`): the redacted transcript as drafting reads it (segment ids, words,
speakers, unsure words, language and redaction configuration: ``notes.redacted_digest``), the
template and its prompt hash, the drafting model's sha256, the llama-cpp-python version, the
drafting settings (every ``llm_*`` setting but the model's path, and the seed) and a hash of the
service's code and prompts (``assistant/``, ``prompts/``: any change there drafts again).
Drafting is deterministic for all of these (temperature 0, a fixed seed), so a kept note is the
note the run would draft, on the same kind of processor: llama.cpp built for another one may
round differently, so each file records the machine it was drafted on, and a results file
counts how many notes it reused (``details.drafts``); ``seconds_per_draft`` leaves them out.

A run stopped part way (a laptop shut, a session's time up) is resumed by the same command with
the same ``--drafts``; a change to the scoring (``eval/``) scores the kept notes again in the
time redaction takes. Nothing personal is kept: the notes are drafted from redacted transcripts
and hold placeholders, never the mapping back to names.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.domain import DraftNote
from eval.paths import ROOT

log = logging.getLogger(__name__)

FORMAT = 1
CODE_DIRS = ("assistant",)


def code_sha256(root: Path = ROOT, dirs: Iterable[str] = CODE_DIRS) -> str:
    """sha256 over the path and bytes of every file under ``dirs`` (sorted; caches skipped)."""
    h = hashlib.sha256()
    for d in dirs:
        for path in sorted((root / d).rglob("*")):
            if not path.is_file() or "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            h.update(path.relative_to(root).as_posix().encode() + b"\0")
            h.update(path.read_bytes() + b"\0")
    return h.hexdigest()


def drafting_settings(settings: Any) -> dict[str, Any]:
    """Every ``llm_*`` setting but the model's path, and the seed: what drafting reads."""
    return {
        k: (str(v) if isinstance(v, Path) else v)
        for k, v in settings.model_dump().items()
        if (k.startswith("llm_") and k != "llm_model_path") or k == "seed"
    }


def identity(settings: Any, engines: Any, template: str) -> dict[str, Any]:
    """What, besides the redacted transcript, decides a drafted note."""
    from importlib.metadata import PackageNotFoundError, version

    from assistant.drafting.templates import load_template

    t = load_template(template)
    try:
        llama = version("llama_cpp_python")
    except PackageNotFoundError:
        llama = None
    drafting = drafting_settings(settings)
    return {
        "template": t.id,
        "template_version": t.version,
        "prompt_sha256": t.prompt_sha256,
        "model": engines.models.refs().get("llm"),
        "llama_cpp_python": llama,
        "settings": drafting,
        "code_sha256": code_sha256(),
    }


class DraftStore:
    """``get`` and ``put`` drafted notes by redacted-transcript digest, under one identity."""

    def __init__(self, root: Path | str, ident: dict[str, Any]):
        self.root = Path(root)
        self.identity = ident
        self._id = json.dumps(ident, sort_keys=True)
        self.reused = 0
        self.written = 0
        self._machine: dict[str, Any] | None = None

    def key(self, redacted_digest: str) -> str:
        return hashlib.sha256(f"{self._id}\n{redacted_digest}".encode()).hexdigest()

    def _path(self, key: str) -> Path:
        return self.root / f"{key}.json"

    def get(self, redacted_digest: str) -> DraftNote | None:
        """The kept note, or None (none kept, or a file that does not read back: drafted again)."""
        key = self.key(redacted_digest)
        path = self._path(key)
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != FORMAT or data.get("key") != key:
                raise ValueError("not this key's file")
            if json.dumps(data.get("identity"), sort_keys=True) != self._id:
                raise ValueError("another identity")
            note = DraftNote.model_validate(data["note"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("kept draft %s not used: %s", key[:12], type(exc).__name__)
            return None
        self.reused += 1
        return note

    def put(self, redacted_digest: str, item: str, note: DraftNote, seconds: float) -> Path:
        """Keep ``note`` (written to a temporary file, then renamed: a run killed mid-write
        leaves no half file)."""
        key = self.key(redacted_digest)
        self.root.mkdir(parents=True, exist_ok=True)
        record = {
            "format": FORMAT,
            "key": key,
            "item": item,
            "identity": self.identity,
            "seconds": round(seconds, 3),
            "drafted_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": self._where(),
            "note": note.model_dump(mode="json"),
        }
        path = self._path(key)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        tmp.replace(path)
        self.written += 1
        return path

    def _where(self) -> dict[str, Any]:
        if self._machine is None:
            from eval.provenance import machine

            m = machine()
            self._machine = {k: m[k] for k in ("cpu_model", "cores", "platform")}
        return self._machine

    def summary(self) -> dict[str, Any]:
        return {"dir": str(self.root), "reused": self.reused, "written": self.written}
