"""Run configuration files (``graphbench run --config run.yaml``): parsed and validated once, at the edge.

A run file holds the same things as the command-line flags::

    models: [gin, gcn]          # or model: gin
    datasets: [csl]             # or dataset: csl
    seeds: [0, 1, 2]
    folds: all                  # or a list of fold indices
    hparams: {epochs: 50, lr: 0.001, hidden: 64, pe: rwse}
    transforms: [{name: lappe, k: 8}]   # the transform chain (same as hparams.transforms)
    dataset_options: {}
    results: results/results.csv
    device: cpu
    deterministic: false        # true: deterministic algorithms and the kernel instruction set pinned to avx2
    isa: native                 # torch/MKL/oneDNN kernels: avx2 | avx512 | default (pinned), native (the CPU's
                                #  best); default: avx2 when deterministic, else native
    threads: 1                  # torch CPU threads (default: chosen from the machine and the dataset)
    data_root: datasets

Command-line flags override the file. Unknown keys are errors that name the key and its line.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import yaml

RUN_KEYS = ("model", "models", "dataset", "datasets", "seeds", "folds", "hparams", "dataset_options", "results",
            "device", "deterministic", "data_root", "threads", "transforms", "preset", "isa")


class ConfigError(ValueError):
    """A malformed configuration file; the message names the file, key and line."""


class _LineLoader(yaml.SafeLoader):
    """A YAML loader that records the line of every top-level key (for error messages)."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict:
    mapping = yaml.SafeLoader.construct_mapping(loader, node)
    lines = {k.value: k.start_mark.line + 1 for k, _ in node.value if isinstance(k, yaml.ScalarNode)}
    return _LinedDict(mapping, lines)


class _LinedDict(dict):
    def __init__(self, data: dict, lines: dict[str, int]) -> None:
        super().__init__(data)
        self.lines = lines


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml(path: str | Path) -> dict:
    """Parse a YAML mapping, turning syntax errors into :class:`ConfigError` with the line."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"configuration file {path} does not exist")
    try:
        data = yaml.load(path.read_text(), Loader=_LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}: invalid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys to values")
    return data


def line_of(data: dict, key: str) -> str:
    line = getattr(data, "lines", {}).get(key)
    return f" (line {line})" if line else ""


def check_keys(data: dict, allowed: tuple[str, ...], path: str | Path) -> None:
    for key in data:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"{path}: unknown key {key!r}{line_of(data, key)}{hint} "
                              f"Allowed keys: {', '.join(allowed)}.")


def _names(data: dict, one: str, many: str, path: str | Path) -> list[str] | None:
    if one in data and many in data:
        raise ConfigError(f"{path}: give either {one!r} or {many!r}{line_of(data, many)}, not both")
    value = data.get(many, data.get(one))
    if value is None:
        return None
    value = [value] if isinstance(value, str) else value
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        key = many if many in data else one
        raise ConfigError(f"{path}: {key!r}{line_of(data, key)} must be a name or a list of names")
    return value


def load_run_config(path: str | Path) -> dict[str, Any]:
    """Read a run file into the keyword arguments of :func:`graphbench.api.run` (only the keys it sets)."""
    data = load_yaml(path)
    check_keys(data, RUN_KEYS, path)
    out: dict[str, Any] = {}
    models, datasets = _names(data, "model", "models", path), _names(data, "dataset", "datasets", path)
    if models is not None:
        out["models"] = models
    if datasets is not None:
        out["datasets"] = datasets
    if "seeds" in data:
        seeds = data["seeds"]
        seeds = [seeds] if isinstance(seeds, int) else seeds
        if not isinstance(seeds, list) or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds):
            raise ConfigError(f"{path}: 'seeds'{line_of(data, 'seeds')} must be a list of integers")
        out["seeds"] = seeds
    if "folds" in data:
        folds = data["folds"]
        if folds == "all":
            out["folds"] = None
        elif isinstance(folds, list) and all(isinstance(f, int) for f in folds):
            out["folds"] = folds
        else:
            raise ConfigError(f"{path}: 'folds'{line_of(data, 'folds')} must be 'all' or a list of integers")
    for key in ("hparams", "dataset_options"):
        if key in data:
            if not isinstance(data[key], dict):
                raise ConfigError(f"{path}: {key!r}{line_of(data, key)} must be a mapping")
            out[key] = dict(data[key])
    if "transforms" in data:
        if "transforms" in out.get("hparams", {}):
            raise ConfigError(f"{path}: give 'transforms'{line_of(data, 'transforms')} or hparams.transforms, not both")
        if not isinstance(data["transforms"], list):
            raise ConfigError(f"{path}: 'transforms'{line_of(data, 'transforms')} must be a list, e.g. "
                              "[{name: lappe, k: 8}]")
        out.setdefault("hparams", {})["transforms"] = data["transforms"]
    for key in ("results", "device", "data_root"):
        if key in data:
            out[key] = str(data[key])
    if "deterministic" in data:
        if not isinstance(data["deterministic"], bool):
            raise ConfigError(f"{path}: 'deterministic'{line_of(data, 'deterministic')} must be true or false")
        out["deterministic"] = data["deterministic"]
    if "isa" in data:
        out["isa"] = _isa(data, path)
    if "threads" in data:
        t = data["threads"]
        if isinstance(t, bool) or not isinstance(t, int) or t < 1:
            raise ConfigError(f"{path}: 'threads'{line_of(data, 'threads')} must be a positive integer")
        out["threads"] = t
    return out


def _isa(data: dict, path: str | Path) -> str:
    from graphbench.env import ISA_CHOICES

    isa = data["isa"]
    if not isinstance(isa, str) or isa.lower() not in ISA_CHOICES:
        raise ConfigError(f"{path}: 'isa'{line_of(data, 'isa')} must be one of {', '.join(ISA_CHOICES)}, got {isa!r}")
    return isa.lower()


def requested_isa(path: str | Path) -> tuple[str | None, bool]:
    """``(isa, deterministic)`` as a run or sweep file sets them (None, False when it does not), read before torch
    is imported: the command line pins the kernel instruction set from them first (:func:`graphbench.env.pin_isa`).
    The rest of the file is validated later, by its own loader."""
    data = load_yaml(path)
    det = data.get("deterministic", False)
    if not isinstance(det, bool):
        raise ConfigError(f"{path}: 'deterministic'{line_of(data, 'deterministic')} must be true or false")
    return (_isa(data, path) if data.get("isa") is not None else None), det
