"""Bias: does the note change when only a family's gender, names, faith or form changes?

Each scenario is copied with one swap (``eval.datasets.scenarios.SWAPS`` and
``eval.datasets.scenarios.counterfactuals_extra.EXTRA_SWAPS``): the parent's gender, the child's
gender, everyone's gender (``family_gender``), the family's names from another origin, the family's
faith practice (``religion``), a step or unmarried family as a birth or married one
(``family_form``). Every copy is checked to differ from its original only in the swapped words
(``verify_only_swapped``, asserted per pair) before it is drafted. Both versions go through the
same pipeline as the notes suite (redaction, drafting, code review; originals are shared with it
through ``ctx.cache``), and the two notes are compared pair by pair on:

* ``words``: length of the note (words in its statements);
* ``fact_recall`` (**omission**): each gold fact recalled in one version and not the other,
  McNemar on the paired yes/no outcomes (facts of the copy are the swapped gold); recall as
  the notes suite reads it (``eval.scoring.matching.fact_coverage``: since suite version 2, polarity
  word by word, not statement by statement);
* ``unsupported_statements`` (**invention**): statements flagged unsupported by verification;
* ``need_terms``, ``risk_terms``, ``health_terms``, ``strength_terms``: counts from the curated
  lists in ``eval/scoring/lexicons/`` (raw counts: read them beside ``words``);
* ``sentiment_vader`` and ``sentiment_textblob``: two independent scorers
(``eval/scoring/sentiment.py``),
  each first checked to score identical texts identically (twice, and a note against itself
  differs by exactly 0.0). ``details.scorer_sensitivity`` records how often a scorer already
  scores the two swapped *transcripts* differently (TextBlob is not invariant to he/she), so
  a sentiment difference can be weighed against the scorer's own reaction to the swap.

Counts and sentiment use the paired Wilcoxon signed-rank test; every p-value of the suite is
Holm-adjusted together. Each comparison is oriented the same way for every pair of a swap type
(``reference`` -> ``other``): parent/family gender female -> male (by the main parent), child
gender female -> male, original names -> other-origin names, Christian -> Muslim practice,
step/unmarried -> birth/married family. One metric per swap type and measure, named
``bias_<swap>_<measure>``, groups = the two conditions. ``details.omission_vs_invention`` says,
per swap type, how many facts each side lost that the other kept and how many unsupported
statements each side has.

Small swap types cannot reach significance: with n pairs an exact two-sided test cannot go
below 2/2^n, multiplied by up to the number of tests under Holm; ``details.power`` gives both
per swap type, so a non-significant result is read for what it is.

Redaction recall by name origin and speech error rate by voice belong here too; they are
measured by the ``redaction`` and ``asr`` suites and merged by the harness (``details.see_also``),
not recomputed.

``--quick``: the shortest scenario where the child-gender swap applies (eh-004, also the notes
suite's first quick visit, so a quick run of all suites drafts only the copy anew), that one
swap. Full: every scenario under every applicable swap, names from two origins per scenario
(English, or Polish for an English family, and one more in rotation so all 20 origins occur).

The package: ``variants.py`` makes the copies, ``pairs.py`` drafts and measures both sides,
``metrics.py`` compares them and ``suite.py`` runs the plan.
"""

from eval.scoring.lexicons import TERM_LEXICONS
from eval.suites.bias.metrics import (
    ALPHA,
    MEASURES,
    by_target,
    omission_vs_invention,
    power,
    same_redacted,
    scorer_sensitivity,
    significant,
    swap_metrics,
)
from eval.suites.bias.pairs import (
    Pair,
    Side,
    make_pairs,
    measure,
)
from eval.suites.bias.suite import (
    FULL,
    QUICK,
    SEE_ALSO,
    SUITE,
    SUITE_VERSION,
    SWAP_TYPES,
    Plan,
    evaluate,
    pair_details,
    pick_quick,
    run,
)
from eval.suites.bias.variants import (
    main_parent_gender,
    name_targets,
    orientation,
    variants,
)

__all__ = [
    "ALPHA",
    "FULL",
    "MEASURES",
    "Pair",
    "Plan",
    "QUICK",
    "SEE_ALSO",
    "SUITE",
    "SUITE_VERSION",
    "SWAP_TYPES",
    "Side",
    "TERM_LEXICONS",
    "by_target",
    "evaluate",
    "main_parent_gender",
    "make_pairs",
    "measure",
    "name_targets",
    "omission_vs_invention",
    "orientation",
    "pair_details",
    "pick_quick",
    "power",
    "run",
    "same_redacted",
    "scorer_sensitivity",
    "significant",
    "swap_metrics",
    "variants",
]
