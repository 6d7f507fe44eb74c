"""The shared Kubernetes vocabulary: quantities, well-known names, selectors, volume matching.

Every layer speaks these rules (the API server validates with them, controllers and the scheduler
decide with them, the config file builds nodes with them), so they live once, here, and import
nothing else of minikube-lite: a rule read two ways by two components is a bug waiting to happen.
"""
