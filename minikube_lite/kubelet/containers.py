"""Containers that finish: when a started container exits, with what code, and whether kubelet
restarts it (with CrashLoopBackOff between restarts).

The rule, as data (kwok-style) rather than a real process:

- ``minikube-lite.io/exit-after: "5s"`` and/or ``minikube-lite.io/exit-code: "1"`` on a pod make
  every regular container of it exit that long after it started (default: the cluster timing
  ``containerRunDuration``) with that code (default 0).
- Without them, a pod whose ``restartPolicy`` is ``Never`` or ``OnFailure`` (Jobs, hooks,
  ``kubectl run --restart=Never``) is a batch pod: its containers run for
  ``containerRunDuration`` and exit 0. A ``restartPolicy: Always`` pod (Deployments and friends)
  runs until it is deleted.
- After an exit kubelet restarts the container when the policy says so (Always: any exit;
  OnFailure: a non-zero exit). The first restart is immediate; later ones wait in
  ``CrashLoopBackOff`` for kubelet's back-off, 10 s doubling up to 5 minutes, on the cluster
  clock. Each restart bumps ``restartCount`` and keeps the previous run in ``lastState``.
- When no container is left running or waiting to restart, the pod is finished: ``Succeeded``
  when every container exited 0, else ``Failed``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from ..client.runtime import DONE, Key, Result, WorkQueue
from ..clock import Clock, rfc3339
from ..config import parse_duration
from . import stages
from .containerd import ContainerRuntime, PodRuntime, container_id
from .events import EVENT_BACKOFF, EVENT_CREATED, EVENT_PULLED, EVENT_STARTED, KubeletRecorder, go_duration

JSON = dict[str, Any]

EXIT_AFTER_ANNOTATION = "minikube-lite.io/exit-after"
EXIT_CODE_ANNOTATION = "minikube-lite.io/exit-code"
BATCH_RESTART_POLICIES = ("Never", "OnFailure")


class PodWorkers(Protocol):
    """What the running stage needs of the kubelet (``pods.Kubelet``), named here so that this
    module does not import the kubelet that imports it."""

    clock: Clock
    run_duration: float
    queue: WorkQueue

    events: KubeletRecorder

    def release_ip(self, key: Key, rt: PodRuntime) -> None: ...

    async def write_status(self, pod: JSON, rt: PodRuntime, node: JSON, *, terminal: bool = False) -> None: ...

# pkg/kubelet/kuberuntime: the crash-loop back-off (initial 10 s, doubling, at most 5 minutes).
BACKOFF_INITIAL = 10.0
BACKOFF_MAX = 300.0
REASON_CRASH_LOOP = "CrashLoopBackOff"
REASON_COMPLETED = "Completed"
REASON_ERROR = "Error"
MSG_CRASH_LOOP = "back-off {delay} restarting failed container={container} pod={pod}"

#: The stage this module drives (its events, as the table lists them).
_RUNNING = stages.stage(stages.RUNNING)


@dataclass(frozen=True)
class ExitPlan:
    """When (seconds after start) and how (exit code) a pod's containers exit."""

    after: float
    code: int


def exit_plan(pod: JSON, run_duration: float) -> ExitPlan | None:
    """The pod's plan, or None when its containers run until deleted (see the module rule)."""
    annotations = ((pod.get("metadata") or {}).get("annotations") or {})
    raw_after, raw_code = annotations.get(EXIT_AFTER_ANNOTATION), annotations.get(EXIT_CODE_ANNOTATION)
    policy = (pod.get("spec") or {}).get("restartPolicy") or "Always"
    if raw_after is None and raw_code is None and policy not in BATCH_RESTART_POLICIES:
        return None
    after = run_duration
    if raw_after is not None:
        try:
            after = parse_duration(str(raw_after))
        except ValueError:
            after = run_duration
    code = 0
    if raw_code is not None:
        try:
            code = int(str(raw_code).strip())
        except ValueError:
            code = 1
    return ExitPlan(after, code)


def restarts_after(policy: str, exit_code: int) -> bool:
    """Whether kubelet starts the container again after it exited with ``exit_code``."""
    if policy == "Never":
        return False
    if policy == "OnFailure":
        return exit_code != 0
    return True


def crash_backoff(restart_count: int) -> float:
    """Seconds kubelet waits before restart number ``restart_count + 1`` (the first is immediate)."""
    if restart_count <= 0:
        return 0.0
    return min(BACKOFF_MAX, BACKOFF_INITIAL * 2 ** (restart_count - 1))


def pod_ref(pod: JSON) -> str:
    """kubelet's ``format.Pod``: ``name_namespace(uid)``."""
    meta = pod.get("metadata") or {}
    return f"{meta.get('name')}_{meta.get('namespace')}({meta.get('uid')})"


def terminated_state(c: ContainerRuntime) -> JSON:
    return {"terminated": {"exitCode": c.exit_code, "reason": c.reason, "startedAt": c.started_at,
                           "finishedAt": c.finished_at, "containerID": c.container_id}}


async def advance(kubelet: PodWorkers, key: Key, pod: JSON, rt: PodRuntime, node: JSON) -> Result:
    """The ``running`` stage: exits due now, restarts due now, then the status; requeue for the next."""
    now = kubelet.clock.now()
    plan = exit_plan(pod, kubelet.run_duration)
    policy = (pod.get("spec") or {}).get("restartPolicy") or "Always"
    rec, node_name = kubelet.events, rt.node
    next_due: float | None = None
    for c in rt.containers:
        if c.init:
            continue
        if c.state == "running" and plan is not None:
            due = c.started_epoch + plan.after
            if now + 1e-9 < due:
                next_due = due if next_due is None else min(next_due, due)
                continue
            c.state, c.exit_code, c.finished_at = "terminated", plan.code, rfc3339(now)
            c.reason = REASON_COMPLETED if plan.code == 0 else REASON_ERROR
            if restarts_after(policy, plan.code):
                c.restart_due = now + crash_backoff(c.restart_count)
        if c.state == "terminated" and c.restart_due is not None:
            if now + 1e-9 < c.restart_due:
                if c.reason != REASON_CRASH_LOOP:
                    c.last_state = terminated_state(c)
                    delay = go_duration(crash_backoff(c.restart_count))
                    c.reason, c.message = REASON_CRASH_LOOP, MSG_CRASH_LOOP.format(
                        delay=delay, container=c.name, pod=pod_ref(pod))
                    await rec.record(node_name, pod, c, _RUNNING.event(EVENT_BACKOFF), container=c.name, pod=pod_ref(pod))
                next_due = c.restart_due if next_due is None else min(next_due, c.restart_due)
                continue
            if c.reason != REASON_CRASH_LOOP:
                c.last_state = terminated_state(c)
            c.restart_count += 1
            c.restart_due = None
            c.container_id = container_id(rt.uid, c.name, c.restart_count)
            await rec.record(node_name, pod, c, _RUNNING.event(EVENT_PULLED), image=c.image)
            await rec.record(node_name, pod, c, _RUNNING.event(EVENT_CREATED))
            await rec.record(node_name, pod, c, _RUNNING.event(EVENT_STARTED))
            c.state, c.reason, c.message, c.started_at, c.started_epoch = "running", "", "", rfc3339(now), now
            if plan is not None:
                due = now + plan.after
                next_due = due if next_due is None else min(next_due, due)
    main = [c for c in rt.containers if not c.init]
    if main and all(c.state == "terminated" and c.restart_due is None for c in main):
        rt.stage = stages.DONE
    await kubelet.write_status(pod, rt, node)
    if rt.stage == stages.DONE:
        kubelet.release_ip(key, rt)
        return DONE
    if next_due is None:
        return DONE
    if policy == "Always":
        # A restart-always pod with an exit plan crash-loops forever: its timers must not keep
        # ``settle()`` busy (tests move the virtual clock through the restarts they want).
        kubelet.queue.add_after(key, max(0.001, next_due - now), daemon=True)
        return DONE
    return Result(requeue_after=max(0.001, next_due - now))
