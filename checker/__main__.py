"""``python -m checker`` runs the kspec CLI."""

from checker.cli import run

run()
