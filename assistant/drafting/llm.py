"""The local language model: what the drafter needs of one, and loading a GGUF by path.

``llama_cpp.Llama`` satisfies :class:`ChatLLM` (and :class:`TokenCountingLLM`); so do the
scripted fakes of the unit tests. Nothing is fetched: a model is a local file whose sha256 the
service checks against the manifest before it starts (:mod:`assistant.model_store.store`).
"""

from __future__ import annotations

import logging
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


__all__ = ["ChatLLM", "TokenCountingLLM", "amx_build_warning", "amx_rebuild_version", "load_llm"]
