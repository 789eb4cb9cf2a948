"""Response records for length-bias detection, read from RLDK's payload shapes.

A record is a reward and a length. The length is the record's ``length`` (or
``response_length``) when given, else the number of *characters* of its ``response`` (or
``response_text``), as RLDK measured it; pass token counts as lengths to analyse tokens.
Records without a reward are skipped (RLDK's rule); a record with neither a length nor a
text keeps a NaN length, which the detector counts as invalid rather than dropping it
silently.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from typing import Any

logger = logging.getLogger("rlforensics.forensics")


def _first(record: Mapping[str, Any], *keys: str) -> Any:
    """The value of the first key present with a non-None value."""
    for key in keys:
        value = record.get(key)
        if value is not None:
            return value
    return None


def _number(name: str, value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: cannot read {value!r} as a number") from None


class ResponseReader:
    """Turns payloads into (rewards, lengths) lists and remembers which length units it
    has seen, so that mixing token counts with character counts is reported once."""

    def __init__(self) -> None:
        self.text_lengths = 0
        self.given_lengths = 0
        self._warned = False

    def _length(self, record: Mapping[str, Any]) -> float:
        length = _first(record, "length", "response_length")
        if length is not None:
            self.given_lengths += 1
            try:
                return float(length)
            except (TypeError, ValueError):
                return math.nan
        text = _first(record, "response", "response_text")
        if text is not None:
            self.text_lengths += 1
            return float(len(str(text)))
        return math.nan

    def warn_if_mixed(self) -> None:
        if self.text_lengths and self.given_lengths and not self._warned:
            self._warned = True
            logger.warning(
                "length bias: some records give a length and others only a text, measured "
                "in characters; give response_length for every record to compare like "
                "with like"
            )

    def records(self, payload: Any) -> tuple[list[float], list[float]]:
        """Rewards and lengths of a record, a sequence of records, or a column batch
        ``{"rewards": [...], "response_lengths"|"lengths": [...], "responses": [...]}``."""
        rewards: list[float] = []
        lengths: list[float] = []
        if payload is None:
            return rewards, lengths
        if isinstance(payload, Mapping) and isinstance(payload.get("rewards"), Iterable):
            rs = list(payload["rewards"])
            ls = _first(payload, "response_lengths", "lengths")
            texts = _first(payload, "responses", "response_texts")
            ls = list(ls) if ls is not None else None
            texts = list(texts) if texts is not None else None
            for i, r in enumerate(rs):
                rec: dict[str, Any] = {"reward": r}
                if ls is not None and i < len(ls):
                    rec["length"] = ls[i]
                if texts is not None and i < len(texts):
                    rec["response"] = texts[i]
                self._add(rec, rewards, lengths)
        elif isinstance(payload, Mapping):
            self._add(payload, rewards, lengths)
        elif isinstance(payload, Iterable) and not isinstance(payload, (str, bytes)):
            for rec in payload:
                if isinstance(rec, Mapping):
                    self._add(rec, rewards, lengths)
        self.warn_if_mixed()
        return rewards, lengths

    def _add(self, record: Mapping[str, Any], rewards: list[float], lengths: list[float]) -> None:
        reward = _first(record, "reward", "response_reward")
        if reward is None:
            return
        rewards.append(_number("reward", reward))
        lengths.append(self._length(record))

    def single(
        self, reward: Any, length: Any, text: Any
    ) -> tuple[list[float], list[float]]:
        """The record given by ``update``'s ``response_reward/length/text`` arguments."""
        if reward is None or (length is None and text is None):
            return [], []
        return self.records({"reward": reward, "length": length, "response": text})
