"""``caseassist users``, ``audit``, ``retention`` and ``keys``: the commands that act on the
service's database directly (an administrator on the server), each audited like its API twin."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from assistant.settings import Settings


def add_admin_commands(sub: argparse._SubParsersAction) -> None:
    u = sub.add_parser("users", help="manage users")
    usub = u.add_subparsers(required=True, metavar="ACTION")
    a = usub.add_parser(
        "add", help="add a user; print their API token and a one-time set-password link"
    )
    a.add_argument("--name", required=True, help="also the name they sign in to the web app with")
    a.add_argument("--role", required=True, choices=["practitioner", "manager", "auditor", "admin"])
    a.add_argument(
        "--team",
        help="their team, a label such as 'North CIN' (a manager reads their team's visits; "
        "a manager with no team reads every visit)",
    )
    a.set_defaults(func=cmd_users_add)
    t = usub.add_parser(
        "set-team",
        help="put a user in a team, or in none; what managers read changes at once",
    )
    t.add_argument("user_id")
    which = t.add_mutually_exclusive_group(required=True)
    which.add_argument("--team", help="the team's label, e.g. 'North CIN'")
    which.add_argument(
        "--no-team", action="store_true", help="no team (a manager then reads every visit)"
    )
    t.set_defaults(func=cmd_users_set_team)
    ls = usub.add_parser("list", help="every user: id, role, team, whether active, sign-in")
    ls.set_defaults(func=cmd_users_list)
    pl = usub.add_parser(
        "password-link", help="print a new one-time set-password link (first sign-in or reset)"
    )
    pl.add_argument("--user-id", required=True)
    pl.set_defaults(func=cmd_users_password_link)
    d = usub.add_parser(
        "deactivate",
        help="stop a user signing in and erase their enrolled voice; their recordings are then "
        "kept for CASEASSIST_RETENTION_DEACTIVATED_USERS_DAYS (unset: kept)",
    )
    d.add_argument("user_id")
    d.set_defaults(func=cmd_users_deactivate)
    rt = sub.add_parser("retention", help="delete what has outlived the retention periods")
    rr = rt.add_subparsers(required=True, metavar="ACTION").add_parser(
        "run", help="one pass now (the worker also runs them): print each deletion and counts"
    )
    rr.add_argument("--dry-run", action="store_true", help="list what would go; delete nothing")
    rr.set_defaults(func=cmd_retention_run)
    _add_audit_actions(sub)
    _add_keys_actions(sub)


def _add_keys_actions(sub: argparse._SubParsersAction) -> None:
    k = sub.add_parser("keys", help="the encryption key: status and rotation (docs/security.md)")
    ksub = k.add_subparsers(required=True, metavar="ACTION")
    ksub.add_parser(
        "status", help="the current key id and how many recordings' data keys each key wraps"
    ).set_defaults(func=cmd_keys_status)
    ksub.add_parser(
        "rotate",
        help="a new key-encryption key; re-wraps every data key (the data is not re-encrypted); "
        "run it again to finish an interrupted rotation",
    ).set_defaults(func=cmd_keys_rotate)


def _add_audit_actions(sub: argparse._SubParsersAction) -> None:
    au = sub.add_parser("audit", help="check or export the audit trail (a hash chain)")
    ausub = au.add_subparsers(required=True, metavar="ACTION")
    v = ausub.add_parser(
        "verify", help="check the whole chain; exit 1 naming the first broken link"
    )
    v.add_argument(
        "--anchor",
        action="append",
        default=[],
        metavar="SEQ:HASH",
        help="the head of an earlier export: the chain must still pass through it (repeatable)",
    )
    v.set_defaults(func=cmd_audit_verify)
    x = ausub.add_parser("export", help="write every record and the chain head for auditors")
    x.add_argument("--format", required=True, choices=["csv", "json"])
    x.add_argument("--out", type=Path, required=True, help="output file")
    x.set_defaults(func=cmd_audit_export)


@contextmanager
def _database(settings: Settings) -> Iterator[sessionmaker[Session]]:
    """The service's database, migrated to head (as the service does at start-up)."""
    from assistant.bootstrap import open_database, prepare_dirs

    prepare_dirs(settings)
    engine, _, sessions = open_database(settings)
    try:
        yield sessions
    finally:
        engine.dispose()


def _audit(
    session: Session, action: str, object_type: str, object_id: str | None, **details: Any
) -> None:
    """An audit record for a command run on the server (no actor, no request)."""
    from assistant.storage import repo

    repo.add_audit(
        session=session,
        actor_id=None,
        action=action,
        object_type=object_type,
        object_id=object_id,
        request_id=None,
        details={**details, "via": "cli"},
    )


def _team_arg(value: str | None) -> str | None:
    """``--team``'s label tidied (``domain.team_label``), or None without one; a bad label
    exits 2 with the reason before anything is opened or changed."""
    from assistant.domain import team_label

    if value is None:
        return None
    try:
        return team_label(value)
    except ValueError as exc:
        raise _BadArgument(f"--team: {exc}") from None


class _BadArgument(Exception):
    """A command-line value refused before the database is touched (exit 2)."""


def _refuse(exc: _BadArgument) -> int:
    print(f"error: {exc}", file=sys.stderr)
    return 2


def cmd_users_add(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.auth import hash_token, new_token
    from assistant.storage import repo
    from assistant.storage.db import session_scope

    try:
        team = _team_arg(args.team)
    except _BadArgument as exc:
        return _refuse(exc)
    token = new_token()
    with _database(settings) as sessions, session_scope(sessions) as s:
        user = repo.create_user(
            session=s, name=args.name, role=args.role, token_hash=hash_token(token), team=team
        )
        _audit(s, "user.add", "user", user.id, role=args.role, in_team=team is not None)
        link = _password_link(s, settings, user.id)
        user_id = user.id
    print(
        f"user_id: {user_id}\nrole: {args.role}\nteam: {team or '(none)'}\ntoken: {token}\n"
        "(the token is shown once; only its hash is stored)\n"
        f"set-password link: {link}\n"
        f"(for the web app: works once, for {settings.password_link_hours:g} hours; "
        f"they then sign in with the name {args.name!r})"
    )
    return 0


def cmd_users_set_team(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.storage import repo
    from assistant.storage.db import session_scope

    try:
        team = None if args.no_team else _team_arg(args.team)
    except _BadArgument as exc:
        return _refuse(exc)
    with _database(settings) as sessions, session_scope(sessions) as s:
        user = repo.get_user(session=s, user_id=args.user_id)  # NotFound -> exit 2
        before = user.team
        repo.set_team(session=s, user_id=user.id, team=team)
        if before != team:
            _audit(
                s, "user.team_set", "user", user.id,
                had_team=before is not None, in_team=team is not None, changed=True,
            )  # fmt: skip
        role = user.role
    print(f"user {args.user_id} ({role}) team: {team or '(none)'}")
    if role == "manager":
        print(
            f"(they now read the visits of the {team} team and their own)"
            if team
            else "(with no team, they read every visit)"
        )
    return 0


def cmd_users_list(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.storage import repo
    from assistant.storage.db import session_scope

    with _database(settings) as sessions, session_scope(sessions) as s:
        users = [
            (u.id, u.role, u.team, u.active, u.oidc_subject is not None, u.name)
            for u in repo.list_users(session=s)
        ]
    print("user_id\trole\tteam\tactive\tsign-in\tname\treads")
    for uid, role, team, active, sso, name in users:
        reads = ""
        if role == "manager":  # the scope rule (assistant.auth), said where it is set
            reads = f"team {team} and own" if team else "every visit (no team)"
        print(
            f"{uid}\t{role}\t{team or '-'}\t{'yes' if active else 'no'}\t"
            f"{'sso' if sso else 'password'}\t{name}\t{reads}"
        )
    return 0


def cmd_users_deactivate(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.storage import repo
    from assistant.storage.db import session_scope

    with _database(settings) as sessions, session_scope(sessions) as s:
        user = repo.get_user(session=s, user_id=args.user_id)  # NotFound -> exit 2
        if user.active:
            had_voice = repo.voice_enrolment(session=s, user_id=user.id) is not None
            repo.set_user_active(session=s, user_id=user.id, active=False)  # erases the voice
            _audit(s, "user.deactivate", "user", user.id, voice_erased=had_voice)
        since = user.deactivated_at
    when = f" since {since:%Y-%m-%d %H:%M} UTC" if since else ""
    print(f"user {args.user_id} is deactivated{when}")
    return 0


def cmd_users_password_link(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.storage import repo
    from assistant.storage.db import session_scope

    with _database(settings) as sessions, session_scope(sessions) as s:
        repo.get_user(session=s, user_id=args.user_id)  # NotFound -> exit 2
        link = _password_link(s, settings, args.user_id)
    print(
        f"set-password link: {link}\n"
        f"(works once, for {settings.password_link_hours:g} hours; setting a password signs "
        "the user out everywhere)"
    )
    return 0


def _password_link(session: Session, settings: Settings, user_id: str) -> str:
    """A new one-time link (only its hash is stored) and its audit event."""
    from datetime import timedelta

    from assistant.auth import hash_token, new_secret
    from assistant.storage import repo

    secret = new_secret()
    repo.create_password_link(
        session=session,
        user_id=user_id,
        token_hash=hash_token(secret),
        valid_for=timedelta(hours=settings.password_link_hours),
    )
    _audit(session, "user.password_link", "user", user_id)
    return f"{settings.base_url}/set-password?token={secret}"


def cmd_retention_run(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.jobs.retention import RetentionPolicy, run_retention

    policy = RetentionPolicy.from_settings(settings)
    if not policy.configured:
        print("no retention period is set (CASEASSIST_RETENTION_*): nothing expires")
        return 0
    with _database(settings) as sessions:
        report = run_retention(sessions, policy, dry_run=args.dry_run, via="cli")
    print("\n".join(report.lines()))
    return 1 if report.failed else 0


def cmd_audit_verify(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.storage import repo
    from assistant.storage.audit_chain import ChainHead
    from assistant.storage.db import session_scope

    try:
        anchors = [ChainHead.parse(a) for a in args.anchor]
    except ValueError as exc:
        print(f"error: --anchor: {exc}", file=sys.stderr)
        return 2
    # not audited, unlike the API's check: run on the server (by cron, too) with no one to
    # name, and with database access anyway; it prints no record's contents
    with _database(settings) as sessions, session_scope(sessions) as s:
        report = repo.verify_audit(session=s, anchors=anchors)
    if report.problem is not None:
        p = report.problem
        where = f"record {p.record_id}" if p.record_id else "the end of the chain"
        print(
            f"audit chain BROKEN ({p.kind}) at {where}, seq {p.seq}: {p.message}\n"
            f"{report.records} record(s) read",
            file=sys.stderr,
        )
        return 1
    checked = f", {len(anchors)} earlier head(s) found" if anchors else ""
    print(f"audit chain intact: {report.records} record(s){checked}\nhead: {report.head}")
    return 0


def cmd_audit_export(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.storage import repo
    from assistant.storage.db import session_scope

    with _database(settings) as sessions:
        with session_scope(sessions) as s:
            export = repo.export_audit(session=s, format=args.format)
        args.out.write_bytes(export.content)
        with session_scope(sessions) as s:  # the export is on the record (in the next export)
            _audit(s, "audit.export", "audit", None, format=args.format, records=export.records)
    print(f"wrote {export.records} record(s) to {args.out}\nhead: {export.head}")
    return 0


def cmd_keys_status(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.bootstrap import key_file
    from assistant.storage import repo
    from assistant.storage.db import session_scope
    from assistant.storage.keys import KeyFiles

    with _database(settings) as sessions, session_scope(sessions) as s:
        keyring = s.info["keyring"]
        counts = repo.key_counts(session=s)
    print(f"current key: {keyring.wrapping.key_id}")
    if not settings.encryption_key_provider:
        files = KeyFiles(key_file(settings))
        print(f"key file: {files.path}")
        if files.new.exists() or files.old.exists():
            print("a rotation was interrupted: run `caseassist keys rotate` to finish it")
    for kek_id in sorted(set(counts) | {keyring.wrapping.key_id}):
        print(f"{kek_id}: {counts.get(kek_id, 0)} recording(s)")
    return 0


def cmd_keys_rotate(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.bootstrap import key_file
    from assistant.storage import repo

    if settings.encryption_key_provider:
        print(
            "error: the key is held by CASEASSIST_ENCRYPTION_KEY_PROVIDER; rotate it there",
            file=sys.stderr,
        )
        return 2
    with _database(settings) as sessions:
        result = repo.rotate(
            sessions=sessions,
            key_file=key_file(settings),
            audit=lambda s, details: _audit(s, "keys.rotate", "key", None, **details),
        )
    old = ", ".join(result.old_key_ids) or "none"
    print(
        f"{'finished an interrupted rotation' if result.resumed else 'rotated'}: "
        f"current key {result.new_key_id}; {result.rewrapped} data key(s) re-wrapped "
        f"(from {old}); no data was re-encrypted"
    )
    return 0
