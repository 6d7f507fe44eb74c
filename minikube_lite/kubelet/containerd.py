"""What the container runtime (containerd) knows about a pod: its containers, their images and ids.

A real kubelet keeps the truth about containers in the runtime and *derives* the API status from
it. Here the runtime is one :class:`PodRuntime` per pod, in memory, rebuilt from the API status
after a restart (see ``Kubelet._adopt``), so reconcile stays level-based. Image references,
digests, sizes and container ids are derived from names, stable across runs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

REASON_CONTAINER_CREATING = "ContainerCreating"


@dataclass
class ContainerRuntime:
    name: str
    image: str
    init: bool
    state: str = "waiting"  # waiting | running | terminated
    reason: str = REASON_CONTAINER_CREATING
    image_ref: str = ""
    image_id: str = ""
    container_id: str = ""
    started_at: str = ""
    finished_at: str = ""
    exit_code: int = 0
    started_epoch: float = 0.0
    restart_count: int = 0
    restart_due: float | None = None
    last_state: dict[str, object] = field(default_factory=dict)
    message: str = ""


@dataclass
class PodRuntime:
    uid: str
    node: str
    #: The pod's stage in :data:`~minikube_lite.kubelet.stages.STAGES`, and when its delay ends.
    stage: str = "volumes"
    due: float = 0.0
    start_time: str = ""
    pod_ip: str = ""
    sandbox: bool = False
    #: The container the per-container stages (pull, pulling, create) are at.
    index: int = 0
    pull_started: float = 0.0
    containers: list[ContainerRuntime] = field(default_factory=list)
    last_status: str = ""
    written_rv: int = 0
    retry_at: float = 0.0


def normalize_image(image: str) -> tuple[str, str]:
    """(repository, full reference) as containerd reports them: ``nginx`` ->
    (``docker.io/library/nginx``, ``docker.io/library/nginx:latest``)."""
    ref, digest = (image.split("@", 1) + [""])[:2]
    tag = ""
    last = ref.rsplit("/", 1)[-1]
    if ":" in last:
        ref, tag = ref.rsplit(":", 1)
    first = ref.split("/", 1)[0]
    if "/" not in ref:
        ref = f"docker.io/library/{ref}"
    elif not ("." in first or ":" in first or first == "localhost"):
        ref = f"docker.io/{ref}"
    if digest:
        return ref, f"{ref}@{digest}"
    return ref, f"{ref}:{tag or 'latest'}"


def image_digest(full_ref: str) -> str:
    return "sha256:" + hashlib.sha256(full_ref.encode()).hexdigest()


def image_size(full_ref: str) -> int:
    """A stable, plausible compressed size for an image (5 MB .. 200 MB)."""
    return 5_000_000 + int(hashlib.sha256(("size:" + full_ref).encode()).hexdigest()[:8], 16) % 195_000_000


def container_id(pod_uid: str, name: str, restarts: int = 0) -> str:
    return "containerd://" + hashlib.sha256(f"{pod_uid}/{name}/{restarts}".encode()).hexdigest()
