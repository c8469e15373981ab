"""Object validation and defaulting, as the API server applies them.

Follows k8s pkg/apis/core/validation/validation.go, pkg/apis/apps/validation
(ReplicaSet selector rules), apimachinery pkg/api/validation/objectmeta.go
(names, labels, immutable metadata), pkg/apis/core/v1/defaults.go
(imagePullPolicy) and plugin/pkg/admission/defaulttolerationseconds.
Messages have the API server's shape: ``field.path: Invalid value: "v": why``.
"""

from __future__ import annotations

import re

from spec import labels
from spec.frozen import replace
from spec.objects import (
    NO_EXECUTE,
    TAINT_NOT_READY,
    TAINT_UNREACHABLE,
    Container,
    Obj,
    ObjectMeta,
    Pod,
    PodSpec,
    ReplicaSet,
    Service,
    Taint,
    Toleration,
)

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
RESTART_POLICIES = ("Always", "OnFailure", "Never")
PULL_POLICIES = ("Always", "IfNotPresent", "Never")
SERVICE_TYPES = ("ClusterIP", "NodePort")


def invalid(path: str, value: object, why: str) -> str:
    """One field error in the API server's format."""
    shown = f'"{value}"' if isinstance(value, str) else str(value)
    return f"{path}: Invalid value: {shown}: {why}"


def _dns_errors(name: str, limit: int, pattern: re.Pattern[str], what: str) -> list[str]:
    errs = [f"must be no more than {limit} characters"] if len(name) > limit else []
    if not pattern.match(name):
        errs.append(what)
    return errs


def dns1123_subdomain_errors(name: str) -> list[str]:
    """IsDNS1123Subdomain: lower case alphanumerics, '-' and '.', at most 253 characters."""
    what = (
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
        "and must start and end with an alphanumeric character"
    )
    return _dns_errors(name, 253, _DNS1123_SUBDOMAIN, what)


def dns1123_label_errors(name: str) -> list[str]:
    """IsDNS1123Label: lower case alphanumerics and '-', at most 63 characters."""
    what = (
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character"
    )
    return _dns_errors(name, 63, _DNS1123_LABEL, what)


def dns1035_label_errors(name: str) -> list[str]:
    """IsDNS1035Label (Service names): starts with a letter, at most 63 characters."""
    what = (
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
        "alphabetic character, and end with an alphanumeric character"
    )
    return _dns_errors(name, 63, _DNS1035_LABEL, what)


def label_map_errors(path: str, values: object) -> list[str]:
    """ValidateLabels: every key and value of a label map."""
    errs: list[str] = []
    for key in sorted(values):  # type: ignore[call-overload]
        for why in labels.label_key_errors(key):
            errs.append(invalid(path, key, why))
        value = values[key]  # type: ignore[index]
        for why in labels.label_value_errors(value):
            errs.append(invalid(f"{path}", value, why))
    return errs


def meta_errors(meta: ObjectMeta, name_rule: str = "subdomain") -> list[str]:
    """ValidateObjectMeta: name, labels."""
    check = {"subdomain": dns1123_subdomain_errors, "label": dns1123_label_errors, "dns1035": dns1035_label_errors}
    errs = (
        [invalid("metadata.name", meta.name, why) for why in check[name_rule](meta.name)]
        if meta.name
        else ["metadata.name: Required value: name or generateName is required"]
    )
    return errs + label_map_errors("metadata.labels", meta.labels)


def _container_errors(path: str, c: Container) -> list[str]:
    errs = [invalid(f"{path}.name", c.name, why) for why in dns1123_label_errors(c.name)]
    if not c.image:
        errs.append(f"{path}.image: Required value")
    if c.image_pull_policy not in PULL_POLICIES:
        errs.append(f'{path}.imagePullPolicy: Unsupported value: "{c.image_pull_policy}"')
    if c.requests.cpu < 0 or c.requests.memory < 0:
        errs.append(invalid(f"{path}.resources.requests", c.requests.cpu, "must be greater than or equal to 0"))
    return errs


def pod_spec_errors(path: str, pod_spec: PodSpec) -> list[str]:
    """ValidatePodSpec (the parts the model has)."""
    errs: list[str] = []
    if not pod_spec.containers:
        errs.append(f"{path}.containers: Required value")
    names = [c.name for c in pod_spec.containers]
    for i, c in enumerate(pod_spec.containers):
        errs += _container_errors(f"{path}.containers[{i}]", c)
        if c.name in names[:i]:
            errs.append(f'{path}.containers[{i}].name: Duplicate value: "{c.name}"')
    if pod_spec.restart_policy not in RESTART_POLICIES:
        errs.append(f'{path}.restartPolicy: Unsupported value: "{pod_spec.restart_policy}"')
    if pod_spec.termination_grace_period_seconds < 0:
        errs.append(invalid(f"{path}.terminationGracePeriodSeconds", pod_spec.termination_grace_period_seconds, "must be greater than or equal to 0"))
    errs += label_map_errors(f"{path}.nodeSelector", pod_spec.node_selector)
    return errs


def replicaset_errors(rs: ReplicaSet) -> list[str]:
    """ValidateReplicaSet (pkg/apis/apps/validation): replicas, selector, template labels."""
    errs = meta_errors(rs.meta)
    if rs.spec.replicas < 0:
        errs.append(invalid("spec.replicas", rs.spec.replicas, "must be greater than or equal to 0"))
    if rs.spec.selector.empty() or rs.spec.selector == labels.NOTHING:
        errs.append(invalid("spec.selector", str(rs.spec.selector), "empty selector is invalid for replicaset"))
    elif not rs.spec.selector.matches(rs.spec.template.labels):
        errs.append(
            invalid("spec.template.metadata.labels", labels.format_labels(rs.spec.template.labels), "`selector` does not match template `labels`")
        )
    errs += label_map_errors("spec.template.metadata.labels", rs.spec.template.labels)
    errs += pod_spec_errors("spec.template.spec", rs.spec.template.spec)
    if rs.spec.template.spec.restart_policy != "Always":
        errs.append(f'spec.template.spec.restartPolicy: Unsupported value: "{rs.spec.template.spec.restart_policy}": supported values: "Always"')
    return errs


def service_errors(svc: Service) -> list[str]:
    """ValidateService: name (DNS-1035), ports, type, selector labels."""
    errs = meta_errors(svc.meta, "dns1035")
    if svc.spec.type not in SERVICE_TYPES:
        errs.append(f'spec.type: Unsupported value: "{svc.spec.type}"')
    if not svc.spec.ports:
        errs.append("spec.ports: Required value")
    for i, p in enumerate(svc.spec.ports):
        if not 1 <= p.port <= 65535:
            errs.append(invalid(f"spec.ports[{i}].port", p.port, "must be between 1 and 65535, inclusive"))
        if not 1 <= p.target_port <= 65535:
            errs.append(invalid(f"spec.ports[{i}].targetPort", p.target_port, "must be between 1 and 65535, inclusive"))
    if svc.spec.selector is not None:
        errs += label_map_errors("spec.selector", svc.spec.selector)
    return errs


def errors_for(obj: Obj) -> list[str]:
    """All validation errors of an object about to be created or updated."""
    if isinstance(obj, Pod):
        return meta_errors(obj.meta) + pod_spec_errors("spec", obj.spec)
    if isinstance(obj, ReplicaSet):
        return replicaset_errors(obj)
    if isinstance(obj, Service):
        return service_errors(obj)
    if obj.kind == "Namespace":
        return meta_errors(obj.meta, "label")
    return meta_errors(obj.meta)


def default_pull_policy(image: str) -> str:
    """SetDefaults_Container: Always for ``:latest`` or an untagged image, else IfNotPresent."""
    name = image.rsplit("/", 1)[-1]
    if "@" in name:
        return "IfNotPresent"
    tag = name.partition(":")[2]
    return "Always" if tag in ("", "latest") else "IfNotPresent"


def with_default_tolerations(pod: Pod, seconds: int) -> Pod:
    """DefaultTolerationSeconds admission: tolerate not-ready/unreachable NoExecute for ``seconds``."""
    tolerations = list(pod.spec.tolerations)
    for key in (TAINT_NOT_READY, TAINT_UNREACHABLE):
        probe = Taint(key=key, effect=NO_EXECUTE)
        if not any(t.tolerates(probe) for t in tolerations):
            tolerations.append(Toleration(key=key, operator="Exists", effect=NO_EXECUTE, toleration_seconds=seconds))
    if len(tolerations) == len(pod.spec.tolerations):
        return pod
    return replace(pod, spec=replace(pod.spec, tolerations=tuple(tolerations)))
