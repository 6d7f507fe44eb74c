"""Headless Chromium for the map's browser tests and screenshots (needs the ``test`` extra).

The browser is the system's (Debian's ``chromium``, see ``scripts/install_browser``), driven by
playwright over CDP; playwright's own browser download is never used (no network is assumed).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

CHROMIUM_ENV = "MINIKUBE_LITE_CHROMIUM"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DEFAULT_VIEWPORT: Any = {"width": 1400, "height": 900}


def chromium_path() -> str | None:
    """``$MINIKUBE_LITE_CHROMIUM``, else Debian's chromium, else one on PATH."""
    explicit = os.environ.get(CHROMIUM_ENV)
    if explicit:
        return explicit if Path(explicit).exists() else None
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    return shutil.which("chromium") or shutil.which("chromium-browser")


def unavailable_reason() -> str | None:
    """Why no browser test can run here, or None when one can."""
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    explicit = os.environ.get(CHROMIUM_ENV)
    if explicit and not Path(explicit).exists():
        return f"{CHROMIUM_ENV}={explicit} does not exist"
    if chromium_path() is None:
        return ("no Chromium at /usr/bin/chromium (scripts/install_browser installs it with apt-get when run as root; "
                f"or set {CHROMIUM_ENV})")
    return None


@asynccontextmanager
async def browser_context(user_data_dir: str | Path, viewport: Any = None) -> AsyncIterator[Any]:
    """A fresh persistent context (its own profile directory) of headless Chromium."""
    from playwright.async_api import async_playwright

    path = chromium_path()
    if path is None:
        raise RuntimeError(unavailable_reason() or "no chromium")
    async with async_playwright() as pw:
        context = await pw.chromium.launch_persistent_context(
            str(user_data_dir), executable_path=path, headless=True, args=CHROMIUM_ARGS,
            viewport=viewport or DEFAULT_VIEWPORT)
        try:
            yield context
        finally:
            await context.close()
