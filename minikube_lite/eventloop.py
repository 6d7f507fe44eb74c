"""The event loop the command-line processes run on: uvloop where it is installed.

Every process of ours is one asyncio loop doing socket I/O: the API server answers requests and
streams watches, and a component split off (scheduler, controller-manager, kubelets) talks to it
over HTTP. uvloop (libuv under the asyncio API) spends less CPU per socket operation than the
selector loop of the standard library, and that is most of a split process's work. It is optional
(``pip install 'minikube-lite[uvloop]'``): without it, or with ``MINIKUBE_LITE_LOOP=asyncio``, the
standard loop runs, with the same behaviour. Embedding (the pytest fixture, ``Cluster`` in your
own code) runs on whatever loop the caller has.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

#: ``asyncio`` forces the standard loop even where uvloop is installed (to compare the two).
LOOP_ENV = "MINIKUBE_LITE_LOOP"


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop constructor when it is installed and not turned off; None: the standard loop."""
    if os.environ.get(LOOP_ENV, "").lower() == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
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
