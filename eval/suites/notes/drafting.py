"""Drafting a visit for scoring, shared with the bias suite: redaction and drafting as the
service runs them, once per evaluation context, and from the drafts store when ``--drafts``
keeps one.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass

from assistant.domain import DraftNote, PseudonymMap, RedactedTranscript, Transcript
from assistant.errors import StageError
from assistant.transcription.files import parse_json
from eval.core import EvalContext
from eval.datasets.scenarios import Scenario
from eval.draft_store import DraftStore
from eval.draft_store import identity as draft_identity
from eval.scoring import matching

TEMPLATE = "visit_note"


@dataclass(frozen=True)
class Drafted:
    """One visit through redaction and drafting; ``error`` names the stage error when there is
    no note (the class name only: stage errors never carry transcript text)."""

    key: str
    transcript: Transcript
    redacted: RedactedTranscript | None
    mapping: PseudonymMap | None
    note: DraftNote | None
    error: str | None
    seconds: float
    same_as: str | None = None
    """The key of an earlier visit whose redacted transcript was identical, when the note was
    taken from it instead of drafted again (drafting is deterministic: same redacted text and
    settings, same note). ``seconds`` is then the redaction time only."""
    reused: bool = False
    """The note was read from the drafts store (``--drafts``: ``eval/draft_store.py``), not
    drafted in this run; ``seconds`` is then the redaction time only."""

    @property
    def drafted_here(self) -> bool:
        """Drafting was tried in this run (``seconds`` include it), not taken from elsewhere."""
        return self.same_as is None and not self.reused


def scenario_transcript(scenario: Scenario) -> Transcript:
    """A scenario as the text transcript a practitioner could upload (``Speaker: words`` turns,
    ids ``s0001``..., times from a speaking rate), through the service's own parser."""
    raw = json.dumps({"segments": [{"speaker": t.speaker, "text": t.text} for t in scenario.turns]})
    segments = parse_json(raw)
    return Transcript(
        segments=tuple(segments), language="en", duration_s=segments[-1].end, source="text"
    )


def draft(ctx: EvalContext, item_id: str, transcript: Transcript) -> Drafted:
    """Redact and draft ``transcript`` once per evaluation context (cached in ``ctx.cache``
    by id and transcript hash, so the bias suite reuses the notes suite's originals).

    The model sees only the redacted transcript, and the same redacted transcript with the same
    template and settings gives the same note, so a visit whose redacted text equals an earlier
    one's (a names-swapped copy whose every name was redacted) takes that note without drafting
    it again; ``Drafted.same_as`` says so, and the bias suite counts such pairs."""
    from assistant.pipeline import draft_note, redact_transcript

    digest = hashlib.sha256(transcript.model_dump_json().encode()).hexdigest()[:16]
    key = f"{item_id}:{digest}"
    cache: dict[str, Drafted] = ctx.cache.setdefault("notes.drafts", {})
    if key in cache:
        return cache[key]
    by_redacted: dict[str, Drafted] = ctx.cache.setdefault("notes.drafts_by_redacted", {})
    engines = ctx.engines
    store = draft_store(ctx)
    t0 = time.perf_counter()
    redacted = mapping = note = None
    error = None
    same_as = None
    reused = False
    try:
        redacted, mapping = redact_transcript(engines, transcript)
        digest = redacted_digest(redacted)
        seen = by_redacted.get(digest)
        if seen is not None and seen.note is not None:
            note, same_as = seen.note, seen.key
        elif store is not None and (note := store.get(digest)) is not None:
            reused = True
        else:
            t_draft = time.perf_counter()
            note = draft_note(engines, redacted, template=TEMPLATE)
            if store is not None:
                store.put(digest, item_id, note, time.perf_counter() - t_draft)
    except StageError as exc:
        error = type(exc).__name__
    drafted = Drafted(
        key, transcript, redacted, mapping, note, error, time.perf_counter() - t0, same_as, reused
    )
    cache[key] = drafted
    if note is not None and same_as is None:
        by_redacted[digest] = drafted
    return drafted


def draft_store(ctx: EvalContext) -> DraftStore | None:
    """The run's drafts store (``ctx.cache["draft_store"]``), made on first use from
    ``ctx.cache["drafts_dir"]`` (``--drafts``); None when the run keeps no drafts."""
    if "draft_store" not in ctx.cache:
        root = ctx.cache.get("drafts_dir")
        ctx.cache["draft_store"] = (
            None
            if root is None
            else DraftStore(root, draft_identity(ctx.settings, ctx.engines, TEMPLATE))
        )
    return ctx.cache["draft_store"]


def redacted_digest(redacted: RedactedTranscript) -> str:
    """What drafting and review read of a redacted transcript: segment ids, words, speakers
    and unsure words, the language and the redaction configuration (not the times, which a
    scenario derives from word counts, nor the entity offsets into the original text)."""
    read = {
        "template": TEMPLATE,
        "language": redacted.language,
        "config": redacted.config_hash,
        "segments": [
            [s.id, s.text, s.speaker, list(s.low_confidence_words)] for s in redacted.segments
        ],
    }
    return hashlib.sha256(json.dumps(read).encode()).hexdigest()


def inverse(drafted: Drafted) -> dict[str, frozenset[str]]:
    """Original value -> placeholders for one drafted visit (mapping and redacted spans)."""
    surfaces = (
        matching.redacted_surfaces(drafted.transcript, drafted.redacted)
        if drafted.redacted is not None
        else []
    )
    return matching.inverse_mapping(drafted.mapping, surfaces)
