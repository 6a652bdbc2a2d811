"""One error hierarchy with stable codes.

Every error the service raises on purpose is a ``CaseAssistError``; the API layer maps it to
``{"error": {"code", "message", "request_id"}}`` with ``http_status``. Messages must never
contain personal data: ids, sizes, durations, counts and entity types only.
"""

from __future__ import annotations


class CaseAssistError(Exception):
    code = "internal_error"
    http_status = 500

    def __init__(self, message: str, *, code: str | None = None, http_status: int | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if http_status is not None:
            self.http_status = http_status


# --- start-up / configuration -------------------------------------------------------------
class ConfigurationError(CaseAssistError):
    code = "configuration_error"


class ModelVerificationError(ConfigurationError):
    """A model file is missing or its sha256 differs from the manifest: refuse to start."""

    code = "model_verification_failed"


# --- bad input ----------------------------------------------------------------------------
class BadInput(CaseAssistError):
    code = "bad_request"
    http_status = 400


class NoAudioFile(BadInput):
    code = "no_audio_file"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        http_status: int | None = None,
        fields: dict[str, str] | None = None,
    ):
        super().__init__(message, code=code, http_status=http_status)
        #: the form's other fields as sent, when the request was parsed (the web form shows
        #: them back, with any problems they have, beside "choose the recording")
        self.fields = dict(fields or {})


class UnsupportedMediaType(BadInput):
    code = "unsupported_media_type"
    http_status = 415


class EmptyRecording(BadInput):
    code = "empty_recording"
    http_status = 422


class TruncatedRecording(BadInput):
    code = "truncated_recording"
    http_status = 422


class RecordingTooLarge(BadInput):
    code = "recording_too_large"
    http_status = 413


class RecordingTooLong(BadInput):
    code = "recording_too_long"
    http_status = 413


class SilentRecording(BadInput):
    code = "no_speech_detected"
    http_status = 422


class TooLittleSpeech(BadInput):
    """A voice sample with speech, but not enough of it to know the voice by."""

    code = "too_little_speech"
    http_status = 422


class UnknownTemplate(BadInput):
    code = "unknown_template"
    http_status = 422


class MalformedTranscript(BadInput):
    code = "malformed_transcript"
    http_status = 422


class InvalidEdit(BadInput):
    code = "invalid_edit"
    http_status = 422


class NoteLocked(BadInput):
    code = "note_approved"
    http_status = 409


class SafeguardingUnconfirmed(BadInput):
    """Approval refused: statements raising a safeguarding category are not all confirmed."""

    code = "safeguarding_unconfirmed"
    http_status = 409


class StaleRevision(BadInput):
    """An edit or confirmation was made against a revision that is no longer the latest."""

    code = "stale_revision"
    http_status = 409


# --- access -------------------------------------------------------------------------------
class Unauthenticated(CaseAssistError):
    code = "unauthenticated"
    http_status = 401


class Forbidden(CaseAssistError):
    code = "forbidden"
    http_status = 403


class TooManyAttempts(CaseAssistError):
    """Too many failed sign-ins from one client address; ``retry_after`` seconds to wait."""

    code = "too_many_attempts"
    http_status = 429

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class NotFound(CaseAssistError):
    """Also used for another user's ids, so their existence is not disclosed."""

    code = "not_found"
    http_status = 404


# --- pipeline -----------------------------------------------------------------------------
class StageError(CaseAssistError):
    """A pipeline stage failed; the job records ``code`` and ``message``."""

    code = "stage_failed"


class DraftingFailed(StageError):
    code = "drafting_failed"


class RedactionBlocked(StageError):
    """The residual check found something that still looks like an identifier."""

    code = "redaction_residual"


# --- encryption at rest -------------------------------------------------------------------
class DecryptionFailed(CaseAssistError):
    """Stored ciphertext did not authenticate: a wrong key, a blob moved from another object,
    or altered bytes. The message names the object and key ids only, never any content."""

    code = "decryption_failed"
    http_status = 500
