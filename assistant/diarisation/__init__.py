"""Who spoke when, between transcription and redaction: Resemblyzer's speaker encoder run in
numpy (``encoder``, weights read without torch by ``weights``), speech windows (``windows``),
spectral clustering that chooses the speaker count (``clustering``) and the labelled transcript
(``labels``), chained by ``Diariser``; then the speakers' roles from the words (``roles``) and
the display labels the segments carry (``speakers``). ``voice``: a practitioner's enrolled voice
and which speaker it is. Needs numpy and faster-whisper's VAD only."""

from assistant.diarisation.clustering import ClusterOptions, cluster
from assistant.diarisation.diariser import DiarisationOptions, Diariser
from assistant.diarisation.encoder import SpeakerEncoder, load_encoder, mel_frames
from assistant.diarisation.labels import label_transcript
from assistant.diarisation.roles import DISPLAY, ROLES, RoleGuess, display_labels, infer_roles
from assistant.diarisation.speakers import relabel, set_roles, speakers_of, with_roles
from assistant.diarisation.voice import (
    MAX_SAMPLE_S,
    MIN_SPEECH_S,
    VOICE_THRESHOLD,
    EnrolledVoice,
    VoicePrint,
    recognise,
    voice_print,
)

__all__ = [
    "DISPLAY",
    "MAX_SAMPLE_S",
    "MIN_SPEECH_S",
    "ROLES",
    "VOICE_THRESHOLD",
    "ClusterOptions",
    "DiarisationOptions",
    "Diariser",
    "EnrolledVoice",
    "RoleGuess",
    "SpeakerEncoder",
    "VoicePrint",
    "cluster",
    "display_labels",
    "infer_roles",
    "label_transcript",
    "load_encoder",
    "mel_frames",
    "recognise",
    "relabel",
    "set_roles",
    "speakers_of",
    "voice_print",
    "with_roles",
]
