"""The suites, one package each: ``asr``, ``redaction``, ``notes``, ``bias``.

Each package's ``__init__`` gives the suite's rules and exports ``SUITE_VERSION`` and
``run(ctx: EvalContext) -> SuiteResult``, which ``eval.harness.SUITES`` names it by.
"""
