# minikube-lite in a container. `docker compose up` (docker-compose.yml) builds and runs it;
# see the README, "Run it in Docker".
FROM python:3.12-slim

WORKDIR /src
COPY pyproject.toml README.md ./
COPY minikube_lite ./minikube_lite
RUN pip install --no-cache-dir . && rm -rf /src

WORKDIR /
EXPOSE 8080
# The kubeconfig goes to /kube/config (mount a folder there); its server address is the one the
# host dials, the port published by docker-compose.yml on the host's loopback.
CMD ["minikube-lite", "serve", "--host", "0.0.0.0", "--port", "8080", "--kubeconfig", "/kube/config", \
     "--kubeconfig-server", "http://127.0.0.1:8080"]
