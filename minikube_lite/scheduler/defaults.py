"""The in-tree plugin registry and the default profile (``getDefaultPlugins``, storage.md §2.1)."""

from __future__ import annotations

from .framework import Profile, Registry
from .plugins import (
    defaultbinder,
    defaultpreemption,
    interpodaffinity,
    nodeaffinity,
    nodename,
    nodeports,
    noderesources,
    nodeunschedulable,
    nodevolumelimits,
    podtopologyspread,
    tainttoleration,
    volumebinding,
    volumerestrictions,
    volumezone,
)

DEFAULT_SCHEDULER_NAME = "default-scheduler"

# Upstream order; SchedulingGates and PrioritySort live in the queue; ImageLocality is not
# implemented; InterPodAffinity filters but does not score.
DEFAULT_PLUGINS = [
    nodeunschedulable.NAME, nodename.NAME, tainttoleration.NAME, nodeaffinity.NAME, nodeports.NAME,
    noderesources.NAME, volumerestrictions.NAME, nodevolumelimits.NAME, volumebinding.NAME,
    volumezone.NAME, podtopologyspread.NAME, interpodaffinity.NAME, defaultpreemption.NAME,
    noderesources.BALANCED_NAME, defaultbinder.NAME,
]
DEFAULT_WEIGHTS = {tainttoleration.NAME: 3, nodeaffinity.NAME: 2, noderesources.NAME: 1,
                   podtopologyspread.NAME: 2, noderesources.BALANCED_NAME: 1}


def in_tree_registry() -> Registry:
    r = Registry()
    r.register(nodeunschedulable.NAME, nodeunschedulable.NodeUnschedulable)
    r.register(nodename.NAME, nodename.NodeName)
    r.register(tainttoleration.NAME, tainttoleration.TaintToleration)
    r.register(nodeaffinity.NAME, nodeaffinity.NodeAffinity)
    r.register(nodeports.NAME, nodeports.NodePorts)
    r.register(noderesources.NAME, noderesources.NodeResourcesFit)
    r.register(noderesources.BALANCED_NAME, noderesources.NodeResourcesBalancedAllocation)
    r.register(volumerestrictions.NAME, volumerestrictions.VolumeRestrictions)
    r.register(nodevolumelimits.NAME, nodevolumelimits.NodeVolumeLimits)
    r.register(volumebinding.NAME, volumebinding.VolumeBinding)
    r.register(volumezone.NAME, volumezone.VolumeZone)
    r.register(podtopologyspread.NAME, podtopologyspread.PodTopologySpread)
    r.register(interpodaffinity.NAME, interpodaffinity.InterPodAffinity)
    r.register(defaultpreemption.NAME, defaultpreemption.DefaultPreemption)
    r.register(defaultbinder.NAME, defaultbinder.DefaultBinder)
    return r


def default_profile(scheduler_name: str = DEFAULT_SCHEDULER_NAME,
                    percentage_of_nodes_to_score: int | None = None) -> Profile:
    return Profile(scheduler_name, list(DEFAULT_PLUGINS), dict(DEFAULT_WEIGHTS), percentage_of_nodes_to_score)
