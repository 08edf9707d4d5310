"""Where a cluster keeps its files, and which ports it listens on."""

import dataclasses
import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_STATE_DIR = REPO_ROOT / ".cluster"


def state_dir_from_env() -> Path:
    return Path(os.environ.get("AIROLLOUT_CLUSTER_DIR") or DEFAULT_STATE_DIR)


def bin_dir_from_env() -> Path:
    """Where hack/build-tools.sh links the binaries this checkout pins."""
    if os.environ.get("AIROLLOUT_BIN_DIR"):
        return Path(os.environ["AIROLLOUT_BIN_DIR"])
    cache = os.environ.get("AIROLLOUT_CACHE_DIR") or Path.home() / ".cache" / "airollout"
    return Path(cache) / "bin" / "current"


@dataclasses.dataclass(frozen=True)
class Ports:
    etcd_client: int
    etcd_peer: int
    apiserver: int
    controller_manager: int
    scheduler: int
    kwok: int
    prometheus: int

    @classmethod
    def from_list(cls, ports: list[int]) -> "Ports":
        return cls(*ports)

    @classmethod
    def count(cls) -> int:
        return len(dataclasses.fields(cls))


@dataclasses.dataclass(frozen=True)
class Layout:
    """Every path under one state directory; nothing of a cluster lives outside it."""

    root: Path

    @property
    def info_file(self) -> Path:
        return self.root / "cluster.json"

    @property
    def kubeconfig(self) -> Path:
        return self.root / "kubeconfig"

    @property
    def pki(self) -> Path:
        return self.root / "pki"

    @property
    def etcd_data(self) -> Path:
        return self.root / "etcd"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def pids(self) -> Path:
        return self.root / "pids"

    @property
    def prometheus(self) -> Path:
        return self.root / "prometheus"

    @property
    def prometheus_config(self) -> Path:
        return self.prometheus / "prometheus.yml"

    @property
    def scrape_targets(self) -> Path:
        """Prometheus reads every *.json here as file_sd targets, refreshed within a second."""
        return self.prometheus / "targets"

    def log_file(self, component: str) -> Path:
        return self.logs / f"{component}.log"

    def pid_file(self, component: str) -> Path:
        return self.pids / f"{component}.pid"

    def cert_dir(self, component: str) -> Path:
        return self.pki / component

    def make_dirs(self) -> None:
        for path in (self.pki, self.etcd_data, self.logs, self.pids, self.scrape_targets):
            path.mkdir(parents=True, exist_ok=True)
