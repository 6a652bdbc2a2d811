"""The evaluation harness: its statistics, its results file, its report and the model card.

Statistics are checked on data whose answer is known (a bootstrap interval must contain the
mean it estimates; Holm's adjustment against a worked example; Wilcoxon and McNemar against
constructed pairs). The harness is run with a scripted suite, so no model is loaded here: what
is checked is that every result carries its provenance and its direction, that a missing or
failing suite is recorded rather than fatal, and that the report and the card are written from
the results alone.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from scipy import stats as scipy_stats

from eval import harness
from eval.card import END, START, CardError, results_section, write_card
from eval.core import EvalContext, Metric, SuiteResult
from eval.report import render
from eval.scoring.stats import (
    apply_holm,
    bootstrap_mean,
    bootstrap_ratio,
    group_metric,
    holm,
    mcnemar,
    paired_comparison,
    paired_metric,
    sign_test,
    wilcoxon_signed_rank,
)

# --- bootstrap -----------------------------------------------------------------------------------


def test_bootstrap_interval_contains_the_true_mean_and_is_seeded():
    rng = np.random.default_rng(42)
    values = rng.normal(5.0, 2.0, size=300)
    value, interval = bootstrap_mean(values.tolist(), seed=7)
    assert value == pytest.approx(values.mean())
    assert interval.low < 5.0 < interval.high
    # about 2 * 1.96 * 2 / sqrt(300) = 0.45 wide
    assert 0.3 < interval.high - interval.low < 0.6
    assert interval.level == 0.95 and interval.resamples == 1000
    assert bootstrap_mean(values.tolist(), seed=7)[1] == interval
    assert bootstrap_mean(values.tolist(), seed=8)[1] != interval


def test_bootstrap_proportion_interval_covers_the_rate():
    outcomes = [1.0] * 90 + [0.0] * 10
    value, interval = bootstrap_mean(outcomes, seed=0)
    assert value == pytest.approx(0.9)
    assert interval.low < 0.9 < interval.high
    assert 0.8 < interval.low and interval.high <= 1.0


def test_ratio_of_sums_pools_counts_rather_than_averaging_rates():
    errors, words = [1, 2, 3], [10, 10, 80]
    value, interval = bootstrap_ratio(errors, words, seed=0)
    assert value == pytest.approx(6 / 100)  # not (0.1 + 0.2 + 0.0375) / 3
    assert interval.low <= 0.06 <= interval.high


def test_one_item_has_a_value_but_no_interval():
    assert bootstrap_mean([0.5]) == (0.5, None)
    assert bootstrap_mean([]) == (None, None)


def test_cluster_bootstrap_is_wider_when_items_in_a_cluster_agree():
    # 10 clusters of 20 identical items: really 10 observations, not 200
    values, clusters = [], []
    for c in range(10):
        values += [float(c % 2)] * 20
        clusters += [c] * 20
    _, items = bootstrap_mean(values, seed=0)
    _, clustered = bootstrap_mean(values, clusters=clusters, seed=0)
    assert clustered.high - clustered.low > 2 * (items.high - items.low)


# --- groups --------------------------------------------------------------------------------------


def _outcomes(rate: float, n: int, group: str) -> list[tuple[str, float]]:
    hits = round(rate * n)
    return [(group, 1.0)] * hits + [(group, 0.0)] * (n - hits)


def test_group_metric_reports_every_group_and_compares_best_with_worst():
    items = _outcomes(0.9, 200, "a") + _outcomes(0.5, 200, "b") + _outcomes(0.8, 100, "c")
    m = group_metric(
        items,
        lambda x: x[1],
        lambda x: x[0],
        name="recall",
        description="test",
        higher_is_better=True,
        group_by="letter",
        goal=0.85,
        seed=1,
    )
    assert m.value == pytest.approx((180 + 100 + 80) / 500)
    assert m.meets_goal is False
    assert set(m.groups) == {"a", "b", "c"}
    assert m.groups["a"].value == pytest.approx(0.9) and m.groups["a"].n == 200
    assert all(g.interval is not None for g in m.groups.values())
    (c,) = m.comparisons
    assert (c.reference, c.other) == ("a", "b")
    assert c.difference == pytest.approx(-0.4)
    assert c.ratio == pytest.approx(0.5 / 0.9)
    assert c.difference_interval.low < -0.4 < c.difference_interval.high
    assert c.difference_interval.high < 0  # a real gap: the interval excludes 0


def test_lower_is_better_flips_best_and_worst():
    items = _outcomes(0.1, 100, "quiet") + _outcomes(0.4, 100, "noisy")
    m = group_metric(
        items, lambda x: x[1], lambda x: x[0], name="wer", description="", higher_is_better=False
    )
    (c,) = m.comparisons
    assert (c.reference, c.other) == ("quiet", "noisy")
    assert c.difference == pytest.approx(0.3)


def test_sum_statistic_counts():
    items = _outcomes(0.2, 10, "x") + _outcomes(0.0, 5, "y")
    m = group_metric(
        items,
        lambda x: x[1],
        lambda x: x[0],
        name="leaks",
        description="",
        higher_is_better=False,
        unit="count",
        statistic="sum",
        goal=0,
    )
    assert m.value == 2 and m.groups["x"].value == 2 and m.groups["y"].value == 0
    assert m.meets_goal is False


# --- paired tests --------------------------------------------------------------------------------


def test_holm_against_a_worked_example():
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, None, 0.01]) == [0.5, None, 0.02]
    assert holm([0.3, 0.4]) == pytest.approx([0.6, 0.6])  # step-down stays monotone
    assert holm([0.9, 0.8]) == [1.0, 1.0]  # capped at 1
    assert holm([]) == []


def test_wilcoxon_detects_a_consistent_shift_and_not_noise():
    rng = np.random.default_rng(0)
    shift = (rng.uniform(0.01, 0.2, size=30)).tolist()
    p, name = wilcoxon_signed_rank(shift)
    assert p < 1e-5 and "wilcoxon" in name
    symmetric = [0.1, -0.1, 0.2, -0.2, 0.3, -0.3, 0.05, -0.05, 0.15, -0.15]
    p, name = wilcoxon_signed_rank(symmetric)
    assert p > 0.9 and "exact" in name
    # all 20 positive, exact: 2 / 2**20
    p, _ = wilcoxon_signed_rank(list(np.linspace(0.01, 0.2, 20)))
    assert p == pytest.approx(2 / 2**20)


def test_exact_wilcoxon_with_ties_agrees_with_scipys_permutation_test():
    d = [1, 2, 2, 3, -1, 4, 5, 5, -2, 6, 1.5, -2]
    p, name = wilcoxon_signed_rank(d)
    expected = scipy_stats.wilcoxon(d, method=scipy_stats.PermutationMethod(n_resamples=np.inf))
    assert name == "wilcoxon signed-rank, exact (paired)"
    assert p == pytest.approx(expected.pvalue)


def test_wilcoxon_falls_back_to_the_sign_test_for_tiny_samples():
    p, name = wilcoxon_signed_rank([0.1, 0.2, 0.3, 0.0, 0.0])
    assert name.startswith("sign test") and p == pytest.approx(0.25)
    assert wilcoxon_signed_rank([0.0, 0.0]) == (1.0, wilcoxon_signed_rank([])[1])
    assert sign_test([1, 1, 1, 1, 1, -1])[0] == pytest.approx(
        scipy_stats.binomtest(5, 6, 0.5).pvalue
    )


def test_mcnemar_exact_and_chi_squared():
    reference = [True] * 30
    other = [False] * 20 + [True] * 10
    p, name = mcnemar(reference, other)
    assert "exact" in name and p == pytest.approx(2 * 0.5**20)
    # 40 pairs only the reference got right, 10 only the other: chi2 = (30 - 1)^2 / 50
    ref = [True] * 40 + [False] * 10 + [True] * 50
    oth = [False] * 40 + [True] * 10 + [True] * 50
    p, name = mcnemar(ref, oth)
    assert "chi-squared" in name
    assert p == pytest.approx(scipy_stats.chi2.sf(29**2 / 50, 1))
    assert mcnemar([True, False], [True, False])[0] == 1.0


def test_paired_comparison_with_ratio_of_sums():
    ref_err, oth_err, words = [1, 0, 2, 1, 0, 1, 2, 0], [3, 2, 4, 3, 2, 3, 5, 2], [10] * 8
    c = paired_comparison(
        "clean", "noisy", ref_err, oth_err,
        reference_denominators=words, other_denominators=words, seed=0,
    )  # fmt: skip
    assert c.difference == pytest.approx((24 - 7) / 80)
    assert c.ratio == pytest.approx(24 / 7)
    assert c.difference_interval.low > 0
    assert c.p_value < 0.05 and "wilcoxon" in c.test


def test_paired_metric_and_holm_over_a_suite():
    items = []
    for k in range(12):
        items += [("en-gb", k, 0.0), ("scot", k, 1.0 if k % 2 else 0.0), ("us", k, 1.0)]
    m = paired_metric(
        items,
        lambda x: x[2],
        lambda x: x[0],
        lambda x: x[1],
        reference="en-gb",
        name="voice_error",
        description="",
        higher_is_better=False,
        binary=True,
    )
    assert [c.other for c in m.comparisons] == ["scot", "us"]
    assert all("mcnemar" in c.test for c in m.comparisons)
    (adjusted,) = apply_holm([m])
    ps = [c.p_value for c in m.comparisons]
    assert [c.p_adjusted for c in adjusted.comparisons] == pytest.approx(holm(ps))
    assert all(c.correction.startswith("holm") for c in adjusted.comparisons)


# --- the harness ---------------------------------------------------------------------------------

PROVENANCE_KEYS = {
    "harness_version", "suite_versions", "datasets", "models", "prompt",
    "redaction_config_hash", "safeguarding_lexicon", "wer_normalisation_version", "git_commit",
    "seeds", "bootstrap", "machine", "profile", "settings", "started_at", "finished_at",
    "duration_s",
}  # fmt: skip


def fake_suite(ctx: EvalContext) -> SuiteResult:
    """A scripted suite: two metrics, one with groups and a paired comparison."""
    items = _outcomes(0.9, 40, "english") + _outcomes(0.7, 40, "polish <b>&amp;")
    recall = group_metric(
        items,
        lambda x: x[1],
        lambda x: x[0],
        name="fake_recall",
        description="Recall with <script>alert(1)</script> in its description",
        higher_is_better=True,
        group_by="name_origin",
        goal=0.95,
        seed=ctx.seed,
    )
    paired = [("a", k, float(k % 3 == 0)) for k in range(30)]
    paired += [("b", k, float(k % 2 == 0)) for k in range(30)]
    wer = paired_metric(
        paired,
        lambda x: x[2],
        lambda x: x[0],
        lambda x: x[1],
        reference="a",
        name="fake_wer",
        description="a paired error rate",
        higher_is_better=False,
    )
    return SuiteResult(
        suite="fake",
        suite_version="7",
        dataset={"fake_corpus": "ab" * 32},
        metrics=apply_holm([recall, wer]),
        details={"tables": {"items": {"columns": ["id", "text"], "rows": [["x1", "<i>hi</i>"]]}}},
        notes=["a note with <angle> brackets"],
    )


def boom(ctx: EvalContext) -> SuiteResult:
    raise RuntimeError("the suite fell over")


@pytest.fixture
def run_fake(tmp_path):
    from tests.conftest import make_settings

    out = tmp_path / "out"
    results = harness.run(
        "all",
        quick=True,
        profile=None,
        out=out,
        seed=3,
        settings=make_settings(tmp_path, profile="default"),
        registry={
            "fake": fake_suite,
            "missing": "eval.suites.no_such_suite",
            "broken": boom,
        },
    )
    return out, results


def test_harness_writes_results_with_every_provenance_key(run_fake):
    out, results = run_fake
    on_disk = json.loads((out / "results.json").read_text())
    assert on_disk == json.loads(json.dumps(results))
    assert set(on_disk) == {"schema", "invocation", "provenance", "suites", "summary"}
    prov = on_disk["provenance"]
    assert PROVENANCE_KEYS <= set(prov)
    assert prov["profile"] == "test"  # --quick implies the test profile
    assert on_disk["invocation"] == {
        "suite": "all", "quick": True, "profile": "test", "seed": 3, "primock_limit": None,
        "drafts": None, "from_audio": None, "out": str(out),
    }  # fmt: skip
    assert prov["suite_versions"]["fake"] == "7"
    assert re.fullmatch(r"[0-9a-f]{40}(\+dirty)?|unknown", prov["git_commit"])
    assert re.fullmatch(r"[0-9a-f]{64}", prov["datasets"]["scenarios"])
    assert re.fullmatch(r"[0-9a-f]{64}", prov["datasets"]["redaction_corpus"])
    assert prov["datasets"]["fake_corpus"] == "ab" * 32
    assert set(prov["models"]) >= {"asr", "llm", "nlp", "verified"}
    assert prov["models"]["verified"] is False  # nothing was loaded
    assert prov["models"]["asr"]["name"] == "whisper-tiny.en"
    assert re.fullmatch(r"[0-9a-f]{64}", prov["prompt"]["prompt_sha256"])
    assert prov["prompt"]["version"].startswith("v")
    assert re.fullmatch(r"[0-9a-f]{64}", prov["redaction_config_hash"])
    assert set(prov["safeguarding_lexicon"]) == {"version", "sha256"}
    assert prov["seeds"]["harness"] == 3
    assert prov["settings"]["llm_chunk_tokens"] == 4096  # a run says how its notes were drafted
    assert prov["settings"]["llm_n_ctx"] == 4096  # (the tests' settings: tests/conftest.py)
    assert "llm_model_path" not in prov["settings"]  # paths and keys are not recorded
    machine = prov["machine"]
    assert {"platform", "cpu_model", "cores", "memory_gb", "python", "libraries"} <= set(machine)
    assert {"ctranslate2", "llama_cpp_python", "presidio-analyzer", "spacy"} <= set(
        machine["libraries"]
    )


def test_every_metric_says_which_direction_is_better(run_fake):
    _, results = run_fake
    metrics = results["suites"]["fake"]["metrics"]
    assert [m["name"] for m in metrics] == ["fake_recall", "fake_wer"]
    for m in metrics:
        assert isinstance(m["higher_is_better"], bool)
        Metric.model_validate(m)
    assert all(isinstance(r["higher_is_better"], bool) for r in results["summary"])
    recall = metrics[0]
    assert recall["meets_goal"] is False and recall["interval"]["low"] < recall["value"]
    assert recall["comparisons"][0]["difference_interval"] is not None
    assert metrics[1]["comparisons"][0]["p_adjusted"] is not None


def test_missing_and_failing_suites_are_recorded_not_fatal(run_fake):
    _, results = run_fake
    suites = results["suites"]
    assert suites["fake"]["status"] == "ok"
    assert suites["missing"]["status"] == "not available"
    assert suites["broken"]["status"] == "error"
    assert "the suite fell over" in suites["broken"]["reason"]
    for s in suites.values():
        assert s["duration_s"] >= 0 and s["started_at"] and s["finished_at"]


def test_report_is_self_contained_and_names_every_metric(run_fake):
    out, results = run_fake
    html = (out / "report.html").read_text()
    assert html == render(results)
    assert not re.search(r"https?://", html)
    assert not re.search(r"<script", html, re.IGNORECASE)
    assert "<link" not in html and "@import" not in html and "url(" not in html
    for row in results["summary"]:
        assert row["metric"] in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # escaped, not run
    assert "polish &lt;b&gt;&amp;amp;" in html
    assert "&lt;angle&gt;" in html and "&lt;i&gt;hi&lt;/i&gt;" in html
    assert html.count("<svg") >= 2  # a chart per grouped metric
    for name in ("fake", "missing", "broken"):
        assert name in html


def test_primock_limit_reaches_the_suites_and_the_results(tmp_path):
    from tests.conftest import make_settings

    seen = {}

    def spy(ctx: EvalContext) -> SuiteResult:
        seen["limit"] = ctx.cache.get("primock_limit")
        return fake_suite(ctx)

    results = harness.run(
        "spy",
        quick=True,
        profile=None,
        out=tmp_path / "out",
        settings=make_settings(tmp_path, profile="default"),
        registry={"spy": spy},
        primock_limit=5,
    )
    assert seen["limit"] == 5
    assert results["invocation"]["primock_limit"] == 5
    with pytest.raises(ValueError, match="primock_limit"):
        harness.run("spy", quick=True, profile=None, out=tmp_path / "o2",
                    settings=make_settings(tmp_path, profile="default"),
                    registry={"spy": spy}, primock_limit=-1)  # fmt: skip


def test_provenance_is_what_the_run_started_from(tmp_path, monkeypatch):
    """A commit (or a new prompt version) made while a long run is going is not recorded as
    what produced its figures: provenance is read before the first suite runs."""
    from tests.conftest import make_settings

    commits = iter(["a" * 40, "b" * 40])
    monkeypatch.setattr(harness, "git_commit", lambda: next(commits))

    def committing(ctx: EvalContext) -> SuiteResult:
        assert harness.git_commit() == "b" * 40  # the tree moved on while the suite ran
        return fake_suite(ctx)

    results = harness.run(
        "moving",
        quick=True,
        profile=None,
        out=tmp_path / "out",
        settings=make_settings(tmp_path),
        registry={"moving": committing},
    )
    assert results["provenance"]["git_commit"] == "a" * 40


def test_unknown_suite_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown suite"):
        harness.run("nope", quick=True, profile=None, out=tmp_path)


# --- the model card ------------------------------------------------------------------------------

CARD = f"""# Model card

Intro text that must not change.

## Evaluation results

{START}
Nothing yet.
{END}

## After

Trailing text that must not change.
"""


def test_card_rewrites_only_between_the_markers_and_is_idempotent(run_fake, tmp_path):
    out, results = run_fake
    card = tmp_path / "MODEL_CARD.md"
    card.write_text(CARD)
    write_card(out / "results.json", card)
    first = card.read_text()
    before, rest = first.split(START)
    inside, after = rest.split(END)
    assert before == CARD.split(START)[0]
    assert after == CARD.split(END)[1]
    assert "Nothing yet" not in inside
    assert "`fake_recall`" in inside and "`fake_wer`" in inside
    date = results["provenance"]["finished_at"][:10]
    assert date in inside
    assert "| suite | metric | value | 95% interval | n | goal | met |" in inside
    recall = results["suites"]["fake"]["metrics"][0]
    assert f"{100 * recall['interval']['low']:.1f} % to" in inside
    assert "**no**" in inside  # the goal was not met
    assert results["provenance"]["git_commit"] in inside
    assert "whisper-tiny.en" in inside and "took" in inside
    assert "`llm_chunk_tokens` 4096" in inside  # the settings the notes were drafted with
    write_card(out / "results.json", card)
    assert card.read_text() == first


def test_card_takes_several_results_files_one_block_each(run_fake, tmp_path):
    from assistant.cli import main

    out, _ = run_fake
    second = tmp_path / "second.json"
    data = json.loads((out / "results.json").read_text())
    data["invocation"]["suite"] = "other"
    second.write_text(json.dumps(data))
    card = tmp_path / "MODEL_CARD.md"
    card.write_text(CARD)
    assert main(["eval", "card", str(out), str(second), "--card", str(card)]) == 0
    inside = card.read_text().split(START)[1].split(END)[0]
    assert inside.count("| suite | metric | value | 95% interval | n | goal | met |") == 2
    assert inside.index("results.json") < inside.index("second.json")
    assert card.read_text().split(END)[1] == CARD.split(END)[1]


def test_card_names_a_model_set_by_configuration_instead_of_the_profiles(run_fake, tmp_path):
    out, _ = run_fake
    data = json.loads((out / "results.json").read_text())
    assert "instead" not in results_section(data)
    data["provenance"]["models"]["llm"] = {"name": "custom:small.gguf", "sha256": "ab" * 32}
    header = results_section(data).splitlines()[0]
    assert "profile `test` with its llm `small.gguf` set by configuration instead" in header


def test_card_without_markers_is_refused(run_fake, tmp_path):
    out, _ = run_fake
    card = tmp_path / "MODEL_CARD.md"
    card.write_text("# Model card\n\nNo markers here.\n")
    with pytest.raises(CardError, match="results:start"):
        write_card(out / "results.json", card)
    assert card.read_text() == "# Model card\n\nNo markers here.\n"
    card.write_text(f"{END}\n{START}\n")
    with pytest.raises(CardError):
        write_card(out / "results.json", card)


def test_card_refuses_a_file_that_is_not_results(tmp_path):
    card = tmp_path / "MODEL_CARD.md"
    card.write_text(CARD)
    bad = tmp_path / "results.json"
    bad.write_text("{}")
    with pytest.raises(CardError, match="not a caseassist eval results file"):
        write_card(bad, card)
    with pytest.raises(CardError, match="does not exist"):
        write_card(tmp_path / "nope.json", card)


def test_cli_eval_card(run_fake, tmp_path, capsys):
    from assistant.cli import main

    out, _ = run_fake
    card = tmp_path / "card.md"
    card.write_text(CARD)
    assert main(["eval", "card", str(out), "--card", str(card)]) == 0
    assert "`fake_recall`" in card.read_text()
    card.write_text("no markers\n")
    assert main(["eval", "card", "--results", str(out / "results.json"), "--card", str(card)]) == 2
    assert "results:start" in capsys.readouterr().err


def _card_folders(card_text: str) -> list[str]:
    """The results folders the card's results section names, in order (each block says
    "written by `caseassist eval card` from `<folder>/results.json`")."""
    section = card_text.split(START)[1].split(END)[0]
    return re.findall(r"written by `caseassist eval card` from `([^`]+)/results\.json`", section)


def test_committed_card_is_what_its_results_files_give(tmp_path, capsys):
    """``eval card --check`` with the folders the committed card names: up to date, nothing
    written; one character changed in the section: exit 1, the difference and how to update."""
    from assistant.cli import main
    from eval.card import CARD_PATH

    committed = CARD_PATH.read_text(encoding="utf-8")
    folders = _card_folders(committed)
    assert len(folders) >= 2 and all(
        (CARD_PATH.parent / f / "results.json").is_file() for f in folders
    )
    args = [str(CARD_PATH.parent / f) for f in folders]
    assert main(["eval", "card", "--check", *args]) == 0, capsys.readouterr().out
    assert "up to date" in capsys.readouterr().out
    assert CARD_PATH.read_text(encoding="utf-8") == committed

    edited = committed.replace(
        "| notes | `unsupported_share` ↓ | 0.", "| notes | `unsupported_share` ↓ | 9.", 1
    )
    assert edited != committed and len(edited) == len(committed)
    card = tmp_path / "MODEL_CARD.md"
    card.write_text(edited, encoding="utf-8")
    assert main(["eval", "card", "--check", *args, "--card", str(card)]) == 1
    out = capsys.readouterr().out
    assert "-| notes | `unsupported_share` ↓ | 9." in out
    assert "+| notes | `unsupported_share` ↓ | 0." in out
    assert f"to update it, run: caseassist eval card {args[0]}" in out and str(card) in out
    assert card.read_text(encoding="utf-8") == edited  # --check writes nothing


def test_card_check_on_a_card_written_from_other_results(run_fake, tmp_path, capsys):
    from assistant.cli import main

    out, _ = run_fake
    card = tmp_path / "MODEL_CARD.md"
    card.write_text(CARD)
    assert main(["eval", "card", "--check", str(out), "--card", str(card)]) == 1
    assert "-Nothing yet." in capsys.readouterr().out
    assert card.read_text() == CARD
    assert main(["eval", "card", str(out), "--card", str(card)]) == 0
    assert main(["eval", "card", "--check", str(out), "--card", str(card)]) == 0
    card.write_text("no markers\n")
    assert main(["eval", "card", "--check", str(out), "--card", str(card)]) == 2


def test_card_prints_the_command_of_each_run_with_the_folder_it_lives_in(run_fake, tmp_path):
    """An auditor runs the command under the block: its ``--out`` is where the results are now,
    and a run that wrote elsewhere (to /tmp, then copied) says so."""
    out, _ = run_fake
    card = tmp_path / "MODEL_CARD.md"
    card.write_text(CARD)
    write_card(out / "results.json", card)
    inside = card.read_text().split(START)[1].split(END)[0]
    assert (
        f"- Command: `caseassist eval run --suite all --quick --profile test --seed 3 --out {out}`."
        in inside
    )

    data = json.loads((out / "results.json").read_text())
    data["invocation"].update(
        suite="notes",
        quick=False,
        profile="default",
        seed=3,
        primock_limit=10,
        from_audio=6,
        drafts="/tmp/drafts x",
        out="/tmp/run-1",
    )
    data["provenance"]["models"]["llm"] = {"name": "custom:small.gguf", "sha256": "ab" * 32}
    copied = tmp_path / "eval" / "results" / "run-1"
    copied.mkdir(parents=True)
    (copied / "results.json").write_text(json.dumps(data))
    write_card(copied / "results.json", card)
    command = card.read_text().split(START)[1].split(END)[0].strip().splitlines()[-1]
    assert command == (
        "- Command: `caseassist eval run --suite notes --profile default --seed 3 --primock 10 "
        f"--from-audio 6 --drafts '/tmp/drafts x' --out {copied}` (with "
        "`CASEASSIST_LLM_MODEL_PATH` set to the path of `small.gguf`; the run wrote to "
        "`/tmp/run-1` and its results were copied here)."
    )


def test_card_command_names_a_folder_in_the_repository_from_its_root():
    from eval.card import results_section

    inv = {"suite": "asr", "quick": True, "profile": "test", "seed": 0, "out": "/tmp/x"}
    base = {"invocation": inv, "provenance": {}, "summary": []}
    text = results_section(base, source="eval/results/d/asr/results.json")
    assert text.endswith(
        "- Command: `caseassist eval run --suite asr --quick --profile test "
        "--out eval/results/d/asr` (the run wrote to `/tmp/x` and its results were copied here)."
    )
    # the same folder, recorded from another checkout of the repository: not a copy
    inv["out"] = "/work/elsewhere/eval/results/d/asr"
    assert results_section(base, source="eval/results/d/asr/results.json").endswith(
        "--out eval/results/d/asr`."
    )


# --- the redaction suite on the real redactor ----------------------------------------------------


class RedactionOff:
    """A redactor that finds nothing: the failure the redaction suite must see."""

    def redact_text(self, text):
        from assistant.domain import PseudonymMap

        return text, [], PseudonymMap(entries={})

    def redact(self, transcript):
        from assistant.domain import PseudonymMap, RedactedSegment, RedactedTranscript

        segments = tuple(
            RedactedSegment(id=s.id, start=s.start, end=s.end, text=s.text, speaker=s.speaker)
            for s in transcript.segments
        )
        redacted = RedactedTranscript(
            segments=segments,
            language=transcript.language,
            duration_s=transcript.duration_s,
            entities=(),
            config_hash="off",
        )
        return redacted, PseudonymMap(entries={})


class EnginesWith:
    def __init__(self, engines, redactor):
        self.redactor = redactor
        self.models = engines.models
        self._engines = engines

    def drafter(self, template):
        return self._engines.drafter(template)


@pytest.mark.models
@pytest.mark.slow
def test_redaction_suite_runs_and_sees_redaction_switched_off(engines, tmp_path):
    from eval.datasets.scenarios import load_scenarios
    from eval.suites import redaction
    from eval.suites import redaction as redaction_eval

    ctx = EvalContext(
        profile="test", quick=True, seed=0, out_dir=tmp_path, settings=None, _engines=engines
    )
    result = redaction.run(ctx)
    names = {m.name for m in result.metrics}
    assert {"direct_identifier_recall", "identifiers_in_prompt", "redaction_precision"} <= names
    recall = next(m for m in result.metrics if m.name == "direct_identifier_recall")
    assert recall.group_by == "name_origin" and len(recall.groups) >= 15
    assert recall.value > 0.9 and recall.comparisons[0].difference_interval is not None
    assert not any("differs from redaction_eval" in n for n in result.notes)

    corpus = redaction_eval.load_corpus()
    chosen = {u.id for u in corpus.utterances[::40]}
    corpus = corpus.where(lambda u: u.id in chosen)
    scenarios = load_scenarios()[:2]
    figures = {}
    for label, eng in (("real", engines), ("off", EnginesWith(engines, RedactionOff()))):
        metrics, _, _ = redaction.corpus_metrics(
            eng.redactor, corpus, seed=0, resamples=100, evaluate=redaction_eval.evaluate,
            direct=redaction_eval.DIRECT_TYPES, goals=redaction_eval.GOALS,
            residual=redaction._residual_blocked,
        )  # fmt: skip
        leaks, _ = redaction.prompt_leaks(eng, scenarios)
        in_prompt = redaction.prompt_metrics(leaks, seed=0, resamples=100)[0]
        figures[label] = (metrics[0].value, in_prompt.value, len(leaks))
    assert figures["off"][0] == 0.0
    assert figures["off"][1] == figures["off"][2] > 0  # every identifier reaches the prompt
    assert figures["real"][0] > 0.9
    assert figures["real"][1] < figures["off"][1]


class PlacesForOneOrigin:
    """Planted bias: types every name of one origin's pool as a place, as the small spaCy
    model did for some names before the address rule."""

    def __init__(self, redactor, origin: str):
        from eval.datasets.scenarios import NAMES

        self._redactor = redactor
        self._pool = {n.casefold() for names in NAMES[origin].values() for n in names}

    def redact(self, transcript):
        redacted, mapping = self._redactor.redact(transcript)
        named = {v.split()[0].casefold() for v in mapping.entries.values()}
        if not named & self._pool:
            return redacted, mapping
        segments = tuple(
            s.model_copy(update={"text": s.text.replace("[PERSON_", "[LOCATION_")})
            for s in redacted.segments
        )
        return redacted.model_copy(update={"segments": segments}), mapping


@pytest.mark.models
def test_names_swap_metric_sees_a_planted_origin_bias(engines):
    from eval.datasets.scenarios import load_scenarios
    from eval.suites import redaction

    scenarios = load_scenarios()[:2]  # cin-001 and cin-002, each swapped to two origins
    swaps = redaction.names_swaps(engines.redactor, scenarios)
    assert len(swaps) == 4 and {x.target for x in swaps} >= {"names-english"}
    real = redaction.names_swap_metric(swaps, seed=0, resamples=100)
    assert real.value == 1.0 and real.higher_is_better

    planted = redaction.names_swaps(PlacesForOneOrigin(engines.redactor, "english"), scenarios)
    metric = redaction.names_swap_metric(planted, seed=0, resamples=100)
    groups = {name: g.value for name, g in metric.groups.items()}
    assert groups["names-english"] == 0.0
    assert all(v == 1.0 for g, v in groups.items() if g != "names-english")
    assert metric.value < 1.0


def test_card_says_when_a_full_run_left_out_part_of_primock57():
    from eval.card import results_section

    base = {"invocation": {"suite": "notes", "quick": False}, "provenance": {}, "summary": []}
    assert "a full run," in results_section(base)
    limited = {**base, "invocation": {**base["invocation"], "primock_limit": 10}}
    assert "a full run with only the first 10 PriMock57 consultations" in results_section(limited)
    every = {**base, "invocation": {**base["invocation"], "primock_limit": 57}}
    assert "(a full run, suite" in results_section(every)  # a limit of all 57 left none out
    assert "only the first" not in results_section(every)
    none = {**base, "invocation": {**base["invocation"], "primock_limit": 0}}
    assert "a full run of the scenarios only, no PriMock57 consultation" in results_section(none)


def test_card_says_how_many_notes_came_from_the_drafts_store():
    from eval.card import results_section

    base = {"invocation": {"suite": "notes", "quick": False}, "provenance": {}, "summary": []}
    assert "drafts store" not in results_section(base)
    resumed = {**base, "provenance": {"drafts": {"dir": "d", "reused": 34, "written": 10}}}
    text = results_section(resumed)
    assert "34 notes were read from the drafts store" in text and "10 were drafted" in text


def test_card_says_which_suite_version_scored_the_run():
    from eval.card import results_section

    base = {"invocation": {"suite": "notes", "quick": False}, "provenance": {}, "summary": []}
    assert "suite version" not in results_section(base)
    scored = {**base, "provenance": {"suite_versions": {"notes": "6"}}}
    assert "Scored with `notes` suite version 6" in results_section(scored)
