"""The kinds kspec reads from manifests, decoded, defaulted and validated as the API server would.

Each reader takes one object's JSON data and gives the model's object:

* ``v1 Pod`` and the pod template of ``apps/v1 ReplicaSet``;
* ``apps/v1 Deployment``, read as the ReplicaSet its controller would create
  (Deployments are not modelled yet): the ReplicaSet takes the Deployment's
  name, replicas, selector and template, and the template's labels as its
  own labels (``pkg/controller/deployment/sync.go`` getNewReplicaSet). The
  real one is called ``<name>-<pod-template-hash>`` and carries that hash
  as a label and in its selector; kspec keeps the plain name, which is
  deterministic and reads like the Deployment in every table, and leaves
  the hash out, which changes nothing while there is one ReplicaSet per
  Deployment. Rollouts, strategies and revision history are not modelled;
* ``v1 Service``: ``ClusterIP`` and ``NodePort``; ``LoadBalancer`` is read
  as the NodePort Service under it (with a warning: no load balancer is
  modelled); ``ExternalName`` is skipped with a warning (no endpoints, no
  rules); a headless Service (``clusterIP: None``) and a named targetPort
  are refused, as not modelled;
* ``v1 Node``: a :class:`spec.scenarios.NodeConfig` (name, labels, taints,
  cpu, memory and pods from ``status.allocatable``, else ``status.capacity``);
* ``v1 Namespace``: its name.

Defaults, as ``pkg/apis/core/v1/defaults.go`` and ``pkg/apis/apps/v1/defaults.go``
set them for the fields the model has: namespace ``default``, replicas 1,
restartPolicy Always, terminationGracePeriodSeconds 30, schedulerName
default-scheduler, imagePullPolicy from the image tag (Always for
``:latest`` or no tag, else IfNotPresent), a request taken from the limit
when only the limit is given (SetDefaults_Pod), Service type ClusterIP,
port protocol TCP, targetPort = port, toleration operator Equal, pods 110 on
a Node (the kubelet's maxPods). Durations in seconds (grace periods,
tolerationSeconds, minReadySeconds) become clock ticks of
``Timing.tick_seconds``, rounded up so that a non-zero one stays non-zero.

Fields the model does not have are accepted and ignored (env, ports,
volumes, probes' settings, strategy ...); a few that would change where or
whether pods run (affinity, initContainers, topologySpreadConstraints,
extended resources) give a warning. Then each object goes through the model's
own validation (``spec.validation``), so a manifest kspec accepts is one
the model's API server accepts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from spec import labels, quantity, validation
from spec.apiserver import generated_name
from spec.decode import INT64, DecodeError, Fields, invalid, required, show, unsupported
from spec.objects import (
    NO_EXECUTE,
    NO_SCHEDULE,
    PREFER_NO_SCHEDULE,
    Container,
    Obj,
    ObjectMeta,
    Pod,
    PodSpec,
    PodTemplate,
    ReplicaSet,
    ReplicaSetSpec,
    Resources,
    Service,
    ServicePort,
    ServiceSpec,
    Taint,
    Toleration,
    with_meta,
)
from spec.scenarios import NodeConfig, Timing

TICK = Timing().tick_seconds
DEFAULT_MAX_PODS = 110
"""the kubelet's default maxPods"""
NODE_PORT_RANGE = (30000, 32767)

META_FIELDS = (
    "name",
    "generateName",
    "namespace",
    "labels",
    "annotations",
    "finalizers",
    "ownerReferences",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "selfLink",
    "managedFields",
)
RS_SPEC_FIELDS = ("replicas", "minReadySeconds", "selector", "template")
DEPLOYMENT_SPEC_FIELDS = (*RS_SPEC_FIELDS, "strategy", "revisionHistoryLimit", "paused", "progressDeadlineSeconds")
SERVICE_SPEC_FIELDS = (
    "ports",
    "selector",
    "clusterIP",
    "clusterIPs",
    "type",
    "externalIPs",
    "sessionAffinity",
    "loadBalancerIP",
    "loadBalancerSourceRanges",
    "externalName",
    "externalTrafficPolicy",
    "healthCheckNodePort",
    "publishNotReadyAddresses",
    "sessionAffinityConfig",
    "ipFamilies",
    "ipFamilyPolicy",
    "allocateLoadBalancerNodePorts",
    "loadBalancerClass",
    "internalTrafficPolicy",
    "trafficDistribution",
)
SERVICE_PORT_FIELDS = ("name", "protocol", "appProtocol", "port", "targetPort", "nodePort")
SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
PROTOCOLS = ("SCTP", "TCP", "UDP")
NODE_SPEC_FIELDS = ("podCIDR", "podCIDRs", "providerID", "unschedulable", "taints", "configSource", "externalID")
RESOURCE_FIELDS = ("limits", "requests", "claims")
TAINT_EFFECTS = (NO_EXECUTE, NO_SCHEDULE, PREFER_NO_SCHEDULE)
UNMODELLED_POD_FIELDS = ("affinity", "initContainers", "topologySpreadConstraints")
"""pod spec fields that change where or whether a pod runs, which the model ignores (with a warning)"""


@attrs.frozen
class Decoded:
    """What one manifest object becomes."""

    kind: str
    """the manifest's kind"""
    obj: Obj | NodeConfig | str | None
    """the model's object, a NodeConfig for a Node, the name for a Namespace, None when skipped"""
    warnings: tuple[str, ...] = ()
    """warnings, each starting with a field path"""


Warn = Callable[[str], None]


def ticks(seconds: int) -> int:
    """Seconds as clock ticks, rounded up (in integers: exact for any int64)."""
    return -(-seconds // TICK)


# ------------------------------------------------------------ metadata


def meta(f: Fields, warn: Warn, namespaced: bool = True) -> ObjectMeta:
    """ObjectMeta: name or generateName, namespace (default "default"), labels, annotations, finalizers.

    The fields the API server sets (uid, resourceVersion, creationTimestamp ...)
    are ignored, as when a ``kubectl get -o yaml`` output is applied again.
    """
    f.known(META_FIELDS)
    name, generate = f.string("name"), f.string("generateName")
    if not name and not generate:
        raise required(f.at("name"), "name or generateName is required")
    namespace = f.string("namespace", "default")
    if namespaced:
        for why in validation.dns1123_label_errors(namespace):
            raise invalid(f.at("namespace"), namespace, why)
    if f.has("ownerReferences"):
        warn(f"{f.at('ownerReferences')} is not modelled for objects from manifests; ignored")
    return ObjectMeta(
        name=name,
        generate_name=generate,
        namespace=namespace if namespaced else "",
        labels=f.string_map("labels"),
        annotations=f.string_map("annotations"),
        finalizers=tuple(f.strings("finalizers")),
    )


def check(obj: Obj, replace: tuple[str, str] | None = None) -> None:
    """The model's validation of ``obj``, its errors joined on one line as the API server lists them.

    An object with only generateName is validated under the name the API
    server would generate for it, as ``spec.apiserver.create`` does.
    """
    if not obj.meta.name and obj.meta.generate_name:
        obj = with_meta(obj, name=generated_name(obj.meta.generate_name, 0))
    refuse(validation.errors_for(obj), replace)


def refuse(errors: list[str], replace: tuple[str, str] | None = None) -> None:
    """Raise validation errors (if any) as one DecodeError, joined with "; "."""
    if errors:
        text = "; ".join(errors)
        raise DecodeError(text.replace(*replace) if replace else text)


# ------------------------------------------------------------ pods


def _text(raw: object) -> str:
    """A quantity as written (the API server shows its canonical form; kspec shows the input)."""
    return raw if isinstance(raw, str) else show(raw)


def requests(f: Fields, warn: Warn) -> Resources:
    """resources: requests (defaulted from limits), checked against the limits; cpu in millicores, memory in bytes."""
    f.known(RESOURCE_FIELDS)
    reqs, limits = f.quantities("requests"), f.quantities("limits")
    path = f.at("requests")
    for name, (raw, amount) in sorted(reqs.items()):
        if name in limits and amount > limits[name][1]:
            raise invalid(f"{path}[{name}]", raw, f"must be less than or equal to {name} limit of {_text(limits[name][0])}")
    effective = {**limits, **reqs}
    for name in sorted(set(effective) - {"cpu", "memory"}):
        warn(f"{path}[{name}]: resource {name} is not modelled; ignored")
    cpu = quantity.milli_value(effective["cpu"][1]) if "cpu" in effective else 0
    memory = quantity.value(effective["memory"][1]) if "memory" in effective else 0
    if "memory" in effective and effective["memory"][1].denominator != 1:
        warn(f"{path}[memory]: fractional byte value {show(_text(effective['memory'][0]))} is invalid, must be an integer (read as {memory})")
    for name, units in (("cpu", cpu), ("memory", memory)):
        if units > INT64[1]:
            raise invalid(f"{path}[{name}]", effective[name][0], "too large for the model (at most 2^63-1 millicores or bytes)")
    return Resources(cpu=cpu, memory=memory)


def _present(f: Fields, key: str) -> bool:
    """An object field (a probe, a hook) is set (and is an object)."""
    f.mapping(key)
    return f.has(key)


def container(f: Fields, warn: Warn) -> Container:
    """A container: name, image, imagePullPolicy (defaulted from the tag), requests, probes, preStop."""
    name = f.required_string("name")
    image = f.required_string("image")
    return Container(
        name=name,
        image=image,
        image_pull_policy=f.string("imagePullPolicy") or validation.default_pull_policy(image),
        requests=requests(f.mapping("resources"), warn),
        readiness_probe=_present(f, "readinessProbe"),
        liveness_probe=_present(f, "livenessProbe"),
        pre_stop=_present(f.mapping("lifecycle"), "preStop"),
    )


def toleration(f: Fields) -> Toleration:
    """A toleration (operator defaults to Equal; tolerationSeconds become ticks)."""
    operator = f.string("operator", "Equal")
    if operator not in ("Equal", "Exists"):
        raise unsupported(f.at("operator"), operator, ("Equal", "Exists"))
    effect = f.string("effect")
    if effect and effect not in TAINT_EFFECTS:
        raise unsupported(f.at("effect"), effect, TAINT_EFFECTS)
    if operator == "Exists" and f.string("value"):
        raise invalid(f.at("operator"), operator, "value must be empty when `operator` is 'Exists'")
    key = f.string("key")
    for why in labels.label_key_errors(key) if key else ():
        raise invalid(f.at("key"), key, why)
    seconds = f.get("tolerationSeconds")
    return Toleration(
        key=key,
        operator=operator,
        value=f.string("value"),
        effect=effect,
        toleration_seconds=None if seconds is None else ticks(max(0, f.integer("tolerationSeconds", 0, INT64))),
    )


def pod_spec(f: Fields, warn: Warn) -> PodSpec:
    """PodSpec with its defaults (restartPolicy Always, grace 30 s, default-scheduler)."""
    if not f.items("containers"):
        raise required(f.at("containers"))
    for name in UNMODELLED_POD_FIELDS:
        if f.has(name):
            warn(f"{f.at(name)} is not modelled; ignored")
    grace = f.integer("terminationGracePeriodSeconds", 30, INT64)
    if grace < 0:
        raise invalid(f.at("terminationGracePeriodSeconds"), grace, "must be greater than or equal to 0")
    return PodSpec(
        containers=tuple(container(c, warn) for c in f.objects("containers")),
        node_name=f.string("nodeName"),
        node_selector=f.string_map("nodeSelector"),
        tolerations=tuple(toleration(t) for t in f.objects("tolerations")),
        restart_policy=f.string("restartPolicy", "Always"),
        termination_grace_period_seconds=ticks(grace),
        scheduler_name=f.string("schedulerName", "default-scheduler"),
    )


def pod(f: Fields, warn: Warn) -> Pod:
    """v1 Pod (its status is ignored: the model starts it Pending)."""
    result = Pod(meta=meta(f.mapping("metadata"), warn), spec=pod_spec(f.mapping("spec"), warn))
    check(result)
    return result


# ------------------------------------------------------------ workloads


def selector(f: Fields) -> labels.Selector:
    """spec.selector (a metav1.LabelSelector, required in apps/v1)."""
    raw = f.get("selector")
    path = f.at("selector")
    if raw is None:
        raise required(path)
    try:
        return labels.selector_from_label_selector(raw)
    except labels.SelectorError as e:
        raise DecodeError("; ".join(_selector_message(path, m) for m in e.errors)) from None


def _selector_message(path: str, message: str) -> str:
    if message.startswith(("matchLabels", "matchExpressions")):
        return f"{path}.{message}"
    return f"{path}: {message.removeprefix('selector: ')}"


def replicaset_spec(f: Fields, warn: Warn) -> ReplicaSetSpec:
    """The spec a ReplicaSet or a Deployment gives its ReplicaSet (replicas default to 1)."""
    template = f.mapping("template")
    template.known(("metadata", "spec"))
    template_meta = template.mapping("metadata")
    template_meta.known(META_FIELDS)
    min_ready = f.integer("minReadySeconds", 0)
    if min_ready < 0:
        raise invalid(f.at("minReadySeconds"), min_ready, "must be greater than or equal to 0")
    return ReplicaSetSpec(
        replicas=f.integer("replicas", 1),
        selector=selector(f),
        template=PodTemplate(labels=template_meta.string_map("labels"), spec=pod_spec(template.mapping("spec"), warn)),
        min_ready_seconds=ticks(min_ready),
    )


def replicaset(f: Fields, warn: Warn) -> ReplicaSet:
    """apps/v1 ReplicaSet."""
    spec = f.mapping("spec")
    spec.known(RS_SPEC_FIELDS)
    result = ReplicaSet(meta=meta(f.mapping("metadata"), warn), spec=replicaset_spec(spec, warn))
    check(result)
    return result


def deployment(f: Fields, warn: Warn) -> ReplicaSet:
    """apps/v1 Deployment, read as the ReplicaSet its controller would create (see the module docstring)."""
    spec = f.mapping("spec")
    spec.known(DEPLOYMENT_SPEC_FIELDS)
    deployment_meta = meta(f.mapping("metadata"), warn)
    rs_spec = replicaset_spec(spec, warn)
    result = ReplicaSet(meta=attrs.evolve(deployment_meta, labels=rs_spec.template.labels, annotations={}), spec=rs_spec)
    check(result, ("invalid for replicaset", "invalid for deployment"))
    return result


# ------------------------------------------------------------ services


def service_port(f: Fields, node_port_allowed: bool) -> ServicePort:
    """A Service port: port required, targetPort defaults to it, protocol to TCP."""
    f.known(SERVICE_PORT_FIELDS)
    if not f.has("port"):
        raise required(f.at("port"))
    port = f.integer("port", 0)
    target = f.get("targetPort")
    if isinstance(target, str):
        raise invalid(f.at("targetPort"), target, "named target ports are not modelled; use the container's port number")
    target_port = f.integer("targetPort", 0) or port
    protocol = f.string("protocol", "TCP")
    if protocol not in PROTOCOLS:
        raise unsupported(f.at("protocol"), protocol, PROTOCOLS)
    node_port = f.integer("nodePort", 0)
    if node_port and not node_port_allowed:
        raise DecodeError(f"{f.at('nodePort')}: Forbidden: may not be used when `type` is 'ClusterIP'")
    if node_port and not NODE_PORT_RANGE[0] <= node_port <= NODE_PORT_RANGE[1]:
        why = f"provided port is not in the valid range. The range of valid ports is {NODE_PORT_RANGE[0]}-{NODE_PORT_RANGE[1]}"
        raise invalid(f.at("nodePort"), node_port, why)
    return ServicePort(port=port, target_port=target_port, node_port=node_port, name=f.string("name"), protocol=protocol)


def _service_type(f: Fields, warn: Warn) -> str | None:
    """The model's Service type, or None for a Service that is skipped."""
    kind = f.string("type", "ClusterIP")
    if kind not in SERVICE_TYPES:
        raise unsupported(f.at("type"), kind, SERVICE_TYPES)
    if kind == "ExternalName":
        warn(f"{f.at('type')}: ExternalName Services are not modelled (no endpoints, no proxy rules); skipped")
        return None
    if kind == "LoadBalancer":
        warn(f"{f.at('type')}: LoadBalancer is read as the NodePort Service under it (no load balancer is modelled)")
        return "NodePort"
    return kind


def _port_names(ports: list[ServicePort], path: str) -> None:
    """With several ports, each needs a name, and no two the same (ValidateService)."""
    seen: set[str] = set()
    for i, p in enumerate(ports if len(ports) > 1 else []):
        if not p.name:
            raise required(f"{path}[{i}].name")
        if p.name in seen:
            raise DecodeError(f'{path}[{i}].name: Duplicate value: "{p.name}"')
        seen.add(p.name)


def service(f: Fields, warn: Warn) -> Service | None:
    """v1 Service (None for an ExternalName Service, which is skipped)."""
    metadata = meta(f.mapping("metadata"), warn)
    spec = f.mapping("spec")
    spec.known(SERVICE_SPEC_FIELDS)
    kind = _service_type(spec, warn)
    if kind is None:
        return None
    cluster_ip = spec.string("clusterIP")
    if cluster_ip == "None":
        raise invalid(spec.at("clusterIP"), cluster_ip, "headless Services are not modelled")
    if cluster_ip:
        warn(f"{spec.at('clusterIP')}: a fixed ClusterIP is not modelled; the model allocates one")
    if not spec.items("ports"):
        raise required(spec.at("ports"))
    ports = [service_port(p, kind == "NodePort") for p in spec.objects("ports")]
    _port_names(ports, spec.at("ports"))
    selector_map = spec.string_map("selector") if spec.has("selector") else None
    result = Service(
        meta=metadata,
        spec=ServiceSpec(ports=tuple(ports), selector=selector_map, type=kind, publish_not_ready_addresses=spec.boolean("publishNotReadyAddresses")),
    )
    check(result)
    return result


# ------------------------------------------------------------ nodes and namespaces


def taint(f: Fields) -> Taint:
    """A Node taint: key and effect required."""
    key = f.required_string("key")
    for why in labels.label_key_errors(key):
        raise invalid(f.at("key"), key, why)
    effect = f.required_string("effect")
    if effect not in TAINT_EFFECTS:
        raise unsupported(f.at("effect"), effect, TAINT_EFFECTS)
    return Taint(key=key, effect=effect, value=f.string("value"))


def _node_resources(status: Fields) -> Resources:
    """cpu, memory and pods from status.allocatable, else status.capacity (cpu and memory are required)."""
    allocatable, capacity = status.quantities("allocatable"), status.quantities("capacity")
    amounts = {name: allocatable.get(name, capacity.get(name)) for name in ("cpu", "memory", "pods")}
    for name in ("cpu", "memory"):
        if amounts[name] is None:
            raise required(f"{status.at('allocatable')}[{name}]", f"the node's {name} (in status.allocatable or status.capacity)")
    cpu, memory, pods = (amounts[name] for name in ("cpu", "memory", "pods"))
    assert cpu is not None and memory is not None
    return Resources(
        cpu=quantity.milli_value(cpu[1]), memory=quantity.value(memory[1]), pods=quantity.value(pods[1]) if pods is not None else DEFAULT_MAX_PODS
    )


def node(f: Fields, warn: Warn) -> NodeConfig:
    """v1 Node, as a machine of the scenario (it starts Ready, its pod CIDR is assigned by kspec)."""
    metadata = meta(f.mapping("metadata"), warn, namespaced=False)
    if not metadata.name:
        raise required(f.at("metadata.name"))
    refuse(validation.meta_errors(metadata))
    spec = f.mapping("spec")
    spec.known(NODE_SPEC_FIELDS)
    if spec.boolean("unschedulable"):
        raise invalid(spec.at("unschedulable"), True, "cordoned Nodes are not modelled in manifests; kspec starts every node schedulable")
    taints = tuple(taint(t) for t in spec.objects("taints"))
    return NodeConfig(name=metadata.name, capacity=_node_resources(f.mapping("status")), labels=metadata.labels, taints=taints)


def namespace(f: Fields, warn: Warn) -> str:
    """v1 Namespace: its name."""
    metadata = meta(f.mapping("metadata"), warn, namespaced=False)
    refuse(validation.meta_errors(metadata, "label"))
    return metadata.name


READERS: dict[tuple[str, str], Callable[[Fields, Warn], Any]] = {
    ("v1", "Pod"): pod,
    ("apps/v1", "ReplicaSet"): replicaset,
    ("apps/v1", "Deployment"): deployment,
    ("v1", "Service"): service,
    ("v1", "Node"): node,
    ("v1", "Namespace"): namespace,
}
"""(apiVersion, kind) to its reader"""
KINDS: dict[str, str] = {kind: version for version, kind in READERS}
"""each kind kspec reads, with its apiVersion"""
TOP_FIELDS = ("apiVersion", "kind", "metadata", "spec", "status")


def read(f: Fields, version: str, kind: str) -> Decoded:
    """Decode one object of a known kind (``kind`` in :data:`KINDS`); DecodeError naming the field otherwise."""
    if KINDS[kind] != version:
        raise unsupported("apiVersion", version, (KINDS[kind],))
    f.known(TOP_FIELDS)
    warnings: list[str] = []
    obj = READERS[version, kind](f, warnings.append)
    return Decoded(kind, obj, tuple(warnings))
