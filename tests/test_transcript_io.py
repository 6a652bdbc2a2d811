"""Transcripts supplied instead of audio to `caseassist process`."""

from __future__ import annotations

import pytest

from assistant.errors import MalformedTranscript
from assistant.transcription import read_transcript_file


def _write(tmp_path, name, content):
    p = tmp_path / name
    p.write_text(content) if isinstance(content, str) else p.write_bytes(content)
    return p


def test_text_lines_become_segments_with_stable_ids(tmp_path):
    p = _write(tmp_path, "v.txt", "Social worker: Hello.\n\nMum: Hi, come in.\n  and sit down\n")
    t = read_transcript_file(p)
    assert [s.id for s in t.segments] == ["s0001", "s0002"]
    assert t.segments[1].speaker == "Mum"
    assert t.segments[1].text == "Hi, come in. and sit down"
    assert t.source == "text"
    assert t.segments[1].start >= t.segments[0].end


def test_json_segments(tmp_path):
    p = _write(
        tmp_path,
        "v.json",
        '{"segments": [{"speaker": "Child", "text": "I like school", "start": 1, "end": 2}]}',
    )
    t = read_transcript_file(p)
    assert t.segments[0].text == "I like school" and t.segments[0].end == 2.0


@pytest.mark.parametrize(
    "case,name,content,message",
    [
        ("txt without speaker prefix", "a.txt", "hello there\nMum: hi", "Line 1"),
        ("empty txt", "b.txt", "\n\n", "no utterances"),
        ("invalid json", "c.json", "{not json", "Invalid JSON"),
        ("json without segments", "d.json", '{"utterances": []}', "segments"),
        ("json segment without text", "e.json", '{"segments": [{"speaker": "Mum"}]}', "Segment 0"),
        (
            "json non-numeric time",
            "f.json",
            '{"segments": [{"text": "x", "start": "a"}]}',
            "non-numeric",
        ),
        ("wrong extension", "g.docx", "Mum: hi", "Unsupported transcript type"),
        ("not utf-8", "h.txt", b"\xff\xfe\x00M\x00u\x00m", "not UTF-8"),
    ],
)
def test_malformed_transcripts_are_refused_clearly(tmp_path, case, name, content, message):
    p = _write(tmp_path, name, content)
    with pytest.raises(MalformedTranscript, match=message) as err:
        read_transcript_file(p)
    assert err.value.http_status == 422
