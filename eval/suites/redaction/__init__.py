"""Pseudonymisation: what redaction catches, for whose names, and what reaches the drafting prompt.

Two measurements with the profile's own redactor (``Engines.redactor``):

1. **The redaction corpus** (``eval/datasets/redaction_corpus``), scored by ``scorer.evaluate``
   (its matching rules are recorded in ``details.matching``). The redactor is wrapped so every
   utterance's predicted spans are kept, and the per-span outcomes are turned into metrics with
   intervals that resample utterances: direct-identifier recall by name origin (the release
   goal is ``GOALS['direct_recall_min']`` for every group), recall by entity type, person-name
   recall by origin, precision by predicted type, over-redaction of keep words, and how often
   the residual check would block an utterance that leaks. Our recall is checked against
   ``evaluate``'s own figure; a mismatch is written in the notes.
2. **Identifiers surviving into drafting prompts.** Each scenario (``eval/datasets/scenarios``)
   is made into a transcript (one segment per turn, speaker labels as written), redacted, and
   turned into the drafting prompt with ``Drafter.messages`` (no LLM call). Every gold identifier of
   a direct type (``PROMPT_TYPES``) still present in the prompt, case-insensitively and on word
   boundaries, is counted: ``identifiers_in_prompt`` (goal 0), by name origin.
   ``identifiers_reaching_llm`` counts only prompts the pipeline's residual check would let
   through.

3. **The same visit with other names redacts to the same text.** For every names swap the bias
   suite makes (``eval.suites.bias``: each scenario with its family's names changed to two other
   origins), whether the copy's redacted transcript is identical to its original's
   (``names_swap_same_redaction``, by the copy's name origin). Where it is not, redaction
   treated one family's names differently (a name typed a place, a greeting kept inside a name)
   and the model reads different words for different families; measured here in seconds, where
   the bias suite needs a draft per differing pair.

4. **Identifiers said aloud, typed and from audio** (``spoken.py``, suite version 3). The
   sentences of ``eval/datasets/spoken_identifiers`` (spelt names, emails said aloud, phone
   numbers with "double" and "oh", postcodes read out, NHS numbers in groups, dates of birth,
   house numbers, and ordinary speech with "A and E", "GP", "CAMHS") are redacted as typed
   verbatim and as the profile's Whisper transcribes them spoken by espeak-ng.
   ``spoken_identifier_recall`` (from audio: identifiers Whisper wrote recognisably that leave
   no recognisable token after redaction, by type), ``spoken_identifier_recall_typed`` (the
   same sentences typed) and ``spoken_keep_words_lost`` (typed and audio). Residue is any token
   of the identifier surviving in a recognisable form: the word or number, two or more of its
   letters spelt out in a row, three or more of its digits in a row, a code inside a run of
   short words, or a word sharing its first four letters ("pritchon" for "Pritchard").

``--quick`` scores every ``QUICK_STRIDE``-th corpus utterance (all name-origin groups stay
represented), three scenarios, and the first spoken sentence of each kind (8 clips).

Versions: 2, the corpus, prompts and names swaps; 3 adds measurement 4 (the figures of
versions 2 and 3 are otherwise scored alike).

The package: ``scorer.py`` measures redaction on the corpus (``evaluate``, the matching rules)
and ``cli.py`` runs it on its own (``python -m eval.suites.redaction --out DIR``); ``corpus.py``
makes its outcomes into metrics, ``prompts.py`` and ``swaps.py`` are measurements 2 and 3, and
``suite.py`` runs the three.
"""

from eval.suites.redaction.cli import main, markdown, provenance
from eval.suites.redaction.corpus import (
    GoldOutcome,
    KeepOutcome,
    PredOutcome,
    RecordingRedactor,
    UtteranceOutcome,
    corpus_metrics,
    score_utterance,
)
from eval.suites.redaction.prompts import (
    PROMPT_TYPES,
    PromptLeak,
    identifier_pattern,
    prompt_leaks,
    prompt_metrics,
    prompt_text,
    scenario_transcript,
)
from eval.suites.redaction.scorer import (
    CORPUS_PATH,
    DIRECT_TYPES,
    GOALS,
    GOLD_TYPES,
    HIGHER_IS_BETTER,
    MATCHING,
    MAX_GROUP_GAP,
    Corpus,
    CorpusError,
    GoldSpan,
    KeepSpan,
    TextRedactor,
    Utterance,
    _residual_blocked,
    evaluate,
    load_corpus,
)
from eval.suites.redaction.suite import QUICK_SCENARIOS, QUICK_STRIDE, SUITE, SUITE_VERSION, run
from eval.suites.redaction.swaps import NamesSwap, names_swap_metric, names_swaps

__all__ = [
    "CORPUS_PATH", "DIRECT_TYPES", "GOALS", "GOLD_TYPES", "HIGHER_IS_BETTER", "MATCHING",
    "MAX_GROUP_GAP", "PROMPT_TYPES", "QUICK_SCENARIOS", "QUICK_STRIDE", "SUITE", "SUITE_VERSION",
    "Corpus", "CorpusError", "GoldOutcome", "GoldSpan", "KeepOutcome", "KeepSpan", "NamesSwap",
    "PredOutcome", "PromptLeak", "RecordingRedactor", "TextRedactor", "Utterance",
    "UtteranceOutcome", "_residual_blocked", "corpus_metrics", "evaluate", "identifier_pattern",
    "load_corpus", "main", "markdown", "names_swap_metric", "names_swaps", "prompt_leaks",
    "prompt_metrics", "prompt_text", "provenance", "run", "scenario_transcript",
    "score_utterance",
]  # fmt: skip
