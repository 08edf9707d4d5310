"""The admin kubeconfig, with certificates embedded so the file works when copied alone."""

import base64
import json
import os
from pathlib import Path
from typing import Any

from localcluster.pki import Pki

CONTEXT = "airollout-local"


def _inline(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def kubeconfig_document(server: str, pki: Pki) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": CONTEXT,
                "cluster": {"server": server, "certificate-authority-data": _inline(pki.ca_cert)},
            }
        ],
        "users": [
            {
                "name": "admin",
                "user": {
                    "client-certificate-data": _inline(pki.admin_cert),
                    "client-key-data": _inline(pki.key),
                },
            }
        ],
        "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": "admin"}}],
        "current-context": CONTEXT,
    }


def write_kubeconfig(path: Path, server: str, pki: Pki) -> None:
    # It holds the admin key: readable by its owner only.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        json.dump(kubeconfig_document(server, pki), file, indent=2)
