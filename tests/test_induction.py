"""kspec prove: k-induction over abstractions of the API server's writes (checker.induction).

The proofs rest on one premise, checked here rather than proved: every step
of the executable spec changes each pod (each pair of Services) as some
path of at most two of the abstraction's commands does. Random runs of
every scenario, with the default variant and with every variant, are
replayed step by step through ``unexplained``; an abstraction that misses a
kind of write fails this test (and the two tests after it show that it
can: the default abstraction does not explain the steps that break the
invariants in the API server variants).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from itertools import pairwise
from pathlib import Path
from typing import cast

import attrs
import pytest

from checker import induction, symbolic
from checker import trace as tracefmt
from checker.check import EXPLORE, ExploreCoverage, ExploreOptions, run_model
from checker.cli import main
from checker.explore import Limits, explore
from checker.guarded import GuardedModel, Patterns
from checker.hypothesis_engine import Coverage
from checker.replay import replay
from checker.simulate import random_walk
from spec.component import Action, Context
from spec.invariants import INVARIANTS, TRANSITION, Invariant, Monitor
from spec.model import KubeModel
from spec.objects import ReplicaSet
from spec.scenarios import SCENARIOS, get_scenario
from spec.state import State
from spec.variants import DEFAULT, VARIANTS, Variant

CORPUS = Path(__file__).resolve().parent.parent / "counterexamples"
RUNS = [(name, DEFAULT) for name in sorted(SCENARIOS)] + [(v.witness, v) for v in VARIANTS.values() if v is not DEFAULT]
WALKS = 10
"""seeded random walks per scenario and variant, each as long as the scenario's step bound"""


def _unexplained(model: KubeModel, states: list[State]) -> list[str]:
    problems = []
    for invariant in induction.ABSTRACTIONS:
        abstraction = induction.abstraction_for(model, invariant)
        for i, (before, after) in enumerate(pairwise(states), start=1):
            problems += [f"{invariant}, step {i}: {p}" for p in induction.unexplained(abstraction, before, after)]
    return problems


@pytest.mark.parametrize(("scenario", "variant"), RUNS, ids=[f"{s}-{v.name}" for s, v in RUNS])
def test_every_step_of_the_spec_is_a_path_of_the_abstractions(scenario: str, variant: Variant) -> None:
    """The differential test: the abstractions admit every change the spec's steps make to pods and Services."""
    model = KubeModel(get_scenario(scenario), variant)
    steps = 0
    for seed in range(WALKS):
        walk = random_walk(model, model.scenario.bounds.steps, seed)
        states = [walk.initial, *(state for _, state in walk.steps)]
        steps += len(walk.steps)
        assert _unexplained(model, states) == []
    assert steps > 0


def _admits(model: KubeModel) -> Invariant:
    """A transition "invariant" that holds where the abstractions admit the step, for the engines to search."""
    abstractions = [induction.abstraction_for(model, name) for name in induction.ABSTRACTIONS]

    def check(ctx: Context, before: State, action: Action, after: State) -> str | None:
        problems = dict.fromkeys(p for a in abstractions for p in induction.unexplained(a, before, after))
        return "; ".join(problems) or None

    return Invariant("abstractions-admit", TRANSITION, "the abstractions admit the step", "checker/induction.py", check)


SEARCHED = [
    ("basic", "default"),
    ("stateful", "default"),
    ("basic", "apiserver-rebind"),
    ("batch", "kubelet-phase-regress"),
    ("stateful", "kubelet-stale-relist"),
]
"""where the Hypothesis engine looks for an unexplained step: pods made by a ReplicaSet, pods recreated by name and bound by
hand, and the variants that move pods, regress phases and list stale copies"""


@pytest.mark.parametrize(("scenario", "variant"), SEARCHED, ids=[f"{s}-{v}" for s, v in SEARCHED])
def test_the_hypothesis_engine_finds_no_step_the_abstractions_do_not_admit(scenario: str, variant: str) -> None:
    """The Hypothesis engine, shrinking included, searching for a step the abstractions do not explain (as it searches for a violation)."""
    model = KubeModel(get_scenario(scenario), VARIANTS[variant])
    admits = _admits(model)
    monitor = Monitor(model.ctx, model.is_quiescent, [admits.name], {**INVARIANTS, admits.name: admits})
    report = run_model(model, monitor, seed=0, max_examples=40, replayable=False)
    assert report.trace is None, report.trace.message if report.trace else ""
    assert isinstance(report.coverage, Coverage) and report.coverage.steps > 1000


EXHAUSTIVE = [("basic", "default", 5), ("stateful", "default", 6), ("services", "default", 9), ("stateful", "kubelet-stale-relist", 6)]
"""depths the explorer covers completely in a few seconds"""
DEEPER = [(name, "default", 7) for name in sorted(SCENARIOS)]
"""``-m slow``: every scenario to depth 7"""


@pytest.mark.parametrize(("scenario", "variant", "depth"), EXHAUSTIVE, ids=[f"{s}-{v}-{d}" for s, v, d in EXHAUSTIVE])
def test_every_transition_within_a_depth_is_a_path_of_the_abstractions(scenario: str, variant: str, depth: int) -> None:
    """Exhaustive where the random runs sample: the explorer checks every transition of every state within the depth."""
    _every_transition_admitted(scenario, variant, depth)


@pytest.mark.slow
@pytest.mark.parametrize(("scenario", "variant", "depth"), DEEPER, ids=[f"{s}-{d}" for s, _, d in DEEPER])
def test_every_transition_deeper_is_a_path_of_the_abstractions(scenario: str, variant: str, depth: int) -> None:
    _every_transition_admitted(scenario, variant, depth)


def _every_transition_admitted(scenario: str, variant: str, depth: int) -> None:
    model = KubeModel(get_scenario(scenario), VARIANTS[variant])
    admits = _admits(model)
    monitor = Monitor(model.ctx, model.is_quiescent, [admits.name], {**INVARIANTS, admits.name: admits})
    options = ExploreOptions(limits=Limits(depth=depth))
    report = run_model(model, monitor, seed=0, max_examples=1, engine=EXPLORE, explore_options=options, replayable=False)
    assert report.trace is None, report.trace.message if report.trace else ""
    assert isinstance(report.coverage, ExploreCoverage) and report.coverage.result.depth == depth


@pytest.mark.parametrize("name", sorted(p.stem for p in CORPUS.glob("*.json") if p.stem != "expected"))
def test_every_step_of_each_committed_counterexample_is_a_path_of_its_variants_abstractions(name: str) -> None:
    """The interleavings that break the invariants, which random walks rarely take, are admitted too."""
    model, states = _replayed(name)
    assert _unexplained(model, states) == []


def _replayed(name: str) -> tuple[KubeModel, list[State]]:
    """The committed counterexample's model and its states, the initial one first."""
    result = replay(tracefmt.load(CORPUS / f"{name}.json"), name)
    return result.model, [result.initial, *(step.state for step in result.steps)]


@pytest.mark.parametrize(
    ("name", "invariant", "before_last"),
    [
        ("apiserver-rebind", "pod-bound-once", 0),
        ("apiserver-rebind", "pod-runs-once", 0),
        ("apiserver-clusterip-lag", "unique-cluster-ip", 0),
        ("kubelet-ip-by-running", "unique-pod-ip", 0),
        ("kubelet-phase-regress", "phase-monotone", 0),
        ("kubelet-stale-relist", "identity-runs-once", 2),  # the restart that lists the old pod, before it starts
    ],
)
def test_the_default_abstraction_does_not_explain_the_variants(name: str, invariant: str, before_last: int) -> None:
    """Built for today's API server and kubelet, the abstraction refuses the step of the variant that leads to the violation.

    So the differential test above can fail.
    """
    variant_model, states = _replayed(name)
    today = induction.abstraction_for(KubeModel(variant_model.scenario, DEFAULT), invariant)
    problems = [(i, induction.unexplained(today, b, a)) for i, (b, a) in enumerate(pairwise(states), start=1)]
    assert [i for i, p in problems if p] == [len(states) - 1 - before_last]
    with_variant = induction.abstraction_for(variant_model, invariant)
    assert all(induction.unexplained(with_variant, b, a) == [] for b, a in pairwise(states))


@pytest.mark.parametrize(
    ("invariant", "scenario"),
    [(i, "basic") for i in ("pod-bound-once", "pod-runs-once", "unique-cluster-ip", "unique-pod-ip")]
    + [(i, s) for i in ("phase-monotone", "pod-runs-once") for s in ("batch", "stateful")]
    + [("identity-runs-once", "stateful"), ("phase-monotone", "capacity")],
)
def test_the_components_rules_prove_the_invariant_for_every_depth(invariant: str, scenario: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prove", "--invariant", invariant, "--scenario", scenario]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{invariant} on {scenario}, variant default: proved for every depth (k = 1)\n")


EXPLORER, HYPOTHESIS = "the explorer found it in the model (a shortest run)", "the Hypothesis engine found it in the model"


@pytest.mark.parametrize(
    ("invariant", "scenario", "variant", "time_limit", "message", "abstract", "found"),
    [
        (
            "unique-cluster-ip",
            "services",
            "apiserver-clusterip-lag",
            "20",
            "ClusterIP 10.96.0.10 is allocated to default/api and",
            "2 steps",
            EXPLORER,
        ),
        pytest.param(  # 11 s: under -m slow
            *("phase-monotone", "stateful", "kubelet-stale-relist", "60", "pod default/db-0 went from Succeeded to Running (7 steps"),
            *("2 steps", EXPLORER),
            marks=pytest.mark.slow,
        ),
        (
            *("unique-pod-ip", "batch", "kubelet-ip-by-running", "0", "IP 10.244.1.2 is held by default/job (uid 4) and default/web (uid 5)"),
            *("2 steps", HYPOTHESIS),
        ),
        ("phase-monotone", "batch", "kubelet-phase-regress", "0", "pod default/job went from Failed to Running", "2 steps", HYPOTHESIS),
        (
            *("pod-runs-once", "basic", "apiserver-rebind", "0", "pod default/web-bbbbm (uid 9) runs on node-2 but is bound to node-1"),
            *("1 step", HYPOTHESIS),
        ),
        (
            *("identity-runs-once", "stateful", "kubelet-stale-relist", "0", "pod default/db-0 runs twice: uid 5 on node-1 and uid 8 on node-2"),
            *("1 step", HYPOTHESIS),
        ),
        (  # the rebound pod runs on both nodes, so its name runs twice too
            *("identity-runs-once", "basic", "apiserver-rebind", "0", "pod default/web-bbbbm runs twice: uid 9 on node-1 and uid 9 on node-2"),
            *("2 steps", HYPOTHESIS),
        ),
    ],
    ids=["clusterip-lag", "stale-relist", "ip-by-running", "phase-regress", "rebind", "stale-relist-twice", "rebind-twice"],
)
def test_a_variant_is_refuted_with_a_trace_that_replays(
    invariant: str,
    scenario: str,
    variant: str,
    time_limit: str,
    message: str,
    abstract: str,
    found: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The explorer searches first (a shortest counterexample; 1,000 Hypothesis examples miss the stale relist), then Hypothesis."""
    args = ["prove", "--invariant", invariant, "--scenario", scenario, "--variant", variant, "--time-limit", time_limit, "--out", str(tmp_path)]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert f"refuted: {message}" in out
    assert f"the abstraction reaches it in {abstract}; {found}" in out
    [saved] = tmp_path.glob("*.json")
    assert main(["replay", str(saved), "--no-tables"]) == 1


def test_phase_monotone_is_proved_with_the_lemmas_that_make_it_inductive(capsys: pytest.CaptureFixture[str]) -> None:
    """The kubelet and the scheduler keep a terminal phase final; the lemmas say how, and are proved with it."""
    assert main(["prove", "--invariant", "phase-monotone", "--scenario", "basic"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "phase-monotone on basic, variant default: proved for every depth (k = 1)"
    assert lines[2].startswith("  premise checked on 10 random runs of this cluster (1,275 steps): every step is a path of at most two commands; ")
    assert "KubeletSyncStatus 21, " in lines[2]  # the status manager's writes are among the steps it explains
    assert lines[3:] == [
        "  with 4 lemmas, proved with it (together they are inductive):",
        "    a pod in a terminal phase is bound",
        "    a pod in a terminal phase is seen terminal by its node's kubelet, or the kubelet remembers writing it so, or is down",
        "    the scheduler holds a copy of the pod only while it is stored, and has assumed it only while it holds that copy",
        "    the scheduler holds no unbound copy of a bound pod, unless it bound the pod itself and awaits the confirmation",
    ]


def test_without_its_lemmas_phase_monotone_is_not_inductive_and_each_lemma_is_needed() -> None:
    """The invariant alone has counterexamples to induction (unreachable good states that step into a bad one) at k = 4; with
    the lemmas it is 1-inductive, and without any one of them it is not."""
    abstraction = induction.abstraction_for(KubeModel(get_scenario("basic"), DEFAULT), "phase-monotone")
    alone = symbolic.prove(abstraction.model, abstraction.properties, 4)
    assert alone.verdict == symbolic.UNKNOWN and alone.induction_counterexample is not None
    assert symbolic.prove(abstraction.model, abstraction.claims, 1).verdict == symbolic.PROVED
    for lemma in abstraction.lemmas:
        rest = Patterns((*abstraction.properties.bad, *(other for other in abstraction.lemmas if other is not lemma)))
        assert symbolic.prove(abstraction.model, rest, 1).verdict == symbolic.UNKNOWN, lemma[1]


def test_a_lemma_the_abstraction_breaks_is_unknown_with_the_abstract_path(capsys: pytest.CaptureFixture[str]) -> None:
    """Under kubelet-stale-relist a restarted kubelet may list its pod as it was before it finished: the lemma fails.

    Without the explorer, 20 Hypothesis examples do not find the violation, so the answer is unknown, saying what was searched.
    """
    args = ["prove", "--invariant", "phase-monotone", "--scenario", "stateful", "--variant", "kubelet-stale-relist"]
    assert main([*args, "--time-limit", "0", "--max-examples", "20"]) == 3
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "phase-monotone on stateful, variant kubelet-stale-relist: unknown"
    lemma = "a pod in a terminal phase is seen terminal by its node's kubelet, or the kubelet remembers writing it so, or is down"
    assert lines[3] == f"  the abstraction breaks the lemma '{lemma}' in 2 steps, a run the model itself did not take:"
    assert lines[4:7] == [
        "    a bound pod, Running; kubelet: a copy; scheduler: a copy bound",
        "    --kubelet writes status--> a bound pod, Failed; kubelet: a copy, wrote a terminal status; scheduler: a copy bound",
        "    --kubelet restarts--> a bound pod, Failed; kubelet: a copy of an earlier pod; scheduler: a copy bound",
    ]
    assert len(lines) == 8 and lines[7].startswith("  searched: 20 examples, ")


def test_an_invariant_without_an_abstraction_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prove", "--invariant", "node-capacity"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "kspec: error: --invariant: kspec prove has no abstraction for node-capacity yet; it proves pod-bound-once, pod-runs-once,"
        " identity-runs-once, phase-monotone, unique-pod-ip, unique-cluster-ip (kspec check searches for the others)\n"
    )
    assert main(["prove", "--invariant", "pod-bound-onc"]) == 2
    assert "did you mean 'pod-bound-once'" in capsys.readouterr().err


@pytest.mark.parametrize(("invariant", "scenario"), [(i, "basic") for i in sorted(induction.ABSTRACTIONS)] + [("unique-pod-ip", "batch")])
def test_the_explorer_agrees_with_z3_on_every_reachable_state_of_the_abstraction(invariant: str, scenario: str) -> None:
    """The abstraction is finite: the breadth-first explorer visits all of it and finds neither the invariant nor a lemma broken."""
    abstraction = induction.abstraction_for(KubeModel(get_scenario(scenario), DEFAULT), invariant)
    assert symbolic.prove(abstraction.model, abstraction.claims, 10).verdict == symbolic.PROVED
    result = explore(abstraction.model, abstraction.claims)
    assert result.found is None and result.complete
    assert result.states >= len(abstraction.model.initial)


def test_the_explorer_finds_the_abstract_path_z3_finds_where_a_variant_breaks_it() -> None:
    """Both interpretations of one description: the same shortest abstract violation, at the same depth."""
    abstraction = induction.abstraction_for(KubeModel(get_scenario("batch"), VARIANTS["kubelet-phase-regress"]), "phase-monotone")
    z3_found = symbolic.bmc(abstraction.model, abstraction.claims, 10).found
    explored = explore(abstraction.model, abstraction.claims).found
    assert z3_found is not None and explored is not None
    assert len(z3_found.actions) == len(explored.actions) == 2


def test_prove_without_invariant_proves_every_one_it_has_an_abstraction_for_and_writes_json(tmp_path: Path) -> None:
    """One CI step: every provable invariant, exit 0 only if all are proved, and the outcomes as JSON."""
    out = tmp_path / "prove.json"
    assert main(["prove", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert (data["format"], data["version"], data["proved"]) == ("kspec-prove", 1, True)
    assert [o["invariant"] for o in data["outcomes"]] == list(induction.ABSTRACTIONS)
    phase = data["outcomes"][list(induction.ABSTRACTIONS).index("phase-monotone")]
    assert (phase["verdict"], phase["k"], len(phase["abstraction"]["lemmas"]), phase["searches"]) == ("proved", 1, 4, [])


def test_the_exit_code_is_the_worst_outcome(tmp_path: Path) -> None:
    """Refuted (1) over unknown (3) over proved (0); the JSON says which invariant was which, and where the trace is."""
    base = ["prove", "--scenario", "stateful", "--variant", "kubelet-stale-relist", "--out", str(tmp_path), "--max-examples", "5"]
    out = tmp_path / "prove.json"
    unknown = [*base, "--invariant", "unique-pod-ip", "--invariant", "phase-monotone", "--time-limit", "0", "--json", str(out)]
    assert main(unknown) == 3
    outcomes = json.loads(out.read_text())["outcomes"]
    assert [(o["invariant"], o["verdict"]) for o in outcomes] == [("unique-pod-ip", "proved"), ("phase-monotone", "unknown")]
    assert outcomes[1]["broken_lemma"].startswith("a pod in a terminal phase is seen terminal") and len(outcomes[1]["abstract_path"]) == 3
    assert [s["engine"] for s in outcomes[1]["searches"]] == ["hypothesis"] and outcomes[1]["counterexample"] is None
    services = ["prove", "--scenario", "services", "--variant", "apiserver-clusterip-lag", "--out", str(tmp_path), "--walks", "2"]
    assert main([*services, "--invariant", "unique-cluster-ip", "--invariant", "phase-monotone", "--json", str(out)]) == 1
    refuted = json.loads(out.read_text())["outcomes"][0]
    assert (refuted["verdict"], refuted["trace_steps"], [s["engine"] for s in refuted["searches"]]) == ("refuted", 2, ["explore"])
    assert Path(refuted["counterexample"]).is_file()


def _without(label: str) -> Callable[[Context, Sequence[State], str], induction.Abstraction]:
    """The unique-pod-ip abstraction with the commands named ``label`` left out: an unsound abstraction."""
    sound_builder = induction.ABSTRACTIONS["unique-pod-ip"]

    def build(ctx: Context, initial: Sequence[State], invariant: str) -> induction.Abstraction:
        sound = sound_builder(ctx, initial, invariant).model
        starts = [sound.layout.decode(s) for s in sound.initial]
        commands = [c for c in sound.commands if c.action[0] != label]
        return attrs.evolve(sound_builder(ctx, initial, invariant), model=GuardedModel(sound.layout, starts, commands))

    return build


def test_an_abstraction_the_runs_of_the_cluster_refute_proves_nothing(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Without "a's containers run" the sandbox abstraction still proves unique-pod-ip, but basic's random runs start containers:
    the premise check on the cluster at hand turns the proof into unknown, naming the first step it does not explain."""
    monkeypatch.setitem(cast(dict[str, object], induction.ABSTRACTIONS), "unique-pod-ip", _without("a's containers run"))
    assert main(["prove", "--invariant", "unique-pod-ip", "--walks", "0"]) == 0  # unchecked, the unsound abstraction "proves" it
    capsys.readouterr()
    assert main(["prove", "--invariant", "unique-pod-ip"]) == 3
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "unique-pod-ip on basic, variant default: unknown"
    assert lines[2].startswith("  the premise fails on 10 random runs of this cluster (1,275 steps): ")
    assert "so a proof would not carry over; the first: walk 0, step " in lines[2] and "(KubeletStartContainer): " in lines[2]


@pytest.mark.parametrize("invariant", ["pod-runs-once", "identity-runs-once"])
def test_where_pods_run_needs_each_lemma(invariant: str) -> None:
    """A pod uid runs only where it is bound, and one pod of a name runs at a time: neither invariant alone is inductive
    (still at k = 6); with its three lemmas each is 1-inductive on ``stateful`` (a pod deleted and created again), and
    without any one it is not."""
    abstraction = induction.abstraction_for(KubeModel(get_scenario("stateful"), DEFAULT), invariant)
    assert symbolic.prove(abstraction.model, abstraction.properties, 6).verdict == symbolic.UNKNOWN
    assert symbolic.prove(abstraction.model, abstraction.claims, 1).verdict == symbolic.PROVED
    assert len(abstraction.lemmas) == 3
    for lemma in abstraction.lemmas:
        rest = Patterns((*abstraction.properties.bad, *(other for other in abstraction.lemmas if other is not lemma)))
        assert symbolic.prove(abstraction.model, rest, 1).verdict == symbolic.UNKNOWN, lemma[1]


def test_a_force_delete_is_why_identity_runs_once_holds_no_longer() -> None:
    """Graceful deletion is the rule the proof rests on: with a force delete granted, the abstraction explains every step of
    the runs and reaches a second pod of the name running (the explorer finds it in the model in 5 steps, 16 s)."""
    scenario = get_scenario("stateful")
    scenario = attrs.evolve(scenario, bounds=attrs.evolve(scenario.bounds, budgets={**scenario.bounds.budgets, "force-delete": 1}))
    model = KubeModel(scenario, DEFAULT)
    abstraction = induction.abstraction_for(model, "identity-runs-once")
    result = symbolic.prove(abstraction.model, abstraction.properties, 5)
    assert result.verdict == symbolic.REFUTED
    premise = induction.check_premise(abstraction, induction.premise_walks(model, 20))
    assert premise.unexplained == () and dict(premise.changes)["UserForceDeletePod"] > 0


def test_every_invariant_with_an_abstraction_is_proved_on_every_built_in_scenario(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``kspec prove --scenario all``: every abstraction on every built-in scenario, in the order ``kspec scenarios`` lists them."""
    assert main(["prove", "--scenario", "all", "--json", str(tmp_path / "all.json")]) == 0
    firsts = [line for line in capsys.readouterr().out.splitlines() if not line.startswith(" ")]
    assert firsts == [
        f"{name} on {scenario}, variant default: proved for every depth (k = 1)" for scenario in SCENARIOS for name in induction.ABSTRACTIONS
    ]
    outcomes = json.loads((tmp_path / "all.json").read_text())["outcomes"]
    assert [(o["scenario"], o["invariant"]) for o in outcomes] == [(s, name) for s in SCENARIOS for name in induction.ABSTRACTIONS]


def test_an_earlier_unbound_pod_of_a_name_created_bound_is_considered_only_where_names_are_shared() -> None:
    """On ``capacity`` the pinned pod's name is its own, so the scheduler cannot hold an earlier unbound pod of it (which
    would break a lemma of phase-monotone); a bare pod of one name created both ways brings the case back."""
    capacity = get_scenario("capacity")
    assert not induction._shared_names(capacity)
    [pinned] = [p for p in capacity.user.pods if p.spec.node_name]
    unbound = attrs.evolve(pinned, spec=attrs.evolve(pinned.spec, node_name=""))
    shared = attrs.evolve(capacity, user=attrs.evolve(capacity.user, pods=(*capacity.user.pods, unbound)))
    assert induction._shared_names(shared)
    [rs] = [o for o in capacity.objects if isinstance(o, ReplicaSet)]  # its pods are created unbound, named web-...
    prefixed = attrs.evolve(pinned, meta=attrs.evolve(pinned.meta, name=f"{rs.meta.name}-abcde"))
    assert induction._shared_names(attrs.evolve(capacity, user=attrs.evolve(capacity.user, pods=(prefixed,))))
