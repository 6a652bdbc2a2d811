"""Persistence: tables, migrations, the pseudonym-map cipher and keyword-only repository functions.

Imports point one way: this package imports ``assistant.domain``, ``assistant.errors``,
``assistant.auth`` (the role rules) and ``assistant.notes`` (the note body) and nothing above
it (pipeline, jobs, api, app).

- ``repo``: the repository functions (``repo.get_transcript(session=..., ...)``);
- ``db``: engine, sessions, migrations (``make_engine``, ``session_factory``, ``session_scope``,
  ``upgrade``);
- ``keys``: envelope encryption (a data key per recording, wrapped by the council's key);
  ``sealing`` encrypts transcript and note columns as rows are written and read;
- ``crypto``: ``MappingCipher``, the name maps' cipher before 0006 (read by that migration);
- ``audit_chain``: the audit trail's hash chain (encoding, verification, export);
- ``models``: the tables; ``User``, ``Recording`` and ``Note`` rows are what the API reads
  ownership and status from.
"""

from assistant.storage import repo, sealing  # noqa: F401 - sealing installs its events
from assistant.storage.crypto import MappingCipher, MappingDecryptionError, MappingKeyMismatch
from assistant.storage.db import make_engine, session_factory, session_scope, upgrade
from assistant.storage.keys import Keyring, KeyWrapper
from assistant.storage.models import Note, Recording, User

__all__ = [
    "KeyWrapper",
    "Keyring",
    "MappingCipher",
    "MappingDecryptionError",
    "MappingKeyMismatch",
    "Note",
    "Recording",
    "User",
    "make_engine",
    "repo",
    "session_factory",
    "session_scope",
    "upgrade",
]
