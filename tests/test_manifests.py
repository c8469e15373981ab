"""Real Kubernetes manifests as input: quantities, defaults, the guestbook, bad manifests, and traces that carry them."""

from __future__ import annotations

import json
import shutil
from fractions import Fraction
from pathlib import Path

import pytest

from checker import induction
from checker import trace as tracefmt
from checker.cli import main
from spec import kinds, quantity
from spec.decode import DecodeError, Fields
from spec.errors import InvalidInputError
from spec.manifests import ManifestScenario, scenario_from_json, scenario_from_manifests, scenario_name
from spec.model import KubeModel
from spec.objects import Pod, ReplicaSet, Service

DATA = Path(__file__).parent / "data" / "manifests"
GUESTBOOK = DATA / "guestbook"
NODES = DATA / "nodes"
MI, GI = 1024**2, 1024**3
REGEX_ERROR = quantity.ERR_FORMAT


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


# ------------------------------------------------------------ quantities


@pytest.mark.parametrize(
    ("text", "exact", "milli", "units"),
    [
        ("0", Fraction(0), 0, 0),
        ("500m", Fraction(1, 2), 500, 1),
        ("2", Fraction(2), 2000, 2),
        ("0.5", Fraction(1, 2), 500, 1),
        (".5", Fraction(1, 2), 500, 1),
        ("1.", Fraction(1), 1000, 1),
        ("1e3", Fraction(1000), 1_000_000, 1000),
        ("1E3", Fraction(1000), 1_000_000, 1000),
        ("1e+3", Fraction(1000), 1_000_000, 1000),
        ("12e-3", Fraction(12, 1000), 12, 1),
        ("1k", Fraction(1000), 1_000_000, 1000),
        ("1M", Fraction(10**6), 10**9, 10**6),
        ("1G", Fraction(10**9), 10**12, 10**9),
        ("1T", Fraction(10**12), 10**15, 10**12),
        ("1P", Fraction(10**15), 10**18, 10**15),
        ("1E", Fraction(10**18), 10**21, 10**18),
        ("1Ki", Fraction(1024), 1_024_000, 1024),
        ("100Mi", Fraction(100 * MI), 100 * MI * 1000, 100 * MI),
        ("1.5Gi", Fraction(3 * GI, 2), 3 * GI * 500, 3 * GI // 2),
        ("0.1Ki", Fraction(512, 5), 102_400, 103),
        ("1Ti", Fraction(1024**4), 1024**4 * 1000, 1024**4),
        ("1Ei", Fraction(1024**6), 1024**6 * 1000, 1024**6),
        ("8Ei", Fraction(2**63 - 1), (2**63 - 1) * 1000, 2**63 - 1),  # binary SI is capped at 2^63-1
        ("100u", Fraction(1, 10_000), 1, 1),  # finer than 1m: MilliValue rounds up
        ("1n", Fraction(1, 10**9), 1, 1),
        ("0.1n", Fraction(1, 10**9), 1, 1),  # finer than 1n: ParseQuantity rounds up to 1n
        ("1e-20", Fraction(1, 10**9), 1, 1),
        ("1.0000000001", Fraction(1_000_000_001, 10**9), 1001, 2),
        ("-1", Fraction(-1), -1000, -1),
        ("+250m", Fraction(1, 4), 250, 1),
        ("007", Fraction(7), 7000, 7),
        (".", Fraction(0), 0, 0),  # no digit: zero on the int64 fast path
        ("m", Fraction(0), 0, 0),
        (".e-9", Fraction(0), 0, 0),
        ("0e-10", Fraction(0), 0, 0),  # a digit, so inf.Dec reads it
        (
            "123456789012345678901234567890",
            Fraction(123456789012345678901234567890),
            123456789012345678901234567890000,
            123456789012345678901234567890,
        ),
    ],
)
def test_quantities_parse_exactly(text: str, exact: Fraction, milli: int, units: int) -> None:
    q = quantity.parse_quantity(text)
    assert q == exact and quantity.milli_value(q) == milli and quantity.value(q) == units


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", REGEX_ERROR),
        ("1x", REGEX_ERROR),
        ("abc", REGEX_ERROR),
        ("1.5.5", REGEX_ERROR),
        ("1e3.5", REGEX_ERROR),
        ("1 Gi", REGEX_ERROR),
        ("1K", quantity.ERR_SUFFIX),
        ("1e", quantity.ERR_SUFFIX),
        ("1ee3", quantity.ERR_SUFFIX),
        ("1Gi3", quantity.ERR_SUFFIX),
        ("1mi", quantity.ERR_SUFFIX),
        ("1e2147483648", quantity.ERR_SUFFIX),
        ("1e100", "too large"),
        ("e-10", quantity.ERR_NUMERIC),  # no digit, and a scale finer than 1n: inf.Dec has nothing to read
        ("-.E-12", quantity.ERR_NUMERIC),
    ],
    ids=lambda value: repr(value)[:12],
)
def test_bad_quantities_give_apimachinery_errors(text: str, message: str) -> None:
    with pytest.raises(quantity.QuantityError) as caught:
        quantity.parse_quantity(text)
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize(
    ("raw", "exact"), [(2, Fraction(2)), (0.5, Fraction(1, 2)), (1.5e3, Fraction(1500)), (None, Fraction(0)), (" 1Gi ", Fraction(GI))]
)
def test_yaml_numbers_and_null_are_quantities(raw: object, exact: Fraction) -> None:
    assert quantity.from_json(raw) == exact


@pytest.mark.parametrize("raw", [True, [1], {"cpu": 1}, float("inf")])
def test_other_yaml_values_are_not_quantities(raw: object) -> None:
    with pytest.raises(quantity.QuantityError):
        quantity.from_json(raw)


# ------------------------------------------------------------ defaults


def _read(data: dict[str, object]) -> kinds.Decoded:
    return kinds.read(Fields.of(data, ""), str(data["apiVersion"]), str(data["kind"]))


def test_pod_defaults_are_the_api_servers() -> None:
    container = {"name": "app", "image": "nginx", "resources": {"limits": {"cpu": "250m", "memory": "64Mi"}}}
    toleration = {"key": "dedicated", "value": "db", "effect": "NoExecute", "tolerationSeconds": 45}
    decoded = _read(
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"}, "spec": {"containers": [container], "tolerations": [toleration]}}
    )
    pod = decoded.obj
    assert isinstance(pod, Pod) and decoded.warnings == ()
    assert pod.meta.namespace == "default"
    assert pod.spec.restart_policy == "Always" and pod.spec.scheduler_name == "default-scheduler"
    assert pod.spec.termination_grace_period_seconds == 3  # 30 s in ticks of 10 s
    c = pod.spec.containers[0]
    assert c.image_pull_policy == "Always"  # no tag
    assert (c.requests.cpu, c.requests.memory) == (250, 64 * MI)  # requests default to limits
    t = pod.spec.tolerations[0]
    assert t.operator == "Equal" and t.toleration_seconds == 5  # 45 s, rounded up to ticks


@pytest.mark.parametrize(
    ("image", "policy"), [("nginx:1.25", "IfNotPresent"), ("nginx:latest", "Always"), ("nginx", "Always"), ("nginx@sha256:abc", "IfNotPresent")]
)
def test_image_pull_policy_defaults_from_the_tag(image: str, policy: str) -> None:
    decoded = _read({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": image}]}})
    assert isinstance(decoded.obj, Pod) and decoded.obj.spec.containers[0].image_pull_policy == policy


def test_deployment_becomes_the_replicaset_it_would_create() -> None:
    template = {"metadata": {"labels": {"app": "web", "tier": "front"}}, "spec": {"containers": [{"name": "c", "image": "nginx:1.25"}]}}
    spec = {"selector": {"matchLabels": {"app": "web"}}, "template": template, "strategy": {"type": "Recreate"}}
    decoded = _read({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": {"team": "x"}}, "spec": spec})
    rs = decoded.obj
    assert isinstance(rs, ReplicaSet) and decoded.kind == "Deployment"
    assert rs.meta.name == "web" and rs.spec.replicas == 1  # apps/v1 default
    assert dict(rs.meta.labels) == {"app": "web", "tier": "front"}  # the template's labels, as the deployment controller copies them
    assert rs.spec.selector.matches({"app": "web"})


def test_service_defaults() -> None:
    decoded = _read(
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}
    )
    svc = decoded.obj
    assert isinstance(svc, Service)
    assert svc.spec.type == "ClusterIP" and svc.spec.ports[0].target_port == 80 and svc.spec.ports[0].protocol == "TCP"
    no_selector = _read({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ext"}, "spec": {"ports": [{"port": 80}]}}).obj
    assert isinstance(no_selector, Service) and no_selector.spec.selector is None


def test_a_field_error_names_its_path() -> None:
    with pytest.raises(DecodeError, match=r'^spec\.ports\[0\]\.protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"$'):
        _read({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}, "spec": {"ports": [{"port": 80, "protocol": "HTTP"}]}})


# ------------------------------------------------------------ the guestbook and the nodes folder


def test_guestbook_loads_into_the_expected_objects() -> None:
    loaded = scenario_from_manifests([GUESTBOOK])
    s = loaded.scenario
    assert s.name == "guestbook" and s.settle is False and dict(s.bounds.budgets) == {}
    replicasets = {o.meta.name: o for o in s.objects if isinstance(o, ReplicaSet)}
    services = {o.meta.name: o for o in s.objects if isinstance(o, Service)}
    assert {name: rs.spec.replicas for name, rs in replicasets.items()} == {"frontend": 3, "redis-follower": 2, "redis-leader": 1}
    assert {name: svc.spec.type for name, svc in services.items()} == {
        "frontend": "NodePort",
        "redis-follower": "ClusterIP",
        "redis-leader": "ClusterIP",
    }
    for rs in replicasets.values():
        c = rs.spec.template.spec.containers[0]
        assert (c.requests.cpu, c.requests.memory) == (100, 100 * MI)
    assert replicasets["frontend"].spec.template.spec.containers[0].readiness_probe
    assert [(n.name, n.capacity.cpu, n.capacity.memory) for n in s.nodes] == [("node-1", 2000, 4 * GI), ("node-2", 2000, 4 * GI)]
    extras = GUESTBOOK / "extras.yaml"
    assert loaded.warnings == (
        f"{extras}: document 1: kind ConfigMap is not modelled; skipped",
        f"{extras}: document 2: kind Ingress is not modelled; skipped",
    )
    state = KubeModel(s).initial_states()[0]
    assert len(state.api.objects.replicasets) == 3 and len(state.api.objects.services) == 3


def test_nodes_come_from_node_manifests() -> None:
    s = scenario_from_manifests([NODES]).scenario
    nodes = {n.name: n for n in s.nodes}
    assert list(nodes) == ["control-plane", "worker-1", "worker-2"]
    assert nodes["control-plane"].taints[0].key == "node-role.kubernetes.io/control-plane"
    assert (nodes["worker-1"].capacity.cpu, nodes["worker-1"].capacity.memory) == (3800, 15 * GI // 2)  # allocatable, not capacity
    assert (nodes["worker-2"].capacity.cpu, nodes["worker-2"].capacity.pods) == (1500, 110)
    assert s.namespaces == ("default", "shop")
    cart = next(o for o in s.objects if isinstance(o, Pod))
    assert cart.meta.key == "shop/cart" and cart.spec.containers[0].requests.cpu == 500 and cart.spec.containers[0].image_pull_policy == "Always"


def test_node_options_make_the_machines(tmp_path: Path) -> None:
    s = scenario_from_manifests([GUESTBOOK], nodes=3, node_cpu="1500m", node_memory="1.5Gi").scenario
    assert [(n.name, n.capacity.cpu, n.capacity.memory) for n in s.nodes] == [(f"node-{i}", 1500, 3 * GI // 2) for i in (1, 2, 3)]
    with pytest.raises(InvalidInputError, match="cannot be combined with Node manifests"):
        scenario_from_manifests([NODES], nodes=2)
    with pytest.raises(InvalidInputError, match=r'^--node-cpu: Invalid value: "2 cores": quantities must match'):
        scenario_from_manifests([GUESTBOOK], node_cpu="2 cores")


def test_a_trace_rebuilds_the_same_scenario() -> None:
    s = scenario_from_manifests([NODES]).scenario
    rebuilt = scenario_from_json(s.name, json.loads(json.dumps(s.source.to_json())), "t.json: manifests")
    assert isinstance(rebuilt, ManifestScenario) and rebuilt == s


# ------------------------------------------------------------ kspec check --manifests


def test_check_guestbook_holds_and_says_what_it_covered(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["check", "--manifests", str(GUESTBOOK), "--engine", "hypothesis", "--max-examples", "1", "--out", str(tmp_path)], capsys)
    assert code == 0, err
    assert "scenario guestbook, variant default (hypothesis, seed 0): " in out and "quiescent states" in out
    assert "holds        rs-converges" in out and "a bounded search, not a proof" in out
    assert err.splitlines() == [
        f"kspec: warning: {GUESTBOOK / 'extras.yaml'}: document 1: kind ConfigMap is not modelled; skipped",
        f"kspec: warning: {GUESTBOOK / 'extras.yaml'}: document 2: kind Ingress is not modelled; skipped",
    ]


def test_a_variant_on_manifests_is_caught_and_its_trace_replays_without_the_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy = tmp_path / "redis"
    copy.mkdir()
    for path in GUESTBOOK.glob("redis-leader-*.yaml"):  # the guestbook's leader: a small cluster, so the search is quick
        shutil.copy(path, copy)
    out_dir = tmp_path / "out"
    args = [
        "check",
        "--manifests",
        str(copy),
        "--nodes",
        "1",
        "--variant",
        "rs-no-expectations",
        "--invariant",
        "rs-no-overshoot",
        "--out",
        str(out_dir),
    ]
    code, out, _ = _run(args, capsys)
    assert code == 1 and "violated     rs-no-overshoot: created default/redis-leader-" in out
    saved = out_dir / "redis--rs-no-expectations--rs-no-overshoot.json"
    trace = tracefmt.load(saved)
    assert trace.manifests is not None and trace.manifests["nodes"] == {"count": 1, "cpu": "2", "memory": "4Gi"}
    assert list(json.loads(saved.read_text()))[:6] == ["format", "version", "spec_version", "scenario", "manifests", "bounds"]
    shutil.rmtree(copy)
    code, out, _ = _run(["replay", str(saved), "--no-tables"], capsys)
    assert code == 1 and f"violation reproduces at step {trace.violation_step}" in out
    code, out, _ = _run(["replay", str(saved), "--variant", "default", "--no-tables"], capsys)
    assert code == 0 and "violation no longer reproduces" in out


def test_a_trace_with_bad_manifests_is_refused_naming_the_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    s = scenario_from_manifests([NODES]).scenario
    trace = tracefmt.record(KubeModel(s), [], engine="test", seed=None)
    data = tracefmt.to_json(trace)
    deployment = next(o["object"] for o in data["manifests"]["objects"] if o["object"]["kind"] == "Deployment")
    deployment["spec"]["replicas"] = "two"
    path = tmp_path / "t.json"
    path.write_text(json.dumps(data))
    code, _, err = _run(["replay", str(path)], capsys)
    assert code == 2 and err.count("\n") == 1
    assert f'{path}: manifests: {NODES / "web.yaml"}: document 1 (Deployment web): spec.replicas: Invalid value: "two"' in err
    data["manifests"]["extra"] = 1
    path.write_text(json.dumps(data))
    code, _, err = _run(["replay", str(path)], capsys)
    assert code == 2 and 'manifests.extra: unknown field "extra"' in err


def test_check_explores_a_manifest_cluster(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["check", "--manifests", str(NODES), "--engine", "explore", "--depth", "2", "--symmetry", "--out", str(tmp_path)], capsys)
    assert code == 0, err
    assert "scenario nodes, variant default (explore): " in out and "stopped at the depth bound" in out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--manifests", str(GUESTBOOK), "--scenario", "basic"], "--manifests and --scenario cannot be combined"),
        (["--nodes", "3"], "--nodes, --node-cpu and --node-memory need --manifests"),
        (["--manifests", str(DATA / "no-such-folder")], f"{DATA / 'no-such-folder'}: no such file or folder"),
        (["--manifests", str(NODES), "--node-cpu", "4"], "cannot be combined with Node manifests"),
        (["--manifests", str(GUESTBOOK), "--node-memory", "lots"], '--node-memory: Invalid value: "lots"'),
    ],
)
def test_check_manifest_usage_errors(args: list[str], needle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(["check", *args, "--out", str(tmp_path)], capsys)
    assert code == 2 and needle in err and err.startswith("kspec: error: ") and err.count("\n") == 1


# ------------------------------------------------------------ bad manifests and warnings


def _declared(path: Path, tag: str) -> str:
    first = path.read_text().splitlines()[0]
    assert first.startswith(f"# {tag}: "), f"{path} must start with '# {tag}: <message fragment>'"
    return first.removeprefix(f"# {tag}: ")


BAD = sorted((DATA / "bad").glob("*.yaml"))
WARNINGS = sorted((DATA / "warnings").glob("*.yaml"))


def test_there_are_at_least_twenty_bad_manifests() -> None:
    assert len(BAD) >= 20


@pytest.mark.parametrize("path", BAD, ids=[p.name for p in BAD])
def test_a_bad_manifest_gives_one_line_naming_file_and_field(path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["check", "--manifests", str(path), "--max-examples", "1", "--out", str(tmp_path)], capsys)
    assert code == 2 and out == ""
    assert err.startswith(f"kspec: error: {path}: document ") and err.count("\n") == 1 and "Traceback" not in err
    assert _declared(path, "expect") in err


@pytest.mark.parametrize("path", WARNINGS, ids=[p.name for p in WARNINGS])
def test_an_unmodelled_kind_or_field_gives_one_warning(path: Path) -> None:
    loaded = scenario_from_manifests([path])
    assert len(loaded.warnings) == 1 and loaded.warnings[0].startswith(f"{path}: document ")
    assert _declared(path, "warning") in loaded.warnings[0]


def test_warnings_come_in_document_order(tmp_path: Path) -> None:
    service = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {type: LoadBalancer, ports: [{port: 80}]}\n"
    (tmp_path / "a.yaml").write_text(service + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    (tmp_path / "b.yaml").write_text("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n")
    warnings = scenario_from_manifests([tmp_path]).warnings
    assert [w.split(": ")[:2] for w in warnings] == [
        [str(tmp_path / name), document]
        for name, document in [("a.yaml", "document 1 (Service web)"), ("a.yaml", "document 2"), ("b.yaml", "document 1")]
    ]


def test_documents_are_counted_from_one_including_empty_ones(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("---\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: s}\n---\n")
    assert scenario_from_manifests([tmp_path]).warnings == (f"{tmp_path / 'a.yaml'}: document 2: kind Secret is not modelled; skipped",)


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("latin1.yaml", b"apiVersion: v1\nkind: Pod\nmetadata: {name: caf\xe9}\n", "not UTF-8 text (byte 0xe9"),
        ("flow.yaml", b"apiVersion: v1\nkind: Pod\nmetadata: {name: a, name: b}\n", 'mapping key "name" already defined at line 3'),
        ("tag.yaml", b"apiVersion: v1\nkind: !custom Pod\n", "invalid YAML at line 2, column 7: could not determine a constructor"),
    ],
)
def test_unreadable_files_are_refused_naming_the_file(name: str, content: bytes, needle: str, tmp_path: Path) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(InvalidInputError, match="^" + str(tmp_path / name)) as caught:
        scenario_from_manifests([tmp_path / name])
    assert needle in str(caught.value)


def test_a_folder_without_yaml_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a manifest")
    with pytest.raises(InvalidInputError, match=r"no \.yaml or \.yml files in this folder"):
        scenario_from_manifests([tmp_path])


@pytest.mark.parametrize("invariant", sorted(induction.ABSTRACTIONS))
def test_prove_on_the_cluster_the_manifests_create(invariant: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A design review's question: do the rules keep the invariant on my cluster, for every depth."""
    code, out, err = _run(["prove", "--invariant", invariant, "--manifests", str(GUESTBOOK)], capsys)
    assert code == 0, out + err
    assert out.startswith(f"{invariant} on guestbook, variant default: proved for every depth (k = ")
    assert "kind ConfigMap is not modelled; skipped" in err


def test_prove_manifest_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(["prove", "--invariant", "phase-monotone", "--manifests", str(GUESTBOOK), "--scenario", "basic"], capsys)
    assert (code, err) == (2, "kspec: error: --manifests and --scenario cannot be combined: the manifests are the scenario\n")
    code, _, err = _run(["prove", "--invariant", "phase-monotone", "--nodes", "3"], capsys)
    assert (code, err) == (2, "kspec: error: --nodes, --node-cpu and --node-memory need --manifests\n")


def test_prove_says_how_many_nodes_an_abstraction_with_fields_per_node_fits(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["prove", "--invariant", "identity-runs-once", "--manifests", str(GUESTBOOK), "--nodes", "12"], capsys)
    assert code == 2 and out == ""
    assert err.splitlines()[-1] == (
        "kspec: error: --nodes: kspec prove's abstraction of identity-runs-once has fields for each node and fits 11 nodes; this cluster"
        " has 12 (prove the other invariants with --invariant)"
    )


def test_a_manifest_scenario_never_takes_a_built_in_name() -> None:
    """A trace names its scenario: manifests in basic.yaml or stranded.yaml must not be read back as the built-in scenario or cluster."""
    assert scenario_name(["deploy/basic.yaml"]) == "basic-manifests" and scenario_name(["stranded.yml"]) == "stranded-manifests"
    assert scenario_name(["web.yaml", "db.yaml"]) == "web+db"
