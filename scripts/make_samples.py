#!/usr/bin/env python
"""Writes the sample runs in ``examples/runs`` (small, several formats, healthy and faulty)
that the README's first command scans. Deterministic: re-running rewrites identical files.

    python scripts/make_samples.py [--out examples/runs]
"""

from __future__ import annotations

import argparse
import os
import shutil
from typing import Any

from rlforensics.testing import generate_trainer_run, scenarios
from rlforensics.testing.writers import (
    trainer_columns,
    write_csv,
    write_jsonl,
    write_tensorboard,
    write_trainer_state,
)

ROWS = 600
SUMMARY = {"train_runtime": 812.4, "train_loss": 0.0231, "total_flos": 0.0}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "examples", "runs"))
    out = os.path.abspath(p.parse_args().out)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)

    def cols(name: str, style: str, seed: int) -> tuple[scenarios.Scenario, dict[str, Any]]:
        s = scenarios.generate(name, seed, ROWS)
        return s, trainer_columns(s, style)  # type: ignore[arg-type]

    # A transformers output folder: trainer_state.json plus the same numbers in TensorBoard.
    s, c = cols("healthy_grpo", "trl_grpo", 1)
    run = os.path.join(out, "grpo-healthy")
    os.makedirs(os.path.join(run, "runs", "Nov29_10-00-00_host"))
    write_trainer_state(os.path.join(run, "trainer_state.json"), s.steps, c, summary=SUMMARY)
    write_tensorboard(os.path.join(run, "runs", "Nov29_10-00-00_host", "events.out.tfevents.1795580000.host.1.0"), s.steps, c, summary=SUMMARY)

    # TRL PPO-v1-style logs (summed KL, adaptive controller): healthy and faulty.
    s, c = cols("healthy_ppo_adaptive", "trl_ppo_v1", 2)
    write_jsonl(os.path.join(out, "ppo-healthy.jsonl"), s.steps, c)
    s, c = cols("kl_blowup", "trl_ppo_v1", 3)
    os.makedirs(os.path.join(out, "ppo-kl-blowup", "tb"))
    write_tensorboard(os.path.join(out, "ppo-kl-blowup", "tb", "events.out.tfevents.1795581000.host.2.0"), s.steps, c)
    s, c = cols("gradient_explosion", "trl_ppo_v1", 4)
    write_csv(os.path.join(out, "ppo-grad-explosion.csv"), s.steps, c)
    # Checkpoints: the newest one's trainer_state.json holds the whole history.
    s, c = cols("vanishing_gradients", "trl_ppo_v1", 5)
    for upto in (ROWS // 2, ROWS):
        d = os.path.join(out, "ppo-vanishing", f"checkpoint-{upto}")
        os.makedirs(d)
        write_trainer_state(os.path.join(d, "trainer_state.json"), s.steps[:upto], {k: v[:upto] for k, v in c.items()})
    # NaNs, plus the damage real logs have: a string where a number belongs and a last line
    # cut short by a crash.
    s, c = cols("nan_injection", "trl_ppo_v1", 6)
    os.makedirs(os.path.join(out, "ppo-nan"))
    path = os.path.join(out, "ppo-nan", "log.jsonl")
    write_jsonl(path, s.steps, c)
    with open(path, encoding="utf-8") as f:
        lines = f.readlines()
    lines[100] = lines[100].replace('"ppo/mean_scores": ', '"ppo/mean_scores": "n/a", "x": ', 1)
    lines[-1] = lines[-1][: len(lines[-1]) // 2]
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(lines)
    # TRL GRPO/RLOO runs with the trainers' own keys (trl 1.16), for the trainer-signal rules:
    # a GRPO run whose policy collapses, and a GRPO run whose completions run into the cap.
    grpo = generate_trainer_run("grpo_policy_collapse", 7, ROWS)
    grpo.write_trainer_state(os.path.join(out, "grpo-policy-collapse"))
    truncated = generate_trainer_run("grpo_truncation_saturation", 8, ROWS)
    truncated.write_jsonl(os.path.join(out, "grpo-truncation.jsonl"))
    print(f"wrote {sum(len(fs) for _, _, fs in os.walk(out))} files under {out}")


if __name__ == "__main__":
    main()
