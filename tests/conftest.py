"""Test configuration: Hypothesis profiles, registered in one place.

- ``ci`` (the default): derandomized, no example database written, so every
  run of the suite tries the same examples;
- ``dev``: random examples and the local database, for exploring;
- ``deep``: many more examples, for runs behind the ``slow`` marker.

Choose one with ``pytest --hypothesis-profile=dev``.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None, max_examples=200)
settings.register_profile("deep", deadline=None, max_examples=5000, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci")
