"""The event loop the command-line processes run on: the standard one, or uvloop when asked.

Every process of ours is one asyncio loop doing socket I/O: the API server answers requests and
streams watches, and a component split off (scheduler, controller-manager, kubelets) talks to it
over HTTP. uvloop (libuv under the asyncio API) spends less CPU per socket operation than the
standard selector loop: about 7% less CPU over the four processes of the 5,000-node split
benchmark (docs/scale.md). It is opt-in, ``MINIKUBE_LITE_LOOP=uvloop`` with the ``uvloop`` extra
installed (``pip install 'minikube-lite[uvloop]'``), because its library adds about 2 MB to every
process, which would put the API server alone over its 150 MB budget at 10,000 pods. Asked for
but not installed, the standard loop runs and a warning says so. Embedding (the pytest fixture,
``Cluster`` in your own code) runs on whatever loop the caller has.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

#: ``uvloop`` asks for uvloop; anything else (or unset) is the standard loop.
LOOP_ENV = "MINIKUBE_LITE_LOOP"

log = logging.getLogger(__name__)


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop constructor when asked for and installed; None: the standard loop."""
    if os.environ.get(LOOP_ENV, "").lower() != "uvloop":
        return None
    try:
        import uvloop
    except ImportError:
        log.warning("%s=uvloop, but uvloop is not installed (pip install 'minikube-lite[uvloop]'): "
                    "running on the standard asyncio loop", LOOP_ENV)
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def loop_name() -> str:
    return "uvloop" if loop_factory() is not None else "asyncio"


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)`` on the loop :func:`loop_factory` picks."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)


__all__ = ["LOOP_ENV", "loop_factory", "loop_name", "run"]
