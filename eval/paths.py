"""Where the evaluation harness finds the repository, its caches and the data it does not ship.

One place, so a module that moves within ``eval/`` does not have to count parent folders again.
Data that ships inside the package (the scenarios, the redaction corpus, the term lexicons) is
found beside the module that loads it instead.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
"""The repository (or, installed, the folder holding the ``eval`` package)."""
MODEL_CARD = ROOT / "MODEL_CARD.md"
SPEECH_CACHE = ROOT / "var" / "cache" / "eval-speech"
"""Speech synthesised with espeak-ng (git-ignored; ``eval.datasets.speech``)."""
DATA_CACHE = ROOT / "var" / "cache" / "eval-data"
"""Test data fetched once (the pyannote-audio sample call; ``eval.datasets.recordings``)."""
PRIMOCK_DIRS = (
    ROOT / "var" / "data" / "primock57",
    ROOT.parent / "shared" / "data" / "primock57",
)
"""Where PriMock57 is looked for, in order (``eval.datasets.primock57``)."""
LIBRIVOX_DIR = Path("/usr/share/pocketsphinx/test/data/librivox")
"""The LibriVox clips of Debian's ``pocketsphinx-testdata`` package."""
