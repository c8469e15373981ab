"""The node-agent controller of examples/one_pod_per_node.py, fixed with expectations.

    kspec check --model examples/one_pod_per_node_fixed.py

After creating a node's pod, the controller remembers that it expects to see
that pod, and creates nothing more for the node until its informer delivers
the pod: the ControllerExpectations of kube-controller-manager
(pkg/controller/controller_utils.go), which the DaemonSet controller keeps
per DaemonSet (pkg/controller/daemon/daemon_controller.go). The memory is lost
when the controller restarts; the relist that follows shows it every pod it
created. See docs/tutorial-controller.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import attrs

from spec import apiserver
from spec.component import ActionDef, ComponentType, Context, Event, Param, Watch
from spec.frozen import replace
from spec.informer import ADDED
from spec.invariants import QUIESCENT, STATE, Invariant
from spec.objects import NODE, POD, ObjectMeta, Pod, PodSpec
from spec.scenarios import MI, Bounds, Scenario, container, node
from spec.state import State

NAME = "node-agent-controller"
LABEL = "node-agent"
"""the value of the ``app`` label on the controller's pods"""


def agent_pod(node_name: str) -> Pod:
    """The pod the controller creates for a node: a generated name, its label, and spec.nodeName already set."""
    meta = ObjectMeta(name="", generate_name=f"{LABEL}-", namespace="default", labels={"app": LABEL})
    agent = container(image="busybox:1.36", cpu=100, memory=64 * MI)
    return Pod(meta=meta, spec=PodSpec(containers=(agent,), node_name=node_name, termination_grace_period_seconds=3))


def agents_by_node(pods: Iterable[Pod]) -> dict[str, list[Pod]]:
    """The controller's active pods (not terminal, not being deleted) by spec.nodeName, oldest (lowest UID) first."""
    placed: dict[str, list[Pod]] = {}
    for pod in pods:
        if pod.meta.labels.get("app") == LABEL and pod.is_active():
            placed.setdefault(pod.spec.node_name, []).append(pod)
    return {name: sorted(pods, key=lambda p: p.meta.uid) for name, pods in sorted(placed.items())}


# ------------------------------------------------------------ the controller


@attrs.frozen
class Expectations:
    """The controller's memory."""

    creating: tuple[str, ...] = ()
    """nodes (sorted) whose new agent pod the controller created but has not yet seen in its cache"""


def _on_event(ctx: Context, memory: Expectations, ev: Event) -> Expectations:
    """The pod informer's AddFunc: a node's agent pod has arrived, so its creation is observed."""
    if ev.kind != POD or ev.type != ADDED or ev.new.meta.labels.get("app") != LABEL:
        return memory
    return replace(memory, creating=tuple(n for n in memory.creating if n != ev.new.spec.node_name))


def _nodes_without_agent(ctx: Context, s: State, me: str) -> Iterator[tuple[Param, ...]]:
    """Each node in the controller's cache with none of its active pods in the cache and no creation still expected."""
    view = s.views[me]
    placed = agents_by_node(view.cache.pods.values())
    for name in view.cache.nodes:
        if name not in placed and name not in view.memory.creating:
            yield (name,)


def _create(ctx: Context, s: State, me: str, node_name: str) -> State:
    """NodeAgentCreate: create the node's agent pod and expect to see it (nothing is expected if the create fails)."""
    result = apiserver.create(ctx, s, agent_pod(node_name))
    if not result.ok:
        return result.state
    view = result.state.views[me]
    memory = replace(view.memory, creating=tuple(sorted({*view.memory.creating, node_name})))
    return replace(result.state, views=result.state.views.set(me, replace(view, memory=memory)))


def _extra_agents(ctx: Context, s: State, me: str) -> Iterator[tuple[Param, ...]]:
    """Each of the controller's pods in its cache beyond the oldest on its node."""
    for pods in agents_by_node(s.views[me].cache.pods.values()).values():
        for pod in pods[1:]:
            yield (pod.meta.key,)


def _delete(ctx: Context, s: State, me: str, pod: str) -> State:
    """NodeAgentDelete: delete an extra pod (graceful, with the pod's own grace period)."""
    return apiserver.delete(ctx, s, POD, pod).state


NODE_AGENT_CONTROLLER = ComponentType(
    kind=NAME,
    watches=(Watch(NODE), Watch(POD)),
    initial_memory=Expectations,
    on_event=_on_event,
    actions=(
        ActionDef("NodeAgentCreate", ("node",), _nodes_without_agent, _create),
        ActionDef("NodeAgentDelete", ("pod",), _extra_agents, _delete),
    ),
    source="pkg/controller/daemon/daemon_controller.go (manage: podsShouldBeOnNode, syncNodes)",
)

COMPONENTS = [NODE_AGENT_CONTROLLER]


# ------------------------------------------------------------ what it promises


def one_agent_per_node(ctx: Context, s: State) -> str | None:
    """No node has two active agent pods in the store (API truth, not the controller's cache).

    A DaemonSet "ensures that all (or some) Nodes run a copy of a Pod"
    (docs: DaemonSet): one copy, never two fighting over the node's ports and
    files.
    """
    for name, pods in agents_by_node(s.api.objects.pods.values()).items():
        if len(pods) > 1:
            return f"node {name} has {len(pods)} active agent pods: {', '.join(p.meta.key for p in pods)}"
    return None


def every_node_has_agent(ctx: Context, s: State) -> str | None:
    """Once the cluster has settled, every node has exactly one active agent pod."""
    placed = agents_by_node(s.api.objects.pods.values())
    for name in s.api.objects.nodes:
        count = len(placed.get(name, []))
        if count != 1:
            return f"node {name} has {count} active agent pods"
    return None


INVARIANTS = [
    Invariant(
        name="one-agent-per-node",
        kind=STATE,
        summary="no node has two active agent pods",
        guarantee="docs: DaemonSet, one copy of the pod per node",
        check=one_agent_per_node,
    ),
    Invariant(
        name="every-node-has-agent",
        kind=QUIESCENT,
        summary="once settled, every node has exactly one active agent pod",
        guarantee="docs: DaemonSet, as nodes are added to the cluster, pods are added to them",
        check=every_node_has_agent,
    ),
]


# ------------------------------------------------------------ where to check it

SCENARIO = Scenario(
    name="one-pod-per-node",
    summary="2 nodes, each running its agent pod; a user may delete one pod",
    nodes=(node("node-1"), node("node-2")),
    bounds=Bounds(budgets={"delete-pod": 1}, steps=80),
    settle=True,
)
