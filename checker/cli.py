"""The ``kspec`` command line.

Exit codes: 0 success; 2 bad usage or input, reported as one line on stderr
(``kspec: error: ...``) naming what was wrong and the close matches, never a
traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from checker.render import cluster_tables, format_tables
from checker.simulate import random_walk
from spec.errors import KspecError
from spec.model import KubeModel
from spec.scenarios import SCENARIOS, get_scenario
from spec.variants import get_variant

EXIT_OK, EXIT_VIOLATION, EXIT_USAGE = 0, 1, 2


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """kspec: an executable specification of the Kubernetes control plane, and a model checker for it."""


@cli.command()
def scenarios() -> None:
    """List the built-in scenarios, one line each."""
    width = max(len(name) for name in SCENARIOS)
    for name, scenario in SCENARIOS.items():
        click.echo(f"{name.ljust(width)}  {scenario.summary}")


@cli.command()
@click.option("--scenario", "scenario_name", default="basic", show_default=True, help="built-in scenario (see `kspec scenarios`)")
@click.option("--variant", "variant_name", default="default", show_default=True, help="behaviour variant")
@click.option("--steps", type=click.IntRange(min=0), default=None, help="number of steps [default: the scenario's]")
@click.option("--seed", type=int, default=0, show_default=True, help="random seed; the same seed prints the same walk")
def simulate(scenario_name: str, variant_name: str, steps: int | None, seed: int) -> None:
    """Take a seeded random walk through the action catalogue and show the cluster at the end."""
    scenario = get_scenario(scenario_name)
    model = KubeModel(scenario, get_variant(variant_name))
    n = scenario.bounds.steps if steps is None else steps
    walk = random_walk(model, n, seed)
    click.echo(f"scenario {scenario.name}, variant {model.variant.name}, seed {seed}: {len(walk.steps)} steps")
    width = len(str(len(walk.steps)))
    for i, (action, _) in enumerate(walk.steps, start=1):
        params = " ".join(f"{k}={v}" for k, v in action.params)
        click.echo(f"{str(i).rjust(width)}  {action.component:<27} {action.name:<29} {params}".rstrip())
    if walk.stopped_early:
        click.echo("(no action enabled: the walk stopped early)")
    final = walk.final
    click.echo(f"\ncluster after {len(walk.steps)} steps (clock {final.clock}, revision {final.api.revision}):\n")
    click.echo(format_tables(cluster_tables(model.ctx, final)))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code; bad input is one line on stderr and exit code 2."""
    try:
        result = cli.main(args=list(argv) if argv is not None else None, prog_name="kspec", standalone_mode=False)
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.ClickException as e:
        click.echo(f"kspec: error: {_one_line(e.format_message())}", err=True)
        return EXIT_USAGE
    except KspecError as e:
        click.echo(f"kspec: error: {_one_line(str(e))}", err=True)
        return EXIT_USAGE
    except click.exceptions.Abort:
        click.echo("kspec: aborted", err=True)
        return 130
    return result if isinstance(result, int) else EXIT_OK


def _one_line(text: str) -> str:
    return " ".join(text.split())


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
