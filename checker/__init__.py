"""kspec's checker: engines, traces, replay, rendering and the CLI.

The checker sees the spec only through the model interface
(:mod:`spec.model`), its state type and, in later engines, its invariants.
"""
