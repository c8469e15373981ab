"""The ``kspec`` command line.

Exit codes: 0 success; 2 bad usage or input, reported as one line on stderr
(``kspec: error: ...``) naming what was wrong and the close matches, never a
traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import attrs
import click

from checker import check as checking
from checker import concolic, induction, numbers, render_formats, usermodel
from checker import trace as tracefmt
from checker.bmc import engine as bmc
from checker.explore import ORDERS, Limits, Progress
from checker.graphs import check_graph_path
from checker.hypothesis_engine import Coverage
from checker.junit import write_cover_junit, write_junit, write_prove_junit
from checker.render import cluster_tables, format_tables
from checker.replay import model_for
from checker.replay import replay as replay_trace
from checker.simulate import random_walk
from spec.errors import KspecError, UnknownNameError
from spec.manifests import scenario_from_manifests
from spec.model import KubeModel
from spec.scenarios import CLUSTERS, SCENARIOS, Scenario, get_scenario
from spec.variants import DEFAULT, SHORTEST, VARIANTS, Variant, get_variant

EXIT_OK, EXIT_VIOLATION, EXIT_USAGE = 0, 1, 2


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """kspec: an executable specification of the Kubernetes control plane, and a model checker for it."""


@cli.command()
def scenarios() -> None:
    """List the built-in scenarios, one line each, then the small clusters where each bug's shortest counterexample is within reach."""
    width = max(len(name) for name in (*SCENARIOS, *CLUSTERS))
    for name, scenario in SCENARIOS.items():
        click.echo(f"{name.ljust(width)}  {scenario.summary}")
    click.echo("\nsmall clusters, not in the default sweep (spec.variants.SHORTEST: where each bug's shortest counterexample is within reach):")
    for name, scenario in CLUSTERS.items():
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


@cli.command()
def variants() -> None:
    """List the behaviour variants: what each changes, the invariant it breaks, its witness scenario and reference."""
    for v in VARIANTS.values():
        if v is DEFAULT:
            click.echo(f"{v.name}: {v.summary}")
            continue
        click.echo(f"{v.name} ({v.component}): {v.summary}")
        click.echo(f"    breaks {', '.join(v.breaks)} on scenario {v.witness}; reference: {v.reference}")


@cli.command()
@click.option("--model", "model_file", type=click.Path(dir_okay=False), default=None, help="also list the invariants of this model file (it is run)")
def invariants(model_file: str | None) -> None:
    """List the invariants with their kind and the property they state; "(kspec prove)" marks those it can prove for every depth."""
    catalogue = usermodel.invariant_catalogue(usermodel.load(model_file) if model_file else None)
    width = max(len(name) for name in catalogue)
    for inv in catalogue.values():
        provable = " (kspec prove)" if inv.name in induction.ABSTRACTIONS else ""
        click.echo(f"{inv.name.ljust(width)}  {inv.kind:<10}  {inv.summary}{provable}")


F = TypeVar("F", bound=Callable[..., Any])


def _manifest_options(verb: str) -> Callable[[F], F]:
    """--manifests and the node options that go with it, for a command that will ``verb`` the cluster they create."""

    needs = "with --manifests and no Node in them:"
    options = [
        click.option(
            "--manifests", "manifest_paths", multiple=True, help=f"{verb} the cluster these YAML files or folders create, instead of a --scenario"
        ),
        click.option("--nodes", type=click.IntRange(min=1), default=None, help=f"{needs} how many nodes [default: 2]"),
        click.option("--node-cpu", default=None, help=f"{needs} each node's cpu, a quantity [default: 2]"),
        click.option("--node-memory", default=None, help=f"{needs} each node's memory, a quantity [default: 4Gi]"),
    ]

    def decorate(command: F) -> F:
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


EXIT_UNKNOWN = 3
"""kspec prove: neither proved nor refuted"""


@cli.command()
@click.option(
    "--invariant",
    "invariant_names",
    multiple=True,
    help=f"the invariant to prove, repeatable [default: every one with an abstraction: {', '.join(induction.ABSTRACTIONS)}]",
)
@click.option(
    "--scenario", "scenario_name", default=None, help="built-in scenario, or 'all': its initial objects start the induction [default: basic]"
)
@_manifest_options("prove it on")
@click.option("--variant", "variant_name", default="default", show_default=True, help="behaviour variant")
@click.option("--max-k", type=click.IntRange(min=1, max=50), default=10, show_default=True, help="the largest induction depth tried")
@click.option(
    "--time-limit",
    type=click.FloatRange(min=0),
    default=20.0,
    show_default=True,
    help="where the abstraction breaks it: seconds of breadth-first search of the model (0: skip)",
)
@click.option("--max-examples", type=click.IntRange(min=1), default=300, show_default=True, help="then, if that found nothing: Hypothesis examples")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="kspec-out", show_default=True, help="where a counterexample is written")
@click.option("--walks", type=click.IntRange(min=0), default=10, show_default=True, help="seeded random runs to check the premise on (0: none)")
@click.option("--json", "json_file", type=click.Path(dir_okay=False), default=None, help="also write the outcomes as JSON")
@click.option("--junit", "junit_file", type=click.Path(dir_okay=False), default=None, help="also write a JUnit XML report (one case per invariant)")
def prove(
    invariant_names: tuple[str, ...],
    scenario_name: str | None,
    manifest_paths: tuple[str, ...],
    nodes: int | None,
    node_cpu: str | None,
    node_memory: str | None,
    variant_name: str,
    max_k: int,
    time_limit: float,
    max_examples: int,
    out_dir: str,
    walks: int,
    json_file: str | None,
    junit_file: str | None,
) -> int:
    """Prove invariants for every depth by k-induction over what the components change.

    Exit 1 if one is refuted, else 3 if one is unknown, else 0 (all proved).
    """
    node_options = (nodes, node_cpu, node_memory)
    runs = _manifest_runs(manifest_paths, scenario_name, variant_name, node_options) or _runs(scenario_name or "basic", variant_name)
    names = list(dict.fromkeys(invariant_names)) or list(induction.ABSTRACTIONS)
    models = [KubeModel(scenario, variant) for scenario, variant in runs]
    for model in models:
        for name in names:
            induction.abstraction_for(model, name)  # every name is checked on every scenario before the first proof
    outcomes = []
    search = induction.Search(time_limit, max_examples)
    for model in models:
        runs_to_check = induction.premise_walks(model, walks)
        for name in names:
            outcomes.append(induction.prove_invariant(model.scenario, model.variant, name, max_k, Path(out_dir), search, runs_to_check))
            click.echo(induction.format_outcome(outcomes[-1]))
    if json_file:
        tracefmt.write_json(induction.to_json(outcomes), json_file)
    if junit_file:
        write_prove_junit(outcomes, junit_file)
    verdicts = {o.verdict for o in outcomes}
    return EXIT_VIOLATION if induction.REFUTED in verdicts else EXIT_UNKNOWN if induction.UNDECIDED in verdicts else EXIT_OK


def _runs(scenario_name: str | None, variant_name: str | None, user: usermodel.ModelFile | None = None) -> list[tuple[Scenario, Variant]]:
    """What ``check`` runs: every scenario with the default variant, or a variant on its witness scenario (a model file's SCENARIO if it has one)."""
    variant = get_variant(variant_name) if variant_name else DEFAULT
    mine = [user.scenario] if user is not None and user.scenario is not None and user.scenario.name not in SCENARIOS else []
    if scenario_name is None and user is not None and user.scenario is not None:
        return [(user.scenario, variant)]
    if scenario_name == "all" or (scenario_name is None and variant is DEFAULT):
        return [(s, variant) for s in (*SCENARIOS.values(), *mine)]
    if scenario_name is None:
        return [(get_scenario(variant.witness), variant)]
    return [(usermodel.get_scenario(scenario_name, user, where="--scenario"), variant)]


def _manifest_runs(
    paths: tuple[str, ...], scenario_name: str | None, variant_name: str | None, node_options: tuple[int | None, str | None, str | None]
) -> list[tuple[Scenario, Variant]]:
    """``check --manifests``: one run on the cluster the manifests create (its warnings on stderr); [] without --manifests."""
    if not paths:
        if node_options != (None, None, None):
            raise click.UsageError("--nodes, --node-cpu and --node-memory need --manifests")
        return []
    if scenario_name is not None:
        raise click.UsageError("--manifests and --scenario cannot be combined: the manifests are the scenario")
    loaded = scenario_from_manifests(paths, *node_options)
    for warning in loaded.warnings:
        click.echo(f"kspec: warning: {_one_line(warning)}", err=True)
    return [(loaded.scenario, get_variant(variant_name) if variant_name else DEFAULT)]


@cli.command()
@click.option("--scenario", "scenario_name", default=None, help="built-in scenario, or 'all' [default: all; a variant's witness with --variant]")
@click.option("--variant", "variant_name", default=None, help="behaviour variant (see `kspec variants`) [default: default]")
@click.option("--model", "model_file", type=click.Path(dir_okay=False), default=None, help="your own components and invariants (a Python file, run)")
@_manifest_options("check")
@click.option("--engine", type=click.Choice(checking.ENGINES), default="hypothesis", show_default=True, help="search engine")
@click.option("--invariant", "invariant_names", multiple=True, help="check only this invariant (repeatable) [default: all]")
@click.option("--seed", type=int, default=0, show_default=True, help="seed; the same seed finds the same counterexample (hypothesis)")
@click.option("--max-examples", type=click.IntRange(min=1), default=300, show_default=True, help="examples per scenario (hypothesis)")
@click.option("--order", type=click.Choice(ORDERS), default="bfs", show_default=True, help="search order (explore); bfs: shortest counterexamples")
@click.option(
    "--depth",
    type=click.IntRange(min=0),
    default=None,
    help="do not expand states deeper than this (explore); the bound (z3: 10 if not given) [default: no bound]",
)
@click.option("--max-states", type=click.IntRange(min=1), default=None, help="stop after this many distinct states (explore) [default: no bound]")
@click.option("--time-limit", type=click.FloatRange(min=0), default=None, help="stop after this many seconds a run (explore, z3) [default: none]")
@click.option("--graph", "graph_file", type=click.Path(dir_okay=False), default=None, help="write the reachable graph (explore): .graphml or .dot")
@click.option(
    "--workers", type=click.IntRange(min=1), default=1, show_default=True, help="processes: runs at once (hypothesis), one search (explore)"
)
@click.option("--eventually", is_flag=True, default=False, help="also check converges and binds: doomed states, fair livelocks (explore)")
@click.option("--symmetry", is_flag=True, default=False, help="visit states that differ only by renaming interchangeable nodes once (explore)")
@click.option("--require-coverage", is_flag=True, default=False, help="fail (exit 1) when some kind of action never fired (explore)")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="kspec-out", show_default=True, help="folder for counterexamples")
@click.option("--json", "json_file", type=click.Path(dir_okay=False), default=None, help="also write the results as JSON")
@click.option("--junit", "junit_file", type=click.Path(dir_okay=False), default=None, help="also write a JUnit XML report (one case per invariant)")
@click.option(
    "--symbolic",
    default=None,
    help=f"leave these numbers ({','.join(concolic.KINDS)}) to Z3, each from 1 to 4 times its value: hypothesis: the values for which each"
    " counterexample breaks; explore: every interleaving for every value, cell by cell",
)
def check(
    scenario_name: str | None,
    variant_name: str | None,
    model_file: str | None,
    manifest_paths: tuple[str, ...],
    nodes: int | None,
    node_cpu: str | None,
    node_memory: str | None,
    engine: str,
    invariant_names: tuple[str, ...],
    seed: int,
    max_examples: int,
    order: str,
    depth: int | None,
    max_states: int | None,
    time_limit: float | None,
    graph_file: str | None,
    workers: int,
    eventually: bool,
    symmetry: bool,
    require_coverage: bool,
    out_dir: str,
    json_file: str | None,
    junit_file: str | None,
    symbolic: str | None,
) -> int:
    """Search for interleavings that break the invariants; exit 1 if one is broken."""
    kinds = _symbolic_kinds(symbolic)
    user = usermodel.load(model_file) if model_file else None
    for name in invariant_names:
        usermodel.get_invariant(name, user, where="--invariant")
    if user is not None and symmetry:
        raise click.UsageError("--symmetry is not available with --model: the node symmetry is verified for the built-in components only")
    runs = _manifest_runs(manifest_paths, scenario_name, variant_name, (nodes, node_cpu, node_memory)) or _runs(scenario_name, variant_name, user)
    explore_only = graph_file or eventually or symmetry or require_coverage or max_states
    if engine != checking.EXPLORE and (explore_only or (engine != checking.Z3 and (depth is not None or time_limit is not None))):
        raise click.UsageError(
            "--max-states, --graph, --eventually, --symmetry and --require-coverage need --engine explore; --depth and --time-limit"
            " need --engine explore or z3"
        )
    if workers > 1 and engine == checking.EXPLORE and order != "bfs" and len(runs) == 1:
        raise click.UsageError("--workers with a single explorer run spreads a breadth-first search: it needs --order bfs")
    if graph_file and len(runs) > 1:
        raise click.UsageError("--graph needs a single run: choose one --scenario")
    if graph_file:
        check_graph_path(graph_file)
    total = len(runs)
    done = [0]

    def progress(report: checking.RunReport) -> None:
        done[0] += 1
        if total > 1:
            click.echo(f"[{done[0]}/{total}] {report.scenario} / {report.variant}: {report.coverage.describe()}", err=True)

    def searching(p: Progress) -> None:
        click.echo(f"  ... {p.states:,} states ({p.rate:,.0f}/s), {p.transitions:,} transitions, depth {p.depth}, queue {p.queue:,}", err=True)

    def refuted(depth: int, seconds: float) -> None:
        click.echo(f"  ... every run of {depth} steps refuted ({seconds:.1f} s)", err=True)

    limits = Limits(depth, max_states, time_limit)
    if kinds and engine == checking.EXPLORE:
        others = {"--graph": graph_file, "--eventually": eventually, "--symmetry": symmetry, "--require-coverage": require_coverage}
        others |= {"--workers": workers > 1, "--order dfs": order != "bfs"}
        refused = [k for k, v in others.items() if v]
        outputs = _CoverOutputs(Path(out_dir), json_file, junit_file)
        return _cover_numbers(runs, list(invariant_names), kinds, limits, outputs, refused, user)
    graph = Path(graph_file) if graph_file else None
    options = checking.ExploreOptions(order, limits, graph, eventually, workers, searching, refuted=refuted, symmetry=symmetry)
    out = Path(out_dir)
    reports = checking.check_all(
        runs,
        list(invariant_names),
        seed=seed,
        max_examples=max_examples,
        out=out,
        progress=progress,
        engine=engine,
        explore_options=options,
        user=user,
        jobs=workers,
    )
    for report in reports:
        _print_report(report, engine, seed)
        if kinds and report.trace is not None and report.trace.invariant is not None:
            click.echo(_region_text(report.trace, report.saved or "the counterexample", kinds, user))
    if json_file:
        tracefmt.write_json(checking.to_json(reports), json_file)
    if junit_file:
        write_junit(reports, junit_file, seed=seed, model_of=lambda trace, source: model_for(trace, source, user=user))
    violated = [r for r in reports if r.violated]
    if violated:
        click.echo(f"result: {len(violated)} of {len(reports)} runs found a violation")
        return EXIT_VIOLATION
    uncovered = [r for r in reports if isinstance(r.coverage, checking.ExploreCoverage) and r.coverage.result.never_fired]
    if engine == checking.EXPLORE:
        click.echo(f"result: no invariant violated in {len(reports)} runs ({_extent(reports)})")
    elif engine == checking.Z3:
        click.echo(f"result: no invariant violated in {len(reports)} runs ({_bmc_extent(reports)})")
    else:
        examples = sum(r.coverage.examples for r in reports if isinstance(r.coverage, Coverage))
        steps = sum(r.coverage.steps for r in reports if isinstance(r.coverage, Coverage))
        click.echo(f"result: no invariant violated in {len(reports)} runs ({examples:,} examples, {steps:,} steps; a bounded search, not a proof)")
    if require_coverage and uncovered:
        click.echo(f"result: --require-coverage: some kinds of action never fired in {len(uncovered)} of {len(reports)} runs")
        return EXIT_VIOLATION
    return EXIT_OK


@attrs.frozen
class _CoverOutputs:
    """Where a cover's results go: the counterexamples' folder, and the summary files asked for."""

    out: Path
    json_file: str | None
    junit_file: str | None


def _cover_numbers(
    runs: Sequence[tuple[Scenario, Variant]],
    invariants: list[str],
    kinds: list[str],
    limits: Limits,
    outputs: _CoverOutputs,
    refused: list[str],
    user: usermodel.ModelFile | None,
) -> int:
    """``check --engine explore --symbolic``: every interleaving within the limits, for every number of ``kinds`` in its range."""
    if refused:
        raise click.UsageError(f"--engine explore --symbolic explores every number cell by cell; it takes none of {', '.join(refused)}")

    def progress(cell: numbers.Cell) -> None:
        click.echo(f"  ... {cell.verdict} with {numbers.format_numbers(cell.witness)} ({cell.result.states:,} states)", err=True)

    covers = []
    for scenario, variant in runs:
        covers.append(numbers.cover(scenario, variant, invariants, kinds, limits, outputs.out, progress, user=user))
        click.echo(numbers.format_cover(covers[-1]))
    if outputs.json_file:
        tracefmt.write_json(numbers.to_json(covers), outputs.json_file)
    if outputs.junit_file:
        write_cover_junit(covers, outputs.junit_file, model_of=lambda trace, source: model_for(trace, source, user=user))
    violated = [c for c in covers if c.violated]
    if violated:
        click.echo(f"result: {len(violated)} of {len(covers)} runs found a violation for some numbers")
        return EXIT_VIOLATION
    uncovered = sum(1 for c in covers if not c.covered)
    how = "every number in the ranges" if not uncovered else f"not every number: {uncovered} of {len(covers)} runs stopped before covering them"
    click.echo(f"result: no invariant violated in {len(covers)} runs ({how}; within each run's depth bound, not a proof beyond it)")
    return EXIT_OK


def _extent(reports: Sequence[checking.RunReport]) -> str:
    complete = sum(1 for r in reports if isinstance(r.coverage, checking.ExploreCoverage) and r.coverage.result.complete)
    if complete == len(reports):
        return "every reachable state of each scenario's finite instance was checked"
    return f"{complete} of {len(reports)} searches complete; the others stopped at a bound, so this is not a proof"


def _bmc_extent(reports: Sequence[checking.RunReport]) -> str:
    """What the Z3 runs covered: the depths, and that only the encoded actions and invariants were searched."""
    covered = [r.coverage for r in reports if isinstance(r.coverage, bmc.BmcCoverage)]
    searched = [c for c in covered if c.stopped != "nothing to judge"]
    if not searched:
        return "no run searched: no selected invariant has an encoding yet (see each run); nothing was checked"
    depths = sorted({c.depth for c in searched})
    span = f"depth {depths[0]}" if len(depths) == 1 else f"depths {depths[0]} to {depths[-1]}"
    partial = any(c.not_encoded or c.unjudged for c in covered)
    left_out = "; only the encoded actions and invariants (see each run)" if partial else ""
    return f"every run of the encoded actions to {span}{left_out}; a bounded search, not a proof"


def _print_report(report: checking.RunReport, engine: str, seed: int) -> None:
    how = f"{engine}, seed {seed}" if engine == checking.HYPOTHESIS else engine
    click.echo(f"scenario {report.scenario}, variant {report.variant} ({how}): {report.coverage.describe()}")
    for name, verdict in report.verdicts:
        line = f"  {verdict:<12} {name}"
        if verdict == checking.VIOLATED and report.trace is not None:
            line += f": {report.trace.message} ({len(report.trace.steps)} steps; saved {report.saved})"
        click.echo(line)
    if report.trace is not None and report.trace.invariant is None:
        click.echo(f"  violated     {report.trace.message} ({len(report.trace.steps)} steps; saved {report.saved})")
    if isinstance(report.coverage, checking.ExploreCoverage) and report.coverage.result.never_fired:
        click.echo(f"  never fired: {', '.join(report.coverage.result.never_fired)}")
    hint = _within_reach(report, engine)
    if hint:
        click.echo(hint)


def _within_reach(report: checking.RunReport, engine: str) -> str:
    """Where an exhaustive search of a bug variant found nothing on one scenario: the cluster where its shortest run is within reach."""
    row = SHORTEST.get(report.variant)
    if engine == checking.HYPOTHESIS or row is None or row.scenario == report.scenario or (row.invariant, checking.HOLDS) not in report.verdicts:
        return ""
    command = f"kspec check --engine {engine} --scenario {row.scenario} --variant {report.variant} --invariant {row.invariant}"
    return f"  within reach: {report.variant} breaks {row.invariant} in {row.steps} steps on {row.scenario} ({command})"


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--variant", "variant_name", default=None, help="replay against another variant (digests are not checked)")
@click.option("--tables/--no-tables", default=True, show_default=True, help="print the cluster tables after every step")
@click.option("--model", "model_file", type=click.Path(dir_okay=False), default=None, help="the model file the trace was found with (it is run)")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(render_formats.FORMATS),
    default="text",
    show_default=True,
    help="text: the steps and tables; mermaid: a sequenceDiagram; html: one self-contained report; itf: Apalache/Quint ITF JSON; "
    "dot: the run as a Graphviz digraph (the explorer's whole graph: kspec check --engine explore --graph FILE.dot)",
)
@click.option("--out", "-o", "out_file", type=click.Path(dir_okay=False), default=None, help="write the rendering to FILE atomically, not stdout")
@click.option(
    "--symbolic",
    "symbolic",
    default=None,
    help=f"leave these numbers to Z3 ({', '.join(concolic.KINDS)}, comma-separated) and print for which values the same steps break the invariant",
)
def replay(file: str, variant_name: str | None, tables: bool, model_file: str | None, fmt: str, out_file: str | None, symbolic: str | None) -> int:
    """Re-execute a trace step by step; exit 1 if its violation still reproduces, 0 if not."""
    trace = tracefmt.load(file)
    if symbolic is not None:
        return _symbolic_replay(trace, file, symbolic, (variant_name, model_file, fmt, out_file))
    user = usermodel.load(model_file) if model_file else None
    note = usermodel.drift(trace.model_file, user)
    if note:
        click.echo(note, err=fmt != "text" or out_file is not None)
    result = replay_trace(trace, file, variant_name, user)
    rendering = render_formats.render(fmt, trace, result, file, tables)
    if out_file is None:
        click.echo(rendering, nl=False)
    else:
        tracefmt.write_text(rendering, out_file)
        click.echo(f"wrote {out_file} ({fmt}): {result.summary}", err=True)
    return EXIT_VIOLATION if result.reproduced else EXIT_OK


def _symbolic_kinds(symbolic: str | None) -> list[str]:
    """The kinds of number ``--symbolic`` names ([] without it); one usage-error line for an unknown one."""
    if symbolic is None:
        return []
    kinds = [k.strip() for k in symbolic.split(",") if k.strip()]
    for kind in kinds or [symbolic]:
        if kind not in concolic.KINDS:
            raise UnknownNameError("kind of number", kind, concolic.KINDS, where="--symbolic")
    return kinds


def _region_text(trace: tracefmt.Trace, source: str, kinds: list[str], user: usermodel.ModelFile | None) -> str:
    """The numbers for which the trace's steps break its (safety) invariant, as printed (checker.concolic)."""
    assert trace.invariant is not None
    model = model_for(trace, source, user=user)
    region = concolic.region(model.scenario, model.variant, [s.action for s in trace.steps], trace.invariant, kinds, user)
    return concolic.format_region(region, source, kinds)


def _symbolic_replay(trace: tracefmt.Trace, file: str, symbolic: str, others: tuple[str | None, ...]) -> int:
    """``replay --symbolic``: the region of numbers for which the trace's steps break its invariant."""
    kinds = _symbolic_kinds(symbolic)
    if (others[0], *others[2:]) != (None, "text", None):
        raise click.UsageError("--symbolic prints the region only: it takes none of --variant, --format and --out")
    user = usermodel.load(others[1]) if others[1] else None
    if trace.invariant is None or trace.loop_start is not None:
        raise click.UsageError(f"--symbolic needs a trace that breaks a safety invariant; {file} is a trace of an eventual property")
    note = usermodel.drift(trace.model_file, user)
    if note:
        click.echo(note)
    result = replay_trace(trace, file, user=user)
    if not result.reproduced:
        click.echo(f"{file}: {result.summary}; nothing to solve")
        return EXIT_OK
    click.echo(_region_text(trace, file, kinds, user), nl=False)
    return EXIT_VIOLATION


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
