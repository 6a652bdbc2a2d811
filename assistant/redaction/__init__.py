"""Redaction stage: Transcript -> (RedactedTranscript, PseudonymMap), and the residual check.

The rules are data in ``config/*.yaml`` (``config/README.md`` explains them); ``redactor.py`` is
the stage. Importing this package loads only the configuration code: the names that need
Presidio and spaCy (``Redactor``, ``build_analyzer``, ``residual_identifiers``,
``RedactionAnalyzer``) are imported from ``redactor.py`` when first asked for, as the pipeline
and the CLI did before there was a package surface.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from assistant.redaction.config import (
    DEFAULT_CONFIG_DIR,
    RedactionConfig,
    config_hash,
    load_config,
)

if TYPE_CHECKING:
    from assistant.redaction.redactor import (
        RedactionAnalyzer,
        Redactor,
        build_analyzer,
        residual_identifiers,
    )

__all__ = [
    "DEFAULT_CONFIG_DIR",
    "RedactionAnalyzer",
    "RedactionConfig",
    "Redactor",
    "build_analyzer",
    "config_hash",
    "load_config",
    "residual_identifiers",
]

_FROM_REDACTOR = frozenset(
    {"RedactionAnalyzer", "Redactor", "build_analyzer", "residual_identifiers"}
)


def __getattr__(name: str) -> Any:
    # PEP 562: the stage's names load Presidio and spaCy (seconds), so only on first use.
    if name in _FROM_REDACTOR:
        from assistant.redaction import redactor

        return getattr(redactor, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
