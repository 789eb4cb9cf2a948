"""Reading and scanning training logs: read_run on every format, damaged input, the scan
over a tree of runs, and the rlforensics CLI."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import rlforensics
from rlforensics import RunReport, read_run, scan
from rlforensics.cli import main as cli
from rlforensics.testing import scenarios
from rlforensics.testing.writers import (
    trainer_columns,
    write_csv,
    write_jsonl,
    write_tensorboard,
    write_trainer_state,
)

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
SAMPLES = Path(__file__).resolve().parents[1] / "examples" / "runs"
SUMMARY = {"train_runtime": 9.5, "train_loss": 0.1}


def test_real_runs_read_identically_from_every_format():
    run = SHARED / "trl-grpo-healthy"
    tb = next((run / "tb").iterdir())
    logs = [read_run(run / "trainer_state.json"), read_run(run / "log_history.jsonl"), read_run(tb)]
    for r in logs:
        assert r.family == "trl_grpo" and len(r.train) == 300 and not r.problems
        assert r.summary["train_runtime"] > 0
        np.testing.assert_array_equal(r.steps, np.arange(1, 301))
        # TensorBoard stores float32.
        np.testing.assert_array_equal(r.columns["reward"].astype(np.float32), logs[0].columns["reward"].astype(np.float32))
    # The folder is one run read from its most precise format.
    whole = read_run(run)
    assert whole.format == "trainer_state" and len(whole.skipped) == 2
    ppo = read_run(SHARED / "trl-ppo-v2-basic")
    assert ppo.family == "trl_ppo_v2" and "objective/kl" in ppo.columns and not ppo.summary


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "trainer_state", "tensorboard"])
def test_written_logs_round_trip(tmp_path: Path, fmt: str):
    s = scenarios.generate("nan_injection", 3, 150)
    cols = trainer_columns(s, "trl_ppo_v1")
    name = {"jsonl": "a.jsonl", "csv": "a.csv", "trainer_state": "trainer_state.json",
            "tensorboard": "events.out.tfevents.1.h.1.0"}[fmt]
    path = tmp_path / name
    if fmt == "csv":
        write_csv(path, s.steps, cols)
    else:
        {"jsonl": write_jsonl, "trainer_state": write_trainer_state, "tensorboard": write_tensorboard}[fmt](
            path, s.steps, cols, summary=SUMMARY
        )
    r = read_run(path)
    assert r.format == fmt and r.family == "trl_ppo_v1" and not r.problems
    np.testing.assert_array_equal(r.steps, s.steps)
    for k, v in cols.items():
        got = r.columns[k]
        want = v.astype(np.float32) if fmt == "tensorboard" else v
        # NaNs are logged values, not missing ones.
        assert r.train.present[k].all()
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_allclose(got[~np.isnan(got)], want[~np.isnan(want)], rtol=0)
    if fmt != "csv":
        assert r.summary["train_runtime"] == pytest.approx(9.5)
    frame = r.to_pandas()
    assert list(frame.columns)[0] == "step" and len(frame) == 150


def test_damage_is_located_and_the_rest_is_read(tmp_path: Path):
    p = tmp_path / "log.jsonl"
    p.write_text(
        '{"step": 1, "kl": 0.1, "loss": 1.0}\n'
        '{"step": 2, "kl": "n/a", "loss": 1.0}\n'
        '{"step": 3, "kl": 0.3 "loss": 1.0}\n'
        '{"step": 4, "kl": null, "loss": 1.0}\n'
        '{"step": 2, "kl": 0.25, "loss": 0.5}\n'
        '{"step": 3, "kl": 0.35, "lo'
    )
    r = read_run(p)
    np.testing.assert_array_equal(r.steps, [1.0, 2.0])  # the resume at step 2 replaced 2..4
    assert r.train.replaced_rows == 2
    assert r.columns["kl"][1] == 0.25
    kinds = [(x["kind"], x["line"]) for x in r.problems]
    assert kinds == [("malformed", 3), ("truncated", 6), ("not_a_number", 2)]
    assert all(x["file"] == str(p) for x in r.problems)
    # polars keeps "not logged" as null and a logged NaN as NaN.
    pl = pytest.importorskip("polars")
    q = tmp_path / "q.jsonl"
    q.write_text('{"step": 1, "a": NaN}\n{"step": 2, "b": 1}\n')
    df = read_run(q).to_polars()
    assert isinstance(df, pl.DataFrame)
    assert df["a"].null_count() == 1 and df["a"].is_nan().sum() == 1


def test_read_run_errors(tmp_path: Path):
    with pytest.raises(ValueError, match="no such file"):
        read_run(tmp_path / "missing")
    with pytest.raises(ValueError, match="no log files"):
        read_run(tmp_path)
    (tmp_path / "a.jsonl").write_text('{"step": 1}\n')
    (tmp_path / "b.jsonl").write_text('{"step": 1}\n')
    with pytest.raises(ValueError, match="holds 2 runs"):
        read_run(tmp_path)


@given(st.binary(max_size=400))
def test_random_bytes_never_crash_a_reader(data: bytes):
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        for name in ("x.jsonl", "x.csv", "x.json", "events.out.tfevents.0"):
            p = os.path.join(d, name)
            with open(p, "wb") as f:
                f.write(data)
            r = read_run(p)
            assert r.bytes == len(data) or r.format in ("json",)


def _tree(tmp_path: Path) -> Path:
    root = tmp_path / "runs"
    root.mkdir()
    for name, style, fmt in [
        ("healthy_ppo_adaptive", "trl_ppo_v1", "jsonl"),
        ("gradient_explosion", "trl_ppo_v1", "csv"),
        ("healthy_grpo", "trl_grpo", "trainer_state"),
    ]:
        s = scenarios.generate(name, 0, 400)
        cols = trainer_columns(s, style)  # type: ignore[arg-type]
        if fmt == "jsonl":
            write_jsonl(root / f"{name}.jsonl", s.steps, cols)
        elif fmt == "csv":
            (root / name).mkdir()
            write_csv(root / name / "metrics.csv", s.steps, cols)
        else:
            (root / name / "checkpoint-400").mkdir(parents=True)
            write_trainer_state(root / name / "checkpoint-400" / "trainer_state.json", s.steps, cols, summary=SUMMARY)
    return root


def test_scan_ranks_runs_and_finds_the_fault(tmp_path: Path):
    root = _tree(tmp_path)
    calls: list[tuple[int, int, int, int]] = []
    result = scan(root, jobs=2, progress=lambda *a: calls.append(a))
    assert len(result) == 3 and result.errors == []
    ids = [r.run_id for r in result]
    assert ids == ["gradient_explosion", "healthy_grpo", "healthy_ppo_adaptive.jsonl"]
    worst = result.worst_first()[0]
    assert worst.run_id == "gradient_explosion" and worst.critical
    onset = scenarios.generate("gradient_explosion", 0, 400).onset_step
    first = min(e["first_step"] for e in worst.critical)
    assert 0 <= first - onset <= 5
    assert not result["healthy_grpo"].critical and not result["healthy_ppo_adaptive.jsonl"].critical
    assert result["healthy_grpo"].family == "trl_grpo" and result["healthy_grpo"].kl_target is None
    assert any("KL band analysis skipped" in n for n in result["healthy_grpo"].notes)
    assert result["healthy_ppo_adaptive.jsonl"].kl_target == 6.0
    assert calls and calls[-1][0] == calls[-1][1] == result.bytes and calls[-1][2] == 3
    # One job or two: the same reports.
    again = scan(root, jobs=1, progress=False)
    assert [r.to_dict() for r in again] == [r.to_dict() for r in result]
    doc = json.loads(result.to_json())
    assert doc["runs"][0]["run_id"] == "gradient_explosion"
    frame = result.to_pandas()
    assert frame["run_id"].iloc[0] == "gradient_explosion" and frame["critical"].iloc[0] > 0


def test_scan_arguments(tmp_path: Path):
    with pytest.raises(ValueError, match="jobs"):
        scan(tmp_path, jobs=0)
    with pytest.raises(ValueError, match="kl_target"):
        scan(tmp_path, kl_target=-1.0)
    result = scan(tmp_path / "nope", progress=False)
    assert len(result) == 0 and result.errors and "no such file" in result.errors[0][1]


def test_cli_exit_codes_and_outputs(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("COLUMNS", "200")  # a wide table, so that names are not folded
    root = _tree(tmp_path)
    out_json, out_csv = tmp_path / "r.json", tmp_path / "r.csv"
    assert cli(["scan", str(root), "--json", str(out_json), "--csv", str(out_csv), "--jobs", "2"]) == 1
    text = capsys.readouterr().out
    # The worst run's most serious anomalies: RLDK's rule or the trainer-signal rule.
    assert "gradient_explosion" in text
    assert "exploding_gradient_anomaly" in text or "grad_norm_explosion" in text
    assert json.loads(out_json.read_text())["runs"][0]["run_id"] == "gradient_explosion"
    assert out_csv.read_text().splitlines()[1].startswith("gradient_explosion,")
    healthy = root / "healthy_grpo"
    assert cli(["scan", str(healthy), "--no-progress"]) == 0
    assert cli(["scan", str(tmp_path / "missing")]) == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli(["scan", str(empty)]) == 2
    assert cli(["scan", str(root), "--jobs", "0"]) == 2
    with pytest.raises(SystemExit) as e:
        cli(["scan"])
    assert e.value.code == 2


def test_cli_table_stays_readable_in_80_columns(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    """A terminal of 80 columns, or a pipe (rich reads both as 80): each run's findings go
    under its name instead of narrow columns that fold names a few letters at a time."""
    monkeypatch.setenv("COLUMNS", "80")
    assert cli(["scan", str(SAMPLES), "--no-progress"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in lines) <= 80
    text = "\n".join(lines)
    for whole in ("ppo-grad-explosion.csv", "exploding_gradient_anomaly@352", "first cause: grad_norm_explosion@351",
                  "(trl_ppo_v1, 600 rows)"):
        assert whole in text, whole


def test_most_serious_prefers_a_warning_still_open_at_the_end():
    """Without a critical event, a warning that stayed outranks earlier ones that came and
    went (healthy runs have those too); the first cause and the onset column follow it."""
    from rlforensics._core import diagnose as links

    base = scan(SAMPLES / "grpo-truncation.jsonl", progress=False).runs[0]

    def ev(kind: str, first: float, last: float, active: bool, severity: str = "warning") -> dict:
        return {"type": kind, "severity": severity, "first_step": first, "last_step": last, "active": active}

    events = [ev("grad_norm_spike", 40, 40, False), ev("entropy_drop", 300, 330, False),
              ev("learning_signal_starvation", 320, 600, True)]

    def report(evs: list[dict]) -> RunReport:
        d = links([e["first_step"] for e in evs], [e["last_step"] for e in evs], [e["type"] for e in evs], 50.0)
        return dataclasses.replace(base, events=evs, diagnosis=d, diagnosis_horizon=50.0)

    r = report(events)
    assert r.most_serious is events[2]
    assert r.first_cause() is events[1] and r.first_anomaly_step == 320
    r = report(events + [ev("kl_blowup", 500, 600, True, "critical")])
    assert r.most_serious is r.events[3] and r.first_anomaly_step == 500
    # The CLI lists them in that order: critical by onset (open or not), then open warnings.
    from rlforensics.cli import _anomalies

    r = report([ev("nan", 10, 10, False, "critical"), ev("kl_blowup", 50, 600, True, "critical"), *events])
    assert _anomalies(r, k=4) == ("nan@10, kl_blowup@50, learning_signal_starvation@320, "
                                  "grad_norm_spike@40 (+1)")
    r = report([e | {"active": False} for e in events])
    assert r.most_serious is r.events[0] and r.first_cause() is r.events[0]
    assert report([]).most_serious is None and report([]).first_cause() is None


def test_bundled_samples_scan_as_labelled():
    """The README's first command: the sample runs ship with the repo, faulty ones are found."""
    result = scan(SAMPLES, progress=False)
    by_id = {r.run_id: r for r in result}
    assert set(by_id) == {"grpo-healthy", "ppo-healthy.jsonl", "ppo-kl-blowup", "ppo-grad-explosion.csv", "ppo-vanishing",
                          "ppo-nan", "grpo-policy-collapse", "grpo-truncation.jsonl"}
    for healthy in ("grpo-healthy", "ppo-healthy.jsonl"):
        assert not by_id[healthy].critical, by_id[healthy].critical
    expect = {
        "ppo-kl-blowup": "target_range_anomaly",
        "ppo-grad-explosion.csv": "exploding_gradient_anomaly",
        "ppo-vanishing": "vanishing_gradient_anomaly",
        "ppo-nan": "non_finite_kl",
        "grpo-policy-collapse": "policy_collapse",
        "grpo-truncation.jsonl": "truncation_saturation",
    }
    for run_id, kind in expect.items():
        assert kind in {e["type"] for e in by_id[run_id].critical}, (run_id, by_id[run_id].critical)
    assert {p["kind"] for p in by_id["ppo-nan"].problems} == {"truncated", "not_a_number"}
    assert by_id["ppo-vanishing"].files[0].endswith(os.path.join("checkpoint-600", "trainer_state.json"))


def test_module_entry_point():
    env = {**os.environ, "COLUMNS": "200"}
    out = subprocess.run([sys.executable, "-m", "rlforensics", "scan", str(SAMPLES / "ppo-healthy.jsonl")],
                         capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert "ppo-healthy.jsonl" in out.stdout
    assert rlforensics.scan is scan


@pytest.mark.parametrize("name", ["kl_blowup", "gradient_explosion", "advantage_bias"])
def test_a_scan_and_a_live_run_agree(tmp_path: Path, name: str):
    """The scan feeds every row to the same forensics as ComprehensivePPOForensics.update."""
    s = scenarios.generate(name, 2, 400)
    cols = trainer_columns(s, "generic")
    path = tmp_path / "run.jsonl"
    write_jsonl(path, s.steps, cols)
    (report,) = scan(path, kl_target=0.1, progress=False).runs

    live = rlforensics.ComprehensivePPOForensics(
        kl_target=0.1, kl_target_tolerance=0.05, enable_length_bias_detection=False,
        enable_trainer_signals=True, kl_scale="unknown",  # a generic log: KL scale unknown
    )
    length = cols.get("response_length")
    for i, step in enumerate(s.steps):
        live.update(
            int(step), cols["kl"][i], cols["kl_coef"][i], cols["entropy"][i], cols["reward_mean"][i],
            cols["reward_std"][i], policy_grad_norm=cols["policy_grad_norm"][i],
            value_grad_norm=cols["value_grad_norm"][i], total_grad_norm=cols["total_grad_norm"][i],
            advantage_mean=cols["advantage_mean"][i], advantage_std=cols["advantage_std"][i],
            response_length_mean=None if length is None else length[i],
        )

    def key(e: dict) -> tuple:
        return (e["type"], e["severity"], e["first_step"], e["last_step"], e["occurrences"])

    scanned = sorted(key(e) for e in report.events if e["tracker"] != "series")
    assert scanned, "the fault raises events"
    assert scanned == sorted(key(e) for e in live.get_anomalies())
    assert report.overall_health == pytest.approx(live.get_health_summary()["overall_health_score"])
