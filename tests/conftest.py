"""Test configuration: the Hypothesis profiles of checker.hypothesis_engine (registered there, in one place).

``ci`` is the default; choose another with ``pytest --hypothesis-profile=dev``.
"""

from __future__ import annotations

from hypothesis import settings

import checker.hypothesis_engine  # noqa: F401  (registers the ci, dev and deep profiles)

settings.load_profile("ci")
