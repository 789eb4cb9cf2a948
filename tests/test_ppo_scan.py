"""scan_ppo_events: RLDK's version-"1" schema and checklist facts, and the fixes."""

from __future__ import annotations

import logging

import numpy as np
import pytest

import rlforensics
from rlforensics.forensics.ppo_scan import scan_ppo_events


def events(n=100, kl=lambda i: 0.05 + 0.0001 * (i % 100), **extra):
    for i in range(n):
        e = {"step": i, "kl": kl(i), "kl_coef": 0.1, "entropy": 2.0}
        e.update({k: f(i) for k, f in extra.items()})
        yield e


def check_schema(report: dict) -> None:
    assert report["version"] == "1"
    assert isinstance(report["rules_fired"], list) and isinstance(report["stats"], dict)
    assert report["earliest_step"] is None or isinstance(report["earliest_step"], int)
    for r in report["rules_fired"]:
        assert isinstance(r["rule"], str) and isinstance(r["description"], str)
        lo, hi = r["step_range"]
        assert isinstance(lo, int) and isinstance(hi, int) and lo <= hi
    for key in ("kl_median", "grad_ratio_median"):
        if key in report["stats"]:
            assert isinstance(report["stats"][key], float)


def test_exported_from_the_package():
    assert rlforensics.scan_ppo_events is scan_ppo_events is rlforensics.forensics.scan_ppo_events


def test_clean_log_fires_nothing():
    report = scan_ppo_events(events(kl=lambda i: 0.05 + 0.01 * (i % 2)))
    check_schema(report)
    assert report["rules_fired"] == [] and report["earliest_step"] == 0
    assert report["stats"]["kl_median"] == pytest.approx(0.055)


def test_kl_jump_at_50_is_a_spike_from_50_to_the_end():
    report = scan_ppo_events(events(kl=lambda i: 0.05 if i < 50 else 0.5))
    check_schema(report)
    spikes = [r for r in report["rules_fired"] if r["rule"] == "kl_spike"]
    assert len(spikes) == 1 and spikes[0]["step_range"] == [50, 99]


def test_grad_ratio_from_step_50():
    report = scan_ppo_events(
        events(grad_norm_policy=lambda i: 5.0 if i >= 50 else 1.0, grad_norm_value=lambda i: 0.3)
    )
    rules = {r["rule"] for r in report["rules_fired"]}
    assert "grad_ratio_high" in rules
    assert report["stats"]["grad_ratio_median"] > 0


def test_empty_and_tiny_inputs():
    for empty in (iter([]), [], None, 42):
        report = scan_ppo_events(empty)  # type: ignore[arg-type]
        check_schema(report)
        assert report == {"version": "1", "rules_fired": [], "earliest_step": None, "stats": {}}
    report = scan_ppo_events(iter([{"step": 0, "kl": 0.1}, {"step": 1, "kl": 0.1}]))
    assert report["earliest_step"] == 0 and report["rules_fired"] == []


def test_log_without_kl_fires_no_kl_rule():
    # RLDK filled the missing KL with 0.0: "kl_controller_stuck" over steps 0-19.
    report = scan_ppo_events({"step": i, "reward": 1.0} for i in range(20))
    assert report["rules_fired"] == [] and "kl_median" not in report["stats"]


def test_noise_does_not_look_like_reward_hacking():
    rng = np.random.default_rng(0)
    noise = rng.standard_normal((3, 20_000))
    report = scan_ppo_events(
        {"step": i, "kl": 0.1 + 0.01 * noise[0, i], "entropy": 2 + 0.1 * noise[1, i],
         "advantage_mean": 0.1 * noise[2, i], "kl_coef": 0.1}
        for i in range(20_000)
    )
    hacking = [r for r in report["rules_fired"] if r["rule"] == "advantage_reward_hacking"]
    # RLDK fired on about one 6-event window in eight (about 2,500 rules here).
    assert len(hacking) <= 2


def test_sustained_reward_hacking_is_one_rule():
    report = scan_ppo_events(
        {"step": i, "kl": 0.05 + (0.002 * (i - 40) if i >= 40 else 0.0),
         "entropy": 2.0 - (0.01 * (i - 40) if i >= 40 else 0.0),
         "advantage_mean": 0.01 * (i - 40) if i >= 40 else 0.0, "kl_coef": 0.1}
        for i in range(80)
    )
    hacking = [r for r in report["rules_fired"] if r["rule"] == "advantage_reward_hacking"]
    assert len(hacking) == 1 and hacking[0]["step_range"][0] >= 31


def test_stuck_band_follows_the_target():
    evs = [{"step": i, "kl": 0.3, "kl_coef": 0.2} for i in range(40)]
    assert {r["rule"] for r in scan_ppo_events(evs)["rules_fired"]} == {"kl_controller_stuck"}
    assert scan_ppo_events(evs, kl_target=0.3)["rules_fired"] == []


def test_missing_steps_and_unreadable_values_are_reported(caplog):
    evs = [{"kl": 0.1}, {"step": 5, "kl": "oops"}, "not an event", {"step": 6, "kl": 0.1}]
    with caplog.at_level(logging.WARNING, logger="rlforensics.forensics"):
        report = scan_ppo_events(evs)
    text = caplog.text
    assert "carry no step" in text and "unreadable" in text and "not a mapping" in text
    assert report["earliest_step"] == 0


def test_input_is_consumed_once():
    seen = []

    def gen():
        for i in range(30):
            seen.append(i)
            yield {"step": i, "kl": 0.1}

    scan_ppo_events(gen())
    assert seen == list(range(30))
