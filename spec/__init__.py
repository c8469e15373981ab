"""kspec's executable specification of the Kubernetes control plane.

The model interface is in :mod:`spec.model`; the state in :mod:`spec.state`;
one module per component (``spec.apiserver``, ``spec.scheduler``,
``spec.kubelet``, ``spec.kubeproxy``, ``spec.controllers.*``); the
environment (users, faults, clock) in :mod:`spec.environment`; scenarios and
variants as data. ``spec`` never imports ``checker``.
"""

SPEC_VERSION = "1"
"""Bumped whenever a change to the spec can change a trace's states or actions."""
