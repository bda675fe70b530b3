"""A run's transform chain from its flat hyperparameters (what the runner and the sweep runner call).

A run's hyperparameters may hold ``transforms`` (a list of ``{name: ..., param: ...}``), dotted transform parameters
(``lappe.k: 8``, which is how a sweep searches one: it is a flat dimension like ``lr``) and the older ``pe`` /
``pe_dim`` switch. :func:`canonical_chain` folds the dotted parameters into the chain and fills in every default,
so the results row records the complete chain. :func:`run_steps` is the chain a run applies:

    the run's ``transforms``  →  the ``pe`` switch's encoding  →  the model's ``input_transforms(hparams)``
"""

from __future__ import annotations

from typing import Any

from graphbench.hparams import HParam
from graphbench.registry import MODELS
from graphbench.transforms.base import Step, pe_width, resolve_chain, resolve_step, split_dotted

#: The ``pe`` switch's encodings: ``pe: NAME`` with ``pe_dim: d`` appends ``{name: NAME, <param>: d}``.
PE_SWITCH = {"rwse": "steps", "lappe": "k"}

TRANSFORMS_HPARAM = HParam(list, [], "transform chain applied to the dataset before training, e.g. "
                                     "[{name: lappe, k: 8}]; `graphbench list transforms`")


def canonical_chain(given: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``(given without dotted keys, the complete chain as dicts)``; raises ``HyperparameterError``."""
    rest, dotted = split_dotted(given)
    steps = resolve_chain(rest.get("transforms"), dotted)
    return rest, [s.as_dict() for s in steps]


def run_steps(model: str, model_hp: dict[str, Any], train_hp: dict[str, Any]) -> list[Step]:
    """The chain one run applies (see the module docstring), resolved and validated."""
    steps = resolve_chain(train_hp.get("transforms") or [])
    pe = train_hp.get("pe", "none")
    if pe != "none":
        steps.append(resolve_step({"name": pe, PE_SWITCH[pe]: train_hp.get("pe_dim", 16)}))
    cls = MODELS.get(model).obj
    extra = getattr(cls, "input_transforms", None)
    if callable(extra):
        steps.extend(resolve_step(e) for e in extra(model_hp))
    return steps


def run_pe_dim(model: str, model_hp: dict[str, Any], train_hp: dict[str, Any]) -> int:
    """Width of the encodings the run's chain feeds the model's input encoder (``pe_dim`` of the model)."""
    return pe_width(run_steps(model, model_hp, train_hp))
