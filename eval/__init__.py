"""The evaluation harness: what the model card claims, measured the way the service runs.

``caseassist eval run`` (``harness.py``) runs the suites of ``suites/`` (one package each:
``asr``, ``redaction``, ``notes``, ``bias``) on the data of ``datasets/``, scores them with
``scoring/`` and writes ``results.json`` and ``report.html`` (``report.py``); ``caseassist eval
card`` (``card.py``) writes a results file into the model card. ``core.py`` holds what a suite
receives and returns, ``paths.py`` where the repository and its caches are. The harness imports
the pipeline's stages, never the web app.
"""
