"""Node truth: the container runtime and kernel state of each machine.

This is what really runs, whatever the API says: pod sandboxes with their IPs
and containers (CRI, pkg/kubelet/kuberuntime), the node's image cache, the
iptables NAT rules kube-proxy installed (pkg/proxy/iptables/proxier.go) and
the connections conntrack keeps on their backend. A machine can be down
(crashed: nothing runs, the kubelet and kube-proxy are gone) or partitioned
from the control plane (everything keeps running, nothing reaches the API).

Simplification: a sandbox's IP is the lowest free address of the node's pod
CIDR (a real CNI plugin may pick any free one; reuse of a freed address, which
is what matters for stale endpoints, happens either way).
"""

from __future__ import annotations

import attrs

from spec.frozen import EMPTY, FrozenMap, freeze_map, freeze_tuple, replace


@attrs.frozen(cache_hash=True)
class RuntimeContainer:
    """A container as the runtime knows it (CRI ContainerStatus)."""

    name: str
    """the container's name in the pod spec"""
    running: bool = True
    """the process is running"""
    exit_code: int | None = None
    """the exit code once it stopped"""
    started_at: int = 0
    """tick it was started"""
    finished_at: int | None = None
    """tick it exited"""
    restarts: int = 0
    """how many times the kubelet restarted it (restartCount)"""
    healthy: bool = True
    """the application answers its readiness and liveness probes"""


@attrs.frozen(cache_hash=True)
class Sandbox:
    """A pod sandbox: the pod's network namespace and its containers."""

    pod: str
    """namespace/name of the pod"""
    uid: int
    """the pod's UID (the runtime keys everything by it)"""
    ip: str
    """the sandbox's IP"""
    containers: FrozenMap[str, RuntimeContainer] = attrs.field(default=EMPTY, converter=freeze_map)
    """containers started so far, by name"""
    stopping: bool = False
    """the kubelet has begun killing the pod (preStop ran, SIGTERM sent)"""

    def running(self) -> bool:
        """Some container of the sandbox is running."""
        return any(c.running for c in self.containers.values())


@attrs.frozen(cache_hash=True)
class ProxyRule:
    """The iptables rules of one Service port on one node (KUBE-SVC chain)."""

    cluster_ip: str
    """the ClusterIP the KUBE-SERVICES rule matches"""
    port: int
    """the Service port"""
    node_port: int
    """the NodePort also matched on every node (0 if none)"""
    backends: tuple[str, ...] = attrs.field(default=(), converter=freeze_tuple)
    """endpoint addresses ``ip:port`` picked with equal probability; empty means REJECT"""


@attrs.frozen(cache_hash=True)
class Connection:
    """A client connection through a Service, kept on its backend by conntrack."""

    service: str
    """namespace/name:port of the Service it was opened to"""
    backend: str
    """the ``ip:port`` DNAT chose, or "" if the Service rejected it"""
    opened_at: int
    """tick it was opened"""


@attrs.frozen(cache_hash=True)
class Machine:
    """Node truth for one machine."""

    name: str
    """the node's name"""
    pod_cidr_prefix: str
    """pod IPs are ``<prefix>.<n>`` (the node's /24 pod CIDR)"""
    up: bool = True
    """powered and booted (False after a crash, until it restarts)"""
    partitioned: bool = False
    """cut off from the control plane (API writes and watches fail)"""
    images: tuple[str, ...] = attrs.field(default=(), converter=freeze_tuple)
    """images present in the node's image store, sorted"""
    sandboxes: FrozenMap[int, Sandbox] = attrs.field(default=EMPTY, converter=freeze_map)
    """running pod sandboxes by pod UID"""
    proxy_rules: FrozenMap[str, ProxyRule] = attrs.field(default=EMPTY, converter=freeze_map)
    """iptables rules by ``namespace/name:port``"""
    connections: tuple[Connection, ...] = attrs.field(default=(), converter=freeze_tuple)
    """conntrack entries of clients on this machine"""

    @property
    def reachable(self) -> bool:
        """The machine can talk to the API server."""
        return self.up and not self.partitioned

    def free_ip(self, only_running: bool = False) -> str:
        """The lowest address of the pod CIDR that no sandbox uses.

        ``only_running`` is the variant ``kubelet-ip-by-running``: a sandbox
        whose containers have all exited is taken to have released its address.
        """
        used = {sb.ip for sb in self.sandboxes.values() if sb.running() or not only_running}
        n = 2
        while f"{self.pod_cidr_prefix}.{n}" in used:
            n += 1
        return f"{self.pod_cidr_prefix}.{n}"

    def with_image(self, image: str) -> Machine:
        """A copy whose image store holds ``image``."""
        if image in self.images:
            return self
        return replace(self, images=tuple(sorted((*self.images, image))))

    def put_sandbox(self, sandbox: Sandbox) -> Machine:
        """A copy with ``sandbox`` stored under its UID."""
        return replace(self, sandboxes=self.sandboxes.set(sandbox.uid, sandbox))

    def drop_sandbox(self, uid: int) -> Machine:
        """A copy without the sandbox of ``uid``."""
        return replace(self, sandboxes=self.sandboxes.remove(uid))
