"""Start-up chores shared by the service and the command line: folders, the encryption key
and the database, logging, and the libraries' offline switches."""

from __future__ import annotations

import base64
import importlib
import logging
import os
import threading
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import Engine, inspect, text
from sqlalchemy.orm import Session, sessionmaker

from assistant.errors import ConfigurationError
from assistant.settings import Settings
from assistant.storage.db import (
    MigrationKeys,
    make_engine,
    session_factory,
    session_scope,
    upgrade,
)
from assistant.storage.keys import KeyFiles, Keyring, KeyWrapper, generate_key, write_key_file
from assistant.storage.repo.keys import check_keys, seal_plain_audio

# Nothing may reach a model hub. Set before faster-whisper / huggingface_hub are imported.
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
}

log = logging.getLogger(__name__)


def set_offline() -> None:
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )


def lower_priority(by: int) -> None:
    """Run this process ``by`` nice steps lower (``caseassist worker``), so that on a machine
    that also runs the service a status request is not kept waiting by speech recognition.
    Linux keeps a nice value per thread: every thread there is now is lowered (numpy's
    OpenBLAS starts its pool on import), and threads started later (CTranslate2's, OpenMP's)
    inherit it."""
    if by <= 0:
        return
    if not _TASKS.is_dir():  # not Linux: the process's one value
        try:
            os.nice(by)
        except OSError as exc:
            log.info("worker priority unchanged: %s", type(exc).__name__)
        return
    lower_threads(thread_ids(), by)


_TASKS = Path("/proc/self/task")


def thread_ids() -> set[int]:
    """The kernel ids of this process's threads (empty where /proc is not Linux's)."""
    try:
        return {int(task.name) for task in _TASKS.iterdir()}
    except OSError:
        return set()


def native_threads() -> set[int]:
    """This process's threads that Python did not start: compute pools (OpenBLAS's,
    CTranslate2's, OpenMP's). The threads that answer requests are Python's."""
    return thread_ids() - {t.native_id for t in threading.enumerate() if t.native_id}


def lower_threads(tids: Iterable[int], by: int) -> None:
    """Lower each of these threads ``by`` nice steps (Linux keeps a nice value per thread, and
    a thread starts with its creator's). The service's own worker uses it on the native compute
    threads and on the job's thread, so the threads that answer requests keep theirs."""
    if by <= 0:
        return
    for tid in tids:
        try:
            os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + by))
        except ProcessLookupError:  # a thread that ended meanwhile
            pass
        except (OSError, AttributeError) as exc:  # not allowed: run as it is
            log.info("worker priority unchanged: %s", type(exc).__name__)
            return


def prepare_dirs(settings: Settings) -> None:
    for path in (settings.data_dir, settings.uploads_dir):
        path.mkdir(parents=True, exist_ok=True)


def key_file(settings: Settings) -> Path:
    return settings.encryption_key_file or Path(settings.data_dir) / "encryption.key"


def load_keyring(settings: Settings, engine: Engine) -> Keyring:
    """The key-encryption key: a KMS/HSM hook if configured, else the key file, created (0600)
    on a first run only: if the database already holds data keys a missing or wrong key file
    stops the start with what to do, never a new key that would leave the data unreadable."""
    if settings.encryption_key_provider:
        return Keyring(_provider(settings))
    path = key_file(settings)
    files = KeyFiles(path)
    if not (path.exists() or files.new.exists()):
        if _data_key_count(engine):
            raise ConfigurationError(
                f"the encryption key file {path} is missing but the database holds data "
                "encrypted under it: restore the file from the council's key backup (or point "
                "CASEASSIST_ENCRYPTION_KEY_FILE at it); a new key cannot read that data"
            )
        write_key_file(path, generate_key())
        logging.getLogger(__name__).warning(
            "generated a new encryption key file at %s: back it up apart from the database; "
            "without it nothing stored can be read",
            path,
        )
    return Keyring.from_key_file(path)


def _provider(settings: Settings) -> KeyWrapper:
    module_name, _, attr = (settings.encryption_key_provider or "").partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigurationError(
            f"CASEASSIST_ENCRYPTION_KEY_PROVIDER {settings.encryption_key_provider!r} cannot be "
            "imported: give 'package.module:factory'"
        ) from exc
    wrapper = factory(settings)
    if not isinstance(wrapper, KeyWrapper):
        raise ConfigurationError(
            "the encryption key provider must return an object with key_id, wrap() and unwrap()"
        )
    return wrapper


def _data_key_count(engine: Engine) -> int:
    """Data keys wrapped by the key file: the recordings' and the enrolled voices'."""
    tables = set(inspect(engine).get_table_names())
    counts = {
        "data_keys": "SELECT count(*) FROM data_keys",
        "voice_enrolments": "SELECT count(*) FROM voice_enrolments",
    }
    with engine.connect() as conn:
        return sum(
            int(conn.execute(text(sql)).scalar_one()) for t, sql in counts.items() if t in tables
        )


def legacy_mapping_key(settings: Settings) -> bytes | None:
    """The key name maps were encrypted with before migration 0006, if there is one."""
    if settings.mapping_key is not None:
        raw = settings.mapping_key.get_secret_value().encode()
    else:
        path = Path(settings.data_dir) / "mapping.key"
        if not path.exists():
            return None
        raw = path.read_bytes().strip()
    try:
        return base64.urlsafe_b64decode(raw)
    except ValueError as exc:
        raise ConfigurationError("CASEASSIST_MAPPING_KEY must be urlsafe base64.") from exc


def open_database(settings: Settings) -> tuple[Engine, Keyring, sessionmaker[Session]]:
    """Engine, keyring, migrations, the key check and the sealing of audio left in clear:
    what the service and the command line do before touching the database."""
    engine = make_engine(settings.resolved_database_url)
    try:
        keyring = load_keyring(settings, engine)
        upgrade(engine, keys=MigrationKeys(keyring, legacy_mapping_key(settings)))
        sessions = session_factory(engine, keyring)
        with session_scope(sessions) as s:
            check_keys(session=s, keyring=keyring)
            sealed = seal_plain_audio(session=s)
    except BaseException:
        engine.dispose()
        raise
    if sealed:
        logging.getLogger(__name__).info("encrypted %d audio file(s) stored in clear", sealed)
    return engine, keyring, sessions
