"""Objects several test folders create. Importable as `kube_objects`: the tests folder is on
sys.path because its conftest.py sits there (there are no __init__.py files)."""

from __future__ import annotations

from typing import Any

PAUSE_IMAGE = "registry.k8s.io/pause:3.10"


def pause_deployment(name: str, replicas: int, image: str = PAUSE_IMAGE) -> dict[str, Any]:
    """A Deployment of `replicas` pods labelled `app: <name>` with one container, `main`;
    kwok makes its pods Running and Ready."""
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "main", "image": image}]},
            },
        },
    }
