"""Bearer tokens and web sign-in secrets (stored only as sha256), passwords (argon2id), and
the role/ownership rules, as one table.

Rules:
* anyone sees the recordings they uploaded; a manager sees their team's (``recording.view``);
* a practitioner sees and acts on only their own recordings and notes;
* a manager may also read (not edit) their team's notes, jobs and redacted transcripts, e.g.
  for supervision;
* the raw (identifying) transcript, the re-identified note and the audio are for the recording's
  owner only;
* an auditor reads the audit trail and nothing with case content;
* an admin manages users, reads the audit trail, and may erase any recording (erasure requests);
* a user's enrolled voice is their own: practitioners and managers enrol, anyone sees or erases
  their own, and an admin may erase anyone's.

Teams (the scope rule): a user belongs to at most one team (``users.team``, a label such as
"North CIN"). A manager's reach over other people's things (the "anyone" column below, for
the roles in ``TEAM_SCOPED``) is the things owned by users in the manager's own team, plus
their own; never edits, which stay the owner's. A manager with **no team** reaches every
user's, as before teams existed: a small site with one team needs no set-up. The team is read
at every request, so moving a user (or the manager) to another team changes what managers
see at once. Out of reach looks exactly like not there (404), as another practitioner's
recording does. An admin's reach (erasure) is not limited by teams.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import math
import secrets
import threading
import time
from collections import deque
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from assistant.domain import Role

TOKEN_PREFIX = "ca_"  # noqa: S105 - a visible prefix, not a secret


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """sha256 hex: how bearer tokens, set-password links and session cookies are stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_secret() -> str:
    """A random URL-safe secret (256 bits) for a set-password link or a session cookie."""
    return secrets.token_urlsafe(32)


# argon2id with argon2-cffi's defaults (RFC 9106's low-memory choice: t=3, m=64 MiB, p=4).
_hasher = PasswordHasher()
PASSWORD_MIN_LENGTH = 10
#: Longer input only costs the hash time; nobody types more than this.
PASSWORD_MAX_LENGTH = 256


@functools.cache
def _dummy_hash() -> str:
    """Checked against when no user matches, so a wrong name takes as long as a wrong
    password (made on first use: hashing costs 64 MiB and tens of milliseconds)."""
    return _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored`` (an argon2 hash; None: no password set yet,
    which never matches but takes as long)."""
    try:
        return _hasher.verify(stored or _dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str, confirm: str) -> str | None:
    """Why a new password is refused, or None. Length is the rule (NCSC: long beats complex)."""
    if len(password) < PASSWORD_MIN_LENGTH:
        return f"Enter a password of at least {PASSWORD_MIN_LENGTH} characters."
    if len(password) > PASSWORD_MAX_LENGTH:
        return f"Enter a password of at most {PASSWORD_MAX_LENGTH} characters."
    if not hmac.compare_digest(password.encode(), confirm.encode()):
        return "The two passwords do not match."
    return None


def csrf_for(session_token: str) -> str:
    """The CSRF token of a signed-in browser: derived from its session secret, so it is bound
    to that session and stored nowhere."""
    return hmac.new(session_token.encode(), b"caseassist-csrf", hashlib.sha256).hexdigest()


P, M, AU, AD = Role.PRACTITIONER, Role.MANAGER, Role.AUDITOR, Role.ADMIN

# action -> (roles allowed on their OWN recordings, roles allowed on ANYONE's recordings)
PERMISSIONS: dict[str, tuple[frozenset[Role], frozenset[Role]]] = {
    "recording.view": (frozenset(Role), frozenset({M})),
    "recording.upload": (frozenset({P, M}), frozenset()),
    "job.view": (frozenset({P, M}), frozenset({M})),
    "transcript.view": (frozenset({P, M}), frozenset()),
    "transcript.redacted.view": (frozenset({P, M}), frozenset({M})),
    "speakers.view": (frozenset({P, M}), frozenset()),
    "speakers.edit": (frozenset({P, M}), frozenset()),
    "note.view": (frozenset({P, M}), frozenset({M})),
    "note.reidentify": (frozenset({P, M}), frozenset()),
    "note.edit": (frozenset({P, M}), frozenset()),
    "note.approve": (frozenset({P, M}), frozenset()),
    "note.export": (frozenset({P, M}), frozenset({M})),
    "recording.audio": (frozenset({P, M}), frozenset()),
    "recording.erase": (frozenset({P, M}), frozenset({AD})),
    "audit.view": (frozenset(), frozenset({AU, AD})),
    "user.add": (frozenset(), frozenset({AD})),
    "user.list": (frozenset(), frozenset({AD})),
    "user.team": (frozenset(), frozenset({AD})),
    "job.retry": (frozenset(), frozenset({AD})),
    # a user's own enrolled voice ("owner" is the user): those who record visits enrol; anyone
    # may see or erase their own, and an admin anyone's (an erasure request)
    "voice.enrol": (frozenset({P, M}), frozenset()),
    "voice.view": (frozenset(Role), frozenset()),
    "voice.erase": (frozenset(Role), frozenset({AD})),
}


#: What each action is, as a refusal says it ("Your role (practitioner) may not see the audit
#: trail."): a person reads it, not the permission's name.
ACTION_WORDS: dict[str, str] = {
    "recording.view": "see this recording",
    "recording.upload": "upload recordings",
    "job.view": "see this job",
    "transcript.view": "see this transcript",
    "transcript.redacted.view": "see this redacted transcript",
    "speakers.view": "see who spoke",
    "speakers.edit": "change who spoke",
    "note.view": "see this note",
    "note.reidentify": "see this note with real names",
    "note.edit": "edit this note",
    "note.approve": "approve this note",
    "note.export": "export this note",
    "recording.audio": "play this recording",
    "recording.erase": "erase this recording",
    "audit.view": "see the audit trail",
    "user.add": "add users",
    "user.list": "list users",
    "user.team": "change a user's team",
    "job.retry": "retry a job",
    "voice.enrol": "enrol a voice",
    "voice.view": "see this voice enrolment",
    "voice.erase": "erase this voice enrolment",
}


#: Roles whose reach over anyone's things is their own team's when they have a team.
TEAM_SCOPED: frozenset[Role] = frozenset({M})


class Reach(StrEnum):
    """Whose things a user may do an action on: none, their own, their team's (and their
    own), or everyone's."""

    NONE = "none"
    OWN = "own"
    TEAM = "team"
    ALL = "all"


def reach(action: str, *, role: Role, team: str | None) -> Reach:
    """How far ``action`` reaches for a user of ``role`` in ``team`` (None: no team)."""
    own, anyone = PERMISSIONS[action]
    if role in anyone:
        return Reach.TEAM if role in TEAM_SCOPED and team is not None else Reach.ALL
    return Reach.OWN if role in own else Reach.NONE


def allowed(
    action: str, *, role: Role, is_owner: bool, team: str | None, owner_team: str | None
) -> bool:
    """Whether a user of ``role`` in ``team`` may do ``action`` on something owned by a user
    in ``owner_team`` (``is_owner``: by themselves). Both teams are asked for, so no caller
    can forget the team rule."""
    if is_owner and role in PERMISSIONS[action][0]:
        return True
    scope = reach(action, role=role, team=team)
    return scope is Reach.ALL or (scope is Reach.TEAM and owner_team == team)


class FailureThrottle:
    """Failed sign-ins per client address in a sliding window (in-process, thread-safe).

    After ``limit`` failures within ``window_s`` seconds an address is refused until the
    oldest of them leaves the window. At most ``max_keys`` addresses are remembered (the
    stalest are forgotten first), so a flood of addresses cannot grow it without bound.
    """

    def __init__(
        self, limit: int = 10, window_s: float = 60.0, *, max_keys: int = 10_000, clock=None
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self.max_keys = max_keys
        self._clock = clock or time.monotonic
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self.window_s:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times

    def retry_after(self, key: str) -> int | None:
        """Seconds until ``key`` may try again, or None if it may try now."""
        with self._lock:
            now = self._clock()
            times = self._recent(key, now)
            if times is None or len(times) < self.limit:
                return None
            return max(1, math.ceil(times[0] + self.window_s - now))

    def record_failure(self, key: str) -> None:
        with self._lock:
            now = self._clock()
            times = self._recent(key, now)
            if times is None:
                if len(self._failures) >= self.max_keys:
                    stalest = min(self._failures, key=lambda k: self._failures[k][-1])
                    del self._failures[stalest]
                times = self._failures[key] = deque()
            times.append(now)
            while len(times) > self.limit:
                times.popleft()
