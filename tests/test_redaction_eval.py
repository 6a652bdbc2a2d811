"""Specification of the redaction measurement (eval/redaction_eval.py) and of its corpus
(eval/redaction_corpus/), and the regression rows for the Whisper-punctuation leak.

The corpus is synthetic and every value in it invented (see eval/redaction_corpus/README.md).
Tests marked ``models`` load the bundled spaCy model once per module.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

import pytest

from assistant.domain import EntitySpan, PseudonymMap, Segment, Transcript
from assistant.redaction import Redactor, build_analyzer, residual_identifiers
from assistant.redaction.validators import nhs_mod11
from eval.datasets.redaction_corpus import build as corpus_build
from eval.suites import redaction as redaction_eval
from eval.suites.redaction import (
    DIRECT_TYPES,
    GOLD_TYPES,
    MAX_GROUP_GAP,
    Corpus,
    CorpusError,
    evaluate,
    load_corpus,
)

ROOT = Path(__file__).resolve().parent.parent
MODEL_DIR = ROOT / "var" / "models" / "en_core_web_sm-3.8.0"
models = pytest.mark.models
ORIGINS = {
    "english", "irish", "scottish", "welsh", "polish", "romanian", "lithuanian", "pakistani",
    "indian", "bangladeshi", "nigerian", "ghanaian", "somali", "jamaican", "chinese",
    "vietnamese", "arabic", "turkish", "roma_traveller",
}  # fmt: skip


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return load_corpus()


@pytest.fixture(scope="module")
def redactor():
    if not (MODEL_DIR / "config.cfg").is_file():
        pytest.skip(f"bundled spaCy model missing at {MODEL_DIR}")
    return Redactor(build_analyzer(spacy_model_path=MODEL_DIR))


# --- the corpus ----------------------------------------------------------------------------
def test_corpus_loads_and_every_gold_span_matches_its_text(corpus):
    written = [u for u in corpus.utterances if u.form == "written"]
    whisper = {u.id.rsplit(".", 1)[0]: u for u in corpus.utterances if u.form == "whisper"}
    assert len(written) >= 300 and len(whisper) == len(written)
    for u in written:
        twin = whisper[u.id.rsplit(".", 1)[0]]
        # the Whisper form carries every gold span over, same order and type
        assert [(s.type, s.origin) for s in twin.spans] == [(s.type, s.origin) for s in u.spans]
        assert [k.kind for k in twin.keep] == [k.kind for k in u.keep]
        for utt in (u, twin):
            for s in utt.spans:
                surface = utt.text[s.start : s.end]
                assert surface and surface == surface.strip(), utt.id
                assert any(c.isalnum() for c in surface), utt.id
            if utt.form == "whisper":  # names as Whisper may write them: lower case
                for s in utt.spans:
                    if s.type == "PERSON":
                        assert utt.text[s.start : s.end].islower(), utt.id


def test_corpus_covers_every_type_form_split_and_origin(corpus):
    seen = defaultdict(set)
    names = defaultdict(set)
    for u in corpus.utterances:
        for s in u.spans:
            seen[s.type].add((u.form, u.split))
            if s.type == "PERSON" and u.form == "written":
                names[s.origin].add(u.text[s.start : s.end])
        for k in u.keep:
            seen["KEEP"].add((u.form, u.split))
    every = {(f, s) for f in ("written", "whisper") for s in ("tune", "heldout")}
    for t in GOLD_TYPES | {"KEEP"}:
        assert seen[t] == every, t
    assert set(names) == ORIGINS
    for origin, found in names.items():
        assert len(found) >= 15, origin
    heldout = sum(u.split == "heldout" for u in corpus.utterances) / len(corpus.utterances)
    assert 0.25 <= heldout <= 0.35


def test_held_out_names_are_never_seen_in_tuning(corpus):
    def words(split):
        return {
            w.casefold()
            for u in corpus.utterances
            if u.split == split and u.form == "written"
            for s in u.spans
            if s.type == "PERSON"
            for w in re.findall(r"[\w'’-]+", u.text[s.start : s.end])
        }

    # Vietnamese middle names ("Nguyen Thi Lan", "Phan Van Hung") mark gender and are shared
    assert words("tune") & words("heldout") <= {"thi", "van"}


def test_corpus_values_are_invented(corpus):
    drama = re.compile(
        r"^(?:07700900\d{3}|01(?:13|14|15|16|17|18|21|31|41|51|61)4960\d{3}|0207946\d{4}"
        r"|0292018\d{4}|0289649\d{4}|01632960\d{3})$"
    )
    for u in corpus.utterances:
        if u.form != "written":
            continue
        for s in u.spans:
            value = u.text[s.start : s.end]
            digits = re.sub(r"\D", "", value)
            if s.type == "UK_PHONE":
                national = "0" + digits[2:] if digits.startswith("44") else digits
                assert drama.match(national), u.id
            elif s.type == "UK_NHS":
                assert nhs_mod11(digits), u.id
            elif s.type == "EMAIL":
                assert re.search(r"@example\.(?:com|org|co\.uk|gov\.uk)$", value), u.id


def test_corpus_file_is_what_the_builder_makes():
    text = corpus_build.dumps(corpus_build.build())
    assert text == corpus_build.CORPUS_PATH.read_text(encoding="utf-8"), (
        "corpus.jsonl is stale: run python -m eval.redaction_corpus.build"
    )


def test_a_broken_record_is_refused(tmp_path):
    record = {
        "id": "x", "template": "t", "group": "english", "split": "tune", "form": "written",
        "text": "Call Kasia.", "spans": [{"start": 4, "end": 10, "type": "PERSON"}], "keep": [],
    }  # fmt: skip
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="whitespace at an edge"):
        load_corpus(path)
    record["spans"] = [{"start": 5, "end": 10, "type": "SHOE_SIZE"}]
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="unknown gold type"):
        load_corpus(path)


# --- the measurement, with scripted redactors ----------------------------------------------
class _Scripted:
    """Redacts exactly what ``pick`` returns for each text: a fake for the matching rules."""

    def __init__(self, corpus: Corpus, pick):
        self._by_text = {u.text: u for u in corpus.utterances}
        self._pick = pick

    def redact_text(self, text):
        utt = self._by_text[text]
        spans = [
            EntitySpan(
                segment_id="text", start=a, end=b, entity_type=t, placeholder=f"[X_{i}]",
                score=1.0, recognizer="scripted",
            )
            for i, (a, b, t) in enumerate(self._pick(utt))
        ]  # fmt: skip
        out = text
        for s in sorted(spans, key=lambda s: -s.start):
            out = out[: s.start] + s.placeholder + out[s.end :]
        return out, spans, PseudonymMap(entries={})


def _small(corpus: Corpus) -> Corpus:
    return corpus.where(lambda u: u.template in ("t01", "t02", "t04", "t49"))


def test_perfect_redaction_scores_one_and_over_redaction_zero(corpus):
    small = _small(corpus)
    oracle = _Scripted(small, lambda u: [(s.start, s.end, s.type) for s in u.spans])
    m = evaluate(oracle, small, resamples=50)["slices"]["all"]
    assert m["direct_recall"]["value"] == 1.0 and m["precision"]["value"] == 1.0
    assert m["over_redaction"]["rate"] == 0.0
    assert m["group_gap"]["difference"] == 0.0 and not m["group_gap"]["flagged"]
    assert all(t["type_accuracy"] == 1.0 for t in m["per_type"].values() if t["n_gold"])


def test_half_a_name_is_a_miss_and_redacting_keep_words_is_over_redaction(corpus):
    small = _small(corpus)

    def sloppy(u):
        out = [(s.start, s.start + 1, s.type) for s in u.spans if s.type == "PERSON"]
        out += [(s.start, s.end, s.type) for s in u.spans if s.type != "PERSON"]
        out += [(k.start, k.end, "PERSON") for k in u.keep]
        return out

    m = evaluate(_Scripted(small, sloppy), small, resamples=50)["slices"]["all"]
    assert m["per_type"]["PERSON"]["recall"] == 0.0
    assert m["per_type"]["PERSON"]["recall_lenient"] == 0.0  # one letter of a name is < half
    assert m["per_type"]["UK_PHONE"]["recall"] == 1.0
    assert m["over_redaction"]["rate"] == 1.0
    assert m["precision"]["value"] < 0.9


@models
def test_a_redactor_that_drops_one_origin_is_caught_and_the_gap_flagged(redactor, corpus):
    # the real redactor, wrapped to drop every name of Somali origin
    small = corpus.where(lambda u: u.group in ("somali", "polish", "welsh") and u.form == "written")
    somali = {
        w.casefold()
        for u in small.utterances
        for s in u.spans
        if s.origin == "somali"
        for w in re.findall(r"[\w'-]+", u.text[s.start : s.end])
    }

    class DropsSomaliNames:
        """Whatever type the redactor gave them ("Aden" may be a place), Somali names stay."""

        def redact_text(self, text):
            out, spans, mapping = redactor.redact_text(text)
            kept = [
                s
                for s in spans
                if not {w.casefold() for w in re.findall(r"[\w'-]+", text[s.start : s.end])}
                & somali
            ]
            return out, kept, mapping

    m = evaluate(DropsSomaliNames(), small, resamples=200)["slices"]["all"]
    assert m["per_group"]["somali"]["person_recall"]["value"] == 0.0
    assert m["per_group"]["polish"]["person_recall"]["value"] > 0.9
    gap = m["group_gap"]
    assert gap["worst_group"] == "somali" and gap["flagged"]
    assert gap["difference"] > MAX_GROUP_GAP and gap["ratio"] < 0.9
    assert gap["difference_ci95"][0] > MAX_GROUP_GAP  # not a fluke of the sample
    assert not m["goals_met"]["every_group"]


@models
def test_the_command_writes_results_with_provenance(tmp_path, corpus):
    lines = corpus_build.CORPUS_PATH.read_text(encoding="utf-8").splitlines()
    tiny = tmp_path / "tiny.jsonl"
    tiny.write_text("\n".join(lines[:4] + lines[-4:]) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    assert redaction_eval.main(["--out", str(out), "--corpus", str(tiny), "--resamples", "20"]) == 0
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    for key in ("corpus", "redaction_config_hash", "spacy_model", "git_commit", "seed", "machine",
                "higher_is_better", "matching", "slices", "throughput"):  # fmt: skip
        assert key in results, key
    assert len(results["corpus"]["sha256"]) == 64 and len(results["spacy_model"]["sha256"]) == 64
    assert results["slices"]["all"]["n_utterances"] == 8
    assert set(results["slices"]) >= {"all", "tune", "heldout", "written", "whisper"}
    assert results["throughput"]["words_per_second"] > 0
    assert DIRECT_TYPES <= GOLD_TYPES


def test_held_out_misses_are_never_printed(tmp_path):
    with pytest.raises(SystemExit):
        redaction_eval.main(["--out", str(tmp_path), "--show-misses", "heldout"])


# --- regression: what Whisper wrote, and what leaked ---------------------------------------
WHISPER_REGRESSIONS = [
    # (text, entity, expected span)
    ("Yes, that is right. The best number is 0113, 496, 0427.", "UK_PHONE", "0113, 496, 0427"),
    ("my mobile is 07700, 900, 123", "UK_PHONE", "07700, 900, 123"),
    ("my mobile is 07700 900 123", "UK_PHONE", "07700 900 123"),
    ("my mobile is 07700-900-123", "UK_PHONE", "07700-900-123"),
    ("my mobile is 0 7 7 0 0 9 0 0 1 2 3", "UK_PHONE", "0 7 7 0 0 9 0 0 1 2 3"),
    ("ring 0113.496.0427", "UK_PHONE", "0113.496.0427"),
    ("it's oh one one three, four nine six, oh four two seven", "UK_PHONE",
     "oh one one three, four nine six, oh four two seven"),
    ("NHS number 943, 476, 5919", "UK_NHS", "943, 476, 5919"),
    ("NHS number 943-476-5919", "UK_NHS", "943-476-5919"),
    ("NI number JK, 12, 34, 56, C", "UK_NINO", "JK, 12, 34, 56, C"),
    ("the postcode is LS6, 2QT", "UK_POSTCODE", "LS6, 2QT"),
    ("the postcode is ls6 2qt", "UK_POSTCODE", "ls6 2qt"),
    ("the postcode is L S 6, 2 Q T", "UK_POSTCODE", "L S 6, 2 Q T"),
    ("the postcode is LS62QT", "UK_POSTCODE", "LS62QT"),
    ("the postcode is M1, 1AE", "UK_POSTCODE", "M1, 1AE"),
    ("she was born on 3, 3, 2015", "DATE_OF_BIRTH", "3, 3, 2015"),
    ("his date of birth is 03, 03, 2015", "DATE_OF_BIRTH", "03, 03, 2015"),
    ("email me on kasia.nowak at example.com", "EMAIL", "kasia.nowak at example.com"),
    ("I am a social worker from Leeds City Council.", "LOCATION", "Leeds"),
    ("we moved up from bradford last year", "LOCATION", "bradford"),
    ("they live at 12 gipton approach now", "STREET_ADDRESS", "12 gipton approach"),
]  # fmt: skip

EVERYDAY_NUMBERS = [
    "she is 7",
    "she is seven and he is nine",
    "we'll come at 3, 30 on Tuesday",
    "she has two children",
    "see you on the 14th",
    "it was £20 for the gas",
    "he is in year 6",
    "it took 45 minutes, maybe 50",
    "they are 12, 14, 15 now",
    "it cost £250,000 in the end",
    "there were 1,250 people",
    "the visit was on 14.05.2024",
    "she was there from 2015-2019",
    "in 2019, 2020 and 2021",
    "flat 3, 45 minutes away",
    "the baby was 3, 4 kilos",
    "Will you ring me in May?",
]


@models
@pytest.mark.parametrize(("text", "entity", "expected"), WHISPER_REGRESSIONS)
def test_whisper_forms_are_redacted(redactor, text, entity, expected):
    redacted, spans, _ = redactor.redact_text(text)
    assert [(text[s.start : s.end], s.entity_type) for s in spans] == [(expected, entity)]
    assert expected not in redacted


@models
@pytest.mark.parametrize("text", EVERYDAY_NUMBERS)
def test_everyday_numbers_are_kept(redactor, text):
    redacted, spans, _ = redactor.redact_text(text)
    assert [(text[s.start : s.end], s.entity_type) for s in spans] == []
    assert redacted == text


@models
def test_the_visit_that_leaked_is_redacted_and_passes_the_residual_check(redactor):
    """The three lines from the real pipeline run (Whisper base on a generated visit)."""
    texts = [
        "I am a social worker from Leeds City Council.",
        "Can I check that you still live at 14 Elm Grove, Leeds, LS6, 2QT?",
        "Yes, that is right. The best number for me is 0113, 496, 0427.",
    ]
    tx = Transcript(
        segments=tuple(
            Segment(id=f"s{i}", start=i * 5.0, end=i * 5.0 + 5.0, text=t, speaker=None)
            for i, t in enumerate(texts)
        ),
        language="en",
        duration_s=15.0,
        source="text",
    )
    redacted, mapping = redactor.redact(tx)
    assert [s.text for s in redacted.segments] == [
        "I am a social worker from [LOCATION_1] City Council.",
        "Can I check that you still live at [ADDRESS_1], [LOCATION_1], [UK_POSTCODE_1]?",
        "Yes, that is right. The best number for me is [PHONE_1].",
    ]
    assert not any(p.startswith("[PERSON_") for p in mapping.entries)
    assert residual_identifiers(redacted, mapping) == []
    # and had the recognisers missed them, the residual check would have blocked drafting
    leaky = redacted.model_copy(
        update={"segments": tuple(s.model_copy(update={"text": t}) for s, t in
                                  zip(redacted.segments, texts, strict=True))}
    )  # fmt: skip
    assert {"DIGIT_RUN", "UK_POSTCODE_SHAPE"} <= set(residual_identifiers(leaky, mapping))


@models
def test_redacted_regression_rows_never_trip_the_residual_check(redactor):
    texts = [t for t, _, _ in WHISPER_REGRESSIONS] + EVERYDAY_NUMBERS
    tx = Transcript(
        segments=tuple(
            Segment(id=f"s{i}", start=float(i), end=i + 1.0, text=t, speaker=None)
            for i, t in enumerate(texts)
        ),
        language="en",
        duration_s=float(len(texts)),
        source="text",
    )
    redacted, mapping = redactor.redact(tx)
    assert residual_identifiers(redacted, mapping) == []
