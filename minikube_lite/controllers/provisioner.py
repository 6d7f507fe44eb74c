"""The CSI external-provisioner: one instance per CSI driver (storage.md §3).

Why one instance per driver, as upstream runs one ``csi-provisioner`` sidecar next to each
driver's controller plugin: each instance only answers for claims whose
``volume.kubernetes.io/storage-provisioner`` names its driver, and its events carry its own
``<driver>_<host>_<uuid>`` source, exactly as ``kubectl describe pvc`` shows on a real cluster.

Everything goes through the API client and the CSI protocol; the cloud is never touched. The
operation is idempotent by construction: the volume name is ``pvc-<claim uid>`` and CreateVolume
is idempotent by name in every driver, so a provisioner that dies half-way through and a new one
that starts over still end up with exactly one disk.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import random
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..api.errors import ApiError
from ..api.quantity import format_quantity, parse_quantity
from ..client.base import JSON, Client
from ..client.events import NORMAL, WARNING, EventRecorder
from ..client.informer import Informer
from ..clock import Clock
from ..csi import spec
from .runtime import DONE, Controller, Key, Result, get_or_none, split_key

log = logging.getLogger(__name__)

# ---------------------------------------------------------------- annotations and finalizers (§0.1, §0.2)
ANN_STORAGE_PROVISIONER = "volume.kubernetes.io/storage-provisioner"
ANN_BETA_STORAGE_PROVISIONER = "volume.beta.kubernetes.io/storage-provisioner"
ANN_SELECTED_NODE = "volume.kubernetes.io/selected-node"
ANN_PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"
ANN_BETA_STORAGE_CLASS = "volume.beta.kubernetes.io/storage-class"
ANN_DELETION_SECRET_NAME = "volume.kubernetes.io/provisioner-deletion-secret-name"
ANN_DELETION_SECRET_NAMESPACE = "volume.kubernetes.io/provisioner-deletion-secret-namespace"
PV_FINALIZER = "external-provisioner.volume.kubernetes.io/finalizer"
SNAPSHOT_SOURCE_FINALIZER = "provisioner.storage.kubernetes.io/volumesnapshot-as-source-protection"
CLONE_FINALIZER = "provisioner.storage.kubernetes.io/cloning-protection"
PROVISIONER_ID_KEY = "storage.kubernetes.io/csiProvisionerIdentity"

CSI_PARAMETER_PREFIX = "csi.storage.k8s.io/"
PREFIXED_FSTYPE_KEY = CSI_PARAMETER_PREFIX + "fstype"
#: The reserved parameters external-provisioner understands (EP controller.go removePrefixedParameters).
KNOWN_PREFIXED_KEYS = frozenset(CSI_PARAMETER_PREFIX + k for k in (
    "fstype", "secret-name", "secret-namespace",
    "provisioner-secret-name", "provisioner-secret-namespace",
    "controller-publish-secret-name", "controller-publish-secret-namespace",
    "node-stage-secret-name", "node-stage-secret-namespace",
    "node-publish-secret-name", "node-publish-secret-namespace",
    "controller-expand-secret-name", "controller-expand-secret-namespace",
    "node-expand-secret-name", "node-expand-secret-namespace",
))

SNAPSHOT_KIND = "VolumeSnapshot"
SNAPSHOT_GROUP = "snapshot.storage.k8s.io"
PVC_KIND = "PersistentVolumeClaim"
VS_RESOURCE = "volumesnapshots.snapshot.storage.k8s.io"
VSC_RESOURCE = "volumesnapshotcontents.snapshot.storage.k8s.io"

# ---------------------------------------------------------------- event reasons (§3.2, §3.8)
REASON_PROVISIONING = "Provisioning"
REASON_PROVISIONING_SUCCEEDED = "ProvisioningSucceeded"
REASON_PROVISIONING_FAILED = "ProvisioningFailed"
REASON_VOLUME_FAILED_DELETE = "VolumeFailedDelete"

# ---------------------------------------------------------------- messages (exact upstream literals)
MSG_PROVISIONING = 'External provisioner is provisioning volume for claim "{ns}/{name}"'
MSG_PROVISIONING_SUCCEEDED = "Successfully provisioned volume {pv}"
MSG_EXTERNAL_POPULATOR = "Assuming an external populator will provision the volume"
MSG_PROVISION_FAILED = 'failed to provision volume with StorageClass "{sc}": {err}'
MSG_INFEASIBLE = "Volume provisioning failed with infeasible error. Retries will be delayed. {err}"
MSG_SELECTOR_UNSUPPORTED = "claim Selector is not supported"
MSG_UNKNOWN_PREFIXED_KEY = 'found unknown parameter key "{key}" with reserved namespace ' + CSI_PARAMETER_PREFIX
MSG_STRIP_PARAMETERS = "failed to strip CSI Parameters of prefixed keys: {err}"
MSG_TWO_FSTYPES = 'fstype specified in parameters with both "fstype" and "' + PREFIXED_FSTYPE_KEY + '" keys'
MSG_DATASOURCE_HANDLE = "error getting handle for DataSource Type {kind} by Name {name}: {err}"
MSG_WRONG_SNAPSHOT_GROUP = "the PVC source does not belong to the right APIGroup. Expected {want}, Got {got}"
MSG_NO_SNAPSHOT_SUPPORT = ("CSI driver does not support snapshot restore: controller CREATE_DELETE_SNAPSHOT "
                           "capability is not reported")
MSG_NO_CLONE_SUPPORT = "CSI driver does not support clone operations: controller CLONE_VOLUME capability is not reported"
# Restore from a VolumeSnapshot (§3.6).
MSG_SNAPSHOT_GET = "error getting snapshot {name} from api server: {err}"
MSG_SNAPSHOT_DELETING = "snapshot {name} is being deleted"
MSG_SNAPSHOT_NOT_BOUND = "snapshot {name} not bound"
MSG_SNAPSHOT_OTHER_REF = "snapshotcontent {content} for snapshot {ns}/{name} is bound to a different snapshot"
MSG_SNAPSHOT_OTHER_DRIVER = ("snapshotcontent {content} for snapshot {ns}/{name} is not handled by CSI driver of "
                             "StorageClass {sc}")
MSG_SNAPSHOT_NOT_READY = "snapshot {name} is not Ready"
MSG_SNAPSHOT_NO_HANDLE = "snapshot handle {name} is not available"
MSG_SNAPSHOT_TOO_SMALL = "requested volume size {req} is less than the size {size} for the source snapshot {name}"
# Clone from a PVC (§3.7).
MSG_CLONE_GET = 'error getting PVC {name} (namespace "{ns}") from api server: {err}'
MSG_CLONE_NOT_BOUND = "the PVC DataSource {name} must have a status of Bound.  Got {status}"
MSG_CLONE_DELETING = "the PVC DataSource {name} is currently being deleted"
MSG_CLONE_SOURCE_NO_CLASS = "the source PVC ({name}) storageclass cannot be empty"
MSG_CLONE_NO_CLASS = "the requested PVC ({name}) storageclass cannot be empty"
MSG_CLONE_TOO_SMALL = ("error, new PVC request must be greater than or equal in size to the specified PVC data "
                       "source, requested {req} but source is {size}")
MSG_CLONE_NO_VOLUME = "volume name is empty in source PVC {name}"
MSG_CLONE_INVALID = "claim in dataSource not bound or invalid"
MSG_CLONE_BLOCK_TO_FS = ("the source PVC and destination PVCs must have the same volume mode for cloning.  "
                         "Source is Block, but new PVC requested Filesystem")
MSG_CLONE_FS_TO_BLOCK = ("the source PVC and destination PVCs must have the same volume mode for cloning.  "
                         "Source is Filesystem, but new PVC requested Block")
# Topology (§3.4).
MSG_TOPOLOGY_GENERATE = "error generating accessibility requirements: {err}"
# Lister errors (client-go NewNotFound with the lister's group-resource).
MSG_NODE_NOT_FOUND = 'node "{node}" not found'
MSG_CSINODE_NOT_FOUND = 'csinode.storage.k8s.io "{node}" not found'
MSG_NO_TOPOLOGY_KEY = "no topology key found on CSINode {node}"
MSG_TOPOLOGY_NOT_IN_REQUISITE = 'topology {topology} from selected node "{node}" is not in requisite: {requisite}'
MSG_TOPOLOGY_MISSING_LABEL = ("topology labels from selected node {labels} does not match topology keys from "
                              "CSINode {keys}")
MSG_NO_ALLOWED_MATCH = "selected node {node} topology {topology} is not in allowed topologies {allowed}"
# Response checks (§3.5).
MSG_SAVE_PV_FAILED = "Error creating provisioned PV object for claim {ns}/{name}: {err}. Deleting the volume."
MSG_CAPACITY_TOO_SMALL = "created volume capacity {got} less than requested capacity {want}"
# Deletion (§3.8).
MSG_STILL_ATTACHED = "persistentvolume {pv} is still attached to node {node}"



#: How much slower an infeasible (InvalidArgument) claim is retried than an ordinary failure:
#: retrying a request the driver has called invalid rarely helps until someone edits something.
INFEASIBLE_BACKOFF_FACTOR = 10


class ProvisioningError(Exception):
    """A failed provisioning attempt: the message becomes the ``ProvisioningFailed`` event text.

    ``reschedule`` asks for the selected node to be removed (LIB ProvisioningReschedule);
    ``infeasible`` slows retries down (gRPC InvalidArgument).
    """

    def __init__(self, message: str, *, reschedule: bool = False, infeasible: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.reschedule = reschedule
        self.infeasible = infeasible


class IgnoredClaim(Exception):
    """The claim is not ours to provision (LIB IgnoredError): no retry."""


# ---------------------------------------------------------------- small helpers


def annotations_of(obj: JSON) -> dict[str, str]:
    return (obj.get("metadata") or {}).get("annotations") or {}


def claim_class(claim: JSON) -> str:
    """GetPersistentVolumeClaimClass: the beta annotation wins over ``spec.storageClassName``."""
    ann = annotations_of(claim)
    if ANN_BETA_STORAGE_CLASS in ann:
        return ann[ANN_BETA_STORAGE_CLASS]
    return (claim.get("spec") or {}).get("storageClassName") or ""


def claim_provisioner(claim: JSON) -> str:
    ann = annotations_of(claim)
    return ann.get(ANN_STORAGE_PROVISIONER) or ann.get(ANN_BETA_STORAGE_PROVISIONER) or ""


def request_bytes(claim: JSON) -> int:
    req = (((claim.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage")
    return int(parse_quantity(str(req))) if req is not None else 0


def limit_bytes(claim: JSON) -> int:
    lim = (((claim.get("spec") or {}).get("resources") or {}).get("limits") or {}).get("storage")
    return int(parse_quantity(str(lim))) if lim is not None else 0


def bytes_to_quantity(n: int) -> str:
    """EP bytesToQuantity: a BinarySI quantity (``1Gi``, or plain bytes when not a multiple)."""
    return format_quantity(Decimal(n), "BinarySI")


def pv_name_for(claim: JSON) -> str:
    """makeVolumeName with the default prefix ``pvc`` and an untruncated UID."""
    return f"pvc-{(claim.get('metadata') or {}).get('uid', '')}"


def is_block(claim: JSON) -> bool:
    return (claim.get("spec") or {}).get("volumeMode") == "Block"


def has_finalizer(obj: JSON, name: str) -> bool:
    return name in ((obj.get("metadata") or {}).get("finalizers") or [])


def deleting(obj: JSON) -> bool:
    return bool((obj.get("metadata") or {}).get("deletionTimestamp"))


def split_parameters(params: Mapping[str, str]) -> tuple[dict[str, str], str]:
    """Parameters for CreateVolume (reserved keys stripped) and the fsType, as prepareProvision does."""
    fs_type, found = "", 0
    for k, v in params.items():
        if k.lower() == "fstype" or k == PREFIXED_FSTYPE_KEY:
            fs_type, found = v, found + 1
    if found > 1:
        raise ProvisioningError(MSG_TWO_FSTYPES)
    out: dict[str, str] = {}
    for k, v in params.items():
        if k.startswith(CSI_PARAMETER_PREFIX):
            if k not in KNOWN_PREFIXED_KEYS:
                raise ProvisioningError(MSG_STRIP_PARAMETERS.format(err=MSG_UNKNOWN_PREFIXED_KEY.format(key=k)))
            continue
        out[k] = v
    return out, fs_type


# ---------------------------------------------------------------- topology (§3.4, EP topology.go)

Term = dict[str, str]


def term_hash(term: Mapping[str, str]) -> str:
    """``k1#v1,k2#v2`` sorted: equal terms hash equal and hashes order terms naturally."""
    return ",".join(sorted(f"{k}#{v}" for k, v in term.items()))


def format_terms(terms: Iterable[Mapping[str, str]]) -> str:
    """Go's ``%v`` of ``[]topologyTerm``: ``[map[k:v k2:v2] ...]``."""
    return "[" + " ".join(format_map(t) for t in terms) + "]"


def format_map(term: Mapping[str, str]) -> str:
    return "map[" + " ".join(f"{k}:{term[k]}" for k in sorted(term)) + "]"


def flatten_allowed(allowed: list[JSON]) -> list[Term]:
    """AllowedTopologies (OR of ANDs of ORs) -> a flat OR of ``{key: value}`` terms."""
    final: list[Term] = []
    for selector_term in allowed:
        old: list[Term] = []
        for expr in selector_term.get("matchLabelExpressions") or []:
            new: list[Term] = []
            for value in expr.get("values") or []:
                if not old:
                    new.append({expr["key"]: value})
                else:
                    new.extend({**t, expr["key"]: value} for t in old)
            old = new
        final.extend(old)
    return final


def dedupe_sorted(terms: Iterable[Term]) -> list[Term]:
    by_hash = {term_hash(t): t for t in terms}
    return [by_hash[h] for h in sorted(by_hash)]


def pvc_name_hash_and_index(name: str) -> tuple[int, int]:
    """getPVCNameHashAndIndexOffset: spread StatefulSet-like names (``claim-set-3``) round robin."""
    index = 0
    hash_string = name
    last = name.rfind("-")
    if last != -1 and name[last + 1:].isdigit():
        index = int(name[last + 1:]) & 0xFFFFFFFF
        hash_string = name[:last]
        second = hash_string.rfind("-")
        if second != -1:
            hash_string = hash_string[second + 1:]
    h = 0x811C9DC5  # FNV-1 32-bit, as Go's fnv.New32
    for byte in hash_string.encode():
        h = (h * 0x01000193) & 0xFFFFFFFF
        h ^= byte
    return h, index


def rotate(terms: list[Term], start: int) -> list[Term]:
    return terms[start:] + terms[:start]


def is_subset(term: Mapping[str, str], of: Mapping[str, str]) -> bool:
    return all(of.get(k) == v for k, v in term.items())


def node_topology(node: JSON, keys: list[str]) -> Term | None:
    labels = (node.get("metadata") or {}).get("labels") or {}
    out: Term = {}
    for key in keys:
        if key not in labels:
            return None
        out[key] = labels[key]
    return out


def csinode_keys(csinode: JSON | None, driver: str) -> list[str] | None:
    if csinode is None:
        return None
    for d in (csinode.get("spec") or {}).get("drivers") or []:
        if d.get("name") == driver:
            return list(d.get("topologyKeys") or [])
    return None


def volume_node_affinity(accessible: Sequence[Mapping[str, str]]) -> JSON | None:
    """GenerateVolumeNodeAffinity: one term per accessible topology, ``In [value]`` per segment."""
    terms = []
    for topo in accessible:
        if not topo:
            continue
        terms.append({"matchExpressions": [{"key": k, "operator": "In", "values": [topo[k]]} for k in sorted(topo)]})
    if not terms:
        return None
    return {"required": {"nodeSelectorTerms": terms}}


# ---------------------------------------------------------------- the request being built


@dataclass
class VolumeRequest:
    """What prepareProvision computes; turned into the CSI CreateVolumeRequest at call time."""

    name: str
    required_bytes: int
    limit_bytes: int
    access_modes: list[str]
    block: bool
    fs_type: str
    mount_flags: list[str]
    parameters: dict[str, str]
    requisite: list[Term] = field(default_factory=list)
    preferred: list[Term] = field(default_factory=list)
    snapshot_id: str | None = None
    source_volume_id: str | None = None
    #: The same terms already as CSI ``Topology`` values (shared, read-only), when the provisioner
    #: has them cached: a driver reporting a per-node key gives one term per node, and building
    #: 2 x 5,000 of them for every claim dominated provisioning in a 5,000-node cluster.
    topology: spec.TopologyRequirement | None = None


# ---------------------------------------------------------------- the CSI calls
#
# The provisioner speaks to drivers only through the CSI protocol in ``minikube_lite.csi.spec``;
# these few functions are the one place that builds its requests and reads its answers, so the
# rest of this module works on plain values (and tests can read exactly what was asked for).

class CallError(Exception):
    """A failed CSI call: ``code`` is the gRPC name as Go prints it (``ResourceExhausted``) and
    ``text`` the Go error text (``rpc error: code = ResourceExhausted desc = ...``)."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        self.text = spec.MSG_RPC_ERROR.format(code=code, message=message)
        super().__init__(self.text)


@dataclass
class Capabilities:
    create_delete: bool = False
    snapshots: bool = False
    clone: bool = False
    topology: bool = False
    get_capacity: bool = False


@dataclass
class CreatedVolume:
    volume_id: str
    capacity_bytes: int
    volume_context: dict[str, str]
    accessible_topology: list[dict[str, str]]


def _names(values: Iterable[Any]) -> set[str]:
    return {getattr(v, "name", str(v)) for v in values or ()}


async def call_driver(fn: Any, *args: Any) -> Any:
    """Call a driver method; a :class:`~minikube_lite.csi.spec.CsiError` becomes a :class:`CallError`."""
    try:
        return await fn(*args)
    except spec.CsiError as err:
        raise CallError(err.code.go_name, err.message) from None


async def get_capabilities(driver: Any) -> Capabilities:
    """GetPluginCapabilities + ControllerGetCapabilities, reduced to what the provisioner needs."""
    plugin = _names(await call_driver(driver.get_plugin_capabilities))
    ctrl = _names(await call_driver(driver.controller_get_capabilities))
    return Capabilities(
        create_delete="CREATE_DELETE_VOLUME" in ctrl, snapshots="CREATE_DELETE_SNAPSHOT" in ctrl,
        clone="CLONE_VOLUME" in ctrl, topology="VOLUME_ACCESSIBILITY_CONSTRAINTS" in plugin,
        get_capacity="GET_CAPACITY" in ctrl)


def access_mode(mode: str) -> str:
    """csi-lib-utils accessmodes.ToCSIAccessMode (single-node-multi-writer not advertised)."""
    return {"ReadWriteOnce": "SINGLE_NODE_WRITER", "ReadOnlyMany": "MULTI_NODE_READER_ONLY",
            "ReadWriteMany": "MULTI_NODE_MULTI_WRITER",
            "ReadWriteOncePod": "SINGLE_NODE_SINGLE_WRITER"}.get(mode, "UNKNOWN")


def volume_capabilities(req: VolumeRequest) -> list[spec.VolumeCapability]:
    """One VolumeCapability per access mode: Block, or Mount with the fsType and mount options."""
    caps = []
    for mode in req.access_modes:
        mount = None if req.block else spec.MountVolume(fs_type=req.fs_type, mount_flags=list(req.mount_flags))
        caps.append(spec.VolumeCapability(access_mode=spec.AccessMode[access_mode(mode)], mount=mount,
                                          block=req.block))
    return caps


def create_request(req: VolumeRequest) -> spec.CreateVolumeRequest:
    topology = req.topology
    if topology is None and (req.requisite or req.preferred):
        topology = spec.TopologyRequirement(requisite=[spec.Topology(segments=dict(t)) for t in req.requisite],
                                            preferred=[spec.Topology(segments=dict(t)) for t in req.preferred])
    source = None
    if req.snapshot_id is not None:
        source = spec.VolumeContentSource(snapshot_id=req.snapshot_id)
    elif req.source_volume_id is not None:
        source = spec.VolumeContentSource(volume_id=req.source_volume_id)
    return spec.CreateVolumeRequest(
        name=req.name,
        capacity_range=spec.CapacityRange(required_bytes=req.required_bytes, limit_bytes=req.limit_bytes),
        volume_capabilities=volume_capabilities(req), parameters=dict(req.parameters),
        accessibility_requirements=topology, volume_content_source=source)


async def create_volume(driver: Any, req: VolumeRequest) -> CreatedVolume:
    """CreateVolume; by name ``pvc-<uid>``, so a repeated call after a crash finds the same volume."""
    resp = await call_driver(driver.create_volume, create_request(req))
    vol = resp.volume
    return CreatedVolume(
        volume_id=vol.volume_id, capacity_bytes=int(vol.capacity_bytes or 0),
        volume_context=dict(vol.volume_context or {}),
        accessible_topology=[dict(t.segments) for t in vol.accessible_topology or []])


async def delete_volume(driver: Any, volume_id: str) -> None:
    await call_driver(driver.delete_volume, spec.DeleteVolumeRequest(volume_id=volume_id))


# ---------------------------------------------------------------- the controller


def default_host(driver: str) -> str:
    """A stable, pod-like host name for the provisioner of ``driver`` (``csi-provisioner-<rs>-<pod>``)."""
    digest = hashlib.sha256(driver.encode()).hexdigest()
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    pod = "".join(alphabet[int(digest[i:i + 2], 16) % len(alphabet)] for i in range(10, 20, 2))
    return f"csi-provisioner-{digest[:10]}-{pod}"


class ExternalProvisioner(Controller):
    """external-provisioner + sig-storage-lib-external-provisioner for one CSI driver."""

    #: external-provisioner --worker-threads (default 100: that many CreateVolume calls in flight).
    workers = 100

    def __init__(self, client: Client, clock: Clock, driver_name: str, driver: Any, *,
                 config: Any = None, host: str | None = None, strict_topology: bool = False,
                 immediate_topology: bool = True, shared_informers: dict[str, Informer] | None = None) -> None:
        super().__init__(client, clock)
        #: Informers shared with the other drivers' provisioners (one watch per resource, not per driver).
        self.shared_informers = shared_informers if shared_informers is not None else {}
        self.name = f"csi-provisioner-{driver_name}"
        self.driver_name = driver_name
        self.driver = driver
        self.strict_topology = strict_topology
        self.immediate_topology = immediate_topology
        timings = getattr(config, "timings", None)
        self.retry_initial = timings.get("provisionerRetryInitial", 1.0) if timings is not None else 1.0
        self.retry_max = timings.get("provisionerRetryMax", 300.0) if timings is not None else 300.0
        self.host = host or default_host(driver_name)
        #: ``<driver>_<host>_<uuid>``, the event source external-provisioner uses.
        self.component = f"{driver_name}_{self.host}_{uuid.uuid4()}"
        self.identity = f"{int(clock.now() * 1000)}-{random.randrange(10000)}-{driver_name}"
        self.recorder = EventRecorder(client, self.component, clock)
        # Event names are ``<object>.<nanoseconds + counter>``: on a virtual clock two recorders
        # writing about one claim at the same instant would pick the same name and the second
        # event would be lost. Start this recorder's counter far from the others'.
        self.recorder._counter = random.randrange(1 << 20, 1 << 30)
        self._failures: dict[Key, int] = {}
        self._caps: Capabilities | None = None
        #: aggregateTopologies results by topology keys (None: keys from the first CSINode), with
        #: each term's CSI Topology; cleared whenever a node's labels or a CSINode change.
        self._topology_cache: dict[tuple[str, ...] | None,
                                   tuple[list[Term], dict[int, spec.Topology], dict[str, int]]] = {}

    # ------------------------------------------------------------ wiring

    def informer(self, resource: str, *, namespace: str | None = None, label_selector: str | None = None,
                 field_selector: str | None = None,
                 key_of: Callable[[str, JSON, JSON | None], Iterable[Key]] | None = None,
                 transform: Callable[[JSON], JSON] | None = None) -> Informer:
        """As the base class, but reusing a cache another provisioner instance already keeps."""
        plain = not (namespace or label_selector or field_selector or transform)
        shared = self.shared_informers.get(resource)
        if plain and shared is not None and resource not in self.informers:
            self.informers[resource] = shared
        inf = super().informer(resource, namespace=namespace, label_selector=label_selector,
                               field_selector=field_selector, key_of=key_of, transform=transform)
        if plain:
            self.shared_informers.setdefault(resource, inf)
        return inf

    async def start(self) -> None:
        await super().start()
        # A shared informer another instance started first has already announced what it holds;
        # look at every cached claim and volume once (keys deduplicate in the queue).
        for claim in self.claims.list():
            for key in self._claim_keys("ADDED", claim, None):
                self.queue.add(key)
        for volume in self.volumes.list():
            for key in self._volume_keys("ADDED", volume, None):
                self.queue.add(key)

    def setup(self) -> None:
        self.claims = self.informer("persistentvolumeclaims", key_of=self._claim_keys)
        self.volumes = self.informer("persistentvolumes", key_of=self._volume_keys)
        self.classes = self.informer("storageclasses", key_of=self._class_keys)
        self.nodes = self.informer("nodes", key_of=self._node_changed)
        self.csinodes = self.informer("csinodes", key_of=self._csinode_changed)
        self.attachments = self.informer("volumeattachments")

    def _node_changed(self, event: str, obj: JSON, old: JSON | None) -> Iterable[Key]:
        """Only a node's arrival, departure or labels change the aggregated topology."""
        if event != "MODIFIED" or old is None or \
                (obj.get("metadata") or {}).get("labels") != (old.get("metadata") or {}).get("labels"):
            self._topology_cache.clear()
        return ()

    def _csinode_changed(self, event: str, obj: JSON, old: JSON | None) -> Iterable[Key]:
        self._topology_cache.clear()
        return ()

    def _claim_keys(self, event: str, obj: JSON, old: JSON | None) -> Iterable[Key]:
        keys: list[Key] = []
        source = data_source(obj)
        if source is not None and source.get("kind") in (SNAPSHOT_KIND, PVC_KIND) and (
                event == "DELETED" or (obj.get("spec") or {}).get("volumeName")):
            # The claim no longer needs its source: maybe release the source's protection finalizer.
            kind = "snapshot" if source.get("kind") == SNAPSHOT_KIND else "clonesource"
            keys.append(f"{kind}:{(obj.get('metadata') or {}).get('namespace')}/{source.get('name')}")
        if event == "DELETED":
            self._failures.pop("claim:" + _nskey(obj), None)
        else:
            keys.append("claim:" + _nskey(obj))
        return keys

    def _volume_keys(self, event: str, obj: JSON, old: JSON | None) -> Iterable[Key]:
        if event == "DELETED":
            return ()
        return ("volume:" + str((obj.get("metadata") or {}).get("name")),)

    def _class_keys(self, event: str, obj: JSON, old: JSON | None) -> Iterable[Key]:
        """A class that appears or changes may unblock claims waiting for it."""
        name = (obj.get("metadata") or {}).get("name")
        return tuple("claim:" + _nskey(c) for c in self.claims.list()
                     if claim_class(c) == name and not (c.get("spec") or {}).get("volumeName")
                     and claim_provisioner(c) == self.driver_name)

    async def capabilities(self) -> Capabilities:
        if self._caps is None:
            self._caps = await get_capabilities(self.driver)
        return self._caps

    # ------------------------------------------------------------ reconcile

    async def reconcile(self, key: Key) -> Result:
        kind, _, rest = key.partition(":")
        if kind == "claim":
            return await self._sync_claim(key, rest)
        if kind == "volume":
            return await self._sync_volume(rest)
        if kind in ("snapshot", "clonesource"):
            return await self._sync_source_finalizer(kind, rest)
        return DONE

    async def _sync_source_finalizer(self, kind: str, nskey: str) -> Result:
        """EP's snapshot-finalizer and clone controllers: a source VolumeSnapshot (or PVC) keeps its
        provisioner finalizer only while some claim of this driver still waits to be provisioned
        from it."""
        ns, name = split_key(nskey)
        source_kind = SNAPSHOT_KIND if kind == "snapshot" else PVC_KIND
        for c in self.claims.list(ns or ""):
            source = data_source(c)
            if (source is not None and source.get("kind") == source_kind and source.get("name") == name
                    and not (c.get("spec") or {}).get("volumeName") and not deleting(c)
                    and claim_provisioner(c) == self.driver_name):
                return DONE
        if kind == "snapshot":
            await self._remove_finalizer(VS_RESOURCE, ns or "", name, SNAPSHOT_SOURCE_FINALIZER)
        else:
            await self._remove_finalizer("persistentvolumeclaims", ns or "", name, CLONE_FINALIZER)
        return DONE

    def _backoff(self, key: Key, slow: bool = False) -> float:
        n = self._failures.get(key, 0) + 1
        self._failures[key] = n
        delay = min(self.retry_max, self.retry_initial * (2 ** (n - 1)))
        if slow:
            delay = min(self.retry_max, delay * INFEASIBLE_BACKOFF_FACTOR)
        return float(delay)

    # ------------------------------------------------------------ claims (§3.1, §3.2)

    def should_provision(self, claim: JSON) -> bool:
        """LIB shouldProvision + EP ShouldProvision; a missing class raises (retried, no event)."""
        spec = claim.get("spec") or {}
        if spec.get("volumeName") or deleting(claim):
            return False
        if claim_provisioner(claim) != self.driver_name:
            return False
        cls = self.classes.get(claim_class(claim))
        if cls is None:
            raise LookupError(f'storageclass.storage.k8s.io "{claim_class(claim)}" not found')
        if cls.get("volumeBindingMode") == "WaitForFirstConsumer":
            return bool(annotations_of(claim).get(ANN_SELECTED_NODE))
        return True

    async def _sync_claim(self, key: Key, nskey: str) -> Result:
        ns, name = split_key(nskey)
        claim = self.claims.get(name, ns)
        if claim is None:
            self._failures.pop(key, None)
            return DONE
        try:
            if not self.should_provision(claim):
                self._failures.pop(key, None)
                return DONE
        except LookupError as err:
            log.debug("%s: claim %s: %s", self.name, nskey, err)
            return Result(requeue_after=self._backoff(key))
        pv_name = pv_name_for(claim)
        if self.volumes.get(pv_name) is not None or await self._exists("persistentvolumes", pv_name):
            self._failures.pop(key, None)
            return DONE
        try:
            await self.provision(claim)
        except IgnoredClaim:
            self._failures.pop(key, None)
            return DONE
        except ProvisioningError as err:
            return await self._provision_failed(key, claim, err)
        self._failures.pop(key, None)
        return DONE

    async def _provision_failed(self, key: Key, claim: JSON, err: ProvisioningError) -> Result:
        """provisionVolumeErrorHandling: event, then reschedule or retry with backoff."""
        message = MSG_INFEASIBLE.format(err=err.message) if err.infeasible else err.message
        await self.recorder.event(claim, WARNING, REASON_PROVISIONING_FAILED, message)
        if err.reschedule and ANN_SELECTED_NODE in annotations_of(claim):
            try:
                await self._reschedule(claim)
            except ApiError as api_err:
                log.info("%s: could not remove selected node from %s: %s", self.name, _nskey(claim), api_err)
                return Result(requeue_after=self._backoff(key))
            self._failures.pop(key, None)
            return DONE
        return Result(requeue_after=self._backoff(key, slow=err.infeasible))

    async def _reschedule(self, claim: JSON) -> None:
        """rescheduleProvisioning: drop ``selected-node`` so the scheduler picks again."""
        meta = claim.get("metadata") or {}
        patch = [{"op": "test", "path": "/metadata/uid", "value": meta.get("uid")},
                 {"op": "remove", "path": "/metadata/annotations/" + _json_pointer(ANN_SELECTED_NODE)}]
        await self.client.patch("persistentvolumeclaims", meta["name"], patch, meta.get("namespace"),
                                patch_type="json")

    async def _exists(self, resource: str, name: str, namespace: str | None = None) -> bool:
        try:
            await self.client.get(resource, name, namespace)
        except ApiError as err:
            if err.code == 404:
                return False
            raise
        return True

    async def provision(self, claim: JSON) -> None:
        """provisionClaimOperation + EP Provision: one attempt, raising ProvisioningError on failure."""
        meta = claim["metadata"]
        sc_name = claim_class(claim)
        cls = self.classes.get(sc_name)
        if cls is None:
            raise IgnoredClaim(sc_name)
        if cls.get("provisioner") != self.driver_name:
            raise IgnoredClaim(cls.get("provisioner"))
        selected = annotations_of(claim).get(ANN_SELECTED_NODE) or ""
        selected_node: JSON | None = None
        if selected:
            selected_node = self.nodes.get(selected)
            if selected_node is None:
                try:
                    selected_node = await self.client.get("nodes", selected)
                except ApiError as err:
                    if err.code == 404:
                        raise ProvisioningError(MSG_NODE_NOT_FOUND.format(node=selected), reschedule=True) from None
                    raise ProvisioningError(f"failed to get target node: {err.message}") from None
        await self.recorder.event(claim, NORMAL, REASON_PROVISIONING,
                                  MSG_PROVISIONING.format(ns=meta.get("namespace"), name=meta.get("name")))
        try:
            pv = await self._provision_volume(claim, cls, selected_node)
        except ProvisioningError as err:
            err.message = MSG_PROVISION_FAILED.format(sc=sc_name, err=err.message)
            raise
        # Set by the library after Provision returns (§3.2).
        pv["spec"]["claimRef"] = {"kind": "PersistentVolumeClaim", "namespace": meta.get("namespace"),
                                  "name": meta.get("name"), "uid": meta.get("uid"), "apiVersion": "v1",
                                  "resourceVersion": meta.get("resourceVersion")}
        pv["metadata"].setdefault("finalizers", []).append(PV_FINALIZER)
        pv["metadata"]["annotations"][ANN_PROVISIONED_BY] = cls.get("provisioner")
        pv["spec"]["storageClassName"] = sc_name
        try:
            await self.client.create("persistentvolumes", pv)
        except ApiError as err:
            if err.code in (400, 403, 422):
                # The API will never take this PV: give the volume back rather than leak it
                # (LIB volume_store: "Deleting the volume").
                with contextlib.suppress(CallError):
                    await delete_volume(self.driver, pv["spec"]["csi"]["volumeHandle"])
                raise ProvisioningError(MSG_SAVE_PV_FAILED.format(ns=meta.get("namespace"), name=meta.get("name"),
                                                                  err=err.message)) from None
            if err.code != 409:
                raise
        await self.recorder.event(claim, NORMAL, REASON_PROVISIONING_SUCCEEDED,
                                  MSG_PROVISIONING_SUCCEEDED.format(pv=pv["metadata"]["name"]))

    async def _provision_volume(self, claim: JSON, cls: JSON, node: JSON | None) -> JSON:
        caps = await self.capabilities()
        req, snapshot_source = await self.prepare(claim, cls, node, caps)
        try:
            vol = await create_volume(self.driver, req)
        except CallError as err:
            may_reschedule = caps.topology and node is not None
            raise ProvisioningError(err.text, reschedule=may_reschedule and err.code == "ResourceExhausted",
                                    infeasible=err.code == "InvalidArgument") from None
        capacity = vol.capacity_bytes or req.required_bytes
        if capacity < req.required_bytes:
            with contextlib.suppress(CallError):
                await delete_volume(self.driver, vol.volume_id)
            raise ProvisioningError(MSG_CAPACITY_TOO_SMALL.format(got=capacity, want=req.required_bytes))
        pv = self.build_pv(claim, cls, req, vol, capacity, caps)
        if snapshot_source is not None:
            await self._remove_snapshot_finalizer(*snapshot_source)
        return pv

    # ------------------------------------------------------------ request building (§3.3, §3.4)

    async def prepare(self, claim: JSON, cls: JSON, node: JSON | None,
                      caps: Capabilities) -> tuple[VolumeRequest, tuple[str, str] | None]:
        spec = claim.get("spec") or {}
        ns = claim["metadata"].get("namespace") or ""
        source = data_source(claim)
        snapshot_source: tuple[str, str] | None = None
        if source is not None:
            kind = source.get("kind")
            if not source.get("name"):
                raise ProvisioningError(f"the PVC source not found for PVC {claim['metadata']['name']}")
            if kind == SNAPSHOT_KIND:
                if (source.get("apiGroup") or "") != SNAPSHOT_GROUP:
                    raise ProvisioningError(MSG_WRONG_SNAPSHOT_GROUP.format(want=SNAPSHOT_GROUP,
                                                                            got=source.get("apiGroup") or ""))
                if not caps.snapshots:
                    raise ProvisioningError(MSG_NO_SNAPSHOT_SUPPORT)
            elif kind == PVC_KIND and not source.get("apiGroup"):
                if not caps.clone:
                    raise ProvisioningError(MSG_NO_CLONE_SUPPORT)
            else:
                await self.recorder.event(claim, NORMAL, REASON_PROVISIONING, MSG_EXTERNAL_POPULATOR)
                raise IgnoredClaim(f"data source ({kind}) is not handled by the provisioner")
        if spec.get("selector") is not None:
            raise ProvisioningError(MSG_SELECTOR_UNSUPPORTED)
        params, fs_type = split_parameters(cls.get("parameters") or {})
        req = VolumeRequest(
            name=pv_name_for(claim), required_bytes=request_bytes(claim), limit_bytes=limit_bytes(claim),
            access_modes=list(spec.get("accessModes") or []), block=is_block(claim), fs_type=fs_type,
            mount_flags=list(cls.get("mountOptions") or []), parameters=params)
        if source is not None:
            kind, name = source["kind"], source["name"]
            try:
                if kind == SNAPSHOT_KIND:
                    req.snapshot_id = await self.snapshot_handle(claim, cls, ns, name)
                else:
                    req.source_volume_id = await self.clone_handle(claim, cls, ns, name)
            except ProvisioningError as err:
                raise ProvisioningError(MSG_DATASOURCE_HANDLE.format(kind=kind, name=name, err=err.message)) \
                    from None
            if kind == PVC_KIND:
                await self._add_finalizer("persistentvolumeclaims", name, ns, CLONE_FINALIZER)
            else:
                await self._add_finalizer(VS_RESOURCE, name, ns, SNAPSHOT_SOURCE_FINALIZER)
                snapshot_source = (ns, name)
        if caps.topology:
            req.requisite, req.preferred = await self.accessibility(claim, cls, node)
            req.topology = self.csi_topology(req)
        return req, snapshot_source

    async def accessibility(self, claim: JSON, cls: JSON, node: JSON | None) -> tuple[list[Term], list[Term]]:
        """GenerateAccessibilityRequirements: (requisite, preferred) as lists of segment maps."""
        selected_topology: Term | None = None
        keys: list[str] | None = None
        allowed = cls.get("allowedTopologies") or []
        if node is not None:
            node_name = node["metadata"]["name"]
            csinode = self.csinodes.get(node_name)
            if csinode is None:
                csinode = await get_or_none(self.client, "csinodes", node_name)
                if csinode is None:
                    raise ProvisioningError(MSG_CSINODE_NOT_FOUND.format(node=node_name), reschedule=True) \
                        from None
            keys = csinode_keys(csinode, self.driver_name)
            if not keys:
                raise ProvisioningError(MSG_TOPOLOGY_GENERATE.format(err=MSG_NO_TOPOLOGY_KEY.format(node=node_name)))
            selected_topology = node_topology(node, keys)
            if selected_topology is None:
                labels = (node.get("metadata") or {}).get("labels") or {}
                raise ProvisioningError(MSG_TOPOLOGY_GENERATE.format(err=MSG_TOPOLOGY_MISSING_LABEL.format(
                    labels=format_map(labels), keys="[" + " ".join(keys) + "]")))
        aggregated = False
        if self.strict_topology and selected_topology is not None:
            requisite = [selected_topology]
            if allowed and not any(is_subset(t, selected_topology) for t in flatten_allowed(allowed)):
                raise ProvisioningError(MSG_TOPOLOGY_GENERATE.format(err=MSG_NO_ALLOWED_MATCH.format(
                    node=node["metadata"]["name"] if node else "", topology=format_map(selected_topology),
                    allowed=format_terms(flatten_allowed(allowed)))))
        elif allowed:
            requisite = flatten_allowed(allowed)
        elif node is None and not self.immediate_topology:
            return [], []
        else:
            aggregated = True
            terms, _, positions = self.aggregated(keys)
            requisite = list(terms)
        if not aggregated:
            requisite = dedupe_sorted(requisite)
        if not requisite:
            return [], []
        if selected_topology is not None:
            if aggregated and keys is not None:
                # Every aggregated term has exactly the selected node's keys, so "a subset of the
                # node's topology" means "equal to it": a lookup, not a walk over 5,000 terms.
                start = positions.get(term_hash(selected_topology))
            else:
                start = next((i for i, t in enumerate(requisite) if is_subset(t, selected_topology)), None)
            if start is None:
                raise ProvisioningError(MSG_TOPOLOGY_GENERATE.format(err=MSG_TOPOLOGY_NOT_IN_REQUISITE.format(
                    topology=format_map(selected_topology), node=node["metadata"]["name"] if node else "",
                    requisite=format_terms(requisite))))
            return requisite, rotate(requisite, start)
        h, index = pvc_name_hash_and_index(claim["metadata"]["name"])
        return requisite, rotate(requisite, ((h + index) & 0xFFFFFFFF) % len(requisite))

    def aggregated(self, keys: list[str] | None
                   ) -> tuple[list[Term], dict[int, spec.Topology], dict[str, int]]:
        """``aggregate(keys)`` deduplicated and sorted, cached until a node or CSINode changes.

        Returned terms are shared: callers copy the list and never change a term.
        """
        cache_key = tuple(keys) if keys is not None else None
        hit = self._topology_cache.get(cache_key)
        if hit is None:
            terms = dedupe_sorted(self.aggregate(keys))
            hit = (terms, {id(t): spec.Topology(segments=dict(t)) for t in terms},
                   {term_hash(t): i for i, t in enumerate(terms)})
            self._topology_cache[cache_key] = hit
        return hit

    def csi_topology(self, req: VolumeRequest) -> spec.TopologyRequirement | None:
        """The request's terms as cached CSI values, when every term comes from one cached list.

        Cached terms stay alive while cached, so no other object can share one of their ids.
        """
        if not req.requisite:
            return None
        for _, memo, _ in self._topology_cache.values():
            if id(req.requisite[0]) not in memo:
                continue
            try:
                return spec.TopologyRequirement(requisite=[memo[id(t)] for t in req.requisite],
                                                preferred=[memo[id(t)] for t in req.preferred])
            except KeyError:
                return None
        return None

    def aggregate(self, keys: list[str] | None) -> list[Term]:
        """aggregateTopologies: one term per distinct combination found on nodes with every key."""
        if keys is None:
            for csinode in sorted(self.csinodes.list(), key=lambda c: c["metadata"]["name"]):
                keys = csinode_keys(csinode, self.driver_name)
                if keys:
                    break
        if not keys:
            return []
        terms = []
        for node in self.nodes.list():
            term = node_topology(node, keys)
            if term is not None:
                terms.append(term)
        return terms

    # ------------------------------------------------------------ data sources (§3.6, §3.7)

    async def snapshot_handle(self, claim: JSON, cls: JSON, ns: str, name: str) -> str:
        """getSnapshotSource: every check in order, each failing with its upstream message."""
        try:
            vs = await self.client.get(VS_RESOURCE, name, ns)
        except ApiError as err:
            raise ProvisioningError(MSG_SNAPSHOT_GET.format(name=name, err=err.message)) from None
        if deleting(vs) and not has_finalizer(vs, SNAPSHOT_SOURCE_FINALIZER):
            raise ProvisioningError(MSG_SNAPSHOT_DELETING.format(name=name))
        status = vs.get("status") or {}
        content_name = status.get("boundVolumeSnapshotContentName")
        if not content_name:
            raise ProvisioningError(MSG_SNAPSHOT_NOT_BOUND.format(name=name))
        try:
            content = await self.client.get(VSC_RESOURCE, content_name)
        except ApiError:
            raise ProvisioningError(MSG_SNAPSHOT_NOT_BOUND.format(name=name)) from None
        ref = (content.get("spec") or {}).get("volumeSnapshotRef") or {}
        vs_meta = vs["metadata"]
        if (ref.get("uid"), ref.get("namespace"), ref.get("name")) != (vs_meta.get("uid"), ns, name):
            raise ProvisioningError(MSG_SNAPSHOT_OTHER_REF.format(content=content_name, ns=ns, name=name))
        if (content.get("spec") or {}).get("driver") != cls.get("provisioner"):
            raise ProvisioningError(MSG_SNAPSHOT_OTHER_DRIVER.format(content=content_name, ns=ns, name=name,
                                                                     sc=cls["metadata"]["name"]))
        if status.get("readyToUse") is not True:
            raise ProvisioningError(MSG_SNAPSHOT_NOT_READY.format(name=name))
        handle = (content.get("status") or {}).get("snapshotHandle")
        if not handle:
            raise ProvisioningError(MSG_SNAPSHOT_NO_HANDLE.format(name=name))
        restore = status.get("restoreSize")
        if restore is not None:
            size = int(parse_quantity(str(restore)))
            want = request_bytes(claim)
            if want < size:
                raise ProvisioningError(MSG_SNAPSHOT_TOO_SMALL.format(req=want, size=size, name=name))
        return str(handle)

    async def clone_handle(self, claim: JSON, cls: JSON, ns: str, name: str) -> str:
        """getPVCSource: the source claim must be Bound to a CSI PV of the same driver and mode."""
        src = self.claims.get(name, ns)
        if src is None:
            raise ProvisioningError(MSG_CLONE_GET.format(
                name=name, ns=ns, err=f'persistentvolumeclaim "{name}" not found'))
        phase = (src.get("status") or {}).get("phase")
        if phase != "Bound":
            raise ProvisioningError(MSG_CLONE_NOT_BOUND.format(name=name, status="{" + (phase or "") + "}"))
        if deleting(src):
            raise ProvisioningError(MSG_CLONE_DELETING.format(name=name))
        if (src.get("spec") or {}).get("storageClassName") is None:
            raise ProvisioningError(MSG_CLONE_SOURCE_NO_CLASS.format(name=name))
        if (claim.get("spec") or {}).get("storageClassName") is None:
            raise ProvisioningError(MSG_CLONE_NO_CLASS.format(name=claim["metadata"]["name"]))
        want, have = request_bytes(claim), request_bytes(src)
        if want < have:
            raise ProvisioningError(MSG_CLONE_TOO_SMALL.format(req=want, size=have))
        volume_name = (src.get("spec") or {}).get("volumeName")
        if not volume_name:
            raise ProvisioningError(MSG_CLONE_NO_VOLUME.format(name=name))
        try:
            pv = await self.client.get("persistentvolumes", volume_name)
        except ApiError:
            raise ProvisioningError(MSG_CLONE_INVALID) from None
        pv_spec = pv.get("spec") or {}
        ref = pv_spec.get("claimRef") or {}
        src_meta = src["metadata"]
        if (not pv_spec.get("csi") or pv_spec["csi"].get("driver") != cls.get("provisioner")
                or (ref.get("uid"), ref.get("namespace"), ref.get("name")) != (src_meta.get("uid"), ns, name)
                or (pv.get("status") or {}).get("phase") != "Bound"):
            raise ProvisioningError(MSG_CLONE_INVALID)
        source_block = pv_spec.get("volumeMode") == "Block"
        if not is_block(claim) and source_block:
            raise ProvisioningError(MSG_CLONE_BLOCK_TO_FS)
        if is_block(claim) and not source_block:
            raise ProvisioningError(MSG_CLONE_FS_TO_BLOCK)
        return str(pv_spec["csi"]["volumeHandle"])

    async def _add_finalizer(self, resource: str, name: str, ns: str, finalizer: str) -> None:
        obj = await self.client.get(resource, name, ns)
        if has_finalizer(obj, finalizer):
            return
        obj["metadata"].setdefault("finalizers", []).append(finalizer)
        try:
            await self.client.update(resource, obj, ns)
        except ApiError as err:
            raise ProvisioningError(err.message) from None

    async def _remove_snapshot_finalizer(self, ns: str, name: str) -> None:
        """removeSnapshotFinalizer: best effort, a failure never fails provisioning."""
        await self._remove_finalizer(VS_RESOURCE, ns, name, SNAPSHOT_SOURCE_FINALIZER)

    async def _remove_finalizer(self, resource: str, ns: str, name: str, finalizer: str) -> None:
        try:
            obj = await self.client.get(resource, name, ns)
            if not has_finalizer(obj, finalizer):
                return
            obj["metadata"]["finalizers"] = [f for f in obj["metadata"]["finalizers"] if f != finalizer]
            await self.client.update(resource, obj, ns)
        except ApiError as err:
            log.info("%s: failed to remove %s from %s/%s: %s", self.name, finalizer, ns, name, err)

    # ------------------------------------------------------------ the PV (§3.5)

    def build_pv(self, claim: JSON, cls: JSON, req: VolumeRequest, vol: CreatedVolume, capacity: int,
                 caps: Capabilities) -> JSON:
        spec = claim.get("spec") or {}
        source: JSON = {"driver": self.driver_name, "volumeHandle": vol.volume_id,
                        "volumeAttributes": {PROVISIONER_ID_KEY: self.identity, **vol.volume_context}}
        if not req.block and req.fs_type:
            source["fsType"] = req.fs_type
        pv_spec: JSON = {
            "accessModes": list(spec.get("accessModes") or []),
            "capacity": {"storage": bytes_to_quantity(capacity)},
            "csi": source,
            "persistentVolumeReclaimPolicy": cls.get("reclaimPolicy") or "Delete",
        }
        if cls.get("mountOptions"):
            pv_spec["mountOptions"] = list(cls["mountOptions"])
        if spec.get("volumeMode"):
            pv_spec["volumeMode"] = spec["volumeMode"]
        if caps.topology:
            affinity = volume_node_affinity(vol.accessible_topology)
            if affinity is not None:
                pv_spec["nodeAffinity"] = affinity
        return {
            "apiVersion": "v1", "kind": "PersistentVolume",
            "metadata": {"name": req.name,
                         "annotations": {ANN_DELETION_SECRET_NAME: "", ANN_DELETION_SECRET_NAMESPACE: ""}},
            "spec": pv_spec,
        }

    # ------------------------------------------------------------ volumes (§3.8)

    def owns(self, pv: JSON) -> bool:
        ann = annotations_of(pv)
        if ANN_PROVISIONED_BY in ann:
            return ann[ANN_PROVISIONED_BY] == self.driver_name
        return ((pv.get("spec") or {}).get("csi") or {}).get("driver") == self.driver_name

    async def _sync_volume(self, name: str) -> Result:
        key = "volume:" + name
        pv = self.volumes.get(name)
        if pv is None or not self.owns(pv):
            self._failures.pop(key, None)
            return DONE
        phase = (pv.get("status") or {}).get("phase")
        policy = (pv.get("spec") or {}).get("persistentVolumeReclaimPolicy")
        if (not has_finalizer(pv, PV_FINALIZER) and not deleting(pv) and policy == "Delete"
                and phase == "Bound"):
            await self._patch_finalizers(pv, [*(pv["metadata"].get("finalizers") or []), PV_FINALIZER])
            return DONE
        if has_finalizer(pv, PV_FINALIZER) and policy == "Retain":
            await self._patch_finalizers(pv, [f for f in pv["metadata"]["finalizers"] if f != PV_FINALIZER])
            return DONE
        if phase != "Released" or policy != "Delete":
            return DONE
        # The cache may lag our own last write: confirm with a live read before a CSI call.
        pv = await get_or_none(self.client, "persistentvolumes", name)
        if pv is None:
            return DONE
        if (pv.get("status") or {}).get("phase") != "Released" or not self.owns(pv) \
                or (pv.get("spec") or {}).get("persistentVolumeReclaimPolicy") != "Delete":
            return DONE
        if deleting(pv) and not has_finalizer(pv, PV_FINALIZER):
            return DONE
        for va in self.attachments.list():
            va_spec = va.get("spec") or {}
            if (va_spec.get("source") or {}).get("persistentVolumeName") == name:
                msg = MSG_STILL_ATTACHED.format(pv=name, node=va_spec.get("nodeName", ""))
                await self.recorder.event(pv, WARNING, REASON_VOLUME_FAILED_DELETE, msg)
                return Result(requeue_after=self._backoff(key))
        handle = ((pv.get("spec") or {}).get("csi") or {}).get("volumeHandle")
        if handle:
            try:
                await delete_volume(self.driver, handle)
            except CallError as err:
                if err.code != "NotFound":
                    await self.recorder.event(pv, WARNING, REASON_VOLUME_FAILED_DELETE, err.text)
                    return Result(requeue_after=self._backoff(key))
        if not deleting(pv):
            try:
                await self.client.delete("persistentvolumes", name)
            except ApiError as err:
                if err.code != 404:
                    raise
        current = await get_or_none(self.client, "persistentvolumes", name)
        if current is None:
            self._failures.pop(key, None)
            return DONE
        if has_finalizer(current, PV_FINALIZER):
            await self._patch_finalizers(current, [f for f in current["metadata"]["finalizers"] if f != PV_FINALIZER])
        self._failures.pop(key, None)
        return DONE

    async def _patch_finalizers(self, pv: JSON, finalizers: list[str]) -> None:
        meta = pv["metadata"]
        patch = {"metadata": {"finalizers": finalizers, "resourceVersion": meta.get("resourceVersion")}}
        try:
            await self.client.patch("persistentvolumes", meta["name"], patch)
        except ApiError as err:
            if err.code != 404:
                raise


def data_source(claim: JSON) -> JSON | None:
    """The claim's data source, ``dataSourceRef`` first (the API keeps both in step)."""
    spec = claim.get("spec") or {}
    ref = spec.get("dataSourceRef") or spec.get("dataSource")
    if not ref:
        return None
    return dict(ref)


def _nskey(obj: JSON) -> str:
    meta = obj.get("metadata") or {}
    return f"{meta.get('namespace')}/{meta.get('name')}"


def _json_pointer(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


class ExternalProvisioners:
    """What the cluster starts: one :class:`ExternalProvisioner` per driver that can create volumes."""

    name = "csi-provisioners"

    def __init__(self, client: Client, clock: Clock, *, config: Any = None,
                 drivers: Mapping[str, Any] | None = None) -> None:
        self.client = client
        self.clock = clock
        self.config = config
        self.drivers = dict(drivers or {})
        self.instances: dict[str, ExternalProvisioner] = {}
        self.shared_informers: dict[str, Informer] = {}

    async def start(self) -> None:
        for name, driver in self.drivers.items():
            caps = await get_capabilities(driver)
            if not caps.create_delete:
                continue
            inst = ExternalProvisioner(self.client, self.clock, name, driver, config=self.config,
                                       shared_informers=self.shared_informers)
            inst._caps = caps
            await inst.start()
            self.instances[name] = inst

    async def stop(self) -> None:
        for inst in self.instances.values():
            with contextlib.suppress(Exception):
                await inst.stop()
        self.instances.clear()
        self.shared_informers.clear()

    def busy(self) -> bool:
        return any(inst.busy() for inst in self.instances.values())

    @property
    def errors(self) -> int:
        return sum(inst.errors for inst in self.instances.values())


__all__ = [
    "ExternalProvisioner", "ExternalProvisioners", "ProvisioningError", "VolumeRequest",
    "flatten_allowed", "volume_node_affinity", "pvc_name_hash_and_index",
]
