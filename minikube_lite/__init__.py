"""minikube-lite: a Kubernetes control plane in one Python process."""

from .clock import RealClock, VirtualClock
from .cluster import Cluster
from .config import ClusterConfig, ConfigError, load_config

__all__ = ["Cluster", "ClusterConfig", "ConfigError", "RealClock", "VirtualClock", "load_config"]
__version__ = "0.1.0"
