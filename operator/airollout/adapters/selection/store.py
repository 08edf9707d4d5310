"""The index file (JSON, gzip-compressed when its name ends in .gz) and the rules file."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import yaml

from airollout.adapters.selection.git import read_at
from airollout.core.selection.index import (
    Index,
    SelectionInputError,
    index_from_json,
    index_to_json,
)
from airollout.core.selection.rules import Rules, rules_from_config

RULES_FILE = ".airollout/selection.yaml"


def load_index(path: Path) -> Index:
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        data = json.loads(raw)
    except FileNotFoundError as error:
        raise SelectionInputError(f"{path}: no such index file") from error
    except (OSError, ValueError) as error:
        raise SelectionInputError(f"{path}: not a readable JSON index ({error})") from error
    return index_from_json(data, str(path))


def save_index(index: Index, path: Path) -> None:
    text = json.dumps(index_to_json(index), separators=(",", ":")).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(gzip.compress(text) if path.suffix == ".gz" else text)
    temporary.replace(path)


def load_rules(repo: Path, revision: str) -> Rules:
    """The rules as the change itself has them: the file at the head revision."""
    text = read_at(repo, revision, RULES_FILE)
    where = f"{RULES_FILE} at {revision[:12]}"
    try:
        config = yaml.safe_load(text) if text is not None else None
    except yaml.YAMLError as error:
        raise SelectionInputError(f"{where}: not valid YAML ({error})") from error
    return rules_from_config(config, where)
