"""``python -m assistant.cli``: the ``caseassist`` command."""

import sys

from assistant.cli import main

sys.exit(main())
