"""Every controller, scheduler and kubelet delay of a cluster, with its default, declared once.

Timings are data so tests and demos can change how long a pod takes to start or how a
controller backs off without touching code (kwok Stages habit).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, PositiveInt

from ..configmodel import Duration, StrictModel

__all__ = ["Timings", "DEFAULT_TIMINGS", "timings_of", "KUBELET_REMOTE_WORKERS", "PV_CONTROLLER_WORKERS_LOCAL",
           "PV_CONTROLLER_WORKERS_REMOTE"]

#: PV controller workers with the in-process client: a sync never waits on a socket there, so
#: more workers would only interleave the same CPU work, and one keeps seeded runs in the order
#: they always had.
PV_CONTROLLER_WORKERS_LOCAL = 1
#: PV controller workers over HTTP (a controller-manager process): each of bind's four writes
#: waits a round trip, and other keys can be synced meanwhile.
PV_CONTROLLER_WORKERS_REMOTE = 8
#: Workers of the kubelets' pod syncs and of their node heartbeats against a remote API server,
#: unless ``kubeletWorkers`` says otherwise. A real kubelet syncs each pod in its own goroutine and
#: renews its own Lease; one process serving thousands of nodes over HTTP needs many syncs in flight,
#: each waiting out round trips (5,000 Leases every 10 s are 500 renewals a second). In one process
#: the components keep their own counts (pods 4, heartbeats 1), which seeded runs reproduce. 16,
#: not more: with 64 of each the kubelets crowded the one API server (split_bench at 5,000 nodes /
#: 10,000 pods: every pod Running after 293 s with 64, 273 s with 16; docs/scale.md).
KUBELET_REMOTE_WORKERS = 16


class Timings(StrictModel):
    """Every controller, scheduler and kubelet delay, with its default, declared once.

    Components read them as attributes (``config.timings.podStartDelay``); an unknown key is a
    configuration error naming the key, so a misspelt timing cannot silently keep its default.
    """

    # ---- kubelet
    podStartDelay: Duration = 1.0
    podTerminationDelay: Duration = 0.5
    imagePullDelay: Duration = 1.0
    volumeAttachDelay: Duration = 0.0
    volumeMountDelay: Duration = 0.2
    #: How long the containers of a batch pod (restartPolicy Never/OnFailure) run before exiting 0;
    #: the pod annotations minikube-lite.io/exit-after and exit-code override it per pod.
    containerRunDuration: Duration = 1.0
    #: Kubelet: wait before retrying a pod sync that failed (volumes not ready, API errors).
    kubeletSyncRetry: Duration = 10.0
    #: Pod syncs, and node heartbeats, the kubelets run at once; unset: the components' own counts
    #: in one process, ``KUBELET_REMOTE_WORKERS`` against a remote API server (not a delay, but a
    #: pace: it decides how fast thousands of nodes' pods move through the stage delays above).
    kubeletWorkers: PositiveInt | None = None
    #: Kubelet volume expansion (NodeExpandVolume): backoff after a failed call.
    kubeletExpandRetryInitial: Duration = 1.0
    kubeletExpandRetryMax: Duration = 300.0
    # ---- nodes
    nodeStatusUpdateInterval: Duration = 10.0
    #: How often each kubelet renews its Lease; unset: every ``nodeStatusUpdateInterval``.
    nodeLeaseRenewInterval: Duration | None = None
    #: How often an unchanged node status is posted again (kubelet ``nodeStatusReportFrequency``).
    nodeStatusReportInterval: Duration = 300.0
    #: Node lifecycle controller: how long a silent node stays Ready (``node-monitor-grace-period``).
    nodeMonitorGracePeriod: Duration = 50.0
    # ---- workloads
    #: Job controller: wait before replacing a failed pod, doubling per failure up to the max.
    jobPodFailureBackoff: Duration = 10.0
    jobPodFailureBackoffMax: Duration = 360.0
    # ---- storage controllers
    pvControllerResync: Duration = 15.0
    #: How many claims and volumes the PV controller syncs at once (never one key twice at once).
    #: Unset: ``PV_CONTROLLER_WORKERS_LOCAL`` in one process, ``..._REMOTE`` over HTTP.
    pvControllerWorkers: int | None = Field(default=None, ge=1)
    provisionerRetryInitial: Duration = 1.0
    provisionerRetryMax: Duration = 300.0
    snapshotRetryInitial: Duration = 1.0
    snapshotRetryMax: Duration = 300.0
    #: CSI snapshotter sidecar: how often a snapshot that is not ready yet is polled.
    snapshotReadyPollInterval: Duration = 1.0
    #: external-resizer: backoff after a failed ControllerExpandVolume.
    resizerRetryInitial: Duration = 1.0
    resizerRetryMax: Duration = 300.0
    #: CSIStorageCapacity: how often capacity is polled (0 also means the default).
    capacityPollInterval: Duration = 60.0
    # ---- scheduler
    schedulerBackoffInitial: Duration = 1.0
    schedulerBackoffMax: Duration = 10.0
    schedulerUnschedulableFlush: Duration = 300.0
    bindTimeout: Duration = 600.0
    # ---- leader election (the Leases of a standalone scheduler / controller-manager), client-go's
    # defaults (``--leader-elect-lease-duration``, ``-renew-deadline``, ``-retry-period``)
    leaderElectionLeaseDuration: Duration = 15.0
    leaderElectionRenewDeadline: Duration = 10.0
    leaderElectionRetryPeriod: Duration = 2.0

    def kubelet_workers(self, own: int, remote: bool) -> int:
        """Workers of a kubelet component (``own``: its count in one process)."""
        if self.kubeletWorkers is not None:
            return self.kubeletWorkers
        return KUBELET_REMOTE_WORKERS if remote else own

    @property
    def lease_renew_interval(self) -> float:
        return self.nodeLeaseRenewInterval if self.nodeLeaseRenewInterval is not None \
            else self.nodeStatusUpdateInterval

    def pv_controller_workers(self, *, remote: bool) -> int:
        """The PV controller's worker count for a client that talks HTTP (``remote``) or not."""
        if self.pvControllerWorkers is not None:
            return self.pvControllerWorkers
        return PV_CONTROLLER_WORKERS_REMOTE if remote else PV_CONTROLLER_WORKERS_LOCAL


#: The timings of a component started without a cluster config (unit tests, embedding).
DEFAULT_TIMINGS = Timings()


def timings_of(config: Any) -> Timings:
    """``config.timings``, or the defaults when a component runs without a config."""
    timings = getattr(config, "timings", None)
    return timings if isinstance(timings, Timings) else DEFAULT_TIMINGS
