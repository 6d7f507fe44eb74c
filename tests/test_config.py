"""ClusterConfig: the default cluster, the example files, node manifests and clear errors."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minikube_lite.clock import VirtualClock
from minikube_lite.config import (
    ClusterConfig,
    ConfigError,
    Timings,
    load_config,
    parse_duration,
    parse_quantity,
    timings_of,
)
from minikube_lite.kubelet.node import node_manifests

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "clusters"


def test_default_yaml_equals_default() -> None:
    assert load_config(EXAMPLES / "default.yaml") == ClusterConfig.default()


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.yaml")))
def test_every_example_loads(name: str) -> None:
    config = load_config(EXAMPLES / name)
    assert config.resolved_nodes()


def test_default_cluster_matches_the_course() -> None:
    config = ClusterConfig.default()
    nodes = {n.name: n for n in config.resolved_nodes()}
    assert list(nodes) == ["master", "node1", "node2"]
    assert {(n.region, n.zone) for n in nodes.values()} == {("cn-hangzhou", "cn-hangzhou-b")}
    assert nodes["master"].labels["node-role.kubernetes.io/control-plane"] == ""
    assert nodes["master"].taints == [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
    assert nodes["node1"].taints == [] and "node-role.kubernetes.io/control-plane" not in nodes["node1"].labels
    for n in nodes.values():
        for key, value in {
            "topology.kubernetes.io/region": "cn-hangzhou", "topology.kubernetes.io/zone": "cn-hangzhou-b",
            "failure-domain.beta.kubernetes.io/region": "cn-hangzhou",
            "failure-domain.beta.kubernetes.io/zone": "cn-hangzhou-b",
            "kubernetes.io/hostname": n.name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
        }.items():
            assert n.labels[key] == value
    assert config.cloud.zones == ["cn-hangzhou-b", "cn-hangzhou-d"]
    assert [d.name for d in config.drivers] == ["diskplugin.csi.alibabacloud.com", "hostpath.csi.k8s.io"]
    objs = {(o["kind"], o["metadata"]["name"]): o for o in config.objects}
    default_classes = [name for (kind, name), o in objs.items() if kind == "StorageClass"
                       and o["metadata"].get("annotations", {}).get("storageclass.kubernetes.io/is-default-class")
                       == "true"]
    assert default_classes == ["alicloud-disk-ssd"]
    assert objs[("StorageClass", "alicloud-disk-ssd")]["provisioner"] == "diskplugin.csi.alibabacloud.com"
    local = objs[("StorageClass", "local-storage")]
    assert local["provisioner"] == "kubernetes.io/no-provisioner"
    assert local["volumeBindingMode"] == "WaitForFirstConsumer"
    vsc = objs[("VolumeSnapshotClass", "default-snapclass")]
    assert vsc["driver"] == "diskplugin.csi.alibabacloud.com"
    assert vsc["metadata"]["annotations"]["snapshot.storage.kubernetes.io/is-default-class"] == "true"


def test_templates_spread_zones_and_name_nodes() -> None:
    config = load_config(EXAMPLES / "hundred-nodes.yaml")
    nodes = config.resolved_nodes()
    assert len(nodes) == 100 and len({n.name for n in nodes}) == 100
    assert len({n.internal_ip for n in nodes}) == 100 and len({n.instance_id for n in nodes}) == 100
    workers = [n for n in nodes if n.name.startswith("worker-")]
    assert [w.name for w in workers[:3]] == ["worker-1", "worker-2", "worker-3"]
    assert [w.zone for w in workers[:4]] == ["cn-hangzhou-b", "cn-hangzhou-d", "cn-hangzhou-h", "cn-hangzhou-b"]
    assert workers[0].labels["kubernetes.io/hostname"] == "worker-1"
    assert workers[0].capacity["cpu"] == "8"


def test_three_zones_racks() -> None:
    config = load_config(EXAMPLES / "three-zones-racks.yaml")
    racks = {n.name: (n.zone, n.labels.get("topology.kubernetes.io/rack")) for n in config.resolved_nodes()}
    assert racks["b-rack1-1"] == ("cn-hangzhou-b", "rack1")
    assert racks["d-rack3-2"] == ("cn-hangzhou-d", "rack3")
    assert racks["h-rack4-1"] == ("cn-hangzhou-h", "rack4")
    assert {z for z, _ in racks.values()} == {"cn-hangzhou-b", "cn-hangzhou-d", "cn-hangzhou-h"}


BROKEN = [
    ("nodes:\n  - name: a\n  - name: b\n    capacity: {cpu: abc}\n", 'nodes.1.capacity.cpu: invalid quantity "abc"'),
    ("nodes:\n  - name: a\n    lables: {x: y}\n", "nodes.0.lables: unknown field"),
    ("nodes:\n  - name: a\n    zone: cn-hangzhou-z\n", 'nodes.0.zone: zone "cn-hangzhou-z" is not one of the cloud zones'),
    ("nodes:\n  - name: a\n    taints: [{key: k, effect: Sometimes}]\n", 'nodes.0.taints.0.effect: unsupported value "Sometimes"'),
    ("nodes:\n  - name: a\n  - name: a\n", 'nodes: node name "a" is used twice'),
    ("nodes:\n  - name: w\n    count: 0\n", "nodes.0.count: Input should be greater than or equal to 1"),
    ("nodes:\n  - name: Bad_Name\n", "nodes.0.name: String should match pattern"),
    ("nodes:\n  - {name: a, zone: cn-hangzhou-b, zones: [cn-hangzhou-d]}\n", "nodes.0: give either zone or zones"),
    ("cloud:\n  durations: {createDisk: soon}\n", 'cloud.durations.createDisk: invalid duration "soon"'),
    ("cloud:\n  quotas: {disksPerZone: -1}\n", "cloud.quotas.disksPerZone: Input should be greater than or equal to 0"),
    ("cloud:\n  faults: {errorRates: {CreateDisk: 2}}\n", "cloud.faults.errorRates.CreateDisk: rate 2.0 must be between 0 and 1"),
    ("cloud:\n  zones: []\n", "cloud.zones: List should have at least 1 item"),
    ("drivers:\n  - {name: d, type: nfs}\n", 'drivers.0.type: unsupported value "nfs"'),
    ("drivers:\n  - {name: d}\n", "drivers.0.type: field required"),
    ("drivers:\n  - {name: d, type: local, capacityPerNode: lots}\n", 'drivers.0.capacityPerNode: invalid quantity "lots"'),
    ("nodes: [{name: a}]\ndrivers:\n  - {name: d, type: local, nodes: [b]}\n", 'drivers.0.nodes: node "b" is not in nodes'),
    ("objects:\n  - kind: StorageClass\n    metadata: {}\n", "objects.0.apiVersion: field required; objects.0.metadata.name"),
    ("timings: {podStartDelay: later}\n", 'timings.podStartDelay: invalid duration "later"'),
    ("timings: {myDelay: 1s}\n", "timings.myDelay: unknown field"),
    ("nodes: [\n", "invalid YAML"),
    ("- just\n- a list\n", "the top level must be a mapping"),
    ("surprise: 1\n", "surprise: unknown field"),
]


@pytest.mark.parametrize(("text", "expected"), BROKEN)
def test_broken_config_names_the_field(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "cluster.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    message = str(exc.value)
    assert message.startswith(str(path) + ":")
    assert expected in message, message
    assert "Traceback" not in message and "pydantic" not in message


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as exc:
        load_config(tmp_path / "nope.yaml")
    assert "cannot read config file" in str(exc.value)


def test_empty_file_is_an_empty_cluster() -> None:
    config = ClusterConfig.from_yaml("")
    assert config.nodes == [] and config.cloud.region == "cn-hangzhou"


@pytest.mark.parametrize(
    ("text", "value"),
    [("4", Decimal(4)), ("500m", Decimal("0.5")), ("1.5Gi", Decimal(1.5 * 2**30)), ("8Gi", Decimal(8 * 2**30)),
     ("1e3", Decimal(1000)), ("2k", Decimal(2000)), ("110", Decimal(110)), (3, Decimal(3)), ("1Ki", Decimal(1024))],
)
def test_parse_quantity(text: str | int, value: Decimal) -> None:
    assert parse_quantity(text) == value


@pytest.mark.parametrize("bad", ["abc", "", "1.2.3", "5Xi", "Gi", "1 Gi"])
def test_parse_quantity_rejects(bad: str) -> None:
    with pytest.raises(ValueError, match="invalid quantity"):
        parse_quantity(bad)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [(2, 2.0), (0.5, 0.5), ("2s", 2.0), ("500ms", 0.5), ("1m30s", 90.0), ("1h", 3600.0), ("3", 3.0)],
)
def test_parse_duration(text: str | float, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["soon", "-1s", -1, "1x", "s", True])
def test_parse_duration_rejects(bad: object) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration(bad)


def test_timings_are_typed_fields_with_defaults() -> None:
    config = ClusterConfig.from_yaml("timings: {podStartDelay: 250ms, kubeletSyncRetry: 1m}\n")
    assert config.timings.podStartDelay == 0.25
    assert config.timings.kubeletSyncRetry == 60.0
    assert config.timings.pvControllerResync == 15.0
    # The Lease follows the status update interval unless it is set on its own.
    assert config.timings.lease_renew_interval == config.timings.nodeStatusUpdateInterval == 10.0
    assert ClusterConfig.from_yaml("timings: {nodeLeaseRenewInterval: 2s}\n").timings.lease_renew_interval == 2.0


def test_pv_controller_workers_default_by_transport_unless_set() -> None:
    """One worker in one process (seeded runs keep their order), several over HTTP."""
    timings = ClusterConfig.from_yaml("{}\n").timings
    assert timings.pv_controller_workers(remote=False) == 1
    assert timings.pv_controller_workers(remote=True) == 8
    timings = ClusterConfig.from_yaml("timings: {pvControllerWorkers: 3}\n").timings
    assert timings.pv_controller_workers(remote=False) == timings.pv_controller_workers(remote=True) == 3
    with pytest.raises(ConfigError, match="pvControllerWorkers"):
        ClusterConfig.from_yaml("timings: {pvControllerWorkers: 0}\n")


def test_unknown_timing_is_a_config_error_naming_the_key() -> None:
    """A misspelt timing must not silently keep its default."""
    with pytest.raises(ConfigError) as exc:
        ClusterConfig.from_yaml("timings: {podStartDelay: 1s, kubeletSyncFrequency: 1m}\n")
    assert str(exc.value) == "<config>: timings.kubeletSyncFrequency: unknown field"


def test_timings_of_a_component_without_config_are_the_defaults() -> None:
    assert timings_of(None) == Timings()
    config = ClusterConfig.from_yaml("timings: {bindTimeout: 30s}\n")
    assert timings_of(config).bindTimeout == 30.0


def test_custom_labels_allocatable_and_control_plane_shortcut() -> None:
    config = ClusterConfig.from_yaml("""
nodes:
  - name: cp
    controlPlane: true
    taints: [{key: dedicated, value: infra, effect: NoExecute}]
  - name: big
    labels: {rack: rack1}
    capacity: {cpu: "32", memory: 128Gi, nvidia.com/gpu: "4"}
    allocatable: {cpu: 31500m, memory: 120Gi}
""")
    cp, big = config.resolved_nodes()
    assert cp.taints == [{"key": "dedicated", "value": "infra", "effect": "NoExecute"},
                         {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
    assert big.labels["rack"] == "rack1" and big.capacity["nvidia.com/gpu"] == "4"
    assert big.allocatable == {"cpu": "31500m", "memory": "120Gi"}


def test_readme_reference_block_is_a_valid_config() -> None:
    text = (EXAMPLES / "README.md").read_text()
    block = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    config = ClusterConfig.from_yaml(block)
    assert [n.name for n in config.resolved_nodes()] == ["worker-1", "worker-2", "worker-3"]
    assert config.cloud.faults.script[0].code == "QuotaExceed.Disk"
    assert config.drivers[0].nodes == ["worker-1", "worker-2"]


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.yaml")))
async def test_every_example_starts_a_cluster(name: str) -> None:
    """The API server accepts every node and object of each example file."""
    from minikube_lite.cluster import Cluster

    config = load_config(EXAMPLES / name)
    async with Cluster(config, clock=VirtualClock(), components=False) as cluster:
        nodes = (await cluster.client.list("nodes"))["items"]
        assert len(nodes) == len(config.resolved_nodes())
        assert len((await cluster.client.list("csinodes"))["items"]) == len(nodes)
        for obj in config.objects:
            rt = cluster.engine.registry.for_kind(obj["apiVersion"], obj["kind"])
            assert rt is not None
            resource = f"{rt.plural}.{rt.group}" if rt.group else rt.plural
            assert (await cluster.client.get(resource, obj["metadata"]["name"]))["kind"] == obj["kind"]


def test_unreadable_files_are_config_errors(tmp_path: Path) -> None:
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00nodes")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(binary)
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path)  # a directory


_scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=False, width=16),
                     st.sampled_from(["", "abc", "2s", "4", "8Gi", "cn-hangzhou-b", "cn-hangzhou-z", "local",
                                      "cloud-disk", "NoSchedule", "node1"]))
_keys = st.sampled_from(["nodes", "cloud", "drivers", "objects", "timings", "name", "count", "zone", "zones",
                         "capacity", "cpu", "labels", "taints", "key", "effect", "type", "quotas", "durations",
                         "faults", "errorRates", "createDisk", "region", "metadata", "apiVersion", "kind", "x"])
_values = st.recursive(_scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                         st.dictionaries(_keys, inner, max_size=4)),
                       max_leaves=12)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(_keys, _values, max_size=5))
def test_any_input_gives_a_config_or_a_config_error(data: dict) -> None:
    try:
        config = ClusterConfig.from_dict(data)
    except ConfigError as exc:
        assert str(exc).startswith("<config>: ") and len(str(exc)) > len("<config>: ")
        return
    config.resolved_nodes()
    node_manifests(config, VirtualClock())
