"""The browser side of ``minikube-lite serve``: a live cluster map at ``/ui/`` and why-pending.

The API server (``apiserver/``) knows nothing of the scheduler, so the why-pending route and the
static files are mounted here, as sub-applications, by the serving layer (``cluster.py``).
"""

from .serving import PUBLIC_PATHS, WHY_PENDING_PREFIX, ui_apps

__all__ = ["PUBLIC_PATHS", "WHY_PENDING_PREFIX", "ui_apps"]
