"""Bounded model checking of the Kubernetes model with Z3 (``kspec check --engine z3``).

A finite instance of a scenario (its object slots, watches and budgets) is
encoded as Z3 *frames*, one per state of a run: named cells (the store's
revision, each object slot's fields, each watch's cursor, each budget) that
the encoded actions update. A run of depth K is K+1 frames and K action
choices; every other cell keeps its value (the UNCHANGED of TLA+). The watch
history is the unrolling itself: the event of revision r is the write of
the step that reached it, so a lagging list (the store as of an older
revision) reads an earlier frame, and the initial state's own history is
concrete.

The encoding is written a second time beside the executable spec, one
module per component as in ``spec/`` (``apiserver``, ``informer``,
``replicaset``, ``scheduler``, ``kubelet``, ``nodelifecycle``, ``tainteviction``,
``endpoints``, ``kubeproxy``, ``environment``), and
``tests/test_bmc.py`` keeps the two in lockstep: along Hypothesis-drawn
runs of the encoded actions, each frame is the state's abstraction, an
action is enabled in Z3 exactly when the catalogue offers it, and the next
frame Z3 admits is exactly the abstraction of the executable successor.

What is not encoded is said, never hidden: an action of the catalogue the
encoding does not cover is left out of the runs Z3 searches, and
``kspec check --engine z3`` lists it; an invariant without an encoding is
reported as not checked. Runs of the encoded actions are runs of the model,
so every counterexample is real: it is decoded into the catalogue's
actions, re-executed through the executable spec and replayed before it is
reported (one that does not re-execute is an encoding bug,
:class:`EncodingError`). A bounded run that finds nothing covers the runs of
the encoded actions up to its depth; it is not a proof.
"""
