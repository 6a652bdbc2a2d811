"""Note faithfulness: what the drafted note invents, what it loses, and whose words it keeps.

Every visit goes through the pipeline as the service runs it: the text transcript is redacted
(``pipeline.redact_transcript``, which refuses to draft when identifiers remain), drafted with
the ``visit_note`` template and reviewed in code (``pipeline.draft_note``: verification flags
unsupported statements, the red-flag gate removes red-flag claims whose cited segments lack
that category's language). The note is then scored against gold with the documented rules of
``eval/scoring/matching.py``:

* **unsupported_share**: statements flagged by verification (``unsupported:*`` or
  ``quote_not_found``) / all statements of the final notes, pooled. Goal < 1%.
* **red_flag_claims_without_evidence**: per note, the statements the gate removed (a red-flag
  category whose language none of the cited segments uses) plus kept statements flagged
  ``red_flag_not_affirmed:*`` (they affirm a category their evidence only denies or asks about);
  summed. Goal 0.
* **absent_category_statements** (scenarios; no goal): statements whose words affirm (positive
  polarity, safeguarding lexicon) a category the scenario's gold lists in
  ``red_flags_absent``, whatever their evidence. The lexicon is broad on purpose ("slapped" is
  both physical and domestic abuse language, "damp" is neglect language), so a segment kept
  word for word can count here: read it beside the visit table, not as invention. Suite
  version 1 counted these in red_flag_claims_without_evidence. A denial ("she said she has
  never self-harmed") is not counted.
* **critical_fact_recall** / **fact_recall**: gold facts recalled (``eval.scoring.matching``). Goal
  >= 90% for critical facts. Since suite version 6 polarity is read word by word (a word
  within six words after a negation cue, in its clause, is negated; a question's words are
  neither): versions 1 to 5 held a whole statement to the fact's polarity, so one "not"
  anywhere in a statement of several sentences kept it from recalling a fact with none.
* **critical_fact_cited** / **fact_cited** (no goal of their own; suite version 4): the same
  gold facts read by where they were said (``eval.scoring.matching.fact_cited``): every turn the
  gold fact names is cited by an unflagged statement that carries that turn's words of the fact.
  Beside recall, it tells what the note left out (not cited) from what it kept in the
  speaker's own words, which a summary-worded gold fact does not match word for word.
* **child_voice_retention**: gold child's words kept verbatim in ``direct_quote`` statements;
  ``child_voice_anywhere`` counts them in any statement. Goal >= 90%.
* **every_segment_*** (no goal): the same scoring of a note that keeps every segment of the
  redacted transcript word for word, each as its own statement (its speaker's direct quote),
  reviewed like a draft. A reference for verbatim drafting, not an upper bound: a fact told
  across several turns fills the slots of no single segment, while a drafted statement that
  joins a question and its answer can fill them (suite version 2 called these
  ``extractive_ceiling_*`` and described them as a maximum, which they are not).
* **opinions_as_fact**: gold opinions whose content a statement carries without attributing it
  (no release goal was set; lower is better). Since suite version 5 an exchange statement
  ("Social worker: Has he hurt you? Dad: Never. I don't hit my children.") is read a turn at a
  time, each turn attributed to its labelled speaker as the note shows it; versions 1 to 4 read
  such a statement, which has no single speaker, as unattributed, and counted every gold opinion
  said inside an exchange as written as fact.
* On PriMock57 (``eval/datasets/primock57.py``): **primock_checklist_critical_recall** and
  **primock_checklist_recall** (the clinicians' checklist items, critical and all relevant
  ones, matched as facts are) and **primock_note_token_recall** (distinct content words of the
  clinician's note found in the draft). The drafts use the social-care ``visit_note`` template
  too: it is the only template in ``prompts/``, so these figures measure faithfulness to real
  conversation, not the quality of a medical note.
* **transcript_segments_kept** / **transcript_words_kept** (no goal; suite version 5): the
  share of the redacted transcript's segments (and of its words) that the note cites. A
  verbatim draft keeps each chosen segment whole, so these say how much of the recording the
  practitioner is given to read back: near 1, the draft is the transcript sorted into
  sections, not a summary. On PriMock57, **primock_reference_note_words** gives the
  clinicians' own notes' length beside it (words of the note / words of the transcript).
* **child_voice_without_child_words** / **parent_carer_views_without_family_words** (scenarios,
  no goal; suite version 5): statements of those two sections that cite no words of the
  person the template defines the section by (the child; a parent, carer or relative). The
  detail table ``sections_by_speaker`` counts, per section, the statements citing each group's
  words (child, family, professional, other). Verbatim statements keep their speaker, so a
  misplaced statement is still attributed; these say how well the model sorted, which the
  recall and quote figures above do not.
* **action_row_precision** (no goal; suite version 9, every other figure scored as in version
  8): of the note's agreed-action rows, the share whose ``what`` carries at least half the words
  of a gold action's ``what``. A lower bound: a real action the gold list lacks counts against
  it. Recall alone rewarded turning every request into a row.
* **seen_alone_field_right** (no goal; suite version 10, every other figure scored as in
  version 9): the notes whose header says the child was seen alone exactly when the scenario
  has them seen alone (the ``child_seen_alone`` feature, 27 of 34 scenarios). The header's
  other fields are not scored yet.
* **draft_failures** (visits with no note: redaction blocked or drafting failed; excluded from
  the figures above) and **seconds_per_draft**.
* From audio (``--from-audio N``; suite version 8, the typed figures scored as in version 7):
  N scenarios spoken with espeak-ng and run through the whole chain as an upload is, scored
  beside the same scenarios from text: **audio_critical_fact_recall**,
  **audio_child_section_child_words** (goal >= 90%), **audio_child_words_in_child_section**,
  **audio_note_length_share**,
  **audio_action_recall**, each with its **_gap** (audio - text; the critical-fact gap's goal is
  >= -5 points), speakers found and **audio_failures**. Rules in ``from_audio.py``.

Each figure is reported overall and by ``source`` (scenario / primock), ``visit_type`` and
``child_age_band`` where it applies (one metric per grouping, ``<name>_by_<grouping>``), with
bootstrap intervals that resample visits (items of one note are not independent).

``--quick``: the 2 shortest scenarios with child's words (different visit types) and the first
PriMock57 consultation cut to 40 utterances. Full: all 34 scenarios and all 57 consultations.
``--from-audio N`` adds its N scenarios to either.

The package: ``drafting.py`` drafts a visit (shared with the bias suite), ``scoring.py`` scores a
note against its gold, ``metrics.py`` makes the figures, ``from_audio.py`` runs and scores the
scenarios from audio and ``suite.py`` runs the plan.
"""

from eval.suites.notes.drafting import (
    TEMPLATE,
    Drafted,
    draft,
    draft_store,
    inverse,
    redacted_digest,
    scenario_transcript,
)
from eval.suites.notes.metrics import (
    BOTH,
    GOALS,
    GROUPINGS,
    SCENARIO_GROUPS,
    Row,
    every_segment,
    every_segment_metrics,
    grouped,
    metrics_for,
    note_metrics,
    primock_metrics,
    run_metrics,
    scenario_fact_metrics,
    scenario_voice_metrics,
)
from eval.suites.notes.scoring import (
    SECTION_SPEAKERS,
    SPEAKER_GROUPS,
    Scored,
    absent_flag_claims,
    age_band,
    aliases,
    is_unsupported,
    note_words,
    score_consultation,
    score_scenario,
    segments_by_turn,
    speaker_group,
    turn_segments,
)
from eval.suites.notes.suite import (
    FULL,
    QUICK,
    SUITE,
    SUITE_VERSION,
    VISIT_COLUMNS,
    Plan,
    evaluate,
    pick_quick,
    run,
    sections_by_speaker,
    visit_details,
    visit_row,
)

__all__ = [
    "BOTH",
    "Drafted",
    "FULL",
    "GOALS",
    "GROUPINGS",
    "Plan",
    "QUICK",
    "Row",
    "SCENARIO_GROUPS",
    "SECTION_SPEAKERS",
    "SPEAKER_GROUPS",
    "SUITE",
    "SUITE_VERSION",
    "Scored",
    "TEMPLATE",
    "VISIT_COLUMNS",
    "absent_flag_claims",
    "age_band",
    "aliases",
    "draft",
    "draft_store",
    "evaluate",
    "every_segment",
    "every_segment_metrics",
    "grouped",
    "inverse",
    "is_unsupported",
    "metrics_for",
    "note_metrics",
    "note_words",
    "pick_quick",
    "primock_metrics",
    "redacted_digest",
    "run",
    "run_metrics",
    "scenario_fact_metrics",
    "scenario_transcript",
    "scenario_voice_metrics",
    "score_consultation",
    "score_scenario",
    "sections_by_speaker",
    "segments_by_turn",
    "speaker_group",
    "turn_segments",
    "visit_details",
    "visit_row",
]
