"""Models outside Kubernetes with published state counts, to calibrate the engines."""
