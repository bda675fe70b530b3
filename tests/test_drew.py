"""DRew (Gutteridge et al., ICML 2023): exact hop rings as a batched transform, the per-layer ring schedule with
delayed states, and end-to-end training through the CLI."""

from __future__ import annotations

import dgl
import networkx as nx
import numpy as np
import pytest
import torch
from torch import nn

from graphbench.cli import main
from graphbench.models import build_model
from graphbench.models.drew import DRewGIN
from graphbench.transforms import Collator, Concat, NodeIndex
from graphbench.transforms.batch import Batch
from graphbench.transforms.hops import hop_pairs


def path_graph(n: int) -> dgl.DGLGraph:
    src = torch.arange(n - 1)
    return dgl.to_bidirected(dgl.graph((src, src + 1), num_nodes=n))


def test_hop_pairs_are_exact_shortest_path_distances_not_walks():
    """A 5-cycle with a pendant: every listed pair has its networkx distance, every pair within k is listed, and
    ring 2 holds no adjacent pair and no self-pair (a walk-count 2-hop graph would hold both)."""
    nxg = nx.cycle_graph(5)
    nxg.add_edge(0, 5)
    g = dgl.to_bidirected(dgl.from_networkx(nxg))
    pairs, dist = hop_pairs(g, 3)
    want = {(i, j): d for i, row in nx.all_pairs_shortest_path_length(nxg) for j, d in row.items() if 1 <= d <= 3}
    got = {(int(i), int(j)): int(d) for (i, j), d in zip(pairs.T, dist)}
    assert got == want
    ring2 = {p for p, d in got.items() if d == 2}
    assert not any(nxg.has_edge(*p) or p[0] == p[1] for p in ring2)
    assert got[(0, 5)] == 1 and got[(5, 1)] == 2 and got[(5, 2)] == 3 and got[(5, 3)] == 3
    assert torch.all(dist[1:] >= dist[:-1])  # sorted by distance (deterministic)


def test_hop_pairs_are_offset_per_graph_by_the_collator():
    g1, g2 = path_graph(4), path_graph(3)
    extras = []
    for g in (g1, g2):
        p, d = hop_pairs(g, 2)
        extras.append({"hop_index": p, "hop_dist": d})
    batch = Collator({"hop_index": NodeIndex(dim=1), "hop_dist": Concat()}).batch([g1, g2], extras)
    idx, dist = batch["hop_index"], batch["hop_dist"]
    n1 = extras[0]["hop_index"].shape[1]
    assert torch.equal(idx[:, :n1], extras[0]["hop_index"])
    assert torch.equal(idx[:, n1:], extras[1]["hop_index"] + 4)  # second graph's ids shifted by 4 nodes
    assert torch.equal(dist, torch.cat([extras[0]["hop_dist"], extras[1]["hop_dist"]]))
    assert batch.sizes["hop_index"].tolist() == [n1, extras[1]["hop_index"].shape[1]]


class Recorder(nn.Module):
    """Stands in for MLP_{k,t}: records what it receives, returns zeros of the layer's width."""

    def __init__(self, log: list, key) -> None:
        super().__init__()
        self.log, self.key = log, key

    def forward(self, x):
        self.log.append((self.key, x.detach().clone()))
        return torch.zeros_like(x)


@pytest.mark.parametrize("nu", [1, 2, -1])
def test_drew_layer_t_aggregates_exactly_the_rings_up_to_t_plus_one_from_the_delayed_states(nu):
    """By construction on a path graph: layer t's ring-k module receives Σ_{j : d(i,j)=k} x_j^(t − max(0, k − ν))
    for exactly k = 1..t+1 (the dense distance matrix of the path, |i − j|, is the ground truth)."""
    n, layers, d = 9, 4, 5
    torch.manual_seed(0)
    net = build_model("drew-gin", d, 2, task_level="node", hidden=d, layers=layers, nu=nu, norm="none").eval()
    assert isinstance(net, DRewGIN)
    log: list = []
    for t, mods in enumerate(net.convs):
        for key in list(mods.keys()):
            if key != "self":
                mods[key] = Recorder(log, (int(key), t))
    g = path_graph(n)
    batch = Batch(g, extras={}, num_graphs=1)
    batch.graph.ndata["feat"] = torch.randn(n, d)
    states = net.layer_states(batch, net.encode(batch))  # rings computed from the graph (no cached transform)
    dist = np.abs(np.arange(n)[:, None] - np.arange(n)[None, :])
    seen = [key for key, _ in log]
    assert seen == [(k, t) for t in range(layers) for k in range(1, t + 2)]  # exactly hops 1..t+1 in layer t
    tau = (lambda k: 0) if nu == -1 else (lambda k: max(0, k - nu))
    for (k, t), agg in log:
        ring = torch.from_numpy((dist == k).astype(np.float32))
        assert torch.allclose(agg, ring @ states[t - tau(k)], atol=1e-5), (k, t)


@pytest.mark.parametrize("nu,reach", [(1, [1, 2, 3]), (-1, [1, 3, 6])])
def test_delay_sets_how_fast_information_travels(nu, reach):
    """Perturb node 0 of a path and see which nodes' states change after each layer. With ν = 1 the signal moves
    exactly one hop per layer (hop k reads the state of k − 1 layers ago); with ν = ∞ layer t reads x^(t) over
    rings up to t + 1, so the reach after t layers is 1 + 2 + … + t. (Linear network: norm and activation off.)"""
    n, layers = 12, 3
    torch.manual_seed(0)
    net = build_model("drew-gcn", 4, 2, task_level="node", hidden=8, layers=layers, nu=nu, norm="none",
                      activation="none").eval()
    g = path_graph(n)
    x = torch.randn(n, 4)
    x2 = x.clone()
    x2[0] += 1.0
    with torch.no_grad():
        s1 = net.layer_states(Batch.from_graph(g, x), net.encode(Batch.from_graph(g, x)))
        s2 = net.layer_states(Batch.from_graph(g, x2), net.encode(Batch.from_graph(g, x2)))
    for t in range(1, layers + 1):
        changed = ((s1[t] - s2[t]).abs().max(dim=1).values > 1e-6).nonzero().squeeze(1).tolist()
        assert changed == list(range(reach[t - 1] + 1)), (t, changed)


def test_drew_has_own_weights_per_ring_and_layer_and_validates_nu():
    net = build_model("drew-gcn", 4, 2, hidden=8, layers=3, nu=1)
    assert [sorted(m.keys()) for m in net.convs] == [["1"], ["1", "2"], ["1", "2", "3"]]
    assert net.convs[1]["1"].weight is not net.convs[2]["1"].weight
    capped = build_model("drew-gcn", 4, 2, hidden=8, layers=4, k_max=2)
    assert [sorted(m.keys()) for m in capped.convs][-1] == ["1", "2"]
    with pytest.raises(ValueError, match="nu must be >= 1"):
        build_model("drew-gcn", 4, 2, hidden=8, layers=3, nu=0)


def test_drew_models_train_through_the_cli_with_and_without_lappe(tmp_path):
    out = tmp_path / "r.csv"
    args = ["run", "--model", "drew-gcn", "drew-gin", "--dataset", "csl", "--folds", "0", "--epochs", "2",
            "--hidden", "16", "--layers", "3", "--threads", "1", "--quiet", "--results", str(out)]
    assert main(args) == 0
    assert main(args[:3] + args[4:] + ["--pe", "lappe"]) == 0  # DRew-GCN+LapPE
    import pandas as pd

    df = pd.read_csv(out)
    assert list(df["model"]) == ["drew-gcn", "drew-gin", "drew-gcn"]
    assert (df["status"] == "ok").all() and df["test_metric"].notna().all()
    assert '"pe": "lappe"' in df["hparams"].iloc[2] and df["num_params"].iloc[2] > df["num_params"].iloc[0]


def test_drew_declares_the_cached_hops_transform_for_its_depth():
    from graphbench.transforms.config import run_steps

    assert [s.as_dict() for s in run_steps("drew-gcn", {"layers": 5, "k_max": 0}, {})] == [{"name": "hops", "k": 5}]
    steps = run_steps("drew-gin", {"layers": 5, "k_max": 3}, {"pe": "lappe", "pe_dim": 4})
    assert [s.as_dict() for s in steps] == [{"name": "lappe", "k": 4}, {"name": "hops", "k": 3}]
