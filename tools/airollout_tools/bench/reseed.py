"""A second scenario folder from the first: the same cases drawn with seeds nobody tuned on.

A judge tuned on one folder's draws can win on that folder's luck. Copying every scenario
with fresh seeds keeps the cases and changes the traffic each window sees, so the figures on
the copy say how the judge does on the kind of case, not on those draws:

    python -m airollout_tools.bench.reseed OUT FIRST_SEED COPIES FOLDER [FOLDER ...]
    airollout bench decisions OUT
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from airollout_tools.sim.scenario import load_folder, load_scenario


def reseed(folders: Sequence[Path], out: Path, first_seed: int, copies: int) -> list[Path]:
    """Write `copies` of every scenario of `folders` into `out`, seeds counting up from
    `first_seed`, each named after its source and seed; the files written, each loaded back."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    seed = first_seed
    for folder in folders:
        load_folder(folder)  # a malformed source is refused here, naming its file and field
        for source in sorted(folder.glob("*.yaml")):
            document: dict[str, Any] = yaml.safe_load(source.read_text())
            for _ in range(copies):
                name = f"{document.get('name', source.stem)}-s{seed}"
                path = out / f"{name}.yaml"
                path.write_text(yaml.safe_dump({**document, "name": name, "seed": seed}))
                load_scenario(path)
                written.append(path)
                seed += 1
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m airollout_tools.bench.reseed")
    parser.add_argument("out", type=Path)
    parser.add_argument("first_seed", type=int)
    parser.add_argument("copies", type=int)
    parser.add_argument("folders", type=Path, nargs="+")
    args = parser.parse_args(argv)
    written = reseed(args.folders, args.out, args.first_seed, args.copies)
    print(f"{len(written)} scenarios written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
