"""Component log capture: klog rendering, bounded buffers, routing by the task's context."""

from __future__ import annotations

import asyncio
import logging

from minikube_lite.logs import ComponentLogs, LogCapture, PodLogSource, klog, klog_line


def record(msg: str, *args: object, level: int = logging.INFO) -> logging.LogRecord:
    return logging.LogRecord("minikube_lite.components", level, "/x/controller.py", 42, msg, args, None)


def test_klog_header() -> None:
    stamp = 1796398876.5  # 2026-12-04T15:41:16.5Z
    assert klog_line(record('provision "%s": started', "default/data"), stamp) == (
        'I1204 15:41:16.500000       1 controller.py:42] provision "default/data": started')
    assert klog_line(record("boom", level=logging.WARNING), stamp).startswith("W1204 ")


def test_buffers_are_bounded_per_component() -> None:
    logs = ComponentLogs(lambda: 0.0, max_lines=3)
    for i in range(5):
        logs.append("kube-scheduler", record("line %d", i))
    logs.append("csi-provisioner", record("other"))
    assert [line.text.rsplit("] ", 1)[1] for line in logs.lines("kube-scheduler")] == ["line 2", "line 3", "line 4"]
    assert [line.seq for line in logs.lines("kube-scheduler", after=4)] == [5]
    assert logs.components() == ["csi-provisioner", "kube-scheduler"]


async def test_records_go_to_the_cluster_and_component_of_the_task() -> None:
    a = ComponentLogs(lambda: 0.0)
    b = ComponentLogs(lambda: 0.0)

    async def work(message: str) -> None:
        klog.info("%s", message)

    await asyncio.create_task(work("from a"), context=a.run_as("kube-scheduler"))
    await asyncio.create_task(work("from b"), context=b.run_as("csi-provisioner"))
    klog.info("outside any cluster")  # dropped: no cluster's task logged it
    assert [line.text.rsplit("] ", 1)[1] for line in a.lines("kube-scheduler")] == ["from a"]
    assert [line.text.rsplit("] ", 1)[1] for line in b.lines("csi-provisioner")] == ["from b"]
    assert a.lines("csi-provisioner") == [] and b.lines("kube-scheduler") == []
    assert any(isinstance(h, LogCapture) for h in klog.handlers) and not klog.propagate


async def test_explicit_component_and_pod_source() -> None:
    logs = ComponentLogs(lambda: 0.0)

    async def work() -> None:
        klog.info("driver line", extra={"component": "csi-plugin"})

    await asyncio.create_task(work(), context=logs.run_as("csi-provisioner"))
    assert len(logs.lines("csi-plugin")) == 1
    source = PodLogSource(logs, frozenset({"csi-plugin"}))
    system = {"metadata": {"namespace": "kube-system"}}
    assert source.component_of(system, "csi-plugin") == "csi-plugin"
    assert source.component_of(system, "nginx") is None
    assert source.component_of({"metadata": {"namespace": "default"}}, "csi-plugin") is None


async def test_wait_wakes_on_a_new_line() -> None:
    logs = ComponentLogs(lambda: 0.0)
    waiter = asyncio.create_task(logs.wait(5.0))
    await asyncio.sleep(0)
    logs.append("kube-scheduler", record("new"))
    await asyncio.wait_for(waiter, 1.0)
    await logs.wait(0.01)  # times out quietly
