"""``caseassist``: serve, run queue workers, install/verify models, add or deactivate users,
verify or export the audit trail, run a retention pass, run the pipeline without a server,
transcribe one recording, redact a text, run the evaluation harness."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.bootstrap import configure_logging, set_offline
from assistant.cli.admin import add_admin_commands
from assistant.cli.worker import add_queue_commands
from assistant.errors import CaseAssistError

if TYPE_CHECKING:
    from assistant.settings import Settings


def main(argv: list[str] | None = None) -> int:
    set_offline()
    parser = _parser()
    args = parser.parse_args(argv)
    from assistant.settings import Settings

    overrides = {}
    if getattr(args, "profile", None):
        overrides["profile"] = args.profile
    settings = Settings(**overrides)
    configure_logging(settings.log_level)
    # Alembic says at INFO which context it chose, on every command that opens the database;
    # that is noise to whoever runs ``users list``. A migration actually applied is logged by
    # ``storage.db.upgrade`` (the revision reached), and Alembic's warnings still show.
    logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)
    from assistant.settings import unknown_variables

    for name in unknown_variables():
        logging.getLogger(__name__).warning(
            "%s is not a setting and is ignored (docs/configuration.md lists every one)", name
        )
    try:
        return args.func(args, settings) or 0
    except CaseAssistError as exc:
        print(f"error [{exc.code}]: {exc.message}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="caseassist", description=__doc__)
    sub = p.add_subparsers(required=True, metavar="COMMAND")

    s = sub.add_parser("serve", help="run the HTTP service (and its job worker)")
    s.add_argument("--host", help="address to listen on (default: the host setting)")
    s.add_argument("--port", type=int, help="port to listen on (default: the port setting)")
    s.add_argument("--profile", choices=["test", "default"])
    s.set_defaults(func=cmd_serve)

    m = sub.add_parser("models", help="install or verify the pinned models")
    msub = m.add_subparsers(required=True, metavar="ACTION")
    for name, fn, text in (
        ("install", cmd_models_install, "download, unpack and verify"),
        ("verify", cmd_models_verify, "check every file's sha256"),
    ):
        a = msub.add_parser(name, help=text)
        a.add_argument("--profile", choices=["test", "default"])
        a.set_defaults(func=fn)
        if name == "install":
            a.add_argument(
                "--model",
                action="append",
                metavar="NAME",
                help="install this manifest model instead of a profile's (repeatable)",
            )

    add_admin_commands(sub)
    add_queue_commands(sub)

    pr = sub.add_parser("process", help="run the whole pipeline on one file, no server")
    pr.add_argument(
        "input",
        type=Path,
        help="audio file, or a transcript (.txt 'Speaker: words' lines, or .json)",
    )
    pr.add_argument("--out", type=Path, required=True, help="output folder")
    pr.add_argument(
        "--template", default=None, help="note template (default: the default_template setting)"
    )
    pr.add_argument("--language", default=None)
    _add_voice_option(pr)
    pr.add_argument("--profile", choices=["test", "default"])
    pr.set_defaults(func=cmd_process)

    t = sub.add_parser(
        "transcribe",
        help="transcribe one recording as the service does (speakers included), no server",
    )
    t.add_argument("audio", type=Path, help="the recording (WAV, FLAC, MP3, Ogg, M4A or WebM)")
    t.add_argument(
        "--out",
        type=Path,
        default=Path("transcript.json"),
        metavar="FILE",
        help="where to write the transcript (default: transcript.json here)",
    )
    t.add_argument("--language", default=None, help="a Whisper language code, or 'auto'")
    t.add_argument(
        "--vocabulary",
        default=None,
        metavar="TERMS",
        help="this recording's own terms (local places, services), separated by commas; "
        "given to Whisper before the council's list",
    )
    _add_voice_option(t)
    t.add_argument("--profile", choices=["test", "default"])
    t.set_defaults(func=cmd_transcribe)

    r = sub.add_parser("redact", help="print a text file with identifiers pseudonymised")
    r.add_argument("file", type=Path)
    r.add_argument("--json", action="store_true", help="also print spans, types and scores")
    r.add_argument("--profile", choices=["test", "default"])
    r.set_defaults(func=cmd_redact)

    ev = sub.add_parser("eval", help="run the evaluation harness; update the model card")
    _add_eval_actions(ev.add_subparsers(required=True, metavar="ACTION"))
    return p


def _add_eval_actions(evsub: argparse._SubParsersAction) -> None:
    er = evsub.add_parser(
        "run", help="run evaluation suites and write results.json and report.html"
    )
    er.add_argument(
        "--suite",
        required=True,
        choices=["asr", "redaction", "notes", "bias", "diarisation", "all"],
    )
    er.add_argument(
        "--quick", action="store_true", help="a small slice of each suite (test profile)"
    )
    er.add_argument("--profile", choices=["test", "default"])
    er.add_argument("--out", type=Path, required=True, help="output folder")
    er.add_argument("--seed", type=int, default=0, help="bootstrap and decoder seed")
    er.add_argument(
        "--primock",
        type=int,
        default=None,
        metavar="N",
        help="notes suite: only the first N PriMock57 consultations (default: the plan's; all "
        "57 on a full run, which takes about an hour and a half on 2 cores)",
    )
    er.add_argument(
        "--drafts",
        type=Path,
        default=None,
        metavar="DIR",
        help="keep each drafted note in DIR and reuse the notes already there (same redacted "
        "transcript, model, prompt, settings and code): resumes a stopped run, or scores again "
        "without drafting",
    )
    er.add_argument(
        "--from-audio",
        type=_at_least_one,
        default=None,
        metavar="N",
        help="notes suite: also render N scenarios with espeak-ng (visit types mixed, as the "
        "diarisation suite picks them), run each through the whole pipeline as an upload "
        "(Whisper, speaker separation, roles, redaction, drafting) and score it beside the same "
        "scenario from text (audio_* figures; a scenario is about 4.5 minutes of speech and "
        "took about 75 s with the default profile on 2 cores); renders are cached in "
        "var/cache/eval-speech",
    )
    er.set_defaults(func=cmd_eval_run)
    ec = evsub.add_parser(
        "card", help="rewrite the results section of MODEL_CARD.md from a results file"
    )
    ec.add_argument(
        "results",
        type=Path,
        nargs="*",
        help="results.json, or the folder holding it; several give one block each",
    )
    ec.add_argument(
        "--results", dest="results_opt", metavar="RESULTS", type=Path, help="same as the positional"
    )
    ec.add_argument("--card", type=Path, default=None, help="default: the repository's card")
    ec.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 0 when the results section is what these results files give, "
        "else 1 with the difference and the command that updates it",
    )
    ec.set_defaults(func=cmd_eval_card)


def _at_least_one(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {n}")
    return n


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from assistant.api.app import create_app
    from assistant.bootstrap import open_database, prepare_dirs
    from assistant.model_store import resolve_models

    # Fail closed here, before uvicorn: a model that differs from the manifest or a wrong key
    # file then ends with the one-paragraph error below, not uvicorn's traceback. The app checks
    # both again as it starts (hashes are cached for unchanged files, so that costs nothing).
    prepare_dirs(settings)
    resolve_models(settings)
    open_database(settings)[0].dispose()
    app = create_app(settings)
    uvicorn.run(
        app,
        host=args.host or settings.host,
        port=args.port or settings.port,
        log_level=settings.log_level.lower(),
    )
    return 0


def cmd_models_install(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.model_store import install_named, install_profile, resolve_models

    if args.model:  # named models outside the profiles: verified as they are installed
        installed = install_named(settings, args.model)
    else:
        installed = install_profile(settings, args.profile)
        resolve_models(settings)
    print(f"installed and verified: {', '.join(installed)} in {settings.models_dir}")
    return 0


def cmd_models_verify(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.model_store import resolve_models

    models = resolve_models(settings)
    for role, ref in models.refs().items():
        print(f"{role}: {ref['name']} sha256 {ref['sha256']} OK")
    return 0


def cmd_process(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.audio import probe
    from assistant.drafting.templates import load_template
    from assistant.model_store import resolve_models
    from assistant.notes.render import render_markdown
    from assistant.pipeline import Engines, run_stages
    from assistant.transcription.files import read_transcript_file

    template = args.template or settings.default_template
    load_template(template, root=settings.prompts_dir)
    if not args.input.is_file():
        print(f"error: {args.input} does not exist", file=sys.stderr)
        return 2
    transcript = None
    if args.input.suffix.lower() in {".txt", ".json"}:
        transcript = read_transcript_file(args.input)
        if args.voice is not None:
            print("error: --voice applies to a recording, not a transcript", file=sys.stderr)
            return 2
    else:
        probe(args.input, max_duration_s=settings.max_duration_s)
    if problem := _voice_problem(args.voice, settings):
        print(f"error: {problem}", file=sys.stderr)
        return 2
    engines = Engines.load(settings, resolve_models(settings))
    result = run_stages(
        engines,
        template=template,
        audio_path=args.input,
        transcript=transcript,
        language=args.language,
        on_stage=_announce_stage,
        voice=_voice_of(args.voice, engines),
    )
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    _write_json(out / "transcript.json", result.transcript.model_dump(mode="json"))
    _write_json(out / "redacted.json", result.redacted.model_dump(mode="json"))
    note = result.note.model_dump(mode="json")
    _write_json(out / "note.json", note)
    (out / "note.md").write_text(
        render_markdown(
            {"sections": note["sections"], "header": note.get("header") or []},
            title="Visit record (draft)",
            meta={
                "template": template,
                "model": note["provenance"]["model"]["name"],
                "prompt_sha256": note["provenance"]["prompt_sha256"],
            },
        )
    )
    run = {
        "timings": {k: v.as_dict() for k, v in result.timings.items()},
        "duration_s": result.transcript.duration_s,
        "models": engines.models.refs(),
        "profile": settings.profile,
    }
    _write_json(out / "run.json", run)
    for stage, t in result.timings.items():
        rtf = f" rtf {t.rtf:.3f}" if t.rtf is not None else ""
        print(f"{stage}: {t.wall_s:.1f}s{rtf}", file=sys.stderr)
    print(f"wrote transcript.json, redacted.json, note.json, note.md to {out}")
    return 0


def cmd_transcribe(args: argparse.Namespace, settings: Settings) -> int:
    """Speech recognition and speaker separation alone, written as ``transcript.json`` (the
    shape ``process`` writes). Every check that can fail runs before the models load."""
    from assistant.audio import probe
    from assistant.model_store import resolve_models
    from assistant.pipeline import SpeechEngines, transcribe_recording
    from assistant.transcription.vocabulary import parse_upload_terms

    if not args.audio.is_file():
        print(f"error: {args.audio} does not exist (or is not a file)", file=sys.stderr)
        return 2
    if problem := _unwritable(args.out):
        print(f"error: cannot write {args.out}: {problem}", file=sys.stderr)
        return 2
    language = args.language or settings.language
    if problem := _unknown_language(language):
        print(f"error: {problem}", file=sys.stderr)
        return 2
    terms = parse_upload_terms(args.vocabulary)
    probe(args.audio, max_duration_s=settings.max_duration_s)
    if problem := _voice_problem(args.voice, settings):
        print(f"error: {problem}", file=sys.stderr)
        return 2
    models = resolve_models(settings, roles=("asr", "speaker"))
    engines = SpeechEngines.load(settings, models)
    transcript, timings = transcribe_recording(
        engines,
        args.audio,
        language=language,
        terms=terms,
        on_stage=_announce_stage,
        voice=_voice_of(args.voice, engines),
    )
    _write_json_atomic(args.out, transcript.model_dump(mode="json"))
    for stage, t in timings.items():
        rtf = f" rtf {t.rtf:.3f}" if t.rtf is not None else ""
        print(f"{stage}: {t.wall_s:.1f}s{rtf}", file=sys.stderr)
    speakers = len({s.speaker for s in transcript.segments if s.speaker})
    print(
        f"wrote {args.out}: {transcript.duration_s:.1f} s of audio, "
        f"{len(transcript.segments)} segments, {speakers} speakers, "
        f"language {transcript.language}, model {models.asr.name}"
    )
    return 0


def _add_voice_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--voice",
        type=Path,
        default=None,
        metavar="SAMPLE",
        help="10 to 60 seconds of the practitioner's own voice, alone: the speaker it matches "
        "is the social worker, as with a voice enrolled in the web app (nothing is kept)",
    )


def _voice_problem(sample: Path | None, settings: Settings) -> str | None:
    """Why ``--voice SAMPLE`` cannot be used, found before any model loads (its speech is
    checked once the encoder is loaded, by ``_voice_of``)."""
    from assistant.audio import probe
    from assistant.diarisation import MAX_SAMPLE_S
    from assistant.errors import RecordingTooLong

    if sample is None:
        return None
    if not settings.diarisation_enabled:
        return "--voice needs speaker separation, which is switched off (diarisation_enabled)"
    if not sample.is_file():
        return f"the voice sample {sample} does not exist (or is not a file)"
    try:
        probe(sample, max_duration_s=MAX_SAMPLE_S)
    except RecordingTooLong:
        return (
            f"the voice sample is longer than {MAX_SAMPLE_S:.0f} seconds: record 10 to 60 "
            "seconds of your own voice"
        )
    return None


def _voice_of(sample: Path | None, engines: Any) -> Any:
    """The practitioner's voice from ``--voice SAMPLE``, as an enrolled one (``EnrolledVoice``);
    a sample without enough speech stops the command with the web page's message."""
    from assistant.audio import load_pcm16k
    from assistant.diarisation import EnrolledVoice
    from assistant.pipeline import sample_voice

    if sample is None or engines.diariser is None:
        return None
    embedding, _ = sample_voice(engines.diariser, load_pcm16k(sample), lock=engines.compute_lock)
    return EnrolledVoice(embedding, engines.diariser.encoder.model_ref.sha256)


def _unwritable(out: Path) -> str | None:
    """Why ``out`` cannot be written, found by creating (and removing) a file beside it, so a
    long transcription never ends in a write error."""
    import tempfile

    if out.is_dir():
        return "it is a folder; give a file name"
    parent = out.parent
    if not parent.is_dir():
        return f"the folder {parent} does not exist"
    try:
        with tempfile.NamedTemporaryFile(dir=parent, prefix=".caseassist-", delete=True):
            pass
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    if out.exists() and not os.access(out, os.W_OK):
        return "the file is read-only"
    return None


def _unknown_language(language: str) -> str | None:
    if language == "auto":
        return None
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    if language not in _LANGUAGE_CODES:
        return f"language {language!r} is not one Whisper transcribes: use a code such as 'en'"
    return None


def _write_json_atomic(path: Path, data: Any) -> None:
    """Write beside ``path`` and rename over it: a failure never leaves half a file, and an
    earlier file of that name is replaced only by a complete one."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        _write_json(tmp, data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def cmd_redact(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.model_store import resolve_nlp
    from assistant.redaction.redactor import Redactor, build_analyzer

    if not args.file.is_file():
        print(f"error: {args.file} does not exist", file=sys.stderr)
        return 2
    config_dir = settings.redaction_config_dir
    redactor = Redactor(
        build_analyzer(spacy_model_path=resolve_nlp(settings), config_dir=config_dir),
        config_dir=config_dir,
    )
    text = args.file.read_text(encoding="utf-8")
    redacted, spans, _mapping = redactor.redact_text(text)
    print(redacted)
    if args.json:
        print(json.dumps([s.model_dump(mode="json") for s in spans], indent=2))
    return 0


#: What the evaluation harness imports beyond the service: the ``eval`` extra.
EVAL_MODULES = ("jiwer", "scipy", "vaderSentiment", "textblob", "openpyxl")


def cmd_eval_run(args: argparse.Namespace, settings: Settings) -> int:
    import importlib.util

    # A service install (the image) has no evaluation packages: say so once, before any suite
    # runs, rather than recording every suite as failed.
    missing = [m for m in EVAL_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        print(
            "error [eval_extra_missing]: the evaluation harness needs the eval extra "
            f"(pip install '.[eval]'); not installed: {', '.join(missing)}",
            file=sys.stderr,
        )
        return 2
    from eval import harness

    results = harness.run(
        args.suite,
        quick=args.quick,
        profile=args.profile,
        out=args.out,
        seed=args.seed,
        settings=settings,
        primock_limit=args.primock,
        drafts=args.drafts,
        from_audio=args.from_audio,
    )
    failed = False
    for name, suite in results["suites"].items():
        status = suite["status"]
        failed |= status == "error"
        extra = f" ({suite['reason']})" if status != "ok" else f" {suite['duration_s']}s"
        print(f"{name}: {status}{extra}", file=sys.stderr)
    for row in results["summary"]:
        ci = row["interval"]
        interval = f" [{ci['low']:.4g}, {ci['high']:.4g}]" if ci else ""
        value = "-" if row["value"] is None else f"{row['value']:.4g}"
        print(f"{row['suite']}.{row['metric']} = {value}{interval} n={row['n']}")
    print(f"wrote results.json and report.html to {args.out}")
    return 1 if failed else 0


def cmd_eval_card(args: argparse.Namespace, settings: Settings) -> int:
    import shlex

    from eval.card import CARD_PATH, CardError, check_card, write_card

    given = [*args.results, *([args.results_opt] if args.results_opt else [])]
    if not given:
        print("error: give the results file (or its folder)", file=sys.stderr)
        return 2
    sources = [s / "results.json" if s.is_dir() else s for s in given]
    card_path = args.card or CARD_PATH
    try:
        if args.check:
            diff = check_card(sources, card_path)
        else:
            card = write_card(sources, card_path)
    except CardError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not args.check:
        print(f"updated the results section of {card}")
        return 0
    if not diff:
        print(f"the results section of {card_path} is up to date")
        return 0
    update = ["caseassist", "eval", "card", *map(str, given)]
    if args.card:
        update += ["--card", str(args.card)]
    print(f"the results section of {card_path} differs from what these results files give:")
    print(diff)
    print(f"to update it, run: {shlex.join(update)}")
    return 1


def _announce_stage(stage: str, progress: float) -> None:
    if progress == 0.0:  # each stage once, as it starts
        print(f"{stage}…", file=sys.stderr)


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
