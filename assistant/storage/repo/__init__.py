"""Persistence functions: keyword arguments only, one unit of work per caller.

Every function takes ``session`` and flushes but never commits: the caller owns the transaction
(``db.session_scope``). Missing ids raise ``NotFound``; content of an erased recording is
treated as missing. Content goes in and comes out as domain values (``Transcript``,
``PseudonymMap``, ``NoteBody`` ...), so a table row never travels further than this package's
callers. One module a resource: users, accounts (web sign-in), recordings (and erasure), jobs,
transcripts (and the pseudonym map), notes (and revisions), audit (a hash chain: append,
verify, export), and retention (what is older than a cutoff).
"""

from assistant.storage.models import utcnow
from assistant.storage.repo.accounts import (
    create_password_link,
    create_web_session,
    end_user_sessions,
    end_web_session,
    set_password,
    user_for_password_link,
    users_for_sign_in,
    web_session_user,
)
from assistant.storage.repo.audit import add_audit, export_audit, list_audit, verify_audit
from assistant.storage.repo.jobs import (
    claim_next_job,
    create_job,
    get_job,
    latest_jobs,
    list_jobs_for_recording,
    mean_stage_rtf,
    record_stage_timing,
    requeue_interrupted_jobs,
    update_job,
)
from assistant.storage.repo.keys import (
    audio_aad,
    audio_source,
    key_counts,
    rotate,
    seal_plain_audio,
)
from assistant.storage.repo.notes import (
    add_revision,
    ai_draft_body,
    approve_note,
    claim_note,
    create_note,
    get_note,
    latest_body,
    latest_revision,
    list_revisions,
    note_provenance,
    note_review,
)
from assistant.storage.repo.recordings import (
    create_recording,
    erase_audio,
    erase_recording,
    erase_transcripts,
    get_recording,
    get_recording_for,
    list_recordings_for,
    page_recordings_for,
    stored_audio_paths,
)
from assistant.storage.repo.retention import (
    approved_at,
    approved_before,
    lock_recording,
    owner_deactivated_before,
    unapproved_before,
)
from assistant.storage.repo.transcripts import (
    find_transcript,
    get_transcript,
    load_mapping,
    save_mapping,
    save_transcript,
)
from assistant.storage.repo.users import (
    create_user,
    get_user,
    set_user_active,
    user_by_token_hash,
)

__all__ = [
    "add_audit",
    "add_revision",
    "approved_at",
    "approved_before",
    "ai_draft_body",
    "approve_note",
    "audio_aad",
    "audio_source",
    "key_counts",
    "rotate",
    "seal_plain_audio",
    "claim_next_job",
    "claim_note",
    "create_job",
    "create_note",
    "create_password_link",
    "create_recording",
    "create_user",
    "create_web_session",
    "end_user_sessions",
    "end_web_session",
    "erase_audio",
    "erase_recording",
    "erase_transcripts",
    "export_audit",
    "find_transcript",
    "get_job",
    "get_note",
    "get_recording",
    "get_recording_for",
    "get_transcript",
    "get_user",
    "latest_body",
    "latest_jobs",
    "latest_revision",
    "list_audit",
    "list_jobs_for_recording",
    "list_recordings_for",
    "list_revisions",
    "lock_recording",
    "load_mapping",
    "mean_stage_rtf",
    "note_provenance",
    "note_review",
    "page_recordings_for",
    "owner_deactivated_before",
    "record_stage_timing",
    "requeue_interrupted_jobs",
    "save_mapping",
    "save_transcript",
    "set_password",
    "set_user_active",
    "stored_audio_paths",
    "unapproved_before",
    "update_job",
    "user_by_token_hash",
    "user_for_password_link",
    "users_for_sign_in",
    "verify_audit",
    "utcnow",
    "web_session_user",
]
