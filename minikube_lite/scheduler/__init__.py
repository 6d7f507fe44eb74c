"""A topology-aware kube-scheduler: framework, plugins, queue and loop (storage.md §2).

``Scheduler(client, clock)`` is the component; ``Framework``/``Algorithm`` over a ``Snapshot``
run the same scheduling cycle without an API server (tests, benchmarks).
"""

from .algorithm import Algorithm, FitError, SchedulingError, fit_error_message, num_feasible_nodes_to_find
from .defaults import DEFAULT_SCHEDULER_NAME, default_profile, in_tree_registry
from .framework import Code, CycleState, Framework, Handle, Profile, Registry, Status
from .scheduler import Scheduler
from .snapshot import NodeInfo, Snapshot

__all__ = [
    "Algorithm", "Code", "CycleState", "DEFAULT_SCHEDULER_NAME", "FitError", "Framework", "Handle",
    "NodeInfo", "Profile", "Registry", "Scheduler", "SchedulingError", "Snapshot", "Status",
    "default_profile", "fit_error_message", "in_tree_registry", "num_feasible_nodes_to_find",
]
