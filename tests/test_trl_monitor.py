"""ComprehensivePPOMonitor driven through transformers' real CallbackHandler, TrainerState and
TrainerControl (no torch needed), with log entries in the shapes trainers write."""

from __future__ import annotations

import csv
import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from transformers import TrainerControl, TrainerState, TrainingArguments
from transformers.trainer_callback import CallbackHandler, DefaultFlowCallback

import rlforensics
from rlforensics.integrations.trl import ComprehensivePPOMonitor
from rlforensics.integrations.trl.monitors import STATE_FILE

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def entries(run: str) -> list[dict[str, Any]]:
    with open(SHARED / run / "log_history.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def drive(mon: ComprehensivePPOMonitor, logs: list[dict[str, Any]], out: Path, *, rank_zero: bool = True,
          save_at: tuple[int, ...] = (), state: TrainerState | None = None,
          args: TrainingArguments | None = None) -> TrainerControl:
    args = args or TrainingArguments(output_dir=str(out), report_to="none")
    handler = CallbackHandler([DefaultFlowCallback(), mon], None, None, None, None)
    state = state or TrainerState()
    state.is_world_process_zero = rank_zero
    control = TrainerControl()
    handler.on_train_begin(args, state, control)
    for e in logs:
        e = dict(e)
        state.global_step = int(e.pop("step"))
        control = handler.on_log(args, state, control, logs=e)
        if state.global_step in save_at:
            control = handler.on_save(args, state, control)
        if control.should_training_stop:
            break
    handler.on_train_end(args, state, control)
    return control


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_real_grpo_run(tmp_path: Path):
    mon = ComprehensivePPOMonitor(output_dir=tmp_path / "out", run_id="grpo", log_interval=7)
    drive(mon, entries("trl-grpo-healthy"), tmp_path)
    assert mon.family == "trl_grpo"
    assert mon.skipped_entries == {"eval": 0, "summary": 1}
    assert not [e for e in mon.get_anomalies() if e["severity"] == "critical"]
    assert mon.get_current_health_summary()["status"] in {"healthy", "warning"}
    rows = read_csv(tmp_path / "out" / "grpo_comprehensive_metrics.csv")
    assert [int(r["step"]) for r in rows] == list(range(1, 301))
    assert rows[0]["total_grad_norm"] and rows[0]["kl_coef"] == ""  # grad_norm read, no coefficient
    doc = json.loads((tmp_path / "out" / "grpo_comprehensive_metrics.json").read_text())
    assert len(doc) == 300 and doc[-1]["step"] == 300
    for name in ("comprehensive_analysis.json", "health_summary.json"):
        assert json.loads((tmp_path / "out" / f"grpo_{name}").read_text())


def test_real_ppo_v2_run_reads_its_own_keys(tmp_path: Path):
    mon = ComprehensivePPOMonitor(output_dir=tmp_path, run_id="v2", kl_target=3.0)
    drive(mon, entries("trl-ppo-v2-basic"), tmp_path)
    assert mon.family == "trl_ppo_v2"
    assert mon.keys.sources["kl"] == "objective/kl" and mon.keys.sources["entropy"] == "policy/entropy_avg"
    assert mon.forensics is not None and mon.forensics.kl_target == 3.0
    m = mon.forensics.current_metrics
    assert m.kl == pytest.approx(entries("trl-ppo-v2-basic")[-1]["objective/kl"])
    assert mon.forensics.kl_schedule_tracker is not None


def test_eval_entries_nulls_and_no_defaults(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    logs = [{"step": i, "loss": 0.1, "grad_norm": 1.0 + 0.01 * (i % 3), "reward": 0.5, "kl": None if i == 5 else 0.01}
            for i in range(1, 40)]
    logs.insert(10, {"step": 10, "eval_loss": 9.0, "eval_reward": -5.0})
    logs.append({"step": 39, "train_runtime": 1.0, "train_loss": 0.1, "total_flos": 0.0})
    mon = ComprehensivePPOMonitor(output_dir=tmp_path, run_id="g")
    with caplog.at_level(logging.INFO, logger="rlforensics.trl"):
        drive(mon, logs, tmp_path)
    assert mon.skipped_entries == {"eval": 1, "summary": 1}
    assert mon.forensics is not None and mon.forensics.total_updates == 39
    # A null KL is "not logged": no non-finite anomaly, no default 0.0 fed.
    assert not [e for e in mon.get_anomalies() if e["type"].startswith("non_finite")]
    assert any("KL band analysis off" in r.message for r in caplog.records)


def ppo_v1_stats(i: int, kl: float) -> dict[str, float]:
    return {"objective/kl": kl, "objective/kl_coef": 0.2, "ppo/mean_scores": 0.5, "ppo/std_scores": 0.1,
            "ppo/policy/entropy": 2.0, "ppo/policy/advantages_mean": 0.0, "ppo/loss/total": 0.3}


def test_ppo_v1_step_api_and_one_log_line_per_event(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    mon = ComprehensivePPOMonitor(output_dir=tmp_path, run_id="v1")
    new_events = []
    with caplog.at_level(logging.WARNING, logger="rlforensics.trl"):
        for i in range(60):
            kl = float("nan") if i in (30, 31, 32) else 6.0 + 0.1 * (i % 5)
            new_events += mon.record(ppo_v1_stats(i, kl), i)
    assert mon.family == "trl_ppo_v1" and mon.forensics is not None and mon.forensics.kl_target == 6.0
    nan = [e for e in mon.get_anomalies() if e["type"] == "non_finite_kl"]
    assert len(nan) == 1 and nan[0]["first_step"] == 30 and nan[0]["occurrences"] == 3
    assert [e["type"] for e in new_events].count("non_finite_kl") == 1
    lines = [r for r in caplog.records if "non_finite_kl" in r.getMessage()]
    assert len(lines) == 1 and lines[0].levelno == logging.ERROR and "step 30" in lines[0].getMessage()


def test_ranks_compute_alike_and_only_rank_zero_writes(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    logs = [{"step": i, "grad_norm": 1.0 if i < 50 else 1e4, "reward": 0.5, "loss": 0.1} for i in range(1, 80)]
    controls = []
    for rank, zero in ((0, True), (1, False)):
        out = tmp_path / f"rank{rank}"
        mon = ComprehensivePPOMonitor(output_dir=out, run_id="r", stop_on_critical=True)
        with caplog.at_level(logging.WARNING, logger="rlforensics.trl"):
            caplog.clear()
            control = drive(mon, logs, tmp_path / f"args{rank}", rank_zero=zero)
            logged = len(caplog.records)
        controls.append((control.should_training_stop, mon.forensics.total_updates if mon.forensics else 0))
        files = sorted(p.name for p in out.iterdir())
        if zero:
            assert logged > 0 and "r_comprehensive_metrics.csv" in files
        else:
            assert logged == 0 and files == []
    assert controls[0] == controls[1] and controls[0][0] is True
    assert controls[0][1] < 79  # stopped at the explosion, not at the end


def test_resume_continues_as_if_never_interrupted(tmp_path: Path):
    logs = entries("trl-grpo-healthy")[:-1]
    ref = ComprehensivePPOMonitor(output_dir=tmp_path / "ref", run_id="r", kl_target=0.05)
    drive(ref, logs, tmp_path / "ref_ckpt")
    # First attempt: saves at step 100, crashes after step 150.
    out, ckpt = tmp_path / "out", tmp_path / "ckpt"
    first = ComprehensivePPOMonitor(output_dir=out, run_id="r", kl_target=0.05)
    drive(first, logs[:150], ckpt, save_at=(100,))
    assert (ckpt / "checkpoint-100" / STATE_FILE).exists()
    # Resume from checkpoint-100: the trainer restarts at step 100 and recomputes 101..
    state = TrainerState()
    state.global_step = 100
    args = TrainingArguments(output_dir=str(ckpt), report_to="none",
                             resume_from_checkpoint=str(ckpt / "checkpoint-100"))
    second = ComprehensivePPOMonitor(output_dir=out, run_id="r", kl_target=0.05)
    drive(second, logs[100:], ckpt, state=state, args=args)
    assert second.get_anomalies() == ref.get_anomalies()
    assert second.get_current_health_summary() == ref.get_current_health_summary()
    steps = [int(r["step"]) for r in read_csv(out / "r_comprehensive_metrics.csv")]
    assert steps == list(range(1, 301))
    assert read_csv(out / "r_comprehensive_metrics.csv") == read_csv(tmp_path / "ref" / "r_comprehensive_metrics.csv")
    assert [r["step"] for r in json.loads((out / "r_comprehensive_metrics.json").read_text())] == list(range(1, 301))
    summary = read_csv(out / "r_checkpoint_summary.csv")
    assert [r["step"] for r in summary] == ["100"]
    assert (out / "r_comprehensive_analysis_step_100.json").exists()


def test_arguments_are_checked(tmp_path: Path):
    with pytest.raises(ValueError, match="log_interval"):
        ComprehensivePPOMonitor(output_dir=tmp_path, log_interval=0)
    with pytest.raises(ValueError, match="kl_target"):
        ComprehensivePPOMonitor(output_dir=tmp_path, kl_target=-1.0)
    assert rlforensics.ComprehensivePPOMonitor is ComprehensivePPOMonitor


def test_importing_rlforensics_does_not_import_transformers():
    code = "import sys, rlforensics; rlforensics.scan; print('transformers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    code = ("import sys; sys.modules['transformers'] = None\n"
            "import rlforensics\n"
            "try:\n    rlforensics.ComprehensivePPOMonitor\nexcept ImportError as e:\n    print(e)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install 'rlforensics[trl]'" in out.stdout


@pytest.mark.parametrize(
    ("family", "entry", "expect"),
    [
        # Online DPO: objective/kl with its beta as the KL coefficient.
        ("trl_online_dpo",
         {"objective/kl": 0.2, "objective/entropy": 40.0, "beta": 0.1, "rewards/chosen": 1.0,
          "rewards/rejected": 0.2, "rewards/margins": 0.8, "objective/scores": 0.6, "loss": 0.5,
          "grad_norm": 2.0, "learning_rate": 1e-6},
         {"kl": 0.2, "kl_coef": 0.1, "entropy": 40.0, "reward_mean": 0.6, "total_grad_norm": 2.0}),
        # RLOO 1.x logs GRPO's keys (its kl is the k1 estimator and may be negative).
        ("trl_grpo",
         {"kl": -0.001, "reward": 0.3, "reward_std": 0.1, "entropy": 2.5, "grad_norm": 0.7,
          "frac_reward_zero_std": 0.25, "completions/mean_length": 12.0, "clip_ratio/region_mean": 0.0},
         {"kl": -0.001, "reward_mean": 0.3, "reward_std": 0.1, "entropy": 2.5, "total_grad_norm": 0.7}),
        # verl: actor/critic split gradient norms and the reward-side KL controller.
        ("verl",
         {"actor/pg_loss": 0.1, "actor/entropy": 1.5, "actor/grad_norm": 0.4, "critic/grad_norm": 2.0,
          "actor/reward_kl_penalty": 0.02, "actor/reward_kl_penalty_coeff": 0.001, "critic/score/mean": 0.5,
          "critic/advantages/mean": 0.0},
         {"kl": 0.02, "kl_coef": 0.001, "entropy": 1.5, "reward_mean": 0.5, "policy_grad_norm": 0.4,
          "value_grad_norm": 2.0, "advantage_mean": 0.0}),
    ],
)
def test_each_family_is_read_through_its_own_keys(tmp_path: Path, family: str, entry: dict[str, float],
                                                   expect: dict[str, float]):
    mon = ComprehensivePPOMonitor(output_dir=tmp_path, run_id="f", kl_target=0.05)
    drive(mon, [{"step": i, **entry} for i in range(1, 4)], tmp_path)
    assert mon.family == family
    inputs = mon.keys.inputs(entry)
    for arg, value in expect.items():
        assert inputs[arg] == pytest.approx(value), arg
    assert all(inputs.get(a) is None for a in ("advantage_std",) if a not in expect)


def test_resume_as_trainer_train_does_it(tmp_path: Path):
    """``Trainer.train(resume_from_checkpoint=...)`` loads the checkpoint's TrainerState but
    does not set ``args.resume_from_checkpoint``: the monitor finds its state from the step,
    and keeps the interrupted run's default run id (so its files continue)."""
    logs = entries("trl-grpo-healthy")[:-1]
    ckpt = tmp_path / "ckpt"
    first = ComprehensivePPOMonitor(output_dir=tmp_path / "out", kl_target=0.05)
    drive(first, logs[:150], ckpt, save_at=(100,))
    state = TrainerState()
    state.global_step = 100
    second = ComprehensivePPOMonitor(output_dir=tmp_path / "out", kl_target=0.05)
    second.run_id = "something_else"  # a later start time would give another default
    drive(second, logs[100:], ckpt, state=state)
    assert second.run_id == first.run_id
    steps = [int(r["step"]) for r in read_csv(tmp_path / "out" / f"{first.run_id}_comprehensive_metrics.csv")]
    assert steps == list(range(1, 301))
    # Without a saved state the rows past the checkpoint still go.
    third = ComprehensivePPOMonitor(output_dir=tmp_path / "out3", run_id="x", kl_target=0.05)
    drive(third, logs[:150], tmp_path / "nockpt")
    state = TrainerState()
    state.global_step = 120
    fourth = ComprehensivePPOMonitor(output_dir=tmp_path / "out3", run_id="x", kl_target=0.05)
    drive(fourth, logs[120:], tmp_path / "nockpt", state=state)
    steps = [int(r["step"]) for r in read_csv(tmp_path / "out3" / "x_comprehensive_metrics.csv")]
    assert steps == list(range(1, 301))
    assert json.loads((tmp_path / "out3" / "x_comprehensive_metrics.json").read_text())[-1]["step"] == 300


def test_a_key_first_logged_as_null_is_analysed_once_it_has_values(tmp_path: Path):
    logs = [{"step": 1, "kl": None, "grad_norm": None, "reward": 1.0, "frac_reward_zero_std": 0.0}]
    logs += [{"step": i, "kl": 0.01, "grad_norm": 1.0, "reward": 1.0, "frac_reward_zero_std": 0.0} for i in range(2, 30)]
    logs += [{"step": 30, "kl": float("nan"), "grad_norm": float("inf"), "reward": 1.0, "frac_reward_zero_std": 0.0}]
    mon = ComprehensivePPOMonitor(output_dir=tmp_path, run_id="n", kl_target=0.01)
    drive(mon, logs, tmp_path)
    assert mon.keys.sources["kl"] == "kl" and mon.keys.sources["grad_norm"] == "grad_norm"
    kinds = {e["type"] for e in mon.get_anomalies() if e["first_step"] == 30}
    assert {"non_finite_kl", "non_finite_total_grad_norm"} <= kinds


def test_entries_without_metrics_are_not_steps(tmp_path: Path):
    logs = [{"step": 1, "custom/note_count": 3.0}] + [
        {"step": i, "objective/kl": 6.0, "objective/kl_coef": 0.2, "ppo/mean_scores": 0.5} for i in range(2, 10)
    ]
    mon = ComprehensivePPOMonitor(output_dir=tmp_path, run_id="e")
    drive(mon, logs, tmp_path)
    assert mon.skipped_entries["empty"] == 1
    assert mon.family == "trl_ppo_v1" and mon.forensics is not None and mon.forensics.kl_target == 6.0
    assert mon.forensics.total_updates == 8


def test_custom_entries_are_not_steps_once_reward_components_were_seen(tmp_path: Path):
    grpo = [{"step": i, "reward": 0.5, "rewards/accuracy_reward/mean": 0.5,
             "rewards/format_reward/mean": 0.9, "entropy": 2.0} for i in range(1, 6)]
    logs = grpo[:3] + [{"step": 3, "custom/note_count": 3.0}] + grpo[3:]
    mon = ComprehensivePPOMonitor(output_dir=tmp_path, run_id="c")
    drive(mon, logs, tmp_path)
    assert mon.skipped_entries["empty"] == 1
    assert mon.forensics is not None and mon.forensics.total_updates == 5
