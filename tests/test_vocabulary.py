"""The vocabulary for speech recognition: the council's versioned list, an upload's own terms
(checked, stored with the recording, passed through the job to Whisper, erased with the
recording), and how term recall is counted."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from assistant.errors import BadInput, ConfigurationError
from assistant.transcription.vocabulary import (
    DEFAULT_VOCABULARY_PATH,
    MAX_UPLOAD_TERMS,
    hint_text,
    load_vocabulary,
    parse_upload_terms,
)
from eval.scoring import terms as term_scoring
from tests.conftest import REPO

ISSUE_TERMS = (
    "CAMHS", "MARAC", "IDVA", "LADO", "SENCO", "EHCP", "PEP", "IRO", "section 47",
    "child in need", "Prevent", "Channel panel", "core group", "strategy discussion",
)  # fmt: skip


# --- the council's list -------------------------------------------------------------------
def test_the_council_list_is_versioned_and_holds_the_issues_terms():
    vocab = load_vocabulary()
    assert vocab.version == 1 and len(vocab.sha256) == 64
    assert set(ISSUE_TERMS) <= set(vocab.terms)
    assert vocab.terms[: len(ISSUE_TERMS)] == ISSUE_TERMS, "the commonest first"


@pytest.mark.parametrize("model", ["whisper-tiny.en", "whisper-base"])
def test_the_council_list_fits_what_whisper_reads(model):
    """faster-whisper keeps at most 223 tokens of hotwords; the list leaves room for an
    upload's own terms."""
    from tokenizers import Tokenizer

    path = REPO / "var" / "models" / model / "tokenizer.json"
    if not path.is_file():
        pytest.skip(f"{model} is not installed")
    hint = hint_text((), load_vocabulary().terms)
    assert hint is not None
    assert len(Tokenizer.from_file(str(path)).encode(" " + hint).ids) <= 150


@pytest.mark.parametrize(
    "case,content,message",
    [
        ("not YAML", "version: 1\nterms: [CAMHS\n", "not valid YAML"),
        ("no version", "terms:\n  - {term: CAMHS}\n", "version"),
        ("no terms", "version: 1\nterms: []\n", "terms"),
        ("unknown key", "version: 1\nterms:\n  - {term: CAMHS, colour: red}\n", "colour"),
        ("a term twice", "version: 1\nterms:\n  - {term: CAMHS}\n  - {term: camhs}\n", "twice"),
        ("a key twice", "version: 1\nversion: 2\nterms:\n  - {term: CAMHS}\n", "duplicate"),
        ("odd characters", "version: 1\nterms:\n  - {term: '<CAMHS>'}\n", "characters"),
    ],
)
def test_a_broken_council_list_is_refused_saying_what_to_fix(tmp_path, case, content, message):
    path = tmp_path / "v9.yaml"
    path.write_text(content)
    with pytest.raises(ConfigurationError) as err:
        load_vocabulary(path)
    assert message in err.value.message, case


def test_a_missing_council_list_is_refused(tmp_path):
    with pytest.raises(ConfigurationError, match="cannot be read"):
        load_vocabulary(tmp_path / "none.yaml")


def test_the_setting_points_at_the_packaged_list_and_an_empty_value_switches_it_off():
    from assistant.settings import Settings

    assert Settings().asr_vocabulary_path == DEFAULT_VOCABULARY_PATH
    assert Settings(asr_vocabulary_path="").asr_vocabulary_path is None


# --- an upload's own terms ----------------------------------------------------------------
@pytest.mark.parametrize(
    "given,expected",
    [
        (None, ()),
        ("  ", ()),
        ("Beckfield Primary", ("Beckfield Primary",)),
        ("Beckfield Primary, Holm Lane estate; St Anne's", ("Beckfield Primary",
         "Holm Lane estate", "St Anne's")),
        ("Oakwood\nThe Hub\n\n", ("Oakwood", "The Hub")),
        ("Oakwood, Oakwood", ("Oakwood",)),
        ("A&E, Year 6/7, Smith-Jones", ("A&E", "Year 6/7", "Smith-Jones")),
    ],
)  # fmt: skip
def test_upload_terms_are_split_and_kept_in_order(given, expected):
    assert parse_upload_terms(given) == expected


@pytest.mark.parametrize(
    "case,given,message",
    [
        ("too many", ",".join(f"t{i}" for i in range(MAX_UPLOAD_TERMS + 1)), "at most 30"),
        ("too long", "x" * 61, "term 1 is longer"),
        ("markup", "ok, <script>", "term 2 may hold only"),
        ("starts with punctuation", "-dash", "term 1 may hold only"),
    ],
)
def test_bad_upload_terms_are_refused_naming_the_position_not_the_term(case, given, message):
    with pytest.raises(BadInput) as err:
        parse_upload_terms(given)
    assert err.value.code == "invalid_vocabulary", case
    assert message in err.value.message
    assert "script" not in err.value.message


def test_the_uploads_terms_come_first_and_repeats_are_dropped():
    assert hint_text(("Oakwood", "camhs"), ("CAMHS", "MARAC")) == "Oakwood, camhs, MARAC."
    assert hint_text((), ()) is None
    # fewer tokens for beam search to carry (benchmarks/asr_vs_plain.py config "spaces")
    assert hint_text(("Oakwood",), ("CAMHS", "MARAC"), separator=" ") == "Oakwood CAMHS MARAC."


# --- term recall --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "term,text,n",
    [
        ("EHCP", "He has an E.H.C.P. now", 1),
        ("EHCP", "He has an E H C P now", 1),
        ("section 47", "a section forty-seven enquiry", 1),
        ("CAMHS", "cams and CAMHS", 1),
        ("core group", "the core group, then the core group again", 2),
        ("EHCP", "He has an e-h-c-p now", 1),
        ("PEP", "pepper", 0),
        ("Clare's Law", "Clares law", 1),
    ],
)
def test_term_counting(term, text, n):
    assert term_scoring.count(term, text) == n


@pytest.mark.parametrize(
    "term,text,n",
    [
        ("PEP", "a pep talk", 0),  # an everyday word in lower case: not the term
        ("PEP", "her PEP, then a pep talk", 1),
        ("SEND", "I'll send it today. Send it now", 0),
        ("SEND", "his SEND support and the S.E.N.D. team", 2),
        ("MASH", "the MASH, not the mash", 1),
        ("Prevent", "a prevent referral", 1),  # not an everyday word's acronym: any case
        ("MARAC", "her case went to Marac", 1),
    ],
)
def test_an_everyday_word_is_the_term_only_in_capitals(term, text, n):
    assert term_scoring.count(term, text) == n


def test_an_everyday_word_said_is_not_a_term_said():
    # "send" the verb in a reference was counted as SEND said, and found: an easy hit
    items = [("Can they send the same bus? His SEND support", "Can they send the same bus? insane")]
    assert term_scoring.recall(items, ["SEND"]) == (0, 1, {"SEND": [0, 1]})


def test_term_recall_counts_each_occurrence_once():
    items = [("CAMHS said CAMHS would call", "cams said CAMHS would call"), ("No terms", "x")]
    hits, total, per_term = term_scoring.recall(items, ["CAMHS", "MARAC"])
    assert (hits, total) == (1, 2) and per_term == {"CAMHS": [1, 2]}


def test_invented_terms_are_those_written_beyond_what_was_said():
    vocab = ["LADO", "PEP", "CSE", "child in need", "SEND"]
    pairs = [
        ("date of birth, the 14th of June 2018", "Detonberg, LADO, June, 2018"),
        ("his PEP is on Friday", "his PEP is on Friday"),  # said: not invented
        ("the PEP meeting", "the PEP PEP meeting"),  # once beyond what was said
        ("a child in need plan", "a child in need plan, CSE"),
        ("nothing here", "nothing here"),
        ("The MASH sent it", "The must send it"),  # the verb, not the term SEND
        ("they sent a letter", "SEND, SEND, LADO"),  # the term in capitals: invented
    ]
    total, per_term = term_scoring.invented(pairs, vocab)
    assert per_term == {"LADO": 2, "PEP": 1, "CSE": 1, "SEND": 2}
    assert total == 6
    assert term_scoring.invented([], vocab) == (0, {})


# --- through the service ------------------------------------------------------------------
class _RecordingTranscriber:
    """The real transcriber; records the terms each call was given."""

    def __init__(self, inner):
        self.inner, self.terms = inner, []

    def transcribe(self, *a, terms=(), **kw):
        self.terms.append(tuple(terms))
        return self.inner.transcribe(*a, terms=terms, **kw)


def _rows(settings, sql):
    engine = create_engine(settings.resolved_database_url)
    with engine.begin() as conn:
        rows = conn.execute(text(sql)).fetchall()
    engine.dispose()
    return rows


@pytest.mark.models
@pytest.mark.slow
def test_an_uploads_terms_are_stored_passed_to_whisper_and_erased(tmp_path, engines):
    from assistant.api.app import create_app
    from tests.conftest import LiveServer, add_user, free_port, make_settings, wait_for_job
    from tests.speech import espeak_available, synthesize

    if not espeak_available():
        pytest.skip("espeak-ng/sox not installed")
    wav = synthesize("The core group met at Beckfield Primary on Monday.", tmp_path / "v.wav")
    settings = make_settings(tmp_path)
    _, token = add_user(settings, "P", "practitioner")
    spy = _RecordingTranscriber(engines.transcriber)
    original, engines.transcriber = engines.transcriber, spy
    try:
        with LiveServer(create_app(settings, engines=engines), free_port()) as srv:
            client = srv.client(token)
            with wav.open("rb") as f:
                r = client.post(
                    "/v1/recordings",
                    files={"audio": ("v.wav", f)},
                    data={"vocabulary": "Beckfield Primary, Holm Lane"},
                )
            assert r.status_code == 202, r.text
            job = wait_for_job(client, r.json()["job_id"])
            assert job["status"] == "done", job
            assert spy.terms == [("Beckfield Primary", "Holm Lane")]
            stored = _rows(settings, "select vocabulary from recordings")
            assert stored == [("Beckfield Primary\nHolm Lane",)]
            assert client.delete(f"/v1/recordings/{job['recording_id']}").status_code == 204
    finally:
        engines.transcriber = original
    assert _rows(settings, "select vocabulary from recordings") == [(None,)]


@pytest.mark.models
def test_an_upload_with_bad_terms_is_refused_and_nothing_is_stored(tmp_path, engines):
    from assistant.api.app import create_app
    from tests.conftest import LiveServer, add_user, free_port, make_settings
    from tests.speech import espeak_available, synthesize

    if not espeak_available():
        pytest.skip("espeak-ng/sox not installed")
    wav = synthesize("Hello, this is the social worker.", tmp_path / "v.wav")
    settings = make_settings(tmp_path, run_worker=False)
    _, token = add_user(settings, "P", "practitioner")
    with LiveServer(create_app(settings, engines=engines), free_port()) as srv:
        with wav.open("rb") as f:
            r = srv.client(token).post(
                "/v1/recordings", files={"audio": ("v.wav", f)}, data={"vocabulary": "a<b>"}
            )
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_vocabulary"
    assert _rows(settings, "select count(*) from recordings") == [(0,)]
    assert not list(settings.uploads_dir.glob("*"))
