"""Shared pytest configuration: Hypothesis profiles.

Select a profile with the ``HYPOTHESIS_PROFILE`` environment variable:

* ``ci`` (default): no deadline (timings on shared CI runners are noisy), the example counts
  given in the tests.
* ``dev``: the same tests with about a fifth of the examples, for a quick local loop.

Tests that need a specific number of examples use ``helpers.examples(n)``, which scales ``n``
by the active profile, so that ``dev`` stays fast without editing every test.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    deadline=None,
    max_examples=50,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "dev",
    deadline=None,
    max_examples=10,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
