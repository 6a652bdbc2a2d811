"""A job's progress within each stage, as the progress page reads it (``GET /v1/jobs/{id}``):
every stage reports from its own start, drafting included."""

from __future__ import annotations

from assistant.jobs.worker import _JobStages
from assistant.storage import repo, session_scope
from tests.conftest import add_user, make_settings, seed_recording
from tests.speech import VISIT_SCRIPT
from tests.web import db


def test_each_stage_reports_progress_from_its_own_start(tmp_path):
    """Speech recognition ends at 1.0; drafting's first half must then show as 0.5, not wait
    for the stage's end (the reported mark was kept from the stage before)."""
    settings = make_settings(tmp_path)
    owner, _ = add_user(settings, "P", "practitioner")
    engine, sessions = db(settings)
    try:
        with session_scope(sessions) as s:
            job_id = repo.create_job(session=s, recording_id=seed_recording(s, owner).id).id
        stages = _JobStages(sessions, job_id)

        def now() -> tuple[str, float]:
            with session_scope(sessions) as s:
                job = repo.get_job(session=s, job_id=job_id)
                return job.status, job.progress

        stages.begin("transcribing")
        stages.progress("transcribing", 0.5)
        assert now() == ("transcribing", 0.5)
        stages.progress("transcribing", 1.0)
        stages.begin("drafting")
        assert now() == ("drafting", 0.0)
        stages.progress("drafting", 0.02)  # under 5% since the last write: not written
        assert now() == ("drafting", 0.0)
        stages.progress("drafting", 0.5)
        assert now() == ("drafting", 0.5)
    finally:
        engine.dispose()


def test_the_chain_passes_drafting_progress_to_its_hooks(engines, tmp_path):
    """``run_stages`` on a typed transcript: the released note style reports each piece."""
    from assistant.pipeline import run_stages
    from assistant.transcription.files import read_transcript_file

    roles = {"social_worker": "Social worker", "parent": "Mum", "child": "Child"}
    typed = tmp_path / "visit.txt"
    typed.write_text("".join(f"{roles.get(w, w)}: {said}\n" for w, said in VISIT_SCRIPT))
    seen: list[tuple[str, float]] = []
    run_stages(
        engines,
        template="visit_note",
        transcript=read_transcript_file(typed),
        on_stage=lambda stage, p: seen.append((stage, p)),
    )
    drafting = [p for stage, p in seen if stage == "drafting"]
    assert drafting[0] == 0.0 and drafting[-1] == 1.0 and drafting == sorted(drafting)
    assert drafting.count(0.0) == 1, "the stage's start is said once"
    assert len({p for p in drafting if 0.0 < p < 1.0}) >= 3
