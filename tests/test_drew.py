"""DRew (Gutteridge et al., ICML 2023): exact hop rings as a batched transform, the per-layer ring schedule with
delayed states, and end-to-end training through the CLI."""

from __future__ import annotations

import math

import dgl
import networkx as nx
import numpy as np
import pytest
import torch
from torch import nn

from graphbench.cli import main
from graphbench.models import build_model, count_parameters
from graphbench.models.drew import DRewGIN
from graphbench.presets import get_preset, presets_for
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
    assert net.convs[1]["1"].conv.weight is not net.convs[2]["1"].conv.weight
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


# -- issue 19: every (k, t) module is the reference's GCN layer (self-loops, BN → ReLU → L2), presets = configs ----
def ring_conv(net, t: int, k: int):
    """The GCN convolution of ring k in layer t (the module itself where it is a bare convolution)."""
    mod = net.convs[t][str(k)]
    return getattr(mod, "conv", mod)


def test_ring_two_carries_the_nodes_own_delayed_state():
    """Path 0–1–2, layer t = 1 with ν = ∞: node 1 has no node at distance 2, so with GCN's self-loop its ring-2
    message is its own state x_1 W (degree 1 in A_2 + I); nodes 0 and 2 get (x_0 + x_2) W / 2. A ring without
    self-loops gives node 1 the bias alone. Ring 1 of that layer is zeroed so the layer's output is ring 2's."""
    torch.manual_seed(0)
    net = build_model("drew-gcn", 3, 3, task_level="node", hidden=3, layers=2, nu=-1, norm="none",
                      activation="none", residual=False, l2norm=False, encoder=False, head="linear").eval()
    with torch.no_grad():
        for p in ring_conv(net, 1, 1).parameters():
            p.zero_()
    x = torch.tensor([[1.0, 0.0, 2.0], [0.0, 3.0, -1.0], [2.0, 1.0, 0.0]])
    batch = Batch.from_graph(path_graph(3), x)
    with torch.no_grad():
        states = net.layer_states(batch, net.encode(batch))
    conv = ring_conv(net, 1, 2)
    bias = conv.bias if conv.bias is not None else torch.zeros(3)
    h1 = states[1]
    assert torch.allclose(states[2][1], h1[1] @ conv.weight + bias, atol=1e-6)
    assert not torch.allclose(states[2][1], bias, atol=1e-3)
    assert torch.allclose(states[2][0], (h1[0] + h1[2]) / 2 @ conv.weight + bias, atol=1e-6)


def shuffled_graph(nxg: nx.Graph, seed: int) -> tuple[dgl.DGLGraph, nx.Graph]:
    """``nxg`` with its nodes relabelled by a random permutation and its directed edge list in random order."""
    rng = np.random.default_rng(seed)
    perm = rng.permutation(nxg.number_of_nodes())
    h = nx.relabel_nodes(nxg, {i: int(perm[i]) for i in nxg.nodes})
    edges = [(u, v) for u, v in h.edges] + [(v, u) for u, v in h.edges]
    order = rng.permutation(len(edges))
    src = torch.tensor([edges[i][0] for i in order])
    dst = torch.tensor([edges[i][1] for i in order])
    return dgl.graph((src, dst), num_nodes=h.number_of_nodes()), h


def dense_reference_drew_gcn(net, graph: nx.Graph, x: torch.Tensor) -> list[torch.Tensor]:
    """The reference stage (drew_gnn.py with GraphGym layers) written densely from the paper's equations:
    m_{k,t} = L2(ReLU(BN(D^-1/2 (A_k + I) D^-1/2 x^(t − τ(k)) W_{k,t}))), x^(t+1) = L2(x^(t) + ReLU(Σ_k m_{k,t}))."""
    n = graph.number_of_nodes()
    dist = np.full((n, n), np.inf)
    for i, row in nx.all_pairs_shortest_path_length(graph):
        for j, d in row.items():
            dist[i, j] = d
    states = [x]
    for t in range(net.num_layers):
        total = torch.zeros(n, net.hidden)
        for k in range(1, t + 2):
            a = torch.from_numpy((dist == k).astype(np.float32)) + torch.eye(n)
            inv = a.sum(1).rsqrt()
            mod = net.convs[t][str(k)]
            src = states[t - (0 if math.isinf(net.nu) else max(0, k - int(net.nu)))]
            y = (inv[:, None] * a * inv[None, :]) @ src @ mod.conv.weight
            bn = mod.norm
            y = (y - bn.running_mean) / torch.sqrt(bn.running_var + bn.eps) * bn.weight + bn.bias
            total = total + nn.functional.normalize(torch.relu(y), dim=-1)
        states.append(nn.functional.normalize(states[t] + torch.relu(total), dim=-1))
    return states


@pytest.mark.parametrize("nu", [1, -1])
def test_drew_gcn_equals_a_dense_reference_on_a_batch_of_relabelled_graphs(nu):
    """Three graphs (a path, a 7-cycle with a chord, a tree), node ids permuted and edge lists shuffled, batched by
    the collator: every layer's states equal the dense reference forward of the batch's disjoint union (eval-mode
    BatchNorm with random statistics, so the per-module BN, ReLU and L2 all act)."""
    torch.manual_seed(1)
    layers, d = 4, 6
    net = build_model("drew-gcn", d, 2, task_level="node", hidden=d, layers=layers, nu=nu, l2norm=True,
                      encoder=False, head="linear")
    assert isinstance(net.norms, nn.ModuleList) and len(net.norms) == 0
    with torch.no_grad():
        for mods in net.convs:
            for mod in mods.values():
                mod.norm.running_mean.normal_()
                mod.norm.running_var.uniform_(0.5, 2.0)
                mod.norm.weight.normal_()
                mod.norm.bias.normal_()
    net.eval()
    cyc = nx.cycle_graph(7)
    cyc.add_edge(0, 3)
    parts = [shuffled_graph(g, seed) for seed, g in enumerate([nx.path_graph(5), cyc, nx.balanced_tree(2, 2)])]
    extras = []
    for g, _ in parts:
        p, dd = hop_pairs(g, layers)
        extras.append({"hop_index": p, "hop_dist": dd})
    feats = [torch.randn(g.num_nodes(), d) for g, _ in parts]
    for (g, _), f in zip(parts, feats):
        g.ndata["feat"] = f
    batch = Collator({"hop_index": NodeIndex(dim=1), "hop_dist": Concat()}).batch([g for g, _ in parts], extras)
    union, offset = nx.Graph(), 0
    for g, h in parts:  # node v of graph i is node offset_i + v of the batch (ids kept, not re-enumerated)
        union.add_nodes_from(v + offset for v in range(g.num_nodes()))
        union.add_edges_from((u + offset, v + offset) for u, v in h.edges)
        offset += g.num_nodes()
    with torch.no_grad():
        got = net.layer_states(batch, net.encode(batch))
        want = dense_reference_drew_gcn(net, union, torch.cat(feats))
    for t in range(layers + 1):
        assert torch.allclose(got[t], want[t], atol=1e-5), t


def test_drew_graph_output_does_not_depend_on_the_batch_or_the_numbering():
    """A graph's prediction alone, first in a batch and relabelled inside another batch: equal (eval mode)."""
    torch.manual_seed(2)
    net = build_model("drew-gcn", 4, 3, hidden=8, layers=3, nu=1, l2norm=True, head="linear").eval()
    cyc = nx.cycle_graph(6)
    cyc.add_edge(1, 4)
    g_a, _ = shuffled_graph(cyc, 0)
    g_b, _ = shuffled_graph(cyc, 5)
    other, _ = shuffled_graph(nx.path_graph(9), 3)
    feat = torch.randn(6, 4)
    perm_b = _relabelling(cyc, 0, 5)
    g_a.ndata["feat"] = feat
    g_b.ndata["feat"] = feat[perm_b]
    other.ndata["feat"] = torch.randn(9, 4)

    def predict(graphs):
        extras = [dict(zip(("hop_index", "hop_dist"), hop_pairs(g, 3))) for g in graphs]
        batch = Collator({"hop_index": NodeIndex(dim=1), "hop_dist": Concat()}).batch(graphs, extras)
        with torch.no_grad():
            return net(batch)

    alone = predict([g_a])[0]
    assert torch.allclose(predict([g_a, other])[0], alone, atol=1e-5)
    assert torch.allclose(predict([other, g_b])[1], alone, atol=1e-5)


def _relabelling(g: nx.Graph, seed_a: int, seed_b: int) -> torch.Tensor:
    """``idx`` with ``idx[v_b] = v_a``: node v_b of ``shuffled_graph(g, seed_b)`` is node v_a of seed_a's copy."""
    pa = np.random.default_rng(seed_a).permutation(g.number_of_nodes())
    pb = np.random.default_rng(seed_b).permutation(g.number_of_nodes())
    idx = np.empty(g.number_of_nodes(), dtype=np.int64)
    idx[pb] = pa
    return torch.from_numpy(idx)


# Released configs (BenGutteridge/DRew@0c5c1ca79c61:lrgb/configs/paper_configs/): layers, width, ν (-1 = ∞), LapPE.
CONFIGS = {
    ("drew-gcn", "gutteridge2023"): ("peptides-func", 23, 42, 1, False),
    ("drew-gcn", "gutteridge2023-lappe"): ("peptides-func", 7, 130, -1, True),
    ("drew-gcn", "gutteridge2023-struct"): ("peptides-struct", 13, 72, -1, False),
    ("drew-gcn", "gutteridge2023-struct-lappe"): ("peptides-struct", 5, 175, -1, True),
    ("drew-gin", "gutteridge2023"): ("peptides-func", 17, 53, 1, False),
    ("drew-gin", "gutteridge2023-lappe"): ("peptides-func", 15, 59, 1, True),
    ("drew-gin", "gutteridge2023-struct"): ("peptides-struct", 15, 59, -1, False),
    ("drew-gin", "gutteridge2023-struct-lappe"): ("peptides-struct", 5, 152, -1, True),
}
ATOM_VOCAB = 174  # OGB atom feature vocabulary (9 tables: 119 + 5 + 12 + 12 + 10 + 6 + 6 + 2 + 2)


def reference_count(model: str, layers: int, d: int, outputs: int, lappe: bool) -> int:
    """The reference network's parameter count, from its code: GraphGym's GCN layer (weight d², no bias) +
    BatchNorm (2d) per (k, t), resp. DRew-GIN's Linear (d² + d) + BatchNorm (2d) per MLP_s and per MLP_k; the
    AtomEncoder (174 × width), the linear head (d·out + out), and LapPE's DeepSet (Linear(2, 32), Linear(32, 16))
    with the atom embedding at width d − 16."""
    rings = layers * (layers + 1) // 2  # layer t holds rings 1..t+1
    if model == "drew-gcn":
        body = rings * (d * d + 2 * d)
    else:
        body = (rings + layers) * (d * d + d + 2 * d)
    encoder = ATOM_VOCAB * (d - 16) + (2 * 32 + 32) + (32 * 16 + 16) if lappe else ATOM_VOCAB * d
    return body + encoder + d * outputs + outputs


def build_preset(model: str, name: str, outputs: int):
    from graphbench.data.molecules import atom_spec
    from graphbench.models import model_hparams

    hp = dict(get_preset(model, name).hparams)
    pe_dim = hp.pop("pe_dim", 0) if hp.pop("pe", None) else 0
    known = model_hparams(model, {})
    return build_model(model, atom_spec(), outputs, pe_dim=pe_dim, **{k: v for k, v in hp.items() if k in known})


@pytest.mark.parametrize("model,name", sorted(CONFIGS))
def test_presets_are_the_released_configs_and_count_the_reference_parameters(model, name):
    dataset, layers, d, nu, lappe = CONFIGS[(model, name)]
    preset = get_preset(model, name)
    hp = preset.hparams
    assert preset.datasets == (dataset,) and preset.params_dataset == dataset
    assert (hp["layers"], hp["hidden"], hp["nu"], hp.get("pe") == "lappe") == (layers, d, nu, lappe)
    assert hp["head"] == "linear" and hp["readout"] == "mean" and hp["batch_size"] == 128 and hp["epochs"] == 300
    assert (hp["scheduler"], hp["lr"], hp["lr_factor"], hp["lr_patience"], hp["plateau_on"]) == \
        ("plateau", 1e-3, 0.5, 20, "val_loss")
    # drew_gnn.py: residual always, GraphGym l2norm on; drew_gin.py: gnn.residual false, gnn.l2norm never read
    assert (hp["residual"], hp["l2norm"]) == ((True, True) if model == "drew-gcn" else (False, False))
    assert preset.reference.startswith("BenGutteridge/DRew@0c5c1ca79c61:lrgb/configs/paper_configs/")
    outputs = 10 if dataset == "peptides-func" else 11
    net = build_preset(model, name, outputs)
    assert count_parameters(net) == reference_count(model, layers, d, outputs, lappe)
    assert preset.params == count_parameters(net)  # the count the preset states is this one
    # the LRGB README leaderboard's rounded counts (vijaydwivedi75/lrgb): DRew-GCN+LapPE 502k (func), 495k (struct)
    if (model, name) in {("drew-gcn", "gutteridge2023-lappe"), ("drew-gcn", "gutteridge2023-struct-lappe")}:
        assert round(count_parameters(net) / 1000) == (502 if dataset == "peptides-func" else 495)


def test_every_drew_preset_is_listed():
    assert {(m, p.name) for m in ("drew-gcn", "drew-gin") for p in presets_for(m)} == set(CONFIGS)


def test_lappe_deepset_reads_the_trivial_pair_and_leaves_out_the_pairs_a_small_graph_lacks():
    """A 4-node and a 13-node graph batched, max_freqs 10 (pe_dim 9): the code equals the reference's sum over
    the first 10 eigenpairs of I − D^-1/2 A D^-1/2 (trivial one first, sign +), the 4-node graph's missing pairs
    (NaN in the reference) left out — not zero pairs, which would still add ReLU(W2 ReLU(b1) + b2)."""
    from graphbench.models.drew import LapPEDeepSet

    torch.manual_seed(3)
    enc = LapPEDeepSet(5).eval()
    with torch.no_grad():
        for lin in (enc.net[0], enc.net[2]):
            lin.bias.normal_()
    k, graphs, vecs, vals, want = 9, [], [], [], []
    for nxg in (nx.star_graph(3), nx.lollipop_graph(5, 8)):
        g, h = shuffled_graph(nxg, 4)
        n = g.num_nodes()
        a = nx.to_numpy_array(h, nodelist=range(n))
        inv = 1 / np.sqrt(a.sum(1))
        lam, phi = np.linalg.eigh(np.eye(n) - inv[:, None] * a * inv[None, :])
        phi[:, 0] *= np.sign(phi[:, 0].sum())  # the trivial vector with sign +
        m = min(k + 1, n)
        pairs = torch.tensor(np.stack([phi[:, :m], np.broadcast_to(lam[:m], (n, m))], -1), dtype=torch.float32)
        with torch.no_grad():
            want.append(enc.net(pairs).sum(1))
        v, lv = torch.zeros(n, k), torch.zeros(n, k)
        v[:, :m - 1], lv[:, :m - 1] = torch.from_numpy(phi[:, 1:m]), torch.from_numpy(lam[1:m]).float()
        graphs.append(g)
        vecs.append(v)
        vals.append(lv)
    with torch.no_grad():
        got = enc(dgl.batch(graphs), torch.cat(vecs), torch.cat(vals))
    assert torch.allclose(got, torch.cat(want), atol=1e-5)


@pytest.mark.parametrize("in_dim,out_dim,norm", [(8, 8, "batch"), (8, 5, "none"), (5, 8, "none")])
def test_ring_module_propagation_equals_dgl_graph_conv_forward_and_backward(in_dim, out_dim, norm):
    """The (k, t) module multiplies by W before aggregating (autograd then keeps the shared delayed state, not a
    per-module copy): the same function and gradients as DGL's GraphConv(norm="both") with its parameters, on a
    batch of graphs whose ring edges are unsorted and include isolated nodes' self-loops only."""
    from dgl.nn import GraphConv

    from graphbench.models.drew import DRewGCNModule

    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    parts = []
    for n in (6, 9, 4):
        g = dgl.graph(tuple(torch.from_numpy(rng.integers(0, n, 14)) for _ in range(2)), num_nodes=n)
        parts.append(dgl.add_self_loop(dgl.remove_self_loop(g)))
    graph = dgl.batch(parts)
    perm = torch.from_numpy(rng.permutation(graph.num_edges()))
    graph = dgl.graph((graph.edges()[0][perm], graph.edges()[1][perm]), num_nodes=graph.num_nodes())
    module = DRewGCNModule(in_dim, out_dim, norm=norm, dropout=0.0, activation="relu", l2norm=False)
    conv = GraphConv(in_dim, out_dim, norm="both", bias=module.conv.bias is not None, allow_zero_in_degree=True)
    conv.load_state_dict(module.conv.state_dict())
    if module.conv.bias is not None:
        nn.init.normal_(module.conv.bias)
        conv.bias.data.copy_(module.conv.bias.data)
    x = torch.randn(graph.num_nodes(), in_dim, requires_grad=True)
    x2 = x.detach().clone().requires_grad_(True)
    ours, theirs = module.propagate(graph, x), conv(graph, x2)
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-6)
    w = torch.randn_like(ours)
    (ours * w).sum().backward()
    (theirs * w).sum().backward()
    torch.testing.assert_close(x.grad, x2.grad, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(module.conv.weight.grad, conv.weight.grad, rtol=1e-5, atol=1e-5)


def test_ring_module_keeps_no_per_module_copy_of_its_input_for_backward():
    """What autograd keeps of a (k, t) module's GCN step: the delayed state itself (shared by every module reading
    it) and [n, 1] degree norms, never a new [n, d] tensor (DGL's layer kept its aggregated input, one per module)."""
    from graphbench.models.drew import DRewGCNModule

    graph = dgl.add_self_loop(dgl.graph(([0, 1, 2, 3], [1, 2, 3, 0]), num_nodes=5))
    module = DRewGCNModule(8, 8, norm="none", dropout=0.0, activation="relu", l2norm=False)
    x = torch.randn(5, 8, requires_grad=True)
    kept = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: kept.append(t) or t, lambda t: t):
        module.propagate(graph, x)
    wide = [t for t in kept if t.dim() == 2 and t.shape[0] == 5 and t.shape[1] > 1]
    assert wide and all(t.data_ptr() == x.data_ptr() for t in wide)
