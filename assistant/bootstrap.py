"""Start-up chores shared by the service and the command line: folders, the mapping key,
logging, and the libraries' offline switches."""

from __future__ import annotations

import base64
import logging
import os
from pathlib import Path

from assistant.errors import ConfigurationError
from assistant.settings import Settings
from assistant.storage.crypto import MappingCipher

# Nothing may reach a model hub. Set before faster-whisper / huggingface_hub are imported.
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
}


def set_offline() -> None:
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )


def prepare_dirs(settings: Settings) -> None:
    for path in (settings.data_dir, settings.uploads_dir):
        path.mkdir(parents=True, exist_ok=True)


def mapping_cipher(settings: Settings) -> MappingCipher:
    """The key from settings, or one generated once into <data_dir>/mapping.key (0600)."""
    if settings.mapping_key is not None:
        raw = settings.mapping_key.get_secret_value()
        try:
            key = base64.urlsafe_b64decode(raw.encode())
        except ValueError as exc:
            raise ConfigurationError("CASEASSIST_MAPPING_KEY must be urlsafe base64.") from exc
        return MappingCipher(key)
    path = Path(settings.data_dir) / "mapping.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(base64.urlsafe_b64encode(MappingCipher.generate_key()))
        logging.getLogger(__name__).warning(
            "generated a new mapping key at %s: back it up; without it real names cannot be "
            "shown again",
            path,
        )
    return MappingCipher(base64.urlsafe_b64decode(path.read_bytes().strip()))
