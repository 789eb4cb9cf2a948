"""End to end: a real TRL GRPOTrainer trains a tiny randomly initialised GPT-2 on CPU for 20
steps (tokenizer and model built here, nothing downloaded), with beta > 0 so that KL is
logged, and the monitor attached. Asserts on what the monitor saw and wrote."""

from __future__ import annotations

import csv
import json
import logging
from pathlib import Path

import pytest
import torch
from datasets import Dataset
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast
from trl import GRPOConfig, GRPOTrainer

from rlforensics.integrations.trl import ComprehensivePPOMonitor

# transformers/TRL warn about their own deprecations inside the trainer; not ours to fix.
pytestmark = pytest.mark.filterwarnings(
    "ignore::FutureWarning", "ignore::DeprecationWarning", "ignore::UserWarning"
)

WORDS = ["good", "bad", "red", "blue", "cat", "dog", "sun", "moon", "tree", "sky", "task", ":", "->"]
STEPS = 20


def tiny_tokenizer() -> PreTrainedTokenizerFast:
    vocab = {w: i for i, w in enumerate(["<pad>", "<eos>", "<unk>", *WORDS])}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="<eos>", unk_token="<unk>")


def reward_good_words(completions: list[str], **kwargs: object) -> list[float]:
    return [sum(w == "good" for w in c.split()) / max(1, len(c.split())) for c in completions]


def test_grpo_trainer_with_the_monitor(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    torch.manual_seed(0)
    tok = tiny_tokenizer()
    model = GPT2LMHeadModel(GPT2Config(vocab_size=len(tok), n_positions=64, n_embd=32, n_layer=2, n_head=2,
                                       bos_token_id=tok.eos_token_id, eos_token_id=tok.eos_token_id,
                                       pad_token_id=tok.pad_token_id))
    # GRPO builds its reference model (beta > 0) from the policy's path: save the tiny model
    # locally and train from there (nothing is downloaded).
    local = tmp_path / "tiny-gpt2"
    model.save_pretrained(local)
    tok.save_pretrained(local)
    prompts = [f"task : {a} {b} ->" for a in WORDS[:6] for b in WORDS[6:10]]
    data = Dataset.from_dict({"prompt": prompts})
    cfg = GRPOConfig(
        output_dir=str(tmp_path / "trainer"), max_steps=STEPS, per_device_train_batch_size=4,
        num_generations=4, max_completion_length=6, learning_rate=1e-3, beta=0.1, logging_steps=1,
        save_strategy="no", report_to="none", use_cpu=True, seed=0, disable_tqdm=True,
    )
    monitor = ComprehensivePPOMonitor(output_dir=tmp_path / "forensics", run_id="grpo", log_interval=5, kl_target=0.05)
    trainer = GRPOTrainer(model=str(local), reward_funcs=reward_good_words, args=cfg, train_dataset=data,
                          processing_class=tok, callbacks=[monitor])
    with caplog.at_level(logging.INFO, logger="rlforensics"):
        trainer.train()

    history = [e for e in trainer.state.log_history if "train_runtime" not in e]
    assert len(history) == STEPS
    # What the monitor saw: every training entry, through GRPO's own keys.
    assert monitor.family == "trl_grpo"
    assert monitor.forensics is not None and monitor.forensics.total_updates == STEPS
    assert monitor.skipped_entries == {"eval": 0, "summary": 1}
    for canonical, key in {"kl": "kl", "reward_mean": "reward", "entropy": "entropy", "grad_norm": "grad_norm"}.items():
        assert monitor.keys.sources[canonical] == key
    assert monitor.forensics.kl_schedule_tracker is not None
    assert monitor.forensics.kl_schedule_tracker.total_updates == STEPS
    # What it wrote: one row per step, with the logged values.
    out = tmp_path / "forensics"
    with open(out / "grpo_comprehensive_metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["step"]) for r in rows] == [e["step"] for e in history]
    for row, entry in zip(rows, history):
        assert float(row["kl"]) == pytest.approx(entry["kl"])
        assert float(row["total_grad_norm"]) == pytest.approx(entry["grad_norm"])
        assert float(row["reward_mean"]) == pytest.approx(entry["reward"])
    assert len(json.loads((out / "grpo_comprehensive_metrics.json").read_text())) == STEPS
    analysis = json.loads((out / "grpo_comprehensive_analysis.json").read_text())
    assert analysis["total_steps"] == STEPS
    assert json.loads((out / "grpo_health_summary.json").read_text())["status"] in {"healthy", "warning", "critical"}
    assert any("training ended" in r.getMessage() for r in caplog.records)
