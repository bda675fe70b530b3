"""Transform declarations: what a transform computes, its hyperparameters, version and outputs.

A transform is a pure function of one example. It receives a DGL graph (and the per-graph tensors earlier
transforms of the chain produced) plus its declared hyperparameters, and returns a :class:`TransformResult`: new
node tensors (``ndata``), edge tensors (``edata``), per-graph tensors (``extras``) and/or a new graph structure.
It never mutates its input; :func:`graphbench.transforms.apply.apply_chain` builds the new example from the result.

Registration (a transform's ``version`` is part of its cache key: bump it whenever its output changes)::

    @register_transform("rwse", version=2, hparams={"steps": HParam(int, 16, "walk lengths", low=1)},
                        outputs={"rwse": Node(role="pe", width="steps")}, paper="Dwivedi et al., ICLR 2022")
    def rwse(graph, extras, *, steps):
        return TransformResult(ndata={"rwse": ...})

Stochastic transforms declare ``stochastic=True`` and receive ``rng`` (a ``numpy.random.Generator`` seeded from the
run's seed and the example's index, so the output does not depend on worker count or chunking).
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import dgl
import torch

from graphbench.hparams import HParam, HyperparameterError, validate
from graphbench.registry import TRANSFORMS


# -- how outputs are batched ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Node:
    """A node tensor ``[n, ...]`` stored in ``graph.ndata`` (batched by ``dgl.batch``).

    ``role="pe"``: a positional/structural encoding; every ``pe`` output is concatenated (chain order) into
    ``batch.pe`` and added to the input by the model's encoder. ``width`` is the encoding's width as a number or
    the name of the hyperparameter giving it (so a model can be sized before any data is transformed).
    ``augment="sign_flip"``: while training, each graph's columns are multiplied by random ±1 (eigenvector sign
    ambiguity; Dwivedi et al. 2020, GraphGPS).
    """

    role: str = ""
    width: int | str | None = None
    augment: str | None = None


@dataclass(frozen=True)
class Edge:
    """An edge tensor ``[m, ...]`` stored in ``graph.edata`` (batched by ``dgl.batch``); e.g. ``etype``."""

    role: str = ""


@dataclass(frozen=True)
class Extra:
    """A per-graph tensor outside ``ndata``/``edata`` and how a batch concatenates it.

    - ``index="nodes"``: its values are node ids of its own graph; the batch adds the graph's node offset
      (``index="edges"``: edge ids, offset by the edge offset). Negative values (padding, e.g. ``-1`` in a padded
      path list) are left as they are.
    - ``of="key"``: offset by the nodes/edges of the extra *graph* ``key`` instead (indices into a product graph).
    - ``dim``: the dimension along which the graphs' tensors are concatenated (``1`` for ``[2, E]`` pair lists).
    - ``graph=True``: the value is itself a ``DGLGraph`` (e.g. a product graph of pair-nodes), batched with
      ``dgl.batch``.
    """

    index: str | None = None
    dim: int = 0
    of: str | None = None
    graph: bool = False

    def __post_init__(self) -> None:
        if self.index not in (None, "nodes", "edges"):
            raise ValueError(f"Extra.index must be None, 'nodes' or 'edges', got {self.index!r}")
        if self.graph and self.index is not None:
            raise ValueError("an extra graph is batched by dgl.batch; it takes no index offset")


def NodeIndex(dim: int = 0, of: str | None = None) -> Extra:  # noqa: N802 (a spec constructor)
    """Per-graph tensor of node ids (offset by the batch's node offsets)."""
    return Extra("nodes", dim, of)


def EdgeIndex(dim: int = 0, of: str | None = None) -> Extra:  # noqa: N802
    """Per-graph tensor of edge ids (offset by the batch's edge offsets)."""
    return Extra("edges", dim, of)


def Concat(dim: int = 0) -> Extra:  # noqa: N802
    """Per-graph tensor concatenated as it is (distances, path lengths, per-graph targets)."""
    return Extra(None, dim)


def SubGraph() -> Extra:  # noqa: N802
    """Per-graph ``DGLGraph`` (product graph, ego networks), batched with ``dgl.batch``."""
    return Extra(graph=True)


Output = Node | Edge | Extra


class TransformInputError(ValueError):
    """An example a transform cannot handle (e.g. more paths than the configured cap). Raise it from a transform
    with what to change; :func:`~graphbench.transforms.apply.apply_steps` adds the transform and the example's
    index, :func:`~graphbench.transforms.apply.prepare` the dataset, so the message names the graph."""

    def located(self, where: str) -> TransformInputError:
        """The same error (same class) with ``where`` prefixed to its message."""
        return type(self)(f"{where}: {self}")


@dataclass
class TransformResult:
    """What a transform returns. ``graph``: a new structure (then the transform carries over the ``ndata`` /
    ``edata`` it wants to keep, e.g. original edge features plus an ``etype``); otherwise the input's structure
    and data are kept and ``ndata``/``edata`` are added. ``extras`` are per-graph tensors (see :class:`Extra`)."""

    graph: dgl.DGLGraph | None = None
    ndata: dict[str, torch.Tensor] = field(default_factory=dict)
    edata: dict[str, torch.Tensor] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TransformInfo:
    """The registry entry's metadata, typed."""

    name: str
    fn: Callable[..., TransformResult]
    version: int
    hparams: Mapping[str, HParam]
    outputs: Mapping[str, Output]
    stochastic: bool = False
    paper: str = ""
    doc: str = ""


def register_transform(name: str, *, version: int, hparams: Mapping[str, HParam] | None = None,
                       outputs: Mapping[str, Output] | None = None, stochastic: bool = False, paper: str = "",
                       override: bool = False) -> Callable:
    """Decorator registering ``fn(graph, extras, *, [rng,] **hparams) -> TransformResult`` in ``TRANSFORMS``."""
    if not isinstance(version, int) or version < 1:
        raise ValueError(f"transform {name!r}: version must be a positive integer")
    if "." in name:
        raise ValueError(f"transform {name!r}: names cannot contain '.' (dotted names address parameters)")

    def decorator(fn: Callable) -> Callable:
        info = TransformInfo(name.lower(), fn, version, dict(hparams or {}), dict(outputs or {}), stochastic, paper,
                             inspect.cleandoc(fn.__doc__ or ""))
        TRANSFORMS.add(name, fn, override=override, info=info)
        return fn

    return decorator


def transform_info(name: str) -> TransformInfo:
    return TRANSFORMS.get(name).meta["info"]


# -- chains -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Step:
    """One resolved step of a chain: a registered transform with every hyperparameter filled in."""

    name: str
    params: tuple[tuple[str, Any], ...]

    @property
    def info(self) -> TransformInfo:
        return transform_info(self.name)

    def kwargs(self) -> dict[str, Any]:
        return dict(self.params)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, **self.kwargs()}

    def key(self) -> dict[str, Any]:
        """What the cache depends on: name, parameters and version."""
        return {"name": self.name, "version": self.info.version, "params": self.kwargs()}


def resolve_step(entry: Any, overrides: Mapping[str, Any] | None = None) -> Step:
    """``{"name": "lappe", "k": 8}`` (or just ``"lappe"``) → a validated :class:`Step`; ``overrides`` are this
    transform's parameters given as dotted hyperparameters (``lappe.k``), which win over the entry."""
    if isinstance(entry, str):
        entry = {"name": entry}
    if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
        raise HyperparameterError(f"a transform must be a name or a mapping with a 'name', e.g. "
                                  f"{{name: lappe, k: 8}}; got {entry!r}")
    info = transform_info(entry["name"])
    given = {k: v for k, v in entry.items() if k != "name"}
    given.update(overrides or {})
    params = validate(info.hparams, given, what=f"transform {info.name!r}")
    return Step(info.name, tuple(sorted(params.items())))


def transform_hparams() -> dict[str, HParam]:
    """Every registered transform parameter as a dotted hyperparameter (``lappe.k``): a sweep may search it."""
    return {f"{e.name}.{p}": hp for e in TRANSFORMS for p, hp in e.meta["info"].hparams.items()}


def split_dotted(given: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Separate ``lappe.k``-style keys (transform parameters) from the rest of a flat hyperparameter dict."""
    rest, dotted = {}, {}
    for key, value in given.items():
        if isinstance(key, str) and "." in key:
            name, param = key.split(".", 1)
            dotted.setdefault(name.lower(), {})[param] = value
        else:
            rest[key] = value
    return rest, dotted


def resolve_chain(chain: Any, dotted: Mapping[str, Mapping[str, Any]] | None = None) -> list[Step]:
    """Validate a chain (a list of names / mappings) and apply dotted overrides.

    A dotted override must address a transform of the chain: searching ``lappe.k`` without ``lappe`` in the chain
    would silently have no effect, so it is an error that says what to add.
    """
    if chain is None:
        chain = []
    if isinstance(chain, (str, Mapping)):
        chain = [chain]
    if not isinstance(chain, (list, tuple)):
        raise HyperparameterError(f"'transforms' must be a list of transforms, e.g. [{{name: rwse, steps: 16}}]; "
                                  f"got {chain!r}")
    dotted = {k.lower(): dict(v) for k, v in (dotted or {}).items()}
    names = [(e if isinstance(e, str) else (e.get("name") if isinstance(e, Mapping) else None)) for e in chain]
    canonical = [TRANSFORMS.get(n).name if isinstance(n, str) else n for n in names]
    for name in dotted:
        if name not in TRANSFORMS:
            close = difflib.get_close_matches(name, TRANSFORMS.names(), n=3, cutoff=0.5)
            hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
            raise HyperparameterError(f"{name!r} is not a registered transform.{hint} "
                                      "`graphbench list transforms` shows them.")
        if TRANSFORMS.get(name).name not in canonical:
            raise HyperparameterError(
                f"hyperparameters {', '.join(f'{name}.{p}' for p in dotted[name])} set transform {name!r}, which is "
                f"not in the run's transforms {canonical or '[]'}; add {{name: {name}}} to 'transforms'")
    steps = []
    for entry, name in zip(chain, canonical):
        steps.append(resolve_step(entry, dotted.get(name) if isinstance(name, str) else None))
    return steps


def pe_width(steps: list[Step]) -> int:
    """Total width of the chain's ``pe`` outputs, from the declarations alone (no data needed)."""
    total = 0
    for step in steps:
        for key, out in step.info.outputs.items():
            if isinstance(out, Node) and out.role == "pe":
                if isinstance(out.width, str):
                    total += int(step.kwargs()[out.width])
                elif isinstance(out.width, int):
                    total += out.width
                else:
                    raise ValueError(f"transform {step.name!r} declares pe output {key!r} without a width")
    return total
