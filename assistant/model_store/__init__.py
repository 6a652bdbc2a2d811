"""The pinned models: install them, verify them, resolve which files a profile (or a council's
configuration) uses. The manifest is ``manifest.yaml`` beside this file."""

from assistant.model_store.store import (
    Manifest,
    ModelSpec,
    ResolvedModels,
    install_named,
    install_profile,
    load_manifest,
    resolve_models,
    resolve_nlp,
    sha256_file,
)

__all__ = [
    "Manifest",
    "ModelSpec",
    "ResolvedModels",
    "install_named",
    "install_profile",
    "load_manifest",
    "resolve_models",
    "resolve_nlp",
    "sha256_file",
]
