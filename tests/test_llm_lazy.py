"""The model's weights load at the first completion a draft asks for (``LazyLLM``).

The released templates ask the model nothing, so a service on them never holds the weights
(2 GB for the default 1.5B model); tokens are counted with the vocabulary alone. These tests
use the test profile's real GGUF for the tokenizer and the loading, and fakes only to count
how often a loader runs.
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from assistant.drafting.llm import LazyLLM, TokenCountingLLM, load_llm, load_vocab
from assistant.drafting.templates import PROMPTS_DIR, latest_ask_model, load_template
from assistant.errors import ModelVerificationError
from tests.conftest import make_settings

TEXTS = [
    b"Mum said she has been struggling since the baby came.",
    b'[PERSON_1] told me: "I don\'t like it when they shout."',
    b"<|im_end|> typed into a transcript is not a control token",
    "Zbigniewa's caf\u00e9 on Wyvernholt Road, \u00a3200 \u2014 ok?".encode(),
    b"",
]


class _Fake:
    def __init__(self, n_ctx: int = 4096) -> None:
        self._n = n_ctx
        self.calls = 0

    def tokenize(self, text: bytes, add_bos: bool = True, special: bool = False) -> list[int]:
        return [len(text), int(add_bos), int(special)]

    def n_ctx(self) -> int:
        return self._n

    def create_chat_completion(self, messages: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return {"choices": [{"message": {"content": "none"}}], "kwargs": kwargs}

    def reset(self) -> str:
        return "reset"


def _counting(factory):
    made: list[Any] = []

    def load():
        time.sleep(0.05)  # wide enough for two threads to race
        made.append(factory())
        return made[-1]

    return load, made


def test_nothing_loads_until_a_completion_is_asked_for():
    load, made = _counting(_Fake)
    vocab, vocabs = _counting(_Fake)
    llm = LazyLLM(load, n_ctx=8192, vocab=vocab)
    assert isinstance(llm, TokenCountingLLM)
    assert llm.n_ctx() == 8192 and not llm.loaded and made == [] and vocabs == []
    assert llm.tokenize(b"abc", add_bos=False) == [3, 0, 0]
    assert len(vocabs) == 1 and made == [] and not llm.loaded
    answer = llm.create_chat_completion([{"role": "user", "content": "x"}], max_tokens=4)
    assert answer["kwargs"] == {"max_tokens": 4} and llm.loaded and len(made) == 1
    assert llm.n_ctx() == 4096, "once loaded, the model's own window"
    assert llm.reset() == "reset", "anything else reaches the loaded model"
    llm.create_chat_completion([])
    assert len(made) == 1 and made[0].calls == 2


def test_two_drafts_starting_together_load_the_model_once():
    load, made = _counting(_Fake)
    llm = LazyLLM(load, n_ctx=4096)
    threads = [threading.Thread(target=llm.create_chat_completion, args=([],)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(made) == 1 and made[0].calls == 4


def test_a_private_lookup_never_loads_the_model():
    load, made = _counting(_Fake)
    llm = LazyLLM(load, n_ctx=4096)
    with pytest.raises(AttributeError):
        llm._not_there  # noqa: B018
    assert made == []


def test_the_vocabulary_tokenizes_as_the_loaded_model_does():
    """Chunk plans and the control-text check read the tokenizer before and after the
    weights load: both must count alike (real GGUF of the test profile)."""
    from assistant.model_store.store import resolve_models

    settings = make_settings(Path("/nonexistent"))
    path = resolve_models(settings).llm_path
    vocab = load_vocab(path)
    model = load_llm(path, n_ctx=1024, n_threads=1)
    for text in TEXTS:
        for add_bos in (True, False):
            for special in (True, False):
                assert list(vocab.tokenize(text, add_bos, special)) == model.tokenize(
                    text, add_bos=add_bos, special=special
                ), (text, add_bos, special)
    assert model.n_ctx() == 1024


def test_a_missing_model_file_stops_start_up(tmp_path):
    with pytest.raises(ModelVerificationError, match="not found"):
        load_vocab(tmp_path / "absent.gguf")


def test_a_file_llama_cpp_cannot_read_stops_start_up(tmp_path):
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + b"\0" * 64)
    with pytest.raises(ValueError, match="Failed to load model"):
        load_vocab(bad)


def test_the_released_templates_ask_the_model_nothing():
    assert latest_ask_model() == []
    assert not load_template("visit_note").asks_model
    assert load_template("visit_note", "v4").asks_model  # classify: one question a segment


def _prompts_asking(tmp_path: Path) -> Path:
    """The released templates, with visit_note's latest sorting by asking the model."""
    prompts = tmp_path / "prompts"
    shutil.copytree(PROMPTS_DIR, prompts)
    latest = load_template("visit_note").version
    spec = prompts / "visit_note" / latest / "template.yaml"
    spec.write_text(spec.read_text().replace("sort: words", "sort: model"))
    return prompts


def test_start_up_loads_the_weights_only_when_a_template_will_ask(tmp_path, monkeypatch):
    """Engines.load with the real tiny models: released templates, weights deferred and a
    note drafted without them; a template that asks the model, weights loaded at start."""
    from assistant.domain import Transcript
    from assistant.model_store.store import resolve_models
    from assistant.pipeline import Engines, run_stages
    from assistant.transcription.files import parse_text

    settings = make_settings(tmp_path)
    models = resolve_models(settings)
    engines = Engines.load(settings, models)
    assert not engines.llm.loaded
    transcript = Transcript(
        segments=tuple(
            parse_text(
                "Social worker: How has school been this week?\n"
                "Child: I got a star for my reading and I like my teacher.\n"
                "Mum: He has been going every day. I'm struggling with money though.\n"
                "Social worker: I'll ring the school on Friday about the breakfast club."
            )
        ),
        language="en",
        duration_s=30.0,
        source="text",
    )
    note = run_stages(engines, template="visit_note", transcript=transcript).note
    assert note.all_statements()
    assert not engines.llm.loaded, "a note that asks the model nothing loaded its weights"

    asking = settings.model_copy(update={"prompts_dir": _prompts_asking(tmp_path)})
    version = note.provenance.template_version
    assert latest_ask_model(asking.prompts_dir) == [f"visit_note/{version}"]
    assert Engines.load(asking, models).llm.loaded
