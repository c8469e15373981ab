"""The exhaustive explorer's figures: TwoPhase beside Spin, the built-in scenarios, and state-space growth.

    python benchmarks/explore.py [--twophase 3 5 6 7 8] [--no-spin] [--scenarios] [--growth DEPTH] [--variants SECONDS]
    python benchmarks/explore.py --symmetry DEPTH [--only NAME ...]
    python benchmarks/explore.py --pin tests/state_counts.json

*TwoPhase*: the TLA+ two-phase commit (tests/calibration/twophase.py) with N
resource managers, breadth-first: distinct states, seconds, states per
second and bytes per state of the level-at-a-time search (``checker.vector``,
which the explorer uses for guarded-command models), the seconds of the
state-by-state search (the one every other model takes); and, if Debian's ``spin``
and a C compiler are installed, Spin 6 on the same model (one ``d_step`` per
action instance, so that Spin's stored states are TLC's distinct states),
exhaustive, without partial-order reduction.

*Scenarios*: each built-in scenario explored breadth-first to the depth
pinned in tests/state_counts.json, and ``services`` completely: distinct
states, seconds, states per second, bytes per state, and the time with
``--workers`` processes (default 2).

*Variants* (``--variants SECONDS``): each bug variant on its witness
scenario, breadth-first within SECONDS, looking for the first invariant it
breaks; the counterexample's length beside the committed Hypothesis trace's.

*Symmetry* (``--symmetry DEPTH``): distinct states within DEPTH steps with
and without node symmetry reduction (``spec.symmetry``), and the seconds of
each, for every built-in scenario with interchangeable nodes and for two
3-node scenarios of identical nodes: a ReplicaSet of 3 from creation, and a
single pod while one node may crash or be partitioned.

*Growth*: distinct states within DEPTH steps of a settled cluster running a
ReplicaSet behind a Service, for 1 to 4 nodes and 1 to 4 replicas.

``--pin FILE`` explores every built-in scenario to the least depth with at
least 500 states, in both orders, and writes the manifest the tests check.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from calibration.twophase import TwoPhase  # noqa: E402

from checker.check import EXPLORE, ExploreCoverage, ExploreOptions, KubeProperties, check_one  # noqa: E402
from checker.explore import BFS, DFS, Limits, explore  # noqa: E402
from checker.trace import write_json  # noqa: E402
from spec.model import KubeModel  # noqa: E402
from spec.scenarios import SCENARIOS, Bounds, Scenario, Timing, container, fast_failover, get_scenario, node, replicaset, service  # noqa: E402
from spec.symmetry import interchangeable  # noqa: E402
from spec.variants import DEFAULT, VARIANTS  # noqa: E402

PIN_TARGET = 500
"""--pin chooses the least depth at which a scenario has at least this many states"""


def promela(n: int) -> str:
    """TwoPhase with ``n`` RMs in Promela, one d_step per action instance."""
    alts = []
    for r in range(n):
        alts += [
            f":: d_step {{ tm == 0 && msgPrepared[{r}] && !tmPrepared[{r}] -> tmPrepared[{r}] = 1 }}",
            f":: d_step {{ rm[{r}] == 0 -> rm[{r}] = 1; msgPrepared[{r}] = 1 }}",
            f":: d_step {{ rm[{r}] == 0 -> rm[{r}] = 3 }}",
            f":: d_step {{ msgCommit && rm[{r}] != 2 -> rm[{r}] = 2 }}",
            f":: d_step {{ msgAbort && rm[{r}] != 3 -> rm[{r}] = 3 }}",
        ]
    everyone = " && ".join(f"tmPrepared[{r}]" for r in range(n))
    alts += [f":: d_step {{ tm == 0 && {everyone} -> tm = 1; msgCommit = 1 }}", ":: d_step { tm == 0 -> tm = 2; msgAbort = 1 }"]
    body = "\n    ".join(alts)
    return (
        f"byte rm[{n}];\nbyte tm;\nbool tmPrepared[{n}];\nbool msgPrepared[{n}];\nbool msgCommit;\nbool msgAbort;\n"
        f"active proctype twophase() {{\nend: do\n    {body}\n  od\n}}\n"
    )


def run_spin(n: int) -> tuple[int, float] | None:
    """Spin's stored states and wall time (compile excluded) for TwoPhase ``n``, or None without spin/gcc."""
    if not (shutil.which("spin") and shutil.which("gcc")):
        return None
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "twophase.pml").write_text(promela(n))
        subprocess.run(["spin", "-a", "twophase.pml"], cwd=tmp, check=True, capture_output=True)
        subprocess.run(["gcc", "-O2", "-DNOREDUCE", "-DSAFETY", "-o", "pan", "pan.c"], cwd=tmp, check=True, capture_output=True)
        started = time.perf_counter()
        out = subprocess.run(["./pan", "-m1000"], cwd=tmp, check=True, capture_output=True, text=True).stdout
        seconds = time.perf_counter() - started
    stored = re.search(r"(\d+) states, stored", out)
    return (int(stored.group(1)), seconds) if stored else None


def twophase_rows(sizes: list[int], spin: bool) -> None:
    head = f"{'TwoPhase RMs':>12} {'states':>10} {'seconds':>8} {'states/s':>10} {'bytes/state':>11} {'per-state s':>11}"
    print(f"{head} {'spin states':>11} {'spin s':>7} {'ratio':>6}")
    for n in sizes:
        model = TwoPhase(n)
        result = explore(model, model.invariants)  # pattern invariants: searched a level at a time (checker.vector)
        one_by_one = explore(model, model.invariants, vectorise=False)
        assert one_by_one.states == result.states
        theirs = run_spin(n) if spin else None
        spin_states, spin_s, ratio = (f"{theirs[0]:,}", f"{theirs[1]:.2f}", f"{result.seconds / theirs[1]:.1f}x") if theirs else ("-", "-", "-")
        rate = result.states / result.seconds
        ours = f"{n:>12} {result.states:>10,} {result.seconds:>8.2f} {rate:>10,.0f} {result.bytes_per_state:>11.1f} {one_by_one.seconds:>11.2f}"
        print(f"{ours} {spin_states:>11} {spin_s:>7} {ratio:>6}")


def scenario_rows(manifest: dict[str, dict[str, int]], workers: int) -> None:
    print(
        f"{'scenario':<14} {'depth':>5} {'states':>7} {'seconds':>8} {'states/s':>9} {'bytes/state':>11} {f'{workers} workers s':>12} {'speedup':>7}"
    )
    runs = [(name, pinned["depth"]) for name, pinned in manifest.items()] + [("services", None)]
    for name, depth in runs:
        model = KubeModel(SCENARIOS[name])
        one = explore(model, KubeProperties(model, []), limits=Limits(depth=depth))
        many = explore(model, KubeProperties(model, []), limits=Limits(depth=depth), workers=workers)
        assert (one.states, one.transitions) == (many.states, many.transitions)
        rate = one.states / one.seconds
        shown = "complete" if depth is None else str(depth)
        print(
            f"{name:<14} {shown:>5} {one.states:>7,} {one.seconds:>8.2f} {rate:>9,.0f} {one.bytes_per_state:>11.1f} "
            f"{many.seconds:>12.2f} {one.seconds / many.seconds:>6.2f}x"
        )


def variant_rows(seconds: float) -> None:
    """Each variant on its witness scenario, breadth-first within ``seconds``, beside the committed Hypothesis trace."""
    expected = json.loads((ROOT / "counterexamples" / "expected.json").read_text())
    print(f"{'variant':<34} {'scenario':<10} {'result':<8} {'states':>8} {'depth':>5} {'seconds':>8} {'explore':>7} {'hypothesis':>10}")
    for name, variant in VARIANTS.items():
        if variant is DEFAULT:
            continue
        options = ExploreOptions(limits=Limits(seconds=seconds))
        report = check_one(
            get_scenario(variant.witness), variant, variant.breaks[:1], seed=0, max_examples=1, engine=EXPLORE, explore_options=options
        )
        assert isinstance(report.coverage, ExploreCoverage)
        r = report.coverage.result
        length = str(len(report.trace.steps)) if report.trace else "-"
        outcome = "found" if report.trace else f"{r.stopped} bound"
        hypothesis = expected[f"{name}.json"]["step"]
        print(f"{name:<34} {variant.witness:<10} {outcome:<8} {r.states:>8,} {r.depth:>5} {r.seconds:>8.1f} {length:>7} {hypothesis:>10}")


def growth_scenario(nodes: int, replicas: int) -> Scenario:
    """A settled cluster of ``nodes`` nodes running a ReplicaSet of ``replicas`` behind a Service; one pod may be deleted."""
    return Scenario(
        name=f"growth-{nodes}n-{replicas}r",
        summary="growth benchmark",
        nodes=tuple(node(f"node-{i}") for i in range(1, nodes + 1)),
        objects=(replicaset("web", replicas, container(readiness_probe=True)), service("web", "web")),
        bounds=Bounds(budgets={"delete-pod": 1}, steps=100),
        settle=True,
    )


def growth_rows(depth: int) -> None:
    print(f"distinct states within {depth} steps (rows: nodes, columns: replicas)")
    print(f"{'nodes':>5} " + " ".join(f"{r:>8}" for r in range(1, 5)))
    for nodes in range(1, 5):
        counts = []
        for replicas in range(1, 5):
            model = KubeModel(growth_scenario(nodes, replicas))
            counts.append(explore(model, KubeProperties(model, []), limits=Limits(depth=depth)).states)
        print(f"{nodes:>5} " + " ".join(f"{c:>8,}" for c in counts))


def three_node_scenarios() -> list[Scenario]:
    """Two scenarios of three identical nodes that nothing names, so all six permutations apply."""
    nodes = tuple(node(f"node-{i}") for i in (1, 2, 3))
    web = replicaset("web", 3, container(readiness_probe=True))
    failover = replicaset("web", 1, container(), tolerations=fast_failover())
    return [
        Scenario(
            name="3-nodes-rs-3",
            summary="3 nodes, a ReplicaSet of 3 behind a Service, from creation; one pod may be deleted",
            nodes=nodes,
            objects=(web, service("web", "web")),
            bounds=Bounds(budgets={"delete-pod": 1}, steps=100),
        ),
        Scenario(
            name="3-nodes-failure",
            summary="3 nodes, a ReplicaSet of 1 from creation; one node may crash or be partitioned",
            nodes=nodes,
            objects=(failover,),
            bounds=Bounds(budgets={"node-crash": 1, "partition": 1}, clock_limit=10, steps=120),
            timing=Timing(node_monitor_grace=2),
        ),
    ]


def symmetry_rows(depth: int, only: list[str] | None = None) -> None:
    """States and seconds within ``depth`` steps, without and with node symmetry reduction (``only``: these scenarios)."""
    scenarios = [s for s in SCENARIOS.values() if interchangeable(s)] + three_node_scenarios()
    if only:
        unknown = sorted(set(only) - {s.name for s in scenarios})
        if unknown:
            known = ", ".join(s.name for s in scenarios)
            print(f"--only: no scenario with interchangeable nodes called {', '.join(unknown)}; choose from {known}", file=sys.stderr)
            raise SystemExit(2)
        scenarios = [s for s in scenarios if s.name in only]
    print(f"distinct states within {depth} steps, without and with node symmetry reduction")
    print(f"{'scenario':<16} {'nodes':>5} {'perms':>5} {'states':>8} {'seconds':>8} {'reduced':>8} {'seconds':>8} {'ratio':>6}")
    for scenario in scenarios:
        results = []
        for symmetric in (False, True):
            model = KubeModel(scenario, symmetry=symmetric)
            results.append((model, explore(model, KubeProperties(model, []), limits=Limits(depth=depth))))
        (_, plain), (reduced_model, reduced) = results
        assert reduced_model.symmetry is not None
        print(
            f"{scenario.name:<16} {len(scenario.nodes):>5} {reduced_model.symmetry.order:>5} {plain.states:>8,} {plain.seconds:>8.1f} "
            f"{reduced.states:>8,} {reduced.seconds:>8.1f} {plain.states / reduced.states:>5.2f}x"
        )


def pin(path: Path) -> None:
    """Explore each scenario to the least depth with PIN_TARGET states, in both orders, and write the manifest."""
    scenarios = {}
    for name, scenario in SCENARIOS.items():
        model = KubeModel(scenario)
        depth = 0
        while True:
            counts = {order: explore(model, KubeProperties(model, []), order=order, limits=Limits(depth=depth)) for order in (BFS, DFS)}
            assert counts[BFS].states == counts[DFS].states, f"{name}: breadth-first and depth-first disagree at depth {depth}"
            if counts[BFS].states >= PIN_TARGET or counts[BFS].complete:
                break
            depth += 1
        scenarios[name] = {"depth": depth, "states": counts[BFS].states}
        print(f"{name}: {counts[BFS].states} states within depth {depth}")
    note = "distinct states of each built-in scenario within a depth bound, the same breadth- and depth-first; written by benchmarks/explore.py --pin"
    write_json({"note": note, "scenarios": scenarios}, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--twophase", type=int, nargs="*", default=None, help="TwoPhase sizes (default 3 5 6 7)")
    parser.add_argument("--no-spin", action="store_true", help="do not run Spin beside TwoPhase")
    parser.add_argument("--scenarios", action="store_true", help="explore the built-in scenarios to their pinned depths")
    parser.add_argument("--workers", type=int, default=2, help="worker processes for the second timing of each scenario")
    parser.add_argument("--growth", type=int, default=None, metavar="DEPTH", help="state-space growth with nodes and replicas")
    parser.add_argument("--variants", type=float, default=None, metavar="SECONDS", help="each variant, breadth-first within SECONDS")
    parser.add_argument("--symmetry", type=int, default=None, metavar="DEPTH", help="states with and without node symmetry reduction")
    parser.add_argument("--only", nargs="+", default=None, metavar="NAME", help="with --symmetry: only these scenarios")
    parser.add_argument("--pin", type=Path, default=None, metavar="FILE", help="write the state-count manifest")
    args = parser.parse_args()
    if args.pin is not None:
        pin(args.pin)
        return
    everything = args.twophase is None and not args.scenarios and args.growth is None and args.variants is None and args.symmetry is None
    if args.twophase is not None or everything:
        twophase_rows(args.twophase or [3, 5, 6, 7], spin=not args.no_spin)
    if args.scenarios or everything:
        manifest = json.loads((ROOT / "tests" / "state_counts.json").read_text())["scenarios"]
        scenario_rows(manifest, args.workers)
    if args.growth is not None:
        growth_rows(args.growth)
    if args.variants is not None:
        variant_rows(args.variants)
    if args.symmetry is not None:
        symmetry_rows(args.symmetry, args.only)


if __name__ == "__main__":
    main()
