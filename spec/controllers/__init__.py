"""The controllers of kube-controller-manager, one module each.

Simplification: each controller has its own informer caches and restarts on
its own; in kube-controller-manager they share one informer factory and one
process. Separate caches allow every lag the shared ones do, and more.
"""
