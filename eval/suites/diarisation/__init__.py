"""Speaker separation and roles: who spoke when, and who each speaker is.

1. **Roles from typed scenarios.** Every visit of ``eval/datasets/scenarios`` with its speaker
   labels hidden (renamed ``S1`` … in order of first appearance): the role
   ``assistant.diarisation.roles`` gives each speaker against the scenario's own, by role, and
   the share of visits whose social worker and every child were right (goal 90%). The rules
   were written against these scenarios, so this is an in-sample figure.
2. **Rendered scenarios.** A few scenarios (one per visit type, English only, no television)
   spoken turn by turn with espeak-ng in their speakers' voices, transcribed by the profile's
   Whisper, separated by the speaker stage and given roles as the service does: DER without and
   with a 0.25 s collar, the speaker count, the share of words given the right speaker and role
   accuracy by role.
3. **The sample call.** The 30 s two-speaker call in the ``pyannote-audio`` 4.0.7 wheel and its
   RTTM (fetched once and pinned as the ASR suite does; left out with a note when it cannot be
   had): DER (goal 10% without collar), speaker count and words given the right speaker.

``--quick`` renders 2 scenarios of 12 turns and leaves out the sample call; the full run
renders 4 of 20 turns (a few minutes on 2 cores). espeak-ng voices are formant synthesis and
far easier to tell apart than people: these figures flatter the stage.

``inputs.py`` chooses and renders what is scored, ``scoring.py`` scores it (DER, word
attribution) and ``suite.py`` runs the three measurements.
"""

from eval.suites.diarisation.suite import FULL, QUICK, SUITE, SUITE_VERSION, Plan, run

__all__ = ["FULL", "QUICK", "SUITE", "SUITE_VERSION", "Plan", "run"]
