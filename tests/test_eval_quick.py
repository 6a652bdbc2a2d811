"""The quick evaluation run that CI makes: every suite, test profile, real tiny models."""

from __future__ import annotations

import json

import pytest

from assistant.cli import main
from tests.conftest import REPO

pytestmark = [pytest.mark.models, pytest.mark.slow]


def test_quick_run_of_all_suites_writes_results_and_report(tmp_path, monkeypatch):
    monkeypatch.setenv("CASEASSIST_MODELS_DIR", str(REPO / "var" / "models"))
    monkeypatch.setenv("CASEASSIST_DATA_DIR", str(tmp_path / "var"))
    out = tmp_path / "eval"
    assert main(["eval", "run", "--suite", "all", "--quick", "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    assert set(results["suites"]) == {"asr", "redaction", "notes", "bias", "diarisation"}
    for name, suite in results["suites"].items():
        assert suite["status"] == "ok", (name, suite.get("reason"))
        assert suite["metrics"], name
        assert all("higher_is_better" in m for m in suite["metrics"])
    prov = results["provenance"]
    for key in ("git", "models", "datasets", "seeds", "machine"):
        assert any(key in k for k in prov), key
    html = (out / "report.html").read_text()
    assert "<script src" not in html and "critical_fact_recall" in html
