"""Workload controllers of kube-controller-manager: ReplicaSet, Deployment, StatefulSet, DaemonSet.

Each turns its object into pods (and, for StatefulSets, claims) through the API only, owning what
it creates with a controller ownerReference so the garbage collector cascades deletes.
"""

from .daemonset import DaemonSetController
from .deployment import DeploymentController
from .replicaset import ReplicaSetController
from .statefulset import StatefulSetController

__all__ = ["DaemonSetController", "DeploymentController", "ReplicaSetController", "StatefulSetController"]
