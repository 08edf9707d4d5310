"""`python -m localcluster up|down|env` (PYTHONPATH=hack); hack/cluster.sh wraps it.

stdout carries only `export` lines, so `eval "$(hack/cluster.sh up)"` works; progress and
errors go to stderr.
"""

import argparse
import sys
import time
from pathlib import Path

from localcluster.cluster import DEFAULT_TIMEOUT_SECONDS, ClusterError, down, read_running, up
from localcluster.layout import bin_dir_from_env, state_dir_from_env


def _log(message: str) -> None:
    print(f"[cluster] {message}", file=sys.stderr, flush=True)


def _up(args: argparse.Namespace) -> int:
    started = time.monotonic()
    _log(f"starting in {args.state_dir} with binaries from {args.bin_dir} ...")
    info = up(args.state_dir, args.bin_dir, timeout=args.timeout, node_count=args.nodes,
              pod_runner=args.pod_runner)  # fmt: skip
    _log(f"ready in {time.monotonic() - started:.1f}s: apiserver {info.apiserver_url}, "
         f"Prometheus {info.prometheus_url}, logs in {info.state_dir / 'logs'}")  # fmt: skip
    sys.stdout.write(info.exports())
    return 0


def _env(args: argparse.Namespace) -> int:
    sys.stdout.write(read_running(args.state_dir).exports())
    return 0


def _down(args: argparse.Namespace) -> int:
    _log(down(args.state_dir))
    return 0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="hack/cluster.sh", description=__doc__)
    parser.add_argument("command", choices=("up", "down", "env"))
    parser.add_argument("--state-dir", type=Path, default=state_dir_from_env())
    parser.add_argument("--bin-dir", type=Path, default=bin_dir_from_env())
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_SECONDS)
    parser.add_argument("--nodes", type=int, default=1, help="how many kwok nodes")
    parser.add_argument("--pod-runner", action="store_true",
                        help="add a Node whose pods run as host processes")  # fmt: skip
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    handlers = {"up": _up, "env": _env, "down": _down}
    try:
        return handlers[args.command](args)
    except ClusterError as error:
        _log(f"error: {error}")
        return 1
    except KeyboardInterrupt:
        _log("interrupted; processes started so far were stopped")
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
