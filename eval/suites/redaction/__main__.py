"""``python -m eval.suites.redaction --out DIR``: the redaction corpus scorer on its own."""

from eval.suites.redaction.cli import main

raise SystemExit(main())
