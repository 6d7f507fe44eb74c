"""minikube-lite."""
