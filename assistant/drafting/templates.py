"""Note templates: versioned data under ``prompts/<template>/<version>/``.

A template folder holds ``template.yaml`` (id, version, title, sections), ``system.md`` (the
system prompt, with ``{{sections}}`` where the section list goes), ``user.md`` (the user message,
with ``{{title}}`` and ``{{transcript}}``) and ``CHANGELOG.md``. Released versions are never
edited; a change is a new folder, and ``prompt_sha256`` (over every file in the folder) is stored
with each draft so a note can be traced to the exact words the model was given.

The template also builds the JSON schema the model's output must satisfy. llama.cpp compiles that
schema into a grammar, so the real segment ids in an ``enum`` make it impossible for the model to
cite a segment that does not exist. The schema bounds arrays with ``maxItems`` but never strings
with ``maxLength``: llama.cpp expands a length bound into a grammar so large that generation
never finished.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from assistant.domain import StatementKind
from assistant.errors import ConfigurationError, UnknownTemplate

PROMPTS_DIR = Path(__file__).resolve().parent / "prompts"
"""Where the template folders live (the repository's ``prompts/``)."""

REQUIRED_FILES = ("template.yaml", "system.md", "user.md", "CHANGELOG.md")

SECTIONS_SLOT = "{{sections}}"
TITLE_SLOT = "{{title}}"
TRANSCRIPT_SLOT = "{{transcript}}"
SECTION_SLOT = "{{section}}"
"""In an extractive template's ``user.md``, after the transcript: the one section asked for."""
SEGMENT_SLOT = "{{segment}}"
"""In a classify template's ``user.md``, after the transcript: the segment asked about (with
the question before it when it is a short answer)."""
NONE_LABEL = "none"
"""A classify template's answer for a segment that belongs in no section (greetings, small
talk); never a section key."""

MAX_STATEMENTS = 8
"""Default bound on statements per section in the schema (keeps small models from looping)."""
MAX_EVIDENCE = 6
"""Default bound on evidence ids per statement."""
Style = Literal["abstractive", "extractive", "classify", "note"]
"""How a template's statements get their words. ``abstractive``: the model writes each
statement's text (checked afterwards against its evidence). ``extractive``: the model only
chooses segments, section by section; a statement's text is its segment's own words (with the
question it answers, when it is a short answer), its speaker the segment's speaker and its kind
the section's, so every word of the note is a word of the transcript. ``classify``: statements
are made the same way, but the model is asked about each segment in turn which section it
belongs in (a section key, or :data:`NONE_LABEL`): one short answer per segment instead of a
list per section, which small models fill from the top of the transcript. ``note``: code
keeps the sentences of each turn that carry something and sorts most of them by the
speaker's role and what the words are (:mod:`assistant.drafting.selection`); the model is asked
only which section a family member's kept words belong in, among the sections that can hold
them (each section's ``fill``)."""
Fill = Literal["child", "family", "actions", "next_visit", "observations", "purpose"]
"""A ``note`` template's section says which kept words fill it: ``child``, the child's own
words; ``family``, a parent's, carer's or relative's words the model sorts among every
``family`` section (or leaves out); ``actions``, commitments (who, what, by when);
``next_visit``, the practitioner's words about the next visit; ``observations``, what the
practitioner says they see; ``purpose``, why the practitioner says they came."""
Sort = Literal["words", "model"]
"""How a note template places a family member's kept words among its ``family`` sections:
``words``, by each section's ``cues`` (deterministic, no model call); ``model``, by asking the
model (one short answer a piece: for a council's larger model, measured before use)."""
Ask = Literal["line", "id"]
"""How a classify template shows the segment it asks about: see :attr:`NoteTemplate.ask`."""
MAX_BATCH = 32
"""The most consecutive segments one classify question may ask about
(:attr:`NoteTemplate.batch`)."""

VERBATIM_STYLES = ("extractive", "classify", "note")
ASKING_STYLES = ("classify", "note")
"""Styles whose ``user.md`` asks about one segment (``{{segment}}``) after the transcript."""
"""Styles whose statements are the transcript's own words (each section has a ``kind``)."""

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_VERSION = re.compile(r"^v([1-9][0-9]*)$")


class SectionSpec(BaseModel):
    """One section of a note: ``key`` is the JSON key and stored id, ``title`` what people see,
    ``guidance`` what the model is told belongs there."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str = Field(pattern=_NAME.pattern)
    title: str = Field(min_length=1)
    guidance: str = Field(min_length=1)
    kind: StatementKind | None = None
    """Extractive templates: the kind of every statement chosen for this section."""
    fill: Fill | None = None
    """Note templates: which kept words fill this section (:data:`Fill`)."""
    cues: tuple[str, ...] = ()
    """Note templates sorted by words (``sort: words``): words and phrases (case ignored,
    whole words; a trailing ``*`` matches any ending) that put a family member's kept words in
    this ``family`` section. Sections are tried in template order; the first ``family`` section
    without cues takes what no cue placed."""
    keep: bool = False
    """Note templates with a length ``budget``: a family member's sentence that uses this
    section's cues is kept whatever the budget (a worry is never left out to make a note
    short)."""


class _TemplateFile(BaseModel):
    """The shape of ``template.yaml``; unknown keys are an error, not silently ignored."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    version: str
    title: str = Field(min_length=1)
    sections: tuple[SectionSpec, ...] = Field(min_length=1)
    style: Style = "abstractive"
    ask: Ask = "line"
    batch: int = Field(1, ge=1, le=MAX_BATCH)
    sort: Sort = "model"
    budget: float | None = Field(None, gt=0, le=1)
    prose: bool = False

    @model_validator(mode="after")
    def _kinds_for_extractive(self) -> _TemplateFile:
        missing = [s.key for s in self.sections if s.kind is None]
        if self.style in VERBATIM_STYLES and missing:
            raise ValueError(f"a {self.style} template needs a kind for sections {missing}")
        if self.style in ASKING_STYLES and any(s.key == NONE_LABEL for s in self.sections):
            raise ValueError(f"{NONE_LABEL!r} is the classify answer for no section, not a key")
        if self.ask != "line" and self.style not in ASKING_STYLES:
            raise ValueError("only a classify or note template asks about a segment (ask: id)")
        unfilled = [s.key for s in self.sections if s.fill is None]
        if self.style == "note" and unfilled:
            raise ValueError(f"a note template needs a fill for sections {unfilled}")
        if self.style != "note" and any(s.fill or s.cues for s in self.sections):
            raise ValueError("only a note template's sections have a fill and cues")
        if self.sort == "words" and self.style != "note":
            raise ValueError("only a note template sorts by words (sort: words)")
        if any(s.keep and not s.cues for s in self.sections):
            raise ValueError("a section kept whatever the budget (keep) needs cues")
        if self.prose and self.style != "note":
            raise ValueError("only a note template writes prose statements (prose)")
        if self.budget is not None and self.style != "note":
            raise ValueError("only a note template has a length budget (budget)")
        if self.batch > 1 and self.ask != "id":
            raise ValueError("only a classify template that asks by number (ask: id) can batch")
        return self


class NoteTemplate(BaseModel):
    """A loaded, checked template version. Build with :func:`load_template`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    version: str
    title: str
    sections: tuple[SectionSpec, ...]
    style: Style = "abstractive"
    ask: Ask = "line"
    """Classify templates: how the segment asked about is shown after the transcript: ``line``,
    its whole line again (speaker and words); ``id``, only its number as the block shows it
    (``[12]``), which the model finds in the transcript block above. On a long visit a line
    costs the model about 50 prompt tokens a call, a number about 10."""
    batch: int = 1
    """Classify templates asking by number: how many consecutive segments one question asks
    about ("[12] to [19]"), answered with a list of that many labels in order. One call per
    segment costs about a second on a long visit on 2 cores, most of it the call's own
    overhead (its prompt's last tokens, the chat markers, the opening quote) rather than the
    label; a question about eight shares that overhead eight ways. No released template
    batches: with the default 1.5B model a batched answer left far more of the visit out of
    the note, the child's words included (``benchmarks/batch_bench.py``; README, Measured
    performance). It is kept for a larger model a council may supply, to be measured with
    the notes suite before any template uses it."""
    sort: Sort = "model"
    """Note templates: how a family member's kept words are placed (:data:`Sort`)."""
    budget: float | None = None
    """Note templates: the note's length as a share of the transcript's words that the
    family's kept sentences are ranked into (:func:`assistant.drafting.selection.fit`). What a
    note must keep (the child's words, actions, what the practitioner saw, safeguarding
    language) is kept whatever it costs, so a note can run over. ``None`` keeps every sentence
    that carries something (v5)."""
    prose: bool = False
    """Note templates: a family member's kept words are rewritten by the model as one
    third-person sentence (``prose.md`` is its instruction), held to the review's checks in
    code; a sentence that fails any is replaced by the verbatim words and flagged
    (:mod:`assistant.drafting.prose`). For a council's larger model, measured first: no
    released template uses it."""
    prose_template: str | None = Field(None, repr=False)
    system_template: str = Field(repr=False)
    user_template: str = Field(repr=False)
    prompt_sha256: str = Field(description="sha256 over every file of the template folder")

    @property
    def section_keys(self) -> tuple[str, ...]:
        return tuple(s.key for s in self.sections)

    @property
    def asks_model(self) -> bool:
        """Whether drafting with it calls the model: every style does but a note sorted by
        words without prose (the released templates), which only counts tokens."""
        return self.style != "note" or self.sort == "model" or self.prose

    def system_prompt(self) -> str:
        """The system message: the instructions with this template's section list filled in
        (a note template's: only the sections the model chooses among, those of the family's
        words)."""
        shown = self.filled_by("family") if self.style == "note" else self.sections
        lines = [f"- {s.key}: {s.title}. {s.guidance}" for s in shown]
        return self.system_template.replace(SECTIONS_SLOT, "\n".join(lines))

    def user_prompt(
        self, transcript_block: str, section: str | None = None, *, segment: str | None = None
    ) -> str:
        """The user message around an already delimited transcript block; for an extractive
        template, asking for the section with key ``section``; for a classify template, asking
        about ``segment`` (its line, as the transcript block shows it).

        The transcript and the segment go in last, so text inside them is never itself
        substituted."""
        frame = self.user_template.replace(TITLE_SLOT, self.title.lower())
        if self.style == "extractive":
            spec = next((s for s in self.sections if s.key == section), None)
            if spec is None:
                raise ValueError(f"an extractive template needs a section key, not {section!r}")
            frame = frame.replace(SECTION_SLOT, f"{spec.title}. {spec.guidance}")
        if self.style in ASKING_STYLES:
            if segment is None:
                raise ValueError("a classify template needs the segment asked about")
            before, after = frame.split(SEGMENT_SLOT)
            return before.replace(TRANSCRIPT_SLOT, transcript_block) + segment + after
        return frame.replace(TRANSCRIPT_SLOT, transcript_block)

    def label_schema(self) -> dict[str, Any]:
        """The JSON schema of a classify answer: one section key, or :data:`NONE_LABEL`."""
        return {"enum": [*self.section_keys, NONE_LABEL]}

    def choice_schema(self, keys: Sequence[str]) -> dict[str, Any]:
        """The JSON schema of a note template's answer: one of ``keys``, or :data:`NONE_LABEL`."""
        return {"enum": [*keys, NONE_LABEL]}

    def filled_by(self, fill: str) -> tuple[SectionSpec, ...]:
        """A note template's sections that ``fill`` fills, in template order."""
        return tuple(s for s in self.sections if s.fill == fill)

    def batch_schema(self, n: int) -> dict[str, Any]:
        """The JSON schema of a batched classify answer (:attr:`batch`): a list of exactly
        ``n`` labels, one for each segment asked about, in order."""
        if n < 1:
            raise ValueError("a batched question asks about at least one segment")
        return {"type": "array", "items": self.label_schema(), "minItems": n, "maxItems": n}

    def section_schema(self, *, max_statements: int = MAX_STATEMENTS) -> dict[str, Any]:
        """The JSON schema of one section of an extractive template: a bounded list of segment
        numbers, one statement each. Nothing else is asked for: a statement's words are its
        segment's, its speaker the segment's speaker, its kind the section's. The drafter
        numbers the segments and drops any number that is not one of them."""
        if max_statements < 1:
            raise ValueError("max_statements must be at least 1")
        return {
            "type": "object",
            "properties": {
                "segments": {
                    "type": "array",
                    "items": {"type": "integer"},
                    "maxItems": max_statements,
                }
            },
            "required": ["segments"],
            "additionalProperties": False,
        }

    def json_schema(
        self,
        segment_ids: Sequence[str],
        *,
        speakers: Sequence[str] = (),
        max_statements: int = MAX_STATEMENTS,
        max_evidence: int = MAX_EVIDENCE,
        require_first: bool = False,
    ) -> dict[str, Any]:
        """The JSON schema a draft over these segments must satisfy.

        ``evidence`` is an enum of ``segment_ids``, so a grammar built from the schema can only
        cite segments that exist. When ``speakers`` is given, ``speaker`` is limited to those
        labels (or null) for the same reason; otherwise it is any string or null. Every section
        key is required and no other key is allowed. Arrays are bounded; strings are not (see
        the module docstring). ``require_first`` asks for at least one statement in the first
        section: the drafter uses it only to retry a draft that came back entirely empty.
        """
        ids = list(dict.fromkeys(segment_ids))
        if not ids:
            raise ValueError("a schema needs at least one segment id")
        if max_statements < 1 or max_evidence < 1:
            raise ValueError("max_statements and max_evidence must be at least 1")
        labels = list(dict.fromkeys(speakers))
        speaker: dict[str, Any] = (
            {"enum": [*labels, None]} if labels else {"type": ["string", "null"]}
        )
        statement = {
            "type": "object",
            "properties": {
                "text": {"type": "string"},
                "kind": {"enum": [k.value for k in StatementKind]},
                "speaker": speaker,
                "evidence": {
                    "type": "array",
                    "items": {"enum": ids},
                    "minItems": 1,
                    "maxItems": max_evidence,
                },
            },
            "required": ["text", "kind", "speaker", "evidence"],
            "additionalProperties": False,
        }
        sections = {
            "type": "object",
            "properties": {
                key: {
                    "type": "array",
                    "items": statement,
                    "maxItems": max_statements,
                    **({"minItems": 1} if require_first and i == 0 else {}),
                }
                for i, key in enumerate(self.section_keys)
            },
            "required": list(self.section_keys),
            "additionalProperties": False,
        }
        return {
            "type": "object",
            "properties": {"sections": sections},
            "required": ["sections"],
            "additionalProperties": False,
        }


def _version_number(version: str) -> int:
    match = _VERSION.match(version)
    return int(match.group(1)) if match else -1


def available_templates(root: Path | None = None) -> list[str]:
    """Names of the templates with at least one version folder, sorted."""
    base = root or PROMPTS_DIR
    if not base.is_dir():
        return []
    return sorted(
        p.name for p in base.iterdir() if p.is_dir() and _NAME.match(p.name) and _versions(p)
    )


def available_versions(name: str, root: Path | None = None) -> list[str]:
    """Versions of one template, oldest first (``v2`` before ``v10``)."""
    folder = (root or PROMPTS_DIR) / name
    return _versions(folder) if _NAME.match(name) and folder.is_dir() else []


def _versions(folder: Path) -> list[str]:
    found = [p.name for p in folder.iterdir() if p.is_dir() and _VERSION.match(p.name)]
    return sorted(found, key=_version_number)


def latest_ask_model(root: Path | None = None) -> list[str]:
    """The templates (``name/version``) whose latest version, the one a job drafts with,
    calls the model."""
    found = []
    for name in available_templates(root):
        template = load_template(name, root=root)
        if template.asks_model:
            found.append(f"{name}/{template.version}")
    return found


def load_template(
    name: str, version: str | None = None, *, root: Path | None = None
) -> NoteTemplate:
    """Load and check a template version; the latest when ``version`` is None.

    An unknown name or version raises :class:`UnknownTemplate` naming what is available. A
    folder that exists but is incomplete or malformed raises :class:`ConfigurationError`: that
    is a deployment fault, and the service should refuse to start on it.
    """
    base = root or PROMPTS_DIR
    names = available_templates(base)
    if name not in names:
        raise UnknownTemplate(f"unknown template {name!r}; available: {', '.join(names) or 'none'}")
    versions = available_versions(name, base)
    chosen = versions[-1] if version is None else version
    if chosen not in versions:
        raise UnknownTemplate(
            f"unknown version {version!r} of template {name!r}; available: {', '.join(versions)}"
        )
    return _load_folder(base / name / chosen, name=name, version=chosen)


def _load_folder(folder: Path, *, name: str, version: str) -> NoteTemplate:
    where = f"{name}/{version}"
    missing = [f for f in REQUIRED_FILES if not (folder / f).is_file()]
    if missing:
        raise ConfigurationError(f"template {where} is missing {', '.join(missing)}")
    try:
        raw = yaml.safe_load((folder / "template.yaml").read_text(encoding="utf-8"))
        spec = _TemplateFile.model_validate(raw)
    except (yaml.YAMLError, ValidationError) as exc:
        raise ConfigurationError(f"template {where}: template.yaml is invalid: {exc}") from exc
    if spec.id != name or spec.version != version:
        raise ConfigurationError(
            f"template {where}: template.yaml says {spec.id}/{spec.version}; "
            "the id and version must match the folder"
        )
    keys = [s.key for s in spec.sections]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise ConfigurationError(f"template {where}: duplicate section keys {duplicates}")
    system = (folder / "system.md").read_text(encoding="utf-8")
    user = (folder / "user.md").read_text(encoding="utf-8")
    asked = {"extractive": SECTION_SLOT, "classify": SEGMENT_SLOT, "note": SEGMENT_SLOT}.get(
        spec.style
    )
    for text, slot, file in (
        (system, SECTIONS_SLOT, "system.md"),
        (user, TRANSCRIPT_SLOT, "user.md"),
        *([(user, asked, "user.md")] if asked else []),
    ):
        if text.count(slot) != 1:
            raise ConfigurationError(f"template {where}: {file} must contain {slot} exactly once")
    if asked and user.index(asked) < user.index(TRANSCRIPT_SLOT):
        raise ConfigurationError(
            f"template {where}: {asked} must come after {TRANSCRIPT_SLOT} in user.md, "
            "so the transcript is a prefix every question's prompt shares (and the model reads "
            "it once)"
        )
    return NoteTemplate(
        id=spec.id,
        version=spec.version,
        title=spec.title,
        sections=spec.sections,
        style=spec.style,
        ask=spec.ask,
        batch=spec.batch,
        sort=spec.sort,
        budget=spec.budget,
        prose=spec.prose,
        prose_template=_prose_file(folder, where) if spec.prose else None,
        system_template=system,
        user_template=user,
        prompt_sha256=folder_sha256(folder),
    )


def _prose_file(folder: Path, where: str) -> str:
    path = folder / "prose.md"
    if not path.is_file():
        raise ConfigurationError(f"template {where}: prose: true needs prose.md")
    return path.read_text(encoding="utf-8")


def folder_sha256(folder: Path) -> str:
    """sha256 over every file in the folder: relative path and bytes, in sorted path order.

    Hidden files (editor swap files, ``.DS_Store``) are left out so they cannot change it."""
    digest = hashlib.sha256()
    files = (
        p
        for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )
    for path in sorted(files):
        rel = path.relative_to(folder).as_posix().encode("utf-8")
        data = path.read_bytes()
        digest.update(len(rel).to_bytes(8, "big") + rel)
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()
