"""Screenshots of the live map, one per course example: ``docs/img/map-0N-*.png``.

Each example runs on a fresh served cluster (teaching timings, real clock) with the map open
in headless Chromium, up to its most telling moment; then the page is captured:

- 01-snapshot-restore: the disk, its snapshot, the restored disk and both pods Running;
- 02-local-pv: local-pod Running on node1, local-pod-2 Pending, its why-pending open;
- 03-topology-scheduling: the pod Pending, why-pending open (taint, no volumes to bind).

Usage: ``python scripts/screenshot_map.py [--out docs/img]`` (needs the test extra and
Chromium, see ``scripts/install_browser``).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from minikube_lite.cluster import Cluster
from minikube_lite.ui.browser import browser_context, unavailable_reason
from minikube_lite.ui.stories import apply, teaching_config

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
WAIT_MS = 30_000
VIEWPORT = {"width": 1440, "height": 900}


async def pod_chip(page: Any, name: str, phase: str) -> str:
    selector = f'.pod[data-key="default/{name}"][data-phase="{phase}"]'
    await page.wait_for_selector(selector, timeout=WAIT_MS)
    return selector


async def open_why(page: Any, name: str) -> None:
    await page.click(await pod_chip(page, name, "Pending"))
    await page.wait_for_selector("#why-nodes", timeout=WAIT_MS)


async def snapshot_restore(cluster: Cluster, page: Any) -> None:
    story = EXAMPLES / "01-snapshot-restore"
    for name in ("storageclass.yaml", "snapshotclass.yaml", "pvc.yaml", "pod.yaml"):
        await apply(cluster.client, story / name)
    await pod_chip(page, "disk-pod", "Running")
    await apply(cluster.client, story / "snapshot.yaml")
    await page.wait_for_selector('#snapshots tr[data-vs="default/disk-snapshot"] .mono', timeout=WAIT_MS)
    await page.wait_for_function("document.querySelector('#snapshots').textContent.includes('ready=true')",
                                 timeout=WAIT_MS)
    await apply(cluster.client, story / "restore.yaml")
    await page.click(await pod_chip(page, "restore-pod", "Running"))
    await page.wait_for_selector("#why-summary", timeout=WAIT_MS)
    await page.wait_for_function("document.querySelectorAll('.disk').length >= 2", timeout=WAIT_MS)


async def local_pv(cluster: Cluster, page: Any) -> None:
    story = EXAMPLES / "02-local-pv"
    for name in ("local-pv.yaml", "pvc.yaml", "pod.yaml"):
        await apply(cluster.client, story / name)
    await pod_chip(page, "local-pod", "Running")
    await apply(cluster.client, story / "second-claim.yaml")
    await wait_unschedulable(cluster, "local-pod-2")
    await open_why(page, "local-pod-2")


async def topology(cluster: Cluster, page: Any) -> None:
    story = EXAMPLES / "03-topology-scheduling"
    for name in ("storageclass.yaml", "pvc.yaml", "pod.yaml"):
        await apply(cluster.client, story / name)
    await wait_unschedulable(cluster, "disk-pod-topology")
    await open_why(page, "disk-pod-topology")


async def wait_unschedulable(cluster: Cluster, name: str) -> None:
    for _ in range(WAIT_MS // 50):
        pod = await cluster.client.get("pods", name, "default")
        if any(c.get("reason") == "Unschedulable" for c in pod.get("status", {}).get("conditions") or []):
            return
        await asyncio.sleep(0.05)
    raise RuntimeError(f"{name} never became Unschedulable")


STORIES: dict[str, Callable[[Cluster, Any], Awaitable[None]]] = {
    "01-snapshot-restore": snapshot_restore,
    "02-local-pv": local_pv,
    "03-topology-scheduling": topology,
}


async def capture(name: str, out: Path) -> Path:
    with tempfile.TemporaryDirectory(prefix="minikube-lite-shot-") as tmp:
        async with Cluster(teaching_config(), serve=True, port=0, kubeconfig_path=Path(tmp) / "kc.yaml") as cluster, \
                browser_context(Path(tmp) / "profile", viewport=VIEWPORT) as browser:
            page = await browser.new_page()
            await page.goto(cluster.url + "/ui/")
            await page.wait_for_selector("body[data-synced=true]", timeout=WAIT_MS)
            await STORIES[name](cluster, page)
            await asyncio.sleep(0.5)   # let the last watch events and the cloud refresh land
            target = out / f"map-{name}.png"
            await page.screenshot(path=str(target), full_page=True)
            return target


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", default=str(ROOT / "docs" / "img"))
    parser.add_argument("stories", nargs="*", help=f"which (default: all of {', '.join(STORIES)})")
    args = parser.parse_args(argv)
    unknown = [s for s in args.stories if s not in STORIES]
    if unknown:
        parser.error(f"unknown stories {unknown}; choose from {list(STORIES)}")
    reason = unavailable_reason()
    if reason:
        print(f"cannot take screenshots: {reason}", file=sys.stderr)
        return 1
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name in args.stories or STORIES:
        print(await capture(name, out))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
