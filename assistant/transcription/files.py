"""Read a text transcript supplied instead of audio (``caseassist process visit.txt``).

Two forms are accepted:

* ``.txt``: one utterance per line, ``Speaker: words``. Blank lines are skipped; a line without
  a ``Speaker:`` prefix continues the previous utterance. Optional leading ``[mm:ss]`` times.
* ``.json``: ``{"segments": [{"text": ..., "speaker": ..., "start": ..., "end": ...}, ...]}``
  (or a bare list of such objects); ``start``/``end`` are optional.

Malformed input raises ``MalformedTranscript`` naming the line or item, never its content.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from assistant.domain import Segment, Transcript
from assistant.errors import MalformedTranscript
from assistant.transcription.whisper import segment_id

_LINE = re.compile(
    r"^\s*(?:\[(?P<mm>\d{1,3}):(?P<ss>\d{2})\]\s*)?(?P<speaker>[^:\[\]]{1,40}?)\s*:\s*(?P<text>.*)$"
)
MAX_BYTES = 5 * 1024 * 1024


def read_transcript_file(path: Path) -> Transcript:
    suffix = path.suffix.lower()
    if suffix not in {".txt", ".json"}:
        raise MalformedTranscript(
            f"Unsupported transcript type '{suffix}': use .txt (Speaker: words) or .json."
        )
    if path.stat().st_size > MAX_BYTES:
        raise MalformedTranscript("Transcript file is larger than 5 MB.")
    try:
        raw = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedTranscript("Transcript file is not UTF-8 text.") from exc
    segments = parse_json(raw) if suffix == ".json" else parse_text(raw)
    if not segments:
        raise MalformedTranscript("Transcript contains no utterances.")
    duration = max((s.end for s in segments), default=0.0)
    return Transcript(segments=tuple(segments), language="en", duration_s=duration, source="text")


def parse_text(raw: str) -> list[Segment]:
    items: list[dict] = []
    for n, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        m = _LINE.match(line)
        if m and m.group("text").strip():
            start = int(m["mm"]) * 60 + int(m["ss"]) if m["mm"] else None
            items.append(
                {"speaker": m["speaker"].strip(), "text": m["text"].strip(), "start": start}
            )
        elif items:
            items[-1]["text"] += " " + line.strip()
        else:
            raise MalformedTranscript(
                f"Line {n} has no 'Speaker:' prefix; each utterance must be 'Speaker: words'."
            )
    return _to_segments(items)


def parse_json(raw: str) -> list[Segment]:
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise MalformedTranscript(f"Invalid JSON at line {exc.lineno}.") from exc
    items = data.get("segments") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise MalformedTranscript("JSON transcript needs a 'segments' list.")
    cleaned = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise MalformedTranscript(f"Segment {i} needs a 'text' string.")
        speaker = item.get("speaker")
        if speaker is not None and not isinstance(speaker, str):
            raise MalformedTranscript(f"Segment {i} has a non-text 'speaker'.")
        for key in ("start", "end"):
            if item.get(key) is not None and not isinstance(item[key], int | float):
                raise MalformedTranscript(f"Segment {i} has a non-numeric '{key}'.")
        if item["text"].strip():
            cleaned.append(
                {
                    "speaker": speaker,
                    "text": item["text"].strip(),
                    "start": item.get("start"),
                    "end": item.get("end"),
                }
            )
    return _to_segments(cleaned)


def _to_segments(items: list[dict]) -> list[Segment]:
    """Fill missing times from a speaking rate of 2.5 words/s so evidence can still be located."""
    segments = []
    clock = 0.0
    for i, item in enumerate(items, start=1):
        start = float(item["start"]) if item.get("start") is not None else clock
        words = len(item["text"].split())
        end = float(item["end"]) if item.get("end") is not None else start + max(words / 2.5, 0.5)
        segments.append(
            Segment(
                id=segment_id(i),
                start=round(start, 2),
                end=round(end, 2),
                text=item["text"],
                speaker=item.get("speaker"),
            )
        )
        clock = end
    return segments
