"""The API objects of the model: the subset of each Kubernetes type the rules need.

Field names follow the Kubernetes API (snake_case of the JSON name); each field's
docstring names the field it models. Times are logical clock ticks (see
``spec.scenarios.Timing``), quantities are integers: cpu in millicores, memory in
bytes. Every class is frozen and hashable; mappings are ``FrozenMap`` and lists
are tuples, so an object can be shared between the store, the informer caches
and the watch history without copying.

Simplifications, each keeping the guarantee the invariants are about:
- a probe is present or absent; its timing is abstracted into the kubelet's
  probe action (a result takes effect when the kubelet probes);
- Endpoints has one subset, because every Service port uses a numeric
  targetPort (named ports are not modelled);
- pod conditions are the Ready condition (with its transition time, used by
  the ReplicaSet deletion ranking) and the PodScheduled=False message.
"""

from __future__ import annotations

import attrs

from spec.frozen import (
    EMPTY,
    FrozenMap,
    freeze_map,
    freeze_optional_map,
    freeze_tuple,
    replace,
)
from spec.labels import Selector

NAMESPACE, NODE, POD, REPLICASET, SERVICE, ENDPOINTS, LEASE = (
    "Namespace",
    "Node",
    "Pod",
    "ReplicaSet",
    "Service",
    "Endpoints",
    "Lease",
)
KINDS: tuple[str, ...] = (NAMESPACE, NODE, POD, REPLICASET, SERVICE, ENDPOINTS, LEASE)
"""Every kind the store holds, in the canonical order."""
CLUSTER_SCOPED = frozenset({NAMESPACE, NODE})

# Pod phases (api core/v1 PodPhase)
PENDING, RUNNING, SUCCEEDED, FAILED, UNKNOWN = "Pending", "Running", "Succeeded", "Failed", "Unknown"
TERMINAL_PHASES = frozenset({SUCCEEDED, FAILED})

# Taint keys and effects (api core/v1 well_known_taints.go)
TAINT_UNREACHABLE = "node.kubernetes.io/unreachable"
TAINT_NOT_READY = "node.kubernetes.io/not-ready"
TAINT_UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
NO_SCHEDULE, NO_EXECUTE, PREFER_NO_SCHEDULE = "NoSchedule", "NoExecute", "PreferNoSchedule"

ORPHAN_FINALIZER = "orphan"
NODE_LEASE_NAMESPACE = "kube-node-lease"


@attrs.frozen(cache_hash=True)
class Resources:
    """A resource list (requests, capacity or allocatable)."""

    cpu: int = 0
    """cpu, in millicores."""
    memory: int = 0
    """memory, in bytes."""
    pods: int = 0
    """pods (meaningful in node capacity and allocatable only)."""

    def __add__(self, other: Resources) -> Resources:
        return Resources(self.cpu + other.cpu, self.memory + other.memory, self.pods + other.pods)


ZERO = Resources()


@attrs.frozen(cache_hash=True)
class OwnerReference:
    """metadata.ownerReferences[]."""

    kind: str
    """ownerReferences[].kind"""
    name: str
    """ownerReferences[].name"""
    uid: int
    """ownerReferences[].uid"""
    controller: bool = True
    """ownerReferences[].controller"""
    block_owner_deletion: bool = True
    """ownerReferences[].blockOwnerDeletion"""


@attrs.frozen(cache_hash=True)
class ObjectMeta:
    """metadata (apimachinery pkg/apis/meta/v1 ObjectMeta)."""

    name: str
    """metadata.name"""
    namespace: str = ""
    """metadata.namespace ("" for cluster-scoped kinds)"""
    uid: int = 0
    """metadata.uid (the store assigns it; 0 before creation)"""
    resource_version: int = 0
    """metadata.resourceVersion: the etcd revision of the object's last write"""
    generation: int = 0
    """metadata.generation"""
    creation_timestamp: int = 0
    """metadata.creationTimestamp (clock tick)"""
    labels: FrozenMap[str, str] = attrs.field(default=EMPTY, converter=freeze_map)
    """metadata.labels"""
    annotations: FrozenMap[str, str] = attrs.field(default=EMPTY, converter=freeze_map)
    """metadata.annotations"""
    owner_references: tuple[OwnerReference, ...] = attrs.field(default=(), converter=freeze_tuple)
    """metadata.ownerReferences"""
    finalizers: tuple[str, ...] = attrs.field(default=(), converter=freeze_tuple)
    """metadata.finalizers"""
    deletion_timestamp: int | None = None
    """metadata.deletionTimestamp (clock tick)"""
    deletion_grace_period_seconds: int | None = None
    """metadata.deletionGracePeriodSeconds (ticks)"""
    generate_name: str = ""
    """metadata.generateName"""

    @property
    def key(self) -> str:
        """The store key: ``namespace/name``, or ``name`` for cluster-scoped objects."""
        return f"{self.namespace}/{self.name}" if self.namespace else self.name

    def controller_ref(self) -> OwnerReference | None:
        """The owner reference with controller=true (metav1.GetControllerOf)."""
        for ref in self.owner_references:
            if ref.controller:
                return ref
        return None


@attrs.frozen(cache_hash=True)
class Toleration:
    """spec.tolerations[] (api core/v1 toleration.go)."""

    key: str = ""
    """tolerations[].key ("" with Exists tolerates every taint)"""
    operator: str = "Equal"
    """tolerations[].operator: Equal or Exists"""
    value: str = ""
    """tolerations[].value"""
    effect: str = ""
    """tolerations[].effect ("" matches every effect)"""
    toleration_seconds: int | None = None
    """tolerations[].tolerationSeconds (ticks; None tolerates forever)"""

    def tolerates(self, taint: Taint) -> bool:
        """ToleratesTaint (api core/v1 toleration.go)."""
        if self.effect and self.effect != taint.effect:
            return False
        if self.key and self.key != taint.key:
            return False
        if self.operator == "Exists":
            return True
        return self.operator in ("", "Equal") and self.value == taint.value


@attrs.frozen(cache_hash=True)
class Taint:
    """spec.taints[] of a Node."""

    key: str
    """taints[].key"""
    effect: str
    """taints[].effect: NoSchedule, PreferNoSchedule or NoExecute"""
    value: str = ""
    """taints[].value"""
    time_added: int | None = None
    """taints[].timeAdded (tick; set for NoExecute taints)"""


@attrs.frozen(cache_hash=True)
class Container:
    """spec.containers[]."""

    name: str
    """containers[].name"""
    image: str
    """containers[].image"""
    image_pull_policy: str = ""
    """containers[].imagePullPolicy ("" until the API server defaults it from the tag)"""
    requests: Resources = ZERO
    """containers[].resources.requests (cpu, memory)"""
    readiness_probe: bool = False
    """containers[].readinessProbe is set"""
    liveness_probe: bool = False
    """containers[].livenessProbe is set"""
    pre_stop: bool = False
    """containers[].lifecycle.preStop is set"""


@attrs.frozen(cache_hash=True)
class PodSpec:
    """Pod spec."""

    containers: tuple[Container, ...] = attrs.field(converter=freeze_tuple)
    """spec.containers"""
    node_name: str = ""
    """spec.nodeName: write-once, through the binding subresource"""
    node_selector: FrozenMap[str, str] = attrs.field(default=EMPTY, converter=freeze_map)
    """spec.nodeSelector"""
    tolerations: tuple[Toleration, ...] = attrs.field(default=(), converter=freeze_tuple)
    """spec.tolerations"""
    restart_policy: str = "Always"
    """spec.restartPolicy: Always, OnFailure or Never"""
    termination_grace_period_seconds: int = 30
    """spec.terminationGracePeriodSeconds (ticks)"""
    scheduler_name: str = "default-scheduler"
    """spec.schedulerName"""

    def requests(self) -> Resources:
        """PodRequests: the sum over containers, plus one pod slot."""
        total = Resources(pods=1)
        for c in self.containers:
            total = total + c.requests
        return total


@attrs.frozen(cache_hash=True)
class ContainerStatus:
    """status.containerStatuses[]."""

    name: str
    """containerStatuses[].name"""
    state: str = "waiting"
    """which of state.waiting / state.running / state.terminated is set"""
    reason: str = ""
    """state.waiting.reason or state.terminated.reason"""
    exit_code: int | None = None
    """state.terminated.exitCode, or lastState.terminated.exitCode while waiting"""
    restart_count: int = 0
    """containerStatuses[].restartCount"""
    ready: bool = False
    """containerStatuses[].ready"""
    terminated_before: bool = False
    """lastState.terminated is set (getPhase counts such a waiting container as stopped)"""


@attrs.frozen(cache_hash=True)
class PodStatus:
    """Pod status."""

    phase: str = PENDING
    """status.phase"""
    ready: bool = False
    """conditions[type=Ready].status == True"""
    ready_transition: int | None = None
    """conditions[type=Ready].lastTransitionTime"""
    unschedulable: str = ""
    """conditions[type=PodScheduled,status=False].message (the scheduler's FitError)"""
    scheduled: bool = False
    """conditions[type=PodScheduled].status == True: set by the binding subresource, absent when nodeName came with the pod"""
    pod_ip: str = ""
    """status.podIP"""
    reason: str = ""
    """status.reason (OutOfcpu, Evicted ...)"""
    message: str = ""
    """status.message"""
    container_statuses: tuple[ContainerStatus, ...] = attrs.field(default=(), converter=freeze_tuple)
    """status.containerStatuses"""


@attrs.frozen(cache_hash=True)
class Pod:
    """v1 Pod."""

    meta: ObjectMeta
    spec: PodSpec
    status: PodStatus = PodStatus()

    kind = POD

    def is_terminal(self) -> bool:
        """Phase Succeeded or Failed."""
        return self.status.phase in TERMINAL_PHASES

    def is_active(self) -> bool:
        """IsPodActive (pkg/controller/controller_utils.go): not terminal, no deletionTimestamp."""
        return self.meta.deletion_timestamp is None and self.status.phase not in TERMINAL_PHASES


@attrs.frozen(cache_hash=True)
class NodeSpec:
    """Node spec."""

    pod_cidr: str = ""
    """spec.podCIDR (the kubelet allocates pod IPs from it)"""
    unschedulable: bool = False
    """spec.unschedulable (kubectl cordon)"""
    taints: tuple[Taint, ...] = attrs.field(default=(), converter=freeze_tuple)
    """spec.taints"""


@attrs.frozen(cache_hash=True)
class NodeStatus:
    """Node status."""

    capacity: Resources = ZERO
    """status.capacity"""
    allocatable: Resources = ZERO
    """status.allocatable"""
    ready: str = "True"
    """conditions[type=Ready].status: True, False or Unknown"""
    ready_reason: str = "KubeletReady"
    """conditions[type=Ready].reason"""


@attrs.frozen(cache_hash=True)
class Node:
    """v1 Node."""

    meta: ObjectMeta
    spec: NodeSpec = NodeSpec()
    status: NodeStatus = NodeStatus()

    kind = NODE


@attrs.frozen(cache_hash=True)
class PodTemplate:
    """spec.template of a ReplicaSet."""

    labels: FrozenMap[str, str] = attrs.field(default=EMPTY, converter=freeze_map)
    """template.metadata.labels"""
    spec: PodSpec = PodSpec(containers=())
    """template.spec"""


@attrs.frozen(cache_hash=True)
class ReplicaSetSpec:
    """apps/v1 ReplicaSet spec."""

    replicas: int
    """spec.replicas"""
    selector: Selector
    """spec.selector (a metav1.LabelSelector, kept parsed)"""
    template: PodTemplate
    """spec.template"""
    min_ready_seconds: int = 0
    """spec.minReadySeconds (ticks)"""


@attrs.frozen(cache_hash=True)
class ReplicaSetStatus:
    """apps/v1 ReplicaSet status."""

    replicas: int = 0
    """status.replicas"""
    fully_labeled_replicas: int = 0
    """status.fullyLabeledReplicas"""
    ready_replicas: int = 0
    """status.readyReplicas"""
    available_replicas: int = 0
    """status.availableReplicas"""
    observed_generation: int = 0
    """status.observedGeneration"""
    failure: str = ""
    """conditions[type=ReplicaFailure].reason (FailedCreate / FailedDelete), "" if absent"""


@attrs.frozen(cache_hash=True)
class ReplicaSet:
    """apps/v1 ReplicaSet."""

    meta: ObjectMeta
    spec: ReplicaSetSpec
    status: ReplicaSetStatus = ReplicaSetStatus()

    kind = REPLICASET


@attrs.frozen(cache_hash=True)
class ServicePort:
    """spec.ports[] of a Service."""

    port: int
    """ports[].port"""
    target_port: int
    """ports[].targetPort (numeric)"""
    node_port: int = 0
    """ports[].nodePort (allocated by the API server for type NodePort)"""
    name: str = ""
    """ports[].name"""
    protocol: str = "TCP"
    """ports[].protocol"""


@attrs.frozen(cache_hash=True)
class ServiceSpec:
    """v1 Service spec."""

    ports: tuple[ServicePort, ...] = attrs.field(converter=freeze_tuple)
    """spec.ports"""
    selector: FrozenMap[str, str] | None = attrs.field(default=None, converter=freeze_optional_map)
    """spec.selector (None: the endpoints controller manages nothing)"""
    type: str = "ClusterIP"
    """spec.type: ClusterIP or NodePort"""
    cluster_ip: str = ""
    """spec.clusterIP (allocated by the API server)"""
    publish_not_ready_addresses: bool = False
    """spec.publishNotReadyAddresses"""


@attrs.frozen(cache_hash=True)
class Service:
    """v1 Service."""

    meta: ObjectMeta
    spec: ServiceSpec

    kind = SERVICE


@attrs.frozen(cache_hash=True)
class EndpointAddress:
    """subsets[].addresses[] of an Endpoints object."""

    ip: str
    """addresses[].ip"""
    node_name: str
    """addresses[].nodeName"""
    pod: str
    """addresses[].targetRef (namespace/name of the pod)"""
    uid: int
    """addresses[].targetRef.uid"""


@attrs.frozen(cache_hash=True)
class EndpointPort:
    """subsets[].ports[]."""

    port: int
    """ports[].port (the pod's port)"""
    name: str = ""
    """ports[].name"""
    protocol: str = "TCP"
    """ports[].protocol"""


@attrs.frozen(cache_hash=True)
class Endpoints:
    """v1 Endpoints, named after its Service (one subset)."""

    meta: ObjectMeta
    addresses: tuple[EndpointAddress, ...] = attrs.field(default=(), converter=freeze_tuple)
    """subsets[0].addresses"""
    not_ready_addresses: tuple[EndpointAddress, ...] = attrs.field(default=(), converter=freeze_tuple)
    """subsets[0].notReadyAddresses"""
    ports: tuple[EndpointPort, ...] = attrs.field(default=(), converter=freeze_tuple)
    """subsets[0].ports"""

    kind = ENDPOINTS


@attrs.frozen(cache_hash=True)
class Lease:
    """coordination.k8s.io/v1 Lease in kube-node-lease, one per node."""

    meta: ObjectMeta
    holder: str
    """spec.holderIdentity"""
    renew_time: int
    """spec.renewTime (tick)"""

    kind = LEASE


@attrs.frozen(cache_hash=True)
class Namespace:
    """v1 Namespace."""

    meta: ObjectMeta

    kind = NAMESPACE


Obj = Namespace | Node | Pod | ReplicaSet | Service | Endpoints | Lease
"""Any object the store holds."""


def with_meta(obj: Obj, **changes: object) -> Obj:
    """A copy of ``obj`` with metadata fields changed."""
    return replace(obj, meta=replace(obj.meta, **changes))
