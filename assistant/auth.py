"""Bearer tokens (stored only as sha256) and the role/ownership rules, as one table.

Rules:
* anyone sees the recordings they uploaded; a manager sees every recording (``recording.view``);
* a practitioner sees and acts on only their own recordings and notes;
* a manager may also read (not edit) every note and redacted transcript, e.g. for supervision;
* the raw (identifying) transcript and the re-identified note are for the recording's owner only;
* an auditor reads the audit trail and nothing with case content;
* an admin manages users, reads the audit trail, and may erase any recording (erasure requests).
"""

from __future__ import annotations

import hashlib
import secrets

from assistant.domain import Role

TOKEN_PREFIX = "ca_"  # noqa: S105 - a visible prefix, not a secret


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


P, M, AU, AD = Role.PRACTITIONER, Role.MANAGER, Role.AUDITOR, Role.ADMIN

# action -> (roles allowed on their OWN recordings, roles allowed on ANYONE's recordings)
PERMISSIONS: dict[str, tuple[frozenset[Role], frozenset[Role]]] = {
    "recording.view": (frozenset(Role), frozenset({M})),
    "recording.upload": (frozenset({P, M}), frozenset()),
    "job.view": (frozenset({P, M}), frozenset({M})),
    "transcript.view": (frozenset({P, M}), frozenset()),
    "transcript.redacted.view": (frozenset({P, M}), frozenset({M})),
    "note.view": (frozenset({P, M}), frozenset({M})),
    "note.reidentify": (frozenset({P, M}), frozenset()),
    "note.edit": (frozenset({P, M}), frozenset()),
    "note.approve": (frozenset({P, M}), frozenset()),
    "note.export": (frozenset({P, M}), frozenset({M})),
    "recording.erase": (frozenset({P, M}), frozenset({AD})),
    "audit.view": (frozenset(), frozenset({AU, AD})),
    "user.add": (frozenset(), frozenset({AD})),
}


def allowed(action: str, *, role: Role, is_owner: bool) -> bool:
    own, anyone = PERMISSIONS[action]
    return role in anyone or (is_owner and role in own)
