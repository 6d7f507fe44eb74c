"""``minikube-lite demo``: the course's storage stories, narrated, on an in-process cluster.

- ``runner``: :class:`Demo` (steps, bounded waits, kubectl-like views), :func:`run_demo`, pauses;
- ``stories/``: one module per part of the course (what happens);
- ``narration/<lang>.yaml``: what is said about it, per language (``narration.py`` loads them).
"""

from .manifests import claim, local_pv, pod, storage_class
from .narration import LANGUAGES, catalogue
from .runner import Demo, DemoError, StdinPause, run_demo
from .stories import SCENARIOS, STORIES

__all__ = ["run_demo", "SCENARIOS", "STORIES", "LANGUAGES", "DemoError", "Demo", "StdinPause", "catalogue",
           "claim", "local_pv", "pod", "storage_class"]
