"""The HTTP API (FastAPI): ``create_app(settings)`` builds the service.

- ``app``: the app factory (models, database, worker on start-up);
- ``deps``: dependencies (settings, session, current user), ``authorize``/``may`` and
  ``audit``, which every route uses;
- ``schemas``: request and response bodies;
- ``errors``: the one error shape ``{"error": {"code", "message", "request_id"}}``;
- ``routes``: ``recordings`` (upload, jobs, transcripts, erasure), ``notes``, ``admin``,
  ``health``; ``upload``: streaming of the multipart upload to disk.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.api.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    # Lazy: the app factory imports the pipeline and so the speech model's library; importing
    # ``assistant.api.schemas`` or ``deps`` must not pay for that.
    if name == "create_app":
        from assistant.api.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
