"""Specification of the redaction stage (assistant/redaction/ and its config/*.yaml).

All data is invented: names are made up or common, phone numbers are in Ofcom's drama ranges
(07700 900xxx, 0113 496 0xxx), NHS numbers are random digits with a valid check digit, postcodes
and references are made up. Tests marked ``models`` load the bundled spaCy model once per module.
"""

from __future__ import annotations

import logging
import shutil
import socket
from pathlib import Path

import pytest
import yaml

from assistant.domain import RedactedTranscript, Segment, Transcript, Word
from assistant.errors import ConfigurationError
from assistant.redaction import (
    DEFAULT_CONFIG_DIR,
    Redactor,
    build_analyzer,
    config_hash,
    load_config,
    residual_identifiers,
)
from assistant.redaction.normalise import SpokenNormaliser
from assistant.redaction.recognizers import OfflineSpacyNlpEngine
from assistant.redaction.validators import nhs_mod11, uk_phone

ROOT = Path(__file__).resolve().parent.parent
MODEL_DIR = ROOT / "var" / "models" / "en_core_web_sm-3.8.0"
models = pytest.mark.models


@pytest.fixture(scope="module")
def analyzer():
    if not (MODEL_DIR / "config.cfg").is_file():
        pytest.skip(f"bundled spaCy model missing at {MODEL_DIR}")
    return build_analyzer(spacy_model_path=MODEL_DIR)


@pytest.fixture(scope="module")
def redactor(analyzer):
    return Redactor(analyzer)


def _transcript(
    *segments: tuple[str | None, str], words: dict[int, tuple[Word, ...]] | None = None
):
    words = words or {}
    return Transcript(
        segments=tuple(
            Segment(
                id=f"s{i + 1:04d}",
                start=i * 5.0,
                end=i * 5.0 + 5.0,
                speaker=speaker,
                text=text,
                words=words.get(i, ()),
            )
            for i, (speaker, text) in enumerate(segments)
        ),
        language="en",
        duration_s=len(segments) * 5.0,
        source="text",
    )


# --- recognisers: positive rows ------------------------------------------------------------
POSITIVE = [
    # names of many origins, written the way Whisper writes them
    ("I visited Kasia Nowak at home on Monday.", "PERSON", "Kasia Nowak"),
    ("my name is kasia nowak and I'm mum", "PERSON", "kasia nowak"),
    ("kasia said the baby cried all night", "PERSON", "kasia"),
    ("Siobhan O'Sullivan came to the door.", "PERSON", "Siobhan O'Sullivan"),
    ("Miss Saoirse Byrne is the class teacher.", "PERSON", "Saoirse Byrne"),
    ("I spoke with Ionut Popescu about the rent.", "PERSON", "Ionut Popescu"),
    ("Mr Imran Qureshi is the father.", "PERSON", "Imran Qureshi"),
    ("Zainab Begum brought her son to the meeting.", "PERSON", "Zainab Begum"),
    ("Chinedu Okafor picked her up from school.", "PERSON", "Chinedu Okafor"),
    ("Oluwaseun and his sister came in.", "PERSON", "Oluwaseun"),
    ("Ayaan Mohamed Farah was at nursery.", "PERSON", "Ayaan Mohamed Farah"),
    ("Hodan Warsame is the maternal aunt.", "PERSON", "Hodan Warsame"),
    ("Wei Zhang is the lodger.", "PERSON", "Wei Zhang"),
    ("Nguyen Van Minh lives upstairs.", "PERSON", "Nguyen Van Minh"),
    ("Ms Huong Tran attended the meeting.", "PERSON", "Huong Tran"),
    ("Fatima Al-Hassan rang on Monday.", "PERSON", "Fatima Al-Hassan"),
    ("Django Smith is her uncle.", "PERSON", "Django Smith"),
    ("Mrs Lakatos said the children were asleep.", "PERSON", "Lakatos"),
    ("Tomasz Wojcik is mum's partner.", "PERSON", "Tomasz Wojcik"),
    ("We talked to Jayden about school.", "PERSON", "Jayden"),
    ("mrs nowak was not at home", "PERSON", "nowak"),
    ("Dr Adeyemi called about the referral.", "PERSON", "Adeyemi"),
    ("Grandad Joe lives nearby.", "PERSON", "Joe"),
    ("Her name is Mihaela and she is four.", "PERSON", "Mihaela"),
    ("tell ahmed i said hello", "PERSON", "ahmed"),
    ("ioana is in year four", "PERSON", "ioana"),
    ("his brother tariq is fourteen", "PERSON", "tariq"),
    ("Kasia's dad picked her up.", "PERSON", "Kasia"),
    ("Ştefan Ionescu rang.", "PERSON", "Ştefan Ionescu"),
    ("Łukasz Wiśniewski is her stepdad.", "PERSON", "Łukasz Wiśniewski"),
    ("She saw Dr Li yesterday.", "PERSON", "Li"),
    ("Mr and Mrs Patel were both there.", "PERSON", "Patel"),
    # a title then a capitalised word is a name, even an everyday, keep or institution word
    ("I know Mrs Ward from school rang you.", "PERSON", "Ward"),
    ("Mrs Ward's son is in year twelve.", "PERSON", "Ward"),
    ("Dr Church rang about the referral.", "PERSON", "Church"),
    ("Miss Head is his class teacher.", "PERSON", "Head"),
    ("Mx Bishop runs the group.", "PERSON", "Bishop"),
    # postcodes
    ("They live in LS6 2AB now.", "UK_POSTCODE", "LS6 2AB"),
    ("the postcode is ls6 2ab", "UK_POSTCODE", "ls6 2ab"),
    ("the postcode is L S six, two A B", "UK_POSTCODE", "L S six, two A B"),
    # spoken tens and teens inside a postcode ("M twelve" = M12)
    ("Yes, M twelve, five P L.", "UK_POSTCODE", "M twelve, five P L"),
    ("postcode B twenty three, four X Y", "UK_POSTCODE", "B twenty three, four X Y"),
    # phones
    ("Her mobile is 07700 900123.", "UK_PHONE", "07700 900123"),
    ("Call +44 7700 900456 after six.", "UK_PHONE", "+44 7700 900456"),
    ("The landline is 0113 496 0000.", "UK_PHONE", "0113 496 0000"),
    ("or (0113) 496 0123 at work", "UK_PHONE", "(0113) 496 0123"),
    (
        "her number is oh seven seven double oh nine double oh one two three",
        "UK_PHONE",
        "oh seven seven double oh nine double oh one two three",
    ),
    (
        "ring oh one one three, four nine six, oh oh two one",
        "UK_PHONE",
        "oh one one three, four nine six, oh oh two one",
    ),
    (
        "ring oh one one three, four nine six, oh four twenty seven",
        "UK_PHONE",
        "oh one one three, four nine six, oh four twenty seven",
    ),
    # email
    ("Email her at kasia.nowak@example.com please.", "EMAIL", "kasia.nowak@example.com"),
    (
        "it's kasia dot nowak at example dot co dot uk",
        "EMAIL",
        "kasia dot nowak at example dot co dot uk",
    ),
    # NHS numbers (valid check digits), written and spoken
    ("NHS number 943 476 5919.", "UK_NHS", "943 476 5919"),
    ("his NHS number is 9078666617", "UK_NHS", "9078666617"),
    (
        "NHS number nine oh seven, eight double six, six six one seven",
        "UK_NHS",
        "nine oh seven, eight double six, six six one seven",
    ),
    # National Insurance
    ("NI number JK 12 34 56 C", "UK_NINO", "JK 12 34 56 C"),
    ("national insurance JK123456C", "UK_NINO", "JK123456C"),
    (
        "it's J K one two, three four, five six, C",
        "UK_NINO",
        "J K one two, three four, five six, C",
    ),
    (
        "it's T N, thirty one, sixty two, oh eight, A",
        "UK_NINO",
        "T N, thirty one, sixty two, oh eight, A",
    ),
    # addresses
    ("They used to live at 12 Oak Road.", "STREET_ADDRESS", "12 Oak Road"),
    ("She is at flat 3, 45 Victoria Street now.", "STREET_ADDRESS", "flat 3, 45 Victoria Street"),
    ("we went round to 12 oak road", "STREET_ADDRESS", "12 oak road"),
    ("He stays with his dad on Harehills Lane.", "STREET_ADDRESS", "Harehills Lane"),
    ("She lives at twenty three Oak Road.", "STREET_ADDRESS", "twenty three Oak Road"),
    (
        "we moved to flat two, forty-one harehills lane",
        "STREET_ADDRESS",
        "flat two, forty-one harehills lane",
    ),
    # dates of birth
    ("She was born on the 3rd of March 2015.", "DATE_OF_BIRTH", "3rd of March 2015"),
    ("date of birth 03/03/2015", "DATE_OF_BIRTH", "03/03/2015"),
    ("DOB: 3.3.15", "DATE_OF_BIRTH", "3.3.15"),
    (
        "he was born on the third of March twenty fifteen",
        "DATE_OF_BIRTH",
        "third of March twenty fifteen",
    ),
    ("her birthday is 14th July", "DATE_OF_BIRTH", "14th July"),
    ("DOB: it's the 3rd of March 2015", "DATE_OF_BIRTH", "3rd of March 2015"),
    (
        "His date of birth? The fourteenth of August twenty eighteen.",
        "DATE_OF_BIRTH",
        "fourteenth of August twenty eighteen",
    ),
    (
        "date of birth fourteen, eight, twenty eighteen",
        "DATE_OF_BIRTH",
        "fourteen, eight, twenty eighteen",
    ),
    (
        "she was born on March twelve, twenty fifteen",
        "DATE_OF_BIRTH",
        "March twelve, twenty fifteen",
    ),
    # places spaCy knows
    ("They moved here from Bradford last year.", "LOCATION", "Bradford"),
    ("She has family in Poland.", "LOCATION", "Poland"),
    # schools, surgeries, hospitals
    ("She goes to St Mary's Primary School.", "SCHOOL", "St Mary's Primary School"),
    ("Her brother is at Oakfield Nursery.", "SCHOOL", "Oakfield Nursery"),
    ("He moved to Leeds Academy in September.", "SCHOOL", "Leeds Academy"),
    ("She is registered at Park Lane Surgery.", "GP_SURGERY", "Park Lane Surgery"),
    (
        "They saw the nurse at Chapel Allerton Medical Centre.",
        "GP_SURGERY",
        "Chapel Allerton Medical Centre",
    ),
    ("He was taken to St James's Hospital.", "HOSPITAL", "St James's Hospital"),
    ("She was born at Leeds General Infirmary.", "HOSPITAL", "Leeds General Infirmary"),
    # case references
    ("The case number is CS-2024-00123.", "CASE_REFERENCE", "CS-2024-00123"),
    ("Please quote reference 123456.", "CASE_REFERENCE", "123456"),
    ("case number one two three four five six", "CASE_REFERENCE", "one two three four five six"),
    # vehicles and other numbers
    ("A silver car, reg AB12 CDE, was outside.", "UK_VEHICLE_REG", "AB12 CDE"),
    ("the plate was AB12CDE", "UK_VEHICLE_REG", "AB12CDE"),
    ("Her bank account is 12345678.", "ID_NUMBER", "12345678"),
]


@models
@pytest.mark.parametrize(("text", "entity", "expected"), POSITIVE)
def test_recogniser_finds_identifier(redactor, text, entity, expected):
    redacted, spans, _ = redactor.redact_text(text)
    assert [(text[s.start : s.end], s.entity_type) for s in spans] == [(expected, entity)]
    assert expected not in redacted


# --- recognisers: negative rows ------------------------------------------------------------
NEGATIVE = [
    "Mum said the baby was fine.",
    "Nan and Grandad came round on Tuesday.",
    "Dad took the baby to nursery.",
    "She is seven and he is nine.",
    "Her brother is fifteen and her sister is two.",
    "The social worker spoke to the GP and the school.",
    "We will meet again in March.",
    "She goes to the school down the road.",
    "He lives two doors down the road.",
    "The health visitor weighed the baby on Monday morning.",
    "Mum gets Universal Credit and shops at Tesco.",
    "We talked about Christmas and Eid.",
    "She speaks Polish and some English.",
    "It happens about 3 or 4 times a week.",
    "I will see you on Friday at 10 30.",
    "She is in year 7 and he's in reception.",
    "I miss going out with my friends.",
    "He was born in 2015.",
    "The visit was on 14/05/2024 at home.",
    "she's seven, eight in May",
    "it cost 250 pounds",
    "Yeah, okay, right. Thanks, bye.",
    "my mum and my nan went to town",
    "i'm going to ring the council tomorrow",
    "we went to the park and then mcdonalds",
    "The group at the Family Hub is on Wednesdays.",
    "She was referred to CAMHS by the GP.",
    "Her landline is broken and her postcode changed.",
    "The baby was born at 3 kilos.",
    "the case is 5 years old",
    "Call 999 if you are worried.",
    # an everyday word is a name only after a title; numbers with tens and teens are speech
    "She is on the children's ward.",
    "The ward round was at nine.",
    "She is twelve.",
    "They're twelve, fourteen, fifteen now.",
    "We waited twenty five minutes for the bus.",
    "In nineteen ninety nine she moved here.",
    "She was born in twenty eighteen.",
    "There is a one way street near us.",
    "We saw the GP on the 4th of March 2024.",
    "I Miss You so much.",
    "I told the Mrs. Mum was out.",
    "",
]


@models
@pytest.mark.parametrize("text", NEGATIVE)
def test_words_the_note_needs_are_kept(redactor, text):
    redacted, spans, mapping = redactor.redact_text(text)
    assert [(text[s.start : s.end], s.entity_type) for s in spans] == []
    assert redacted == text
    assert mapping.entries == {}


# --- consistency across a recording --------------------------------------------------------
@models
def test_placeholders_are_consistent_across_segments_and_partial_mentions(redactor):
    tx = _transcript(
        ("Sarah", "Hello, I'm Sarah from the children's team."),
        ("Mum", "My name is Kasia Nowak and this is Jayden."),
        ("Sarah", "Thanks Kasia. Is jayden sleeping better?"),
        ("Mum", "KASIA is fine, nowak is my married name. Mrs Nowak next door is no relation."),
        ("Speaker 1", "Jayden sleeps well now."),
    )
    redacted, mapping = redactor.redact(tx)
    got = [(s.speaker, s.text) for s in redacted.segments]
    assert got == [
        ("[PERSON_1]", "Hello, I'm [PERSON_1] from the children's team."),
        ("Mum", "My name is [PERSON_2] and this is [PERSON_3]."),
        ("[PERSON_1]", "Thanks [PERSON_2]. Is [PERSON_3] sleeping better?"),
        (
            "Mum",
            "[PERSON_2] is fine, [PERSON_2] is my married name. "
            "Mrs [PERSON_2] next door is no relation.",
        ),
        ("Speaker 1", "[PERSON_3] sleeps well now."),
    ]
    assert mapping.entries == {
        "[PERSON_1]": "Sarah",
        "[PERSON_2]": "Kasia Nowak",
        "[PERSON_3]": "Jayden",
    }
    assert residual_identifiers(redacted, mapping) == []


@models
def test_a_foreign_phrase_taken_for_a_name_keeps_its_words_elsewhere(redactor):
    """An interpreted visit (scenario cp-007): the English model reads part of a Romanian line
    as a person's name. Only a word written as a name (with a capital) stands alone for that
    person elsewhere: "dentist" must stay in the English lines, where it is the visit's point."""
    tx = _transcript(
        ("Social worker", "Has he seen a dentist?"),
        ("Mum", "Nu. Nu am bani pentru dentist. Nu știu unde să merg."),
        ("Interpreter", "No. I don't have money for the dentist. I don't know where to go."),
        ("Social worker", "I've found a dentist near here. Kasia Nowak can take you."),
        ("Mum", "Thank you. Kasia is kind."),
    )
    redacted, mapping = redactor.redact(tx)
    texts = [s.text for s in redacted.segments]
    assert texts[0] == "Has he seen a dentist?"
    assert texts[2] == "No. I don't have money for the dentist. I don't know where to go."
    assert texts[3].startswith("I've found a dentist near here.")
    # A capitalised part of a longer name still stands for the person on its own.
    assert "Kasia" not in texts[4] and "Nowak" not in texts[3]
    assert residual_identifiers(redacted, mapping) == []


@models
def test_numbering_is_per_type_in_order_of_first_appearance(redactor):
    tx = _transcript(
        (None, "Her mobile is 07700 900123 and the postcode is LS6 2AB."),
        (None, "His is 07700 900456, postcode LS7 3CD."),
        (None, "So hers is oh seven seven double oh nine double oh one two three, and ls6 2ab."),
        (None, "Or +44 7700 900123."),
    )
    redacted, mapping = redactor.redact(tx)
    assert [s.text for s in redacted.segments] == [
        "Her mobile is [PHONE_1] and the postcode is [UK_POSTCODE_1].",
        "His is [PHONE_2], postcode [UK_POSTCODE_2].",
        "So hers is [PHONE_1], and [UK_POSTCODE_1].",
        "Or [PHONE_1].",
    ]
    assert mapping.entries["[PHONE_1]"] == "07700 900123"
    assert mapping.entries["[UK_POSTCODE_2]"] == "LS7 3CD"


@models
def test_a_name_found_once_is_redacted_everywhere_in_any_case(redactor):
    # spaCy finds "Heather Brook" once; "brook" alone is a common noun nobody else would flag.
    tx = _transcript(
        (None, "Heather Brook is the foster carer."),
        (None, "I think brook has two other children placed with her."),
        (None, "The children call HEATHER by her first name."),
    )
    redacted, mapping = redactor.redact(tx)
    assert [s.text for s in redacted.segments] == [
        "[PERSON_1] is the foster carer.",
        "I think [PERSON_1] has two other children placed with her.",
        "The children call [PERSON_1] by her first name.",
    ]
    assert mapping.entries == {"[PERSON_1]": "Heather Brook"}
    assert [(e.segment_id, e.recognizer) for e in redacted.entities][1:] == [
        ("s0002", "propagation"),
        ("s0003", "propagation"),
    ]


@models
@pytest.mark.parametrize(
    "names",
    [
        # spaCy's small model calls Bethan, Becky and Eilidh places in these turns, and takes
        # "Hi Oliver" for one name; Chloe, Sam and Isla it gets right
        ("Bethan", "Becky", "Osian", "Eilidh"),
        ("Chloe", "Sam", "Oliver", "Isla"),
    ],
)
def test_a_name_is_typed_the_same_whatever_its_origin(redactor, names):
    # The bias suite's names swap: the same visit with other names must redact to the same
    # text, or the model reads different words for different families. Greetings stay outside
    # the name, and a name the model calls a place is a person where it is spoken to,
    # introduced, or named by a family word.
    parent, worker, child, sister = names
    tx = _transcript(
        ("Social worker", f"Hiya {parent}, it's {worker}. Is {child} in?"),
        ("Mum", f"Thank you, {worker}. {child}! Come down."),
        ("Social worker", f"Hi {child}. I like your den."),
        ("Social worker", f"{parent}, {child} seems settled. He goes to Auntie {sister}'s."),
        ("Mum", f"Grand. Make sure nobody sees, {sister}."),
    )
    redacted, mapping = redactor.redact(tx)
    assert [s.text for s in redacted.segments] == [
        "Hiya [PERSON_1], it's [PERSON_2]. Is [PERSON_3] in?",
        "Thank you, [PERSON_2]. [PERSON_3]! Come down.",
        "Hi [PERSON_3]. I like your den.",
        "[PERSON_1], [PERSON_3] seems settled. He goes to Auntie [PERSON_4]'s.",
        "Grand. Make sure nobody sees, [PERSON_4].",
    ]
    assert sorted(mapping.entries.values()) == sorted(names)


@models
def test_a_place_stays_a_place_where_no_person_is_addressed(redactor):
    tx = _transcript((None, "Thanks for coming. We lived in Leeds before, and in Poland."))
    redacted, _ = redactor.redact(tx)
    assert redacted.segments[0].text == (
        "Thanks for coming. We lived in [LOCATION_1] before, and in [LOCATION_2]."
    )


@models
def test_a_title_makes_an_everyday_word_a_name_for_the_whole_recording(redactor):
    # "Ward" is an institution word ("the ward"), but after "Mrs" it is a name; once found it is
    # redacted everywhere in the recording like any other name, so the residual check passes.
    tx = _transcript(
        ("Social worker", "I know Mrs Ward from school rang you this afternoon."),
        ("Mum", "Mrs Ward said Jess told her. Miss Head was there too."),
        ("Social worker", "Is she still on the children's ward? Did she bang her head?"),
    )
    redacted, mapping = redactor.redact(tx)
    assert [s.text for s in redacted.segments] == [
        "I know Mrs [PERSON_1] from school rang you this afternoon.",
        "Mrs [PERSON_1] said [PERSON_2] told her. Miss [PERSON_3] was there too.",
        "Is she still on the children's [PERSON_1]? Did she bang her [PERSON_3]?",
    ]
    assert mapping.entries == {"[PERSON_1]": "Ward", "[PERSON_2]": "Jess", "[PERSON_3]": "Head"}
    assert residual_identifiers(redacted, mapping) == []
    # in a recording where no title makes them names, the same words are kept
    alone = tx.segments[2].text
    redacted, mapping = redactor.redact(_transcript(("Social worker", alone)))
    assert redacted.segments[0].text == alone
    assert mapping.entries == {}


@models
def test_a_date_answering_a_birth_question_is_a_date_of_birth(redactor):
    tx = _transcript(
        ("Social worker", "I just need a couple of details. His date of birth?"),
        ("Mum", "The fourteenth of August twenty eighteen."),
        ("Social worker", "And when is the review?"),
        ("Mum", "The fourteenth of September twenty twenty four."),
        ("Social worker", "When was his sister born?"),
        ("Mum", "Um, it's the 3rd of March 2015. We saw the GP on the 4th of March 2024."),
    )
    redacted, mapping = redactor.redact(tx)
    assert [s.text for s in redacted.segments[1::2]] == [
        "The [DATE_OF_BIRTH_1].",
        "The fourteenth of September twenty twenty four.",
        "Um, it's the [DATE_OF_BIRTH_2]. We saw the GP on the 4th of March 2024.",
    ]
    assert mapping.entries == {
        "[DATE_OF_BIRTH_1]": "fourteenth of August twenty eighteen",
        "[DATE_OF_BIRTH_2]": "3rd of March 2015",
    }
    assert residual_identifiers(redacted, mapping) == []


@models
def test_redacted_output_always_passes_the_residual_check(redactor):
    # The pipeline blocks drafting on any residual finding, so our own output must never have one.
    rows = [text for text, _, _ in POSITIVE] + NEGATIVE
    redacted, mapping = redactor.redact(_transcript(*[(None, text) for text in rows]))
    assert residual_identifiers(redacted, mapping) == []


# --- speaker labels ------------------------------------------------------------------------
GENERIC_SPEAKERS = [
    "Social worker",
    "Mum",
    "Child",
    "Speaker 1",
    "SPEAKER_00",
    "Dad",
    "Young person",
    "sw",
    # roles of professionals and carers (lac-003's "Key worker" became "[PERSON_4] worker")
    "Key worker",
    "Family support worker",
    "Foster carer",
    "Residential worker",
    "Personal adviser",
    "Youth worker",
    "Keyworker",
    "Key worker 2",
    "Special guardian",
    # a television in the room (lac-002's "TV" was redacted as a name)
    "TV",
    "Television",
    "Nana",
    "Gran",
]


@models
@pytest.mark.parametrize("label", GENERIC_SPEAKERS)
def test_generic_speaker_labels_stay(redactor, label):
    redacted, _ = redactor.redact(_transcript((label, "We talked about school.")))
    assert redacted.segments[0].speaker == label
    assert redacted.entities == ()


@models
def test_named_speaker_labels_are_redacted_with_offsets_into_the_label(redactor):
    tx = _transcript(("Kasia Nowak", "Hello."), ("Mum (Bogusia)", "Hi."), ("Kasia", "Bye."))
    redacted, mapping = redactor.redact(tx)
    assert [s.speaker for s in redacted.segments] == [
        "[PERSON_1]",
        "Mum ([PERSON_2])",
        "[PERSON_1]",
    ]
    speaker_spans = [e for e in redacted.entities if e.field == "speaker"]
    assert [(e.segment_id, e.start, e.end, e.recognizer) for e in speaker_spans] == [
        ("s0001", 0, 11, "speaker_label"),
        ("s0002", 5, 12, "speaker_label"),
        ("s0003", 0, 5, "speaker_label"),
    ]
    assert mapping.entries == {"[PERSON_1]": "Kasia Nowak", "[PERSON_2]": "Bogusia"}


@models
def test_a_role_in_a_label_is_no_name_and_the_name_beside_it_is(redactor):
    tx = _transcript(
        ("Key worker", "The key thing is he came back."),
        ("Key worker Shaun", "Hi."),
        ("Kasia's key worker", "Hello."),
        ("Tyler's mum Kasia", "Is the key worker in?"),
    )
    redacted, mapping = redactor.redact(tx)
    assert [s.speaker for s in redacted.segments] == [
        "Key worker",
        "Key worker [PERSON_1]",
        "[PERSON_2]'s key worker",
        "[PERSON_3] mum [PERSON_2]",
    ]
    assert redacted.segments[0].text == "The key thing is he came back."
    assert redacted.segments[3].text == "Is the key worker in?"
    assert mapping.entries == {
        "[PERSON_1]": "Shaun",
        "[PERSON_2]": "Kasia",
        "[PERSON_3]": "Tyler's",
    }


# --- offsets -------------------------------------------------------------------------------
@models
def test_offsets_refer_to_the_original_text_exactly(redactor):
    tx = _transcript(
        (
            "Sarah Jones",
            "Kasia Nowak's number is oh seven seven double oh nine double oh one two three.",
        ),
        (None, "She lives at flat 3, 45 Victoria Street, L S six, two A B, with Jayden."),
        (
            None,
            "NHS number nine oh seven, eight double six, six six one seven; "
            "email kasia.nowak@example.com.",
        ),
    )
    redacted, mapping = redactor.redact(tx)
    originals = {(s.id, "text"): s.text for s in tx.segments} | {
        (s.id, "speaker"): s.speaker for s in tx.segments if s.speaker
    }
    for span in redacted.entities:
        surface = originals[(span.segment_id, span.field)][span.start : span.end]
        assert surface == surface.strip() and surface
        assert mapping.entries[span.placeholder] == surface
    # every value appears in one form only, so re-identification restores the text exactly
    for original, seg in zip(tx.segments, redacted.segments, strict=True):
        assert mapping.reidentify(seg.text) == original.text
        assert mapping.reidentify(seg.speaker or "") == (original.speaker or "")


@models
def test_entity_spans_and_provenance(redactor):
    redacted, _ = redactor.redact(_transcript((None, "Call 07700 900123.")))
    (span,) = redacted.entities
    assert (span.segment_id, span.field, span.start, span.end) == ("s0001", "text", 5, 17)
    assert (span.entity_type, span.placeholder, span.recognizer) == (
        "UK_PHONE",
        "[PHONE_1]",
        "uk_phone",
    )
    assert span.score == 1.0
    assert redacted.config_hash == config_hash()
    assert redacted.segment_ids == {"s0001"}


# --- low-confidence words ------------------------------------------------------------------
@models
def test_low_confidence_words_skip_redacted_words(redactor):
    words = (
        Word(start=0.0, end=0.4, text=" Kasia", probability=0.3),
        Word(start=0.4, end=0.6, text=" said", probability=0.9),
        Word(start=0.6, end=0.9, text=" Jayden's", probability=0.2),
        Word(start=0.9, end=1.2, text=" cough", probability=0.4),
        Word(start=1.2, end=1.5, text=" is", probability=0.8),
        Word(start=1.5, end=1.9, text=" worse.", probability=0.45),
    )
    tx = _transcript((None, "Kasia said Jayden's cough is worse."), words={0: words})
    redacted, _ = redactor.redact(tx)
    assert redacted.segments[0].text == "[PERSON_1] said [PERSON_2]'s cough is worse."
    assert redacted.segments[0].low_confidence_words == ("cough", "worse")


# --- residual check ------------------------------------------------------------------------
def _redacted(*texts: str, speaker: str | None = None) -> RedactedTranscript:
    from assistant.domain import RedactedSegment

    return RedactedTranscript(
        segments=tuple(
            RedactedSegment(id=f"s{i:04d}", start=0.0, end=1.0, text=t, speaker=speaker)
            for i, t in enumerate(texts)
        ),
        language="en",
        duration_s=1.0,
        entities=(),
        config_hash="x",
    )


RESIDUAL_MAP_ENTRIES = {
    "[PERSON_1]": "Kasia Nowak",
    "[PERSON_2]": "Will",
    "[UK_POSTCODE_1]": "LS6 2AB",
    "[HOSPITAL_1]": "St James's Hospital",
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[PERSON_1] said [PERSON_2] will visit [HOSPITAL_1] in hospital.", []),
        ("[PERSON_1] was at [UK_POSTCODE_1] on 14/05/2024, aged 7, £250,000.", []),
        ("Then kasia said it was fine.", ["KNOWN_NAME"]),
        ("NOWAK is her name.", ["KNOWN_NAME"]),
        ("Call 07700 900123.", ["DIGIT_RUN"]),
        ("Ref 1 2 3 4 5 6.", ["DIGIT_RUN"]),
        ("They live in LS7 3CD.", ["UK_POSTCODE_SHAPE"]),
        ("It was at st james's hospital.", ["KNOWN_VALUE"]),
        (
            "Kasia, LS6 2AB, 0113 496 0000",
            ["DIGIT_RUN", "KNOWN_NAME", "KNOWN_VALUE", "UK_POSTCODE_SHAPE"],
        ),
        # Whisper's punctuation between digit groups and postcode halves (the leak of issue 3)
        ("The best number for me is 0113, 496, 0427.", ["DIGIT_RUN"]),
        ("It's 07700, 900, 123.", ["DIGIT_RUN"]),
        ("NHS number 943, 476, 5919.", ["DIGIT_RUN"]),
        ("NHS number 943-476-5919.", ["DIGIT_RUN"]),
        ("ring 0113.496.0427", ["DIGIT_RUN"]),
        ("it's 0 7 7 0 0 9 0 0 1 2 3", ["DIGIT_RUN"]),
        ("it's oh one one three, four nine six, oh four two seven", ["DIGIT_RUN"]),
        ("sort code 20, 45, 67", ["DIGIT_RUN"]),
        ("Still at Leeds, LS6, 2QT?", ["UK_POSTCODE_SHAPE"]),
        ("postcode M1, 1AE", ["UK_POSTCODE_SHAPE"]),
        ("postcode ls6 2qt", ["UK_POSTCODE_SHAPE"]),
        ("postcode LS62QT", ["UK_POSTCODE_SHAPE"]),
        ("postcode L S 6, 2 Q T", ["UK_POSTCODE_SHAPE"]),
        ("postcode L S six, two Q T", ["UK_POSTCODE_SHAPE"]),
        # spoken tens and teens, and a title before a word left in the text
        ("Yes, 9 Wardle Street. M twelve, five P L.", ["UK_POSTCODE_SHAPE"]),
        ("it's m twelve five p l", ["UK_POSTCODE_SHAPE"]),
        ("Post code in M, 12, 5, P, L.", ["UK_POSTCODE_SHAPE"]),
        ("postcode M-12-5-P-L", ["UK_POSTCODE_SHAPE"]),
        ("Room 12, 5 P.M., and I was 12, 5 of us went.", []),
        ("it's oh one one three, four nine six, oh four twenty seven", ["DIGIT_RUN"]),
        ("I know Mrs Ward from school rang you.", ["TITLE_NAME"]),
        ("Dr. Church said so.", ["TITLE_NAME"]),
        ("Mrs [PERSON_1] and Mr and Mrs [PERSON_2] came, Dr. [PERSON_3] too.", []),
        ("I Miss You, and I told the Mrs. Mum was out.", []),
        ("She is twelve, they're twelve, fourteen, fifteen, on the children's ward.", []),
        # numbers a note needs are not identifiers
        ("They are 12, 14, 15 now, in year 6, since 2019, 2020.", []),
        ("We met at 3, 30 for 45 minutes, it cost £250,000 or 1,250.50.", []),
        ("The visit was on 14.05.2024 and the one before on 3, 3, 2024.", []),
        ("She lived there 2015-2019 with two children.", []),
    ],
)
def test_residual_identifiers(text, expected):
    from assistant.domain import PseudonymMap

    mapping = PseudonymMap(entries=RESIDUAL_MAP_ENTRIES)
    assert residual_identifiers(_redacted(text), mapping) == expected


def test_residual_identifiers_checks_speaker_labels():
    from assistant.domain import PseudonymMap

    mapping = PseudonymMap(entries=RESIDUAL_MAP_ENTRIES)
    assert residual_identifiers(_redacted("Hello.", speaker="Kasia"), mapping) == ["KNOWN_NAME"]


def test_residual_check_reads_a_longer_name_as_propagation_does():
    """A word of a longer name counts alone only if the name wrote it with a capital: "Peter"
    of "Peter dot Peterson" is a leak, "dot" is not; nothing of "bani pentru dentist" (a
    Romanian phrase taken for a name) is, but the phrase whole still is."""
    from assistant.domain import PseudonymMap

    mapping = PseudonymMap(
        entries={"[PERSON_1]": "Peter dot Peterson", "[PERSON_2]": "bani pentru dentist"}
    )
    assert residual_identifiers(_redacted("It's [PERSON_1] at dot co dot uk."), mapping) == []
    assert residual_identifiers(_redacted("Has he seen a dentist?"), mapping) == []
    assert residual_identifiers(_redacted("peter rang."), mapping) == ["KNOWN_NAME"]
    assert residual_identifiers(_redacted("Nu am bani pentru dentist."), mapping) == ["KNOWN_NAME"]


@models
def test_residual_check_finds_a_planted_leak_and_passes_clean_output(redactor):
    tx = _transcript(
        ("Kasia Nowak", "I live at 45 Victoria Street, LS6 2AB, and my number is 07700 900123."),
        ("Social worker", "Thanks Kasia. Is Jayden still at Oakfield Nursery?"),
    )
    redacted, mapping = redactor.redact(tx)
    assert residual_identifiers(redacted, mapping) == []
    seg = redacted.segments[1]
    for leak, finding in [
        ("and nowak said", "KNOWN_NAME"),
        ("call 0113 496 0999", "DIGIT_RUN"),
        ("near LS6 2AB", "UK_POSTCODE_SHAPE"),
        ("at oakfield nursery", "KNOWN_VALUE"),
    ]:
        leaky = redacted.model_copy(
            update={
                "segments": (
                    redacted.segments[0],
                    seg.model_copy(update={"text": f"{seg.text} {leak}"}),
                )
            }
        )
        assert finding in residual_identifiers(leaky, mapping)


# --- canary: nothing identifying anywhere but the map --------------------------------------
CANARIES = {
    "PERSON": "Oluwadamilare Featherstonehaugh",
    "UK_PHONE": "07700 900987",
    "EMAIL": "canary.zx81@example.org",
    "UK_NHS": "609 139 0996",
    "UK_POSTCODE": "ZE2 9XQ",
    "UK_NINO": "JK 98 76 54 A",
    "STREET_ADDRESS": "77 Quillfeather Crescent",
    "SCHOOL": "Brackenwhistle Primary School",
    "CASE_REFERENCE": "CS-2031-99871",
}


# The same kinds of value as Whisper writes them: pauses as commas, digits one by one, spelt codes.
WHISPER_CANARIES = {
    "UK_PHONE": "0113, 496, 0871",
    "UK_PHONE_DIGITS": "0 7 7 0 0 9 0 0 6 5 4",
    "UK_PHONE_SPOKEN": "oh one six one, four nine six, oh three eight two",
    "UK_NHS": "401, 023, 2137",
    "UK_POSTCODE": "ZE3, 7QX",
    "UK_POSTCODE_SPELT": "Z E 4, 8 Q Y",
    "DATE_OF_BIRTH": "29, 2, 2012",
    "UK_NINO": "JT, 19, 28, 37, B",
}


@models
def test_canary_identifiers_never_leak_into_output_or_logs(redactor, caplog):
    c = CANARIES
    w = WHISPER_CANARIES
    tx = _transcript(
        (c["PERSON"], f"My name is {c['PERSON']} and my number is {c['UK_PHONE']}."),
        ("Social worker", f"Email {c['EMAIL']}, NHS number {c['UK_NHS']}, NI {c['UK_NINO']}."),
        (None, f"She lives at {c['STREET_ADDRESS']}, {c['UK_POSTCODE']}, goes to {c['SCHOOL']}."),
        (None, f"Case number {c['CASE_REFERENCE']}. Featherstonehaugh agreed."),
        (None, f"The best number is {w['UK_PHONE']}, or {w['UK_PHONE_DIGITS']}."),
        (None, f"Or {w['UK_PHONE_SPOKEN']}. Her NHS number is {w['UK_NHS']}."),
        (None, f"Postcode {w['UK_POSTCODE']}, or it was {w['UK_POSTCODE_SPELT']}."),
        (None, f"She was born on {w['DATE_OF_BIRTH']}, and the NI is {w['UK_NINO']}."),
    )
    with caplog.at_level(logging.DEBUG):
        redacted, mapping = redactor.redact(tx)
        residual = residual_identifiers(redacted, mapping)
    assert residual == []
    assert caplog.records, "expected the redactor to log counts"

    outputs = [str(redacted), repr(redacted), redacted.model_dump_json()]
    outputs += [s.text for s in redacted.segments] + [s.speaker or "" for s in redacted.segments]
    logged = [r.getMessage() for r in caplog.records] + [caplog.text]
    parts = (
        {v for v in c.values()}
        | set(w.values())
        | {
            "Oluwadamilare",
            "Featherstonehaugh",
            "Quillfeather",
            "Brackenwhistle",
        }
    )
    parts |= {v.replace(" ", "") for v in c.values()}
    # every digit group of three or more of the Whisper forms, as written ("496, 0871")
    parts |= {
        ", ".join(groups[i : i + 2])
        for v in w.values()
        if (groups := v.split(", "))
        for i in range(len(groups) - 1)
        if sum(ch.isdigit() for ch in "".join(groups[i : i + 2])) >= 5
    }
    for part in parts:
        for out in outputs:
            assert part.casefold() not in out.casefold(), "identifier in redacted output"
        for line in logged:
            assert part.casefold() not in line.casefold(), "identifier in a log record"
    assert set(c.values()) <= set(mapping.entries.values())
    assert set(w.values()) <= set(mapping.entries.values())


# --- configuration -------------------------------------------------------------------------
def test_recogniser_names_are_unique_across_config_files():
    names = []
    for path in sorted(DEFAULT_CONFIG_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        names += [r["name"] for r in data.get("recognizers", [])]
    assert names, "no recognisers found"
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
    assert [r.name for r in load_config().recognizers] == names


def test_every_recogniser_is_documented_in_the_readme():
    readme = (DEFAULT_CONFIG_DIR / "README.md").read_text(encoding="utf-8")
    for rec in load_config().recognizers:
        assert f"`{rec.name}`" in readme, rec.name
    for entity, ent in load_config().entities.items():
        assert f"`{entity}`" in readme and f"[{ent.placeholder}_1]" in readme, entity


@pytest.fixture
def config_copy(tmp_path):
    target = tmp_path / "redaction"
    shutil.copytree(
        DEFAULT_CONFIG_DIR, target, ignore=shutil.ignore_patterns("*.py", "__pycache__")
    )
    return target


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


DUPLICATE_RECOGNISER = """
  - name: uk_postcode
    entity: UK_POSTCODE
    kind: pattern
    score: 0.5
    description: a second recogniser under a name already used in recognizers.yaml
    patterns:
      - name: again
        regex: "X"
"""


@pytest.mark.parametrize(
    ("file", "change", "message"),
    [
        ("names.yaml", DUPLICATE_RECOGNISER, "duplicate recogniser name 'uk_postcode'"),
        ("recognizers.yaml", "\n  - name: [unclosed\n", "not valid YAML"),
        ("spoken.yaml", "\nspoken: {}\n", "duplicate key 'spoken'"),
        ("keep.yaml", "\nentities: {}\n", "section 'entities' appears in both"),
        ("keep.yaml", "\nextras: 1\n", "unknown section"),
        (
            "names.yaml",
            DUPLICATE_RECOGNISER.replace("uk_postcode", "zz_new").replace('"X"', '"{{nope}}"'),
            "unknown fragment",
        ),
        (
            "names.yaml",
            DUPLICATE_RECOGNISER.replace("uk_postcode", "zz_new").replace('"X"', '"(unclosed"'),
            "does not compile",
        ),
        (
            "names.yaml",
            DUPLICATE_RECOGNISER.replace("uk_postcode", "zz_new").replace(
                "UK_POSTCODE", "SHOE_SIZE"
            ),
            "not in entities.yaml",
        ),
        (
            "names.yaml",
            DUPLICATE_RECOGNISER.replace("uk_postcode", "zz_new").replace(
                "score: 0.5", "score: 0.5\n    validator: luhn"
            ),
            "validator 'luhn'",
        ),
        (
            "names.yaml",
            DUPLICATE_RECOGNISER.replace("uk_postcode", "zz_new").replace("description:", "typo:"),
            "description",
        ),
    ],
)
def test_bad_configuration_is_refused(config_copy, file, change, message):
    _append(config_copy / file, change)
    with pytest.raises(ConfigurationError, match=message.replace("(", r"\(").replace("[", r"\[")):
        load_config(config_copy)


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        ("names.yaml", "naming_titles: [Mr,", "naming_titles: [Sgt, Mr,", "not in names.titles"),
        ("names.yaml", "naming_titles: [Mr,", "naming_titles: [Mrs, Mr,", "lists 'Mrs' twice"),
        ("spoken.yaml", 'twelve: "12"', 'twelve: "twelve"', "numbers.twelve"),
    ],
)
def test_bad_naming_titles_and_numbers_are_refused(config_copy, file, old, new, message):
    path = config_copy / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigurationError, match=message):
        load_config(config_copy)


def test_missing_config_folder_is_refused(tmp_path):
    with pytest.raises(ConfigurationError, match="not found"):
        load_config(tmp_path / "nowhere")
    with pytest.raises(ConfigurationError, match="no \\*.yaml files"):
        load_config(tmp_path)


def test_config_hash_covers_yaml_files_only(config_copy):
    before = config_hash(config_copy)
    assert before == config_hash(DEFAULT_CONFIG_DIR) == load_config(config_copy).config_hash
    (config_copy / "README.md").write_text("changed", encoding="utf-8")
    assert config_hash(config_copy) == before
    _append(config_copy / "keep.yaml", "\n# a reviewer's comment\n")
    assert config_hash(config_copy) != before


def test_redactor_refuses_an_analyzer_built_from_other_config():
    with pytest.raises(ConfigurationError, match="same folder"):
        Redactor(object())


def test_missing_model_folder_is_refused(tmp_path):
    with pytest.raises(ConfigurationError, match="never downloaded"):
        build_analyzer(spacy_model_path=tmp_path / "en_core_web_sm-3.8.0")


# --- offline -------------------------------------------------------------------------------
@models
def test_building_and_redacting_never_download_or_touch_the_network(monkeypatch):
    import spacy.cli
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    def refuse(*args, **kwargs):
        raise AssertionError("attempted a download or network connection")

    monkeypatch.setattr(spacy.cli, "download", refuse)
    monkeypatch.setattr(SpacyNlpEngine, "_download_spacy_model_if_needed", staticmethod(refuse))
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)

    fresh = build_analyzer(spacy_model_path=MODEL_DIR)
    text, spans, _ = Redactor(fresh).redact_text("Kasia Nowak lives in Leeds, LS6 2AB.")
    assert text == "[PERSON_1] lives in [LOCATION_1], [UK_POSTCODE_1]."

    engine = fresh.nlp_engine
    assert isinstance(engine, OfflineSpacyNlpEngine)
    assert engine.get_nlp("en").meta["name"].startswith("core_web_sm")
    with pytest.raises(ConfigurationError):
        engine.load()
    with pytest.raises(ConfigurationError):
        OfflineSpacyNlpEngine._download_spacy_model_if_needed("en_core_web_lg")


# --- places ------------------------------------------------------------------------------------
@models
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I am a social worker from Leeds City Council.",
         "I am a social worker from [LOCATION_1] City Council."),
        ("She works for Kirklees Council.", "She works for [LOCATION_1] Council."),
        ("They moved from Birmingham to Glasgow and then Cardiff.",
         "They moved from [LOCATION_1] to [LOCATION_2] and then [LOCATION_3]."),
        ("we moved up from bradford last year", "we moved up from [LOCATION_1] last year"),
        ("The County Council wrote to her.", "The County Council wrote to her."),
    ],
)  # fmt: skip
def test_towns_are_locations_never_people(redactor, text, expected):
    redacted, spans, _ = redactor.redact_text(text)
    assert redacted == expected
    assert {s.entity_type for s in spans} <= {"LOCATION"}


def test_a_place_called_a_person_is_a_location_and_never_propagates_as_a_name():
    from assistant.redaction.rules import SpanRules
    from assistant.redaction.spans import Field, Span

    rules = SpanRules(load_config())
    fields = [
        Field(0, "s1", "text", "I am from Leeds City Council."),
        Field(1, "s2", "text", "Is it Leeds, LS6 2QT? Preston Smith lives in Preston."),
    ]
    # what spaCy did on the real recording: "Leeds" as a PERSON; and a man named after a town
    found = [
        (fields[0], Span(0, 10, 15, "PERSON", 0.85, "spacy_ner")),
        (fields[1], Span(1, 6, 11, "PERSON", 0.85, "spacy_ner")),
        (fields[1], Span(1, 22, 35, "PERSON", 0.85, "spacy_ner")),
        (fields[1], Span(1, 45, 52, "LOCATION", 0.95, "uk_places")),
    ]
    tidied = [rules.tidy(f.text, span) for f, span in found]
    per_field = rules.propagate(fields, rules.resolve(fields, [t for t in tidied if t]))
    got = sorted(
        (fields[s.field].text[s.start : s.end], s.entity)
        for spans in per_field.values()
        for s in spans
    )
    assert got == [
        ("Leeds", "LOCATION"),
        ("Leeds", "LOCATION"),
        ("Preston", "LOCATION"),  # the town, never Mr Smith's first name propagated
        ("Preston Smith", "PERSON"),
    ]


# --- pure helpers --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "runs"),
    [
        ("call 0113, 496, 0427 today", ["0113, 496, 0427"]),
        ("07700 900 123", ["07700 900 123"]),
        ("0 7 7 0 0 9 0 0 1 2 3", ["0 7 7 0 0 9 0 0 1 2 3"]),
        ("943-476-5919 or 0113.496.0427", ["943-476-5919", "0113.496.0427"]),
        ("ref 12345678", ["12345678"]),
        ("sort code 20, 45, 67", ["20, 45, 67"]),
        ("Ref 1 2 3 4 5 6.", ["1 2 3 4 5 6"]),
        # everyday numbers: money, thousands, dates, lists of ages or years, ranges, times
        ("it cost £250,000, or 1,250.50, or £1 234 567", []),
        ("on 14.05.2024, 14/05/2024, 2024-05-14 and 3, 3, 2015", []),
        ("they're 12, 14, 15 now", []),
        ("in 2019, 2020, 2021 and 2015-2019", []),
        ("at 3, 30 for 45 minutes, she is 7, year 6", []),
    ],
)
def test_digit_runs(text, runs):
    from assistant.redaction.digits import digit_runs

    assert [text[r.start : r.end] for r in digit_runs(text)] == runs


@models
def test_english_lexicon_knows_inflections_but_not_names():
    from assistant.redaction.lexicon import EnglishLexicon

    lexicon = EnglishLexicon.from_model(MODEL_DIR)
    for word in ("tell", "rang", "picks", "stopping", "children", "babies", "happier"):
        assert word in lexicon, word
    for word in ("hamish", "abdikarim", "nojus", "oluwaseun", "szymanska"):
        assert word not in lexicon, word
    assert lexicon.noun_only("powell") and not lexicon.noun_only("tell")
    assert not EnglishLexicon() and "tell" not in EnglishLexicon()


@pytest.mark.parametrize(
    ("spoken", "normalised"),
    [
        ("oh seven seven double oh nine double oh one two three", "07700900123"),
        ("L S six, two A B", "LS6 2AB"),
        ("ls six two ab", "ls six two ab"),  # lowercase "ls"/"ab" are words, not spelt letters
        ("O L one, two triple B", "OL1 2BBB"),
        ("nine oh seven, eight double six, six six one seven", "907 866 6617"),
        ("she is seven", "she is seven"),
        ("she's seven, eight in May", "she's seven, eight in May"),
        ("number 07700 nine double oh one two three", "number 07700900123"),
        ("a double decker bus", "a double decker bus"),
        # Whisper's written forms: pauses as commas, spelt codes, digits one by one
        ("0113, 496, 0427", "0113 496 0427"),
        ("LS6, 2QT", "LS6 2QT"),
        ("L S 6, 2 Q T", "LS6 2QT"),
        ("0 7 7 0 0 9 0 0 1 2 3", "07700900123"),
        ("JK, 12, 34, 56, C", "JK 12 34 56 C"),
        ("NHS 609 139 0996, NI JK 98 76 54 A", "NHS 609 139 0996 NI JK 98 76 54A"),
        # left as written: lists of ages, a flat then a house, dates, money, references
        ("12, 14, 15", "12, 14, 15"),
        ("flat 3, 45 Victoria Street", "flat 3, 45 Victoria Street"),
        ("3, 3, 2015 and 14.05.2024", "3, 3, 2015 and 14.05.2024"),
        ("£250,000", "£250,000"),
        ("CS-2024-00123", "CS-2024-00123"),
        ("at 3, 30", "at 3, 30"),
        # tens and teens: in codes and long numbers only
        ("M twelve, five P L", "M12 5PL"),
        ("T N, thirty one, sixty two, oh eight, A", "TN 31 62 08 A"),
        ("oh one one three, four nine six, oh four twenty seven", "0113 496 0427"),
        ("reference twelve thirty four fifty six", "reference 123456"),
        ("she is twelve", "she is twelve"),
        ("twelve, fourteen, fifteen", "twelve, fourteen, fifteen"),
        ("fourteen, eight, twenty eighteen", "fourteen, eight, twenty eighteen"),
        ("twenty three Oak Road", "twenty three Oak Road"),
        ("A twenty minute walk", "A twenty minute walk"),
    ],
)
def test_spoken_normalisation(spoken, normalised):
    norm = SpokenNormaliser(load_config().spoken).normalise(spoken)
    assert norm.text == normalised


def test_normalised_offsets_map_back_to_the_original_words():
    text = "Call me on oh seven seven double oh nine, double oh one two three today."
    norm = SpokenNormaliser(load_config().spoken).normalise(text)
    assert norm.text == "Call me on 077009 00123 today."
    start = norm.text.index("077009")
    s, e = norm.to_original(start, start + len("077009 00123"))
    assert text[s:e] == "oh seven seven double oh nine, double oh one two three"
    s, e = norm.to_original(norm.text.index("today"), len(norm.text) - 1)
    assert text[s:e] == "today"


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("943 476 5919", True),
        ("9434765918", False),
        ("6091390996", True),
        ("1163726516", True),
        ("0000000000", False),
        ("943 476 591", False),
    ],
)
def test_nhs_mod11(number, valid):
    assert nhs_mod11(number) is valid


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("07700 900123", True),
        ("+44 7700 900123", True),
        ("+44 (0)113 496 0000", True),
        ("0113 496 0000", True),
        ("01134960000", True),
        ("0044 7700 900123", True),
        ("06700 900123", False),
        ("0770090012", False),
        ("0800 123456", True),
        ("077009001234", False),
    ],
)
def test_uk_phone(number, valid):
    assert uk_phone(number) is valid


@models
def test_a_named_home_is_a_place_and_the_house_stays_a_house(redactor):
    """lac-003: "Elmfield House" read as a person's name made every "the house" of the visit
    a person ("I don't like the [PERSON_1]")."""
    tx = _transcript(
        ("Social worker", "How are things at Elmfield House?"),
        ("Key worker", "He went missing from Elmfield House on Tuesday."),
        ("Young person", "I don't like the house. It's not my home."),
    )
    redacted, mapping = redactor.redact(tx)
    assert list(mapping.entries.values()) == ["Elmfield House"]
    assert all(e.entity_type == "LOCATION" for e in redacted.entities)
    assert redacted.segments[2].text == "I don't like the house. It's not my home."


@models
@pytest.mark.parametrize(
    "text",
    [
        "I've made a referral to the National Referral Mechanism.",
        "Knock. Knock. Who's there?",
    ],
)
def test_words_the_tagger_took_for_names_stay(redactor, text):
    redacted, _ = redactor.redact(_transcript(("Social worker", text)))
    assert redacted.segments[0].text == text
    assert redacted.entities == ()


def test_the_residual_check_counts_no_word_that_redaction_leaves_by_design():
    """A 60-minute visit from audio was refused a draft: Whisper wrote "House" as a name once,
    so every "the house" after it was a KNOWN_NAME, and "Careless Allowance" (for "Carer's
    Allowance") made "disability living allowance" one. Redaction never carries a home's word
    or a word inside a phrase that is no name to other mentions; with its rules the check
    agrees. A name itself is still found."""
    from assistant.domain import PseudonymMap
    from assistant.redaction.rules import SpanRules

    rules = SpanRules(load_config())
    mapping = PseudonymMap(
        entries={"[PERSON_1]": "House", "[PERSON_2]": "Careless Allowance", "[PERSON_3]": "Kasia"}
    )
    left = _redacted(
        "He stayed at someone's house.",
        "I'll look at the disability living allowance form with you.",
    )
    assert residual_identifiers(left, mapping) == ["KNOWN_NAME"]  # without the rules: refused
    assert residual_identifiers(left, mapping, rules) == []
    for named in ("Kasia rang the house.", "Allowance said no."):
        assert residual_identifiers(_redacted(named), mapping, rules) == ["KNOWN_NAME"]
