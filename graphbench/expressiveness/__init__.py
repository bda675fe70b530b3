"""The expressiveness protocol: which pairs of non-isomorphic graphs can a model tell apart?

BREC's Reliable Paired Comparisons (Wang & Zhang 2023) for any registered model on any pair dataset (EXP, SR25,
CSL, ``wl-pairs``, BREC): :func:`evaluate` (one model, one :class:`PairSet`), :func:`run` (models × datasets →
results rows), ``graphbench expressiveness`` on the command line. Names are imported lazily, so that
``graphbench expressiveness --help`` loads no heavy library.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "PairSet": "pairs", "load_pairs": "pairs", "pairs_from_dataset": "pairs", "permute_graph": "pairs",
    "ExpressivenessResult": "protocol", "PairEvaluator": "protocol", "ProtocolConfig": "protocol",
    "embed": "protocol", "evaluate": "protocol", "t2_statistic": "stats", "t2_threshold": "stats",
    "run": "runner",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"graphbench.expressiveness.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'graphbench.expressiveness' has no attribute {name!r}")
