"""The README's code block is executed, so the front page never shows code that fails."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_block_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "README has no python example"
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)  # noqa: S102 - our own README
    # The example's last line classifies a constant coefficient as "no controller".
    stats = namespace["stats"]
    kl = namespace["kl"]
    assert stats.controller_metrics(kl, namespace["coef"], 0.1, 0.02)["controller"] == "fixed"  # type: ignore[attr-defined]
