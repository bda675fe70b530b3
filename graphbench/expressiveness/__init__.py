"""The expressiveness protocol: which pairs of non-isomorphic graphs can a model tell apart?

BREC's Reliable Paired Comparisons (Wang & Zhang 2023) for any registered model on any pair dataset (EXP, SR25,
CSL, ``wl-pairs``, BREC): :func:`evaluate` (one model, one :class:`PairSet`), :func:`run` (models × datasets →
results rows), ``graphbench expressiveness`` on the command line.
"""

from graphbench.expressiveness.pairs import PairSet, load_pairs, pairs_from_dataset, permute_graph
from graphbench.expressiveness.protocol import (
    ExpressivenessResult,
    PairEvaluator,
    ProtocolConfig,
    embed,
    evaluate,
)
from graphbench.expressiveness.stats import t2_statistic, t2_threshold

__all__ = ["ExpressivenessResult", "PairEvaluator", "PairSet", "ProtocolConfig", "embed", "evaluate", "load_pairs",
           "pairs_from_dataset", "permute_graph", "t2_statistic", "t2_threshold"]
