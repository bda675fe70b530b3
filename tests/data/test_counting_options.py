"""Options of the substructure-counting loaders used by issue 14's counting benchmark: one target of the random
generator, and targets divided by their std over the dataset (the GNN-AK / SSWL convention)."""

from __future__ import annotations

import pytest
import torch

from graphbench.data import load_dataset
from graphbench.data.synthetic.counting import RANDOM_TARGETS


def test_random_counting_target_and_normalize():
    opts = {"num_graphs": 30, "min_nodes": 8, "max_nodes": 12, "use_cache": False}
    full = load_dataset("counting-random", **opts)
    one = load_dataset("counting-random", target="cycle4", **opts)
    col = RANDOM_TARGETS.index("cycle4")
    assert one.labels.shape == (30, 1) and one.num_classes == 1 and one.meta["targets"] == ["cycle4"]
    assert torch.equal(one.labels[:, 0], full.labels[:, col])
    norm = load_dataset("counting-random", target="cycle4", normalize=True, **opts)
    std = float(full.labels[:, col].std())
    assert norm.meta["target_std"] == [pytest.approx(std)]
    assert torch.allclose(norm.labels[:, 0] * std, full.labels[:, col])
    assert float(norm.labels.std()) == pytest.approx(1.0, abs=1e-5)
    both = load_dataset("counting-random", normalize=True, **opts)
    assert torch.allclose(both.labels.std(0), torch.ones(len(RANDOM_TARGETS)), atol=1e-5)


def test_random_counting_unknown_target_names_the_choices():
    with pytest.raises(ValueError, match="cycle4"):
        load_dataset("counting-random", target="pentagon", num_graphs=5, use_cache=False)
