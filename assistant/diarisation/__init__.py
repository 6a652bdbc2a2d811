"""Who spoke when, between transcription and redaction: Resemblyzer's speaker encoder run in
numpy (``encoder``, weights read without torch by ``weights``), speech windows (``windows``),
spectral clustering that chooses the speaker count (``clustering``) and the labelled transcript
(``labels``), chained by ``Diariser``. Needs numpy and faster-whisper's VAD only."""

from assistant.diarisation.clustering import ClusterOptions, cluster
from assistant.diarisation.diariser import DiarisationOptions, Diariser
from assistant.diarisation.encoder import SpeakerEncoder, load_encoder, mel_frames
from assistant.diarisation.labels import label_transcript

__all__ = [
    "ClusterOptions",
    "DiarisationOptions",
    "Diariser",
    "SpeakerEncoder",
    "cluster",
    "label_transcript",
    "load_encoder",
    "mel_frames",
]
