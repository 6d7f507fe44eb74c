"""The pod lifecycle as data: the stages a pod walks on its node, as kwok's ``Stage`` resources.

A kwok Stage names what it applies to (``selector``), how long to wait (``delay``) and what then
changes (``next``: status template, event, delete). Each :class:`Stage` here does the same for the fake
kubelet: what the pod waits for in it, which timing of ``config.Timings`` is its delay (counted
from when the pod entered the stage), what the kubelet changes in the pod status, which events it
records (reason, type, message template, exactly as upstream), and the stages that may follow.

The kubelet (:mod:`~minikube_lite.kubelet.pods`) walks this table: it waits out a stage's delay,
runs the stage's step (a method of the kubelet, which records the events listed here, taken from
this table) and enters the next stage, whose delay the table gives. Which timing delays a stage
and which events a step may record are changed here; the steps hold only the logic.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..client.events import NORMAL, WARNING
from ..config import Timings
from .events import (
    EVENT_BACKOFF,
    EVENT_CREATED,
    EVENT_FAILED_MOUNT,
    EVENT_KILLING,
    EVENT_NETWORK_NOT_READY,
    EVENT_PULLED,
    EVENT_PULLING,
    EVENT_STARTED,
    MSG_ALREADY_PRESENT,
    MSG_BACKOFF,
    MSG_CREATED,
    MSG_FAILED_MOUNT,
    MSG_KILLING,
    MSG_NETWORK_NOT_READY,
    MSG_PULLED,
    MSG_PULLING,
    MSG_STARTED,
    KubeletEvent,
)

VOLUMES = "volumes"
MOUNTING = "mounting"
SANDBOX = "sandbox"
PULL = "pull"
PULLING = "pulling"
CREATE = "create"
RUNNING = "running"
DONE = "done"
KILLING = "killing"
STOPPING = "stopping"
KILLED = "killed"


@dataclass(frozen=True)
class Stage:
    name: str
    #: What the pod waits for in this stage (kwok: the selector that matches it).
    waits_for: str
    #: The field of ``config.Timings`` that is the stage's delay, counted from entering it.
    delay: str | None
    #: What the kubelet changes in the pod status when the stage's step runs.
    status: str
    #: The events the step records (kwok: ``next.event``).
    events: tuple[KubeletEvent, ...] = ()
    #: The stages that may follow, the usual one first.
    next: tuple[str, ...] = ()
    #: Whether the kubelet (re)writes the pod status each time it looks at a pod in this stage.
    shows_status: bool = False

    def event(self, reason: str, index: int = 0) -> KubeletEvent:
        """The stage's ``index``-th event with that reason (a stage may record Pulled two ways)."""
        return [e for e in self.events if e.reason == reason][index]

    def delay_seconds(self, timings: Timings) -> float:
        return float(getattr(timings, self.delay)) if self.delay else 0.0


STAGES: tuple[Stage, ...] = (
    Stage(VOLUMES, "the node's network is ready (unless hostNetwork), every mounted claim is bound to a PV, "
          "every CSI volume that needs attaching has an attached VolumeAttachment",
          None, "phase Pending, hostIP, startTime, containers waiting ContainerCreating (PodInitializing "
          "behind init containers), conditions False with ContainersNotReady/ContainersNotInitialized",
          (KubeletEvent(WARNING, EVENT_NETWORK_NOT_READY, MSG_NETWORK_NOT_READY),
           KubeletEvent(WARNING, EVENT_FAILED_MOUNT, MSG_FAILED_MOUNT)),
          (MOUNTING,), shows_status=True),
    Stage(MOUNTING, "its delay (the volumes are mounted)", "volumeMountDelay", "nothing new",
          (), (SANDBOX,), shows_status=True),
    Stage(SANDBOX, "its delay (the sandbox and its network are set up)", "podStartDelay",
          "PodReadyToStartContainers True, podIP from the node's podCIDR (the node's IP with hostNetwork); "
          "written at once when an image must be pulled",
          (), (PULL, RUNNING), shows_status=True),
    Stage(PULL, "the previous container started (init containers first, each in spec order)", None,
          "the container's image and imageID",
          (KubeletEvent(NORMAL, EVENT_PULLED, MSG_ALREADY_PRESENT), KubeletEvent(NORMAL, EVENT_PULLING, MSG_PULLING)),
          (CREATE, PULLING)),
    Stage(PULLING, "its delay (the image is pulled)", "imagePullDelay", "nothing new",
          (KubeletEvent(NORMAL, EVENT_PULLED, MSG_PULLED),), (CREATE,)),
    Stage(CREATE, "the image is present", None,
          "containerID, state running (an init container: terminated, Completed, exit code 0)",
          (KubeletEvent(NORMAL, EVENT_CREATED, MSG_CREATED), KubeletEvent(NORMAL, EVENT_STARTED, MSG_STARTED)),
          (PULL, RUNNING)),
    Stage(RUNNING, "every container started; a container exits containerRunDuration after it started when "
          "the pod is a batch pod or asks to (containers.py), then restarts per restartPolicy", None,
          "phase Running, every condition True; an exit: state terminated (Completed/Error), a restart: "
          "restartCount+1, lastState, CrashLoopBackOff while it waits",
          (KubeletEvent(WARNING, EVENT_BACKOFF, MSG_BACKOFF), KubeletEvent(NORMAL, EVENT_PULLED, MSG_ALREADY_PRESENT),
           KubeletEvent(NORMAL, EVENT_CREATED, MSG_CREATED), KubeletEvent(NORMAL, EVENT_STARTED, MSG_STARTED)),
          (DONE,)),
    Stage(DONE, "every container exited and none restarts", None,
          "phase Succeeded (every exit code 0) or Failed, Ready False with PodCompleted; the pod IP is released"),
    Stage(KILLING, "the pod has a deletionTimestamp (in any stage)", None, "nothing new",
          (KubeletEvent(NORMAL, EVENT_KILLING, MSG_KILLING),), (STOPPING,)),
    Stage(STOPPING, "its delay (the containers stop); at most deletionGracePeriodSeconds, none when no "
          "container runs", "podTerminationDelay",
          "running containers terminated (Completed, exit code 0), the final status (when one was written)",
          (), (KILLED,)),
    Stage(KILLED, "the containers stopped", None, "none: the pod IP is released and the pod deleted with grace "
          "period 0"),
)

BY_NAME: dict[str, Stage] = {s.name: s for s in STAGES}


def stage(name: str) -> Stage:
    return BY_NAME[name]
