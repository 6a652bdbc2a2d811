"""Moved to ``eval.suites.redaction`` (the measurement in ``scorer.py``, the command in
``cli.py``). This name stays so that ``python -m eval.redaction_eval --out DIR``, which earlier
results and documents give, and its imports still work; new code imports the suite package.
"""

from eval.suites.redaction import (
    CORPUS_PATH,
    DIRECT_TYPES,
    GOALS,
    GOLD_TYPES,
    MATCHING,
    MAX_GROUP_GAP,
    Corpus,
    CorpusError,
    GoldSpan,
    KeepSpan,
    TextRedactor,
    Utterance,
    evaluate,
    load_corpus,
    main,
    markdown,
    provenance,
)

__all__ = [
    "CORPUS_PATH", "DIRECT_TYPES", "GOALS", "GOLD_TYPES", "MATCHING", "MAX_GROUP_GAP", "Corpus",
    "CorpusError", "GoldSpan", "KeepSpan", "TextRedactor", "Utterance", "evaluate", "load_corpus",
    "main", "markdown", "provenance",
]  # fmt: skip

if __name__ == "__main__":
    raise SystemExit(main())
