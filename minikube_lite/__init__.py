"""minikube-lite: a Kubernetes control plane in one Python process.

The public names are imported on first use (PEP 562): the pytest plugin is loaded by every
pytest run wherever the package is installed, and importing the cluster (aiohttp, pydantic,
the controllers) eagerly would add half a second to runs that never start one.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .clock import RealClock, VirtualClock
    from .cluster import Cluster
    from .config import ClusterConfig, ConfigError, load_config

__all__ = ["Cluster", "ClusterConfig", "ConfigError", "RealClock", "VirtualClock", "load_config"]
__version__ = "0.1.0"

_MODULE_OF = {"Cluster": ".cluster", "ClusterConfig": ".config", "ConfigError": ".config",
              "RealClock": ".clock", "VirtualClock": ".clock", "load_config": ".config"}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value
