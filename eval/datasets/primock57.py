"""PriMock57: real UK primary-care mock consultations, as dialogue-to-note test data.

57 consultations recorded and annotated by Babylon Health: utterance-level manual transcripts
(one Praat TextGrid per speaker, times in seconds), the note the clinician wrote after each
consultation, and fact checklists for 27 of them with each item marked critical (``c``),
non-critical (``nc``) or irrelevant (``i``). Nobody on this project wrote them, so they test the
drafting pipeline on conversation it was not tuned on.

    Papadopoulos Korfiatis, Moramarco, Sarac, Savkov, "PriMock57: A Dataset Of Primary Care
    Mock Consultations", ACL 2022; Moramarco et al., "Human Evaluation and Correlation with
    Automatic Metrics in Consultation Note Generation", ACL 2022. Source: babylonhealth/primock57
    (commit cd2ac70). Licence: CC BY 4.0. Keep ``NOTICE.md`` with any copy of the data.

The data is not in this repository: :func:`find_primock_dir` looks in ``var/data/primock57``
and then in the workspace's ``shared/data/primock57`` (beside the checkout), and a suite that
finds neither reports PriMock as skipped rather than failing.

Parsing rules:

* **Transcripts**: ``<id>_doctor.TextGrid`` and ``<id>_patient.TextGrid``; every non-empty
  interval of every interval tier is one utterance, with speaker ``Doctor`` or ``Patient`` taken
  from the file name (the tiers are mostly named "Speaker"). The two speakers are merged in order
  of start time. Markup is stripped: ``<UNSURE>words</UNSURE>`` keeps the words (the transcriber
  was unsure of them), ``<UNIN/>`` (unintelligible) and ``<INAUDIBLE_SPEECH/>`` are dropped, and
  an utterance left empty is dropped.
* **Notes**: ``notes/<id>.json``: ``note`` (free text), ``presenting_complaint``, ``highlights``.
* **Checklists**: the first worksheet of each ``consultation_checklists/<clinician>/Day D
  Consultation N - Checklist.xlsx``; every column headed "CHECKLIST" holds items and the
  column after it their code. A row without a code is a section heading ("PC/HPC", "PMH").
  Leading ``*`` and ``↳`` (sub-item marks) are stripped; formula cells are ignored.
"""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from assistant.domain import Segment, Transcript
from assistant.transcription.whisper import segment_id
from eval.paths import PRIMOCK_DIRS

CANDIDATE_DIRS = PRIMOCK_DIRS
CONSULTATIONS = 57
"""How many consultations the dataset holds (a ``--primock`` limit of this or more is all)."""
SPEAKERS = {"doctor": "Doctor", "patient": "Patient"}
CITATION = (
    "PriMock57 (Papadopoulos Korfiatis et al., ACL 2022; Moramarco et al., ACL 2022), "
    "babylonhealth/primock57 commit cd2ac70, CC BY 4.0"
)

_UNSURE_RE = re.compile(r"</?UNSURE>", re.IGNORECASE)
_DROP_RE = re.compile(r"<(?:UNIN|INAUDIBLE_SPEECH)\s*/>", re.IGNORECASE)
_OTHER_TAG_RE = re.compile(r"<[^<>]{1,40}>")
_INTERVAL_RE = re.compile(
    r"intervals\s*\[\d+\]\s*:\s*xmin\s*=\s*([-\d.eE+]+)\s*xmax\s*=\s*([-\d.eE+]+)\s*"
    r'text\s*=\s*"((?:[^"]|"")*)"',
    re.DOTALL,
)
_TIER_RE = re.compile(r'class\s*=\s*"(\w+)"')
_CHECKLIST_NAME_RE = re.compile(r"day\s*(\d+)\s*consultation\s*(\d+)", re.IGNORECASE)


class PrimockError(ValueError):
    """A PriMock57 file that does not parse; the message names the file, never its text."""


@dataclass(frozen=True)
class Utterance:
    speaker: str
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class ChecklistItem:
    text: str
    code: str
    """``c`` critical, ``nc`` non-critical, ``i`` irrelevant."""
    clinician: str
    section: str | None = None

    @property
    def critical(self) -> bool:
        return self.code == "c"


@dataclass(frozen=True)
class ClinicianNote:
    note: str
    presenting_complaint: str
    highlights: tuple[str, ...]


@dataclass(frozen=True)
class Consultation:
    id: str
    """``day1_consultation01``."""
    utterances: tuple[Utterance, ...]
    note: ClinicianNote | None
    checklist: tuple[ChecklistItem, ...]
    truncated: bool = False
    """The utterances were cut (quick mode): the note and checklist describe the whole visit."""

    def transcript(self) -> Transcript:
        """The consultation as the pipeline's text transcript (real times, ``s0001`` ids)."""
        segments = tuple(
            Segment(id=segment_id(i), start=u.start, end=u.end, text=u.text, speaker=u.speaker)
            for i, u in enumerate(self.utterances, start=1)
        )
        duration = max((u.end for u in self.utterances), default=0.0)
        return Transcript(segments=segments, language="en", duration_s=duration, source="text")

    @property
    def critical_items(self) -> tuple[ChecklistItem, ...]:
        return tuple(i for i in self.checklist if i.critical)


def find_primock_dir(candidates: Iterable[Path] = CANDIDATE_DIRS) -> Path | None:
    """The first candidate folder holding ``transcripts/``, or None."""
    for c in candidates:
        if (Path(c) / "transcripts").is_dir():
            return Path(c)
    return None


def clean_markup(text: str) -> str:
    """Strip the transcribers' markup: keep UNSURE words, drop unintelligible marks."""
    text = _UNSURE_RE.sub("", text)
    text = _DROP_RE.sub(" ", text)
    text = _OTHER_TAG_RE.sub(" ", text)
    return " ".join(text.split())


def parse_textgrid(path: Path | str, speaker: str) -> list[Utterance]:
    """Every non-empty interval of every interval tier of a long-format TextGrid."""
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise PrimockError(f"{path.name}: cannot be read ({type(exc).__name__})") from None
    if "ooTextFile" not in raw[:200]:
        raise PrimockError(f"{path.name}: not a long-format TextGrid")
    # Split into tiers so a point tier (none in PriMock57) is never read as intervals.
    pieces = re.split(r"item\s*\[\d+\]\s*:", raw)[1:]
    out: list[Utterance] = []
    for piece in pieces:
        kind = _TIER_RE.search(piece)
        if kind is None or kind.group(1) != "IntervalTier":
            continue
        for m in _INTERVAL_RE.finditer(piece):
            text = clean_markup(m.group(3).replace('""', '"'))
            if text:
                out.append(Utterance(speaker, float(m.group(1)), float(m.group(2)), text))
    return out


def consultation_ids(root: Path) -> list[str]:
    """Consultations with both transcripts, in id order."""
    ids = {p.name.rsplit("_", 1)[0] for p in (root / "transcripts").glob("*.TextGrid")}
    return sorted(
        i
        for i in ids
        if all((root / "transcripts" / f"{i}_{s}.TextGrid").is_file() for s in SPEAKERS)
    )


def load_utterances(root: Path, cid: str) -> list[Utterance]:
    utts: list[Utterance] = []
    for key, label in SPEAKERS.items():
        utts += parse_textgrid(root / "transcripts" / f"{cid}_{key}.TextGrid", label)
    return sorted(utts, key=lambda u: (u.start, u.end, u.speaker))


def load_note(root: Path, cid: str) -> ClinicianNote | None:
    path = root / "notes" / f"{cid}.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PrimockError(f"{path.name}: not valid JSON ({type(exc).__name__})") from None
    return ClinicianNote(
        note=str(data.get("note") or ""),
        presenting_complaint=str(data.get("presenting_complaint") or ""),
        highlights=tuple(str(h) for h in data.get("highlights") or ()),
    )


def checklist_id(path: Path) -> str | None:
    """``Day 1 Consultation 3 - Checklist.xlsx`` -> ``day1_consultation03``."""
    m = _CHECKLIST_NAME_RE.search(path.stem)
    return f"day{int(m.group(1))}_consultation{int(m.group(2)):02d}" if m else None


def _clean_item(value: object) -> str:
    text = str(value).strip()
    return " ".join(text.lstrip("*↳ \t").split())


def parse_checklist(path: Path, clinician: str) -> list[ChecklistItem]:
    """Items of the first worksheet (module rules)."""
    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # openpyxl: unsupported extensions
            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a bad file
        raise PrimockError(f"{path.name}: not a readable workbook ({type(exc).__name__})") from None
    try:
        rows = list(wb.worksheets[0].iter_rows(values_only=True))
    finally:
        wb.close()
    if not rows:
        return []
    item_cols = [
        c
        for c, h in enumerate(rows[0])
        if isinstance(h, str) and h.strip().upper().startswith("CHECKLIST")
    ]
    items: list[ChecklistItem] = []
    for col in item_cols:
        section: str | None = None
        for row in rows[1:]:
            value = row[col] if col < len(row) else None
            code = row[col + 1] if col + 1 < len(row) else None
            if value is None or (isinstance(value, str) and value.strip().startswith("=")):
                continue
            text = _clean_item(value)
            if not text:
                continue
            code_s = str(code).strip().lower() if code is not None else ""
            if code_s in ("c", "nc", "i"):
                items.append(ChecklistItem(text, code_s, clinician, section))
            elif not code_s:
                section = text
    return items


def load_checklists(root: Path) -> dict[str, list[ChecklistItem]]:
    """Consultation id -> items of every clinician's checklist for it (duplicates within one
    consultation, same text and code, kept once)."""
    out: dict[str, list[ChecklistItem]] = {}
    base = root / "consultation_checklists"
    for path in sorted(base.glob("*/*.xlsx")):
        cid = checklist_id(path)
        if cid is None:
            continue
        have = out.setdefault(cid, [])
        seen = {(i.text.lower(), i.code) for i in have}
        for item in parse_checklist(path, path.parent.name):
            key = (item.text.lower(), item.code)
            if key not in seen:
                seen.add(key)
                have.append(item)
    return out


def load_consultations(
    root: Path,
    *,
    ids: Iterable[str] | None = None,
    max_utterances: int | None = None,
) -> list[Consultation]:
    """Consultations (all, or ``ids``), each cut to ``max_utterances`` when given."""
    checklists = load_checklists(root)
    out = []
    for cid in ids if ids is not None else consultation_ids(root):
        utts = load_utterances(root, cid)
        cut = max_utterances is not None and len(utts) > max_utterances
        out.append(
            Consultation(
                id=cid,
                utterances=tuple(utts[:max_utterances] if cut else utts),
                note=load_note(root, cid),
                checklist=tuple(checklists.get(cid, ())),
                truncated=cut,
            )
        )
    return out


def dataset_sha256(root: Path) -> str:
    """One hash over every data file's relative path and bytes (NOTICE included)."""
    h = hashlib.sha256()
    for f in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(f.relative_to(root).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()


__all__ = [
    "CITATION",
    "ChecklistItem",
    "ClinicianNote",
    "Consultation",
    "PrimockError",
    "Utterance",
    "checklist_id",
    "clean_markup",
    "consultation_ids",
    "dataset_sha256",
    "find_primock_dir",
    "load_checklists",
    "load_consultations",
    "load_note",
    "load_utterances",
    "parse_checklist",
    "parse_textgrid",
]
