"""ω-GNN (Eliasof et al., ICML 2023): ω = 1 is plain propagation, ω = 0 none; Dirichlet energy; CLI run."""

from __future__ import annotations

import dgl
import pytest
import torch

from graphbench.models import build_model, count_parameters, model_hparams
from graphbench.models.omega import AttentionPropagation, OmegaConv, SymNormPropagation
from graphbench.nn.energy import dirichlet_energy
from graphbench.transforms.batch import as_batch


def _toy() -> dgl.DGLGraph:
    """Path 0-1-2 plus triangle 2-3-4, both directions, with self-loops (as the backbone gives the layer)."""
    u = torch.tensor([0, 1, 2, 3, 2])
    v = torch.tensor([1, 2, 3, 4, 4])
    g = dgl.graph((torch.cat([u, v]), torch.cat([v, u])), num_nodes=5)
    return dgl.add_self_loop(g)


def _dense_gcn(g: dgl.DGLGraph) -> torch.Tensor:
    a = torch.zeros(5, 5)
    s, d = g.edges()
    a[d, s] = 1.0  # includes the self-loops
    dinv = a.sum(1).rsqrt()
    return dinv[:, None] * a * dinv[None, :]


def _conv(prop, channels=6, omega="channel"):
    conv = OmegaConv(prop, torch.nn.Identity(), channels, omega)
    return conv


def test_omega_one_is_gcn_propagation_and_zero_is_none():
    g, x = _toy(), torch.randn(5, 6)
    conv = _conv(SymNormPropagation())
    assert torch.allclose(conv(g, x), _dense_gcn(g) @ x, atol=1e-6)  # initialised at ω = 1
    with torch.no_grad():
        conv.omega.zero_()
    assert torch.allclose(conv(g, x), x)
    with torch.no_grad():  # per channel: channel 0 propagated, the others not
        conv.omega.copy_(torch.tensor([1.0, 0, 0, 0, 0, 0]))
    out = conv(g, x)
    assert torch.allclose(out[:, 0], (_dense_gcn(g) @ x)[:, 0], atol=1e-6)
    assert torch.allclose(out[:, 1:], x[:, 1:])
    with torch.no_grad():  # ω = -1 is a sharpening step: x + (x - Âx)
        conv.omega.fill_(-1.0)
    assert torch.allclose(conv(g, x), 2 * x - _dense_gcn(g) @ x, atol=1e-6)


def test_propagation_matches_dgl_graphconv_and_its_gradient_on_a_directed_graph():
    """The cached sparse product equals DGL's GraphConv(norm="both") forward and backward, also where Â is not
    symmetric (a directed graph), and a changed graph object is not served a stale matrix."""
    from dgl.nn import GraphConv
    torch.manual_seed(0)
    g = dgl.add_self_loop(dgl.graph((torch.tensor([0, 0, 1, 3, 4]), torch.tensor([1, 2, 2, 2, 0])), num_nodes=5))
    ref = GraphConv(1, 1, norm="both", weight=False, bias=False)
    x1 = torch.randn(5, 3, requires_grad=True)
    x2 = x1.detach().clone().requires_grad_(True)
    r = torch.randn(5, 3)
    prop = SymNormPropagation()
    (prop(g, x1) * r).sum().backward()
    (ref(g, x2) * r).sum().backward()
    assert torch.allclose(prop(g, x1), ref(g, x2), atol=1e-6) and torch.allclose(x1.grad, x2.grad, atol=1e-6)
    g.add_edges(torch.tensor([2]), torch.tensor([4]))  # in place: same object, new structure
    assert torch.allclose(prop(g, x1), ref(g, x1), atol=1e-6)
    assert prop(g, x1.double()).dtype == torch.float64


def test_omega_gat_one_is_attention_propagation_and_zero_is_none():
    torch.manual_seed(0)
    g, x = _toy(), torch.randn(5, 6)
    prop = AttentionPropagation(6, heads=2)
    conv = _conv(prop)
    # dense reference: per head h, Â_ij = softmax_j LeakyReLU(a1·x_i + a2·x_j) over j with an edge j → i
    s, d = g.edges()
    mask = torch.zeros(5, 5, dtype=torch.bool)
    mask[d, s] = True
    expected = torch.empty(5, 6)
    for h in range(2):
        xh = x[:, 3 * h:3 * h + 3]
        logits = torch.nn.functional.leaky_relu((xh @ prop.a_self[h])[:, None] + (xh @ prop.a_nbr[h])[None, :], 0.2)
        att = torch.softmax(logits.masked_fill(~mask, float("-inf")), dim=1)
        expected[:, 3 * h:3 * h + 3] = att @ xh
    assert torch.allclose(conv(g, x), expected, atol=1e-5)
    with torch.no_grad():
        conv.omega.zero_()
    assert torch.allclose(conv(g, x), x)


@pytest.mark.parametrize("name", ["omega-gcn", "omega-gat"])
def test_fresh_network_layer_is_pure_propagation_and_omega_modes(name):
    torch.manual_seed(0)
    extra = {"heads": 2} if name == "omega-gat" else {}
    model = build_model(name, 4, 3, task_level="node", hidden=8, layers=3, **extra)
    assert model.omegas().shape == (3, 8) and torch.all(model.omegas() == 1)
    assert not model.residual and isinstance(model.norms[0], torch.nn.Identity)  # the paper's network
    conv = model.convs[0]
    assert torch.allclose(conv.mixing.weight, torch.eye(8), atol=1e-4) and conv.mixing.bias is None
    g, x = _toy(), torch.randn(5, 8)
    assert torch.allclose(conv(g, x), conv.propagate(g, x), atol=1e-3)
    assert build_model(name, 4, 3, hidden=8, layers=3, omega="layer", **extra).omegas().shape == (3, 1)
    shared = build_model(name, 4, 3, hidden=8, layers=3, omega="shared", **extra)
    assert shared.convs[0].omega is shared.convs[2].omega
    assert sum(p.numel() for n, p in shared.named_parameters() if n.endswith("omega")) == 1
    graph_level = build_model(name, 4, 3, task_level="graph", hidden=8, layers=2, **extra)
    assert graph_level.convs[0].mixing.__class__.__name__ == "MLP"  # the paper's GIN-MLP for graph tasks
    bg = dgl.batch([_toy(), _toy()])
    assert graph_level(bg, torch.randn(10, 4)).shape == (2, 3)


def test_default_network_is_the_papers_dropout_only_at_opening_and_closing():
    """X⁰ = ReLU(K_open dropout(X)), ω-layers X^{l+1} = ReLU(K X̃) without dropout, closing K_close dropout(X^L)."""
    import torch.nn.functional as F
    torch.manual_seed(0)
    model = build_model("omega-gcn", 6, 3, task_level="node", hidden=8, layers=3, dropout=0.5, input_dropout=0.5)
    assert model.layer_drop.p == 0.0 and isinstance(model.head[0], torch.nn.Dropout) and model.head[0].p == 0.5
    assert isinstance(model.head[1], torch.nn.Linear)  # the closing layer: dropout → linear
    g, x = _toy(), torch.rand(5, 6)
    model.train()
    batch = as_batch(g, x)
    torch.manual_seed(1)
    states = model.layer_states(batch, model.encode(batch))
    torch.manual_seed(1)
    expected = F.relu(model.encoder.dense(F.dropout(x, 0.5)))  # dropout on the raw input, then K_open and ReLU
    assert torch.allclose(states[0], expected, atol=1e-6)
    h = expected
    for conv in model.convs:  # no dropout between the ω-layers: deterministic given X⁰
        h = F.relu(conv(dgl.add_self_loop(dgl.remove_self_loop(g)), h))
    assert torch.allclose(states[-1], h, atol=1e-5)
    graph_level = build_model("omega-gcn", 6, 3, hidden=8, layers=2)
    assert graph_level.readout_op == "sum" and graph_level.head.__class__.__name__ == "MLP"


def test_learned_omega_escapes_oversmoothing_where_gcn_propagation_cannot():
    """The paper's claim in small: on a heterophilous graph (every edge joins the two classes) a depth-8 network with
    plain GCN propagation (ω frozen at 1) smooths the class signal away — energy ≈ 0, training accuracy at chance —
    while the same network with learnable ω moves ω away from 1 and fits the labels. Same init, data and budget."""
    gen = torch.Generator().manual_seed(0)
    n = 60
    y = torch.arange(n) % 2
    src = torch.randint(0, n // 2, (150,), generator=gen) * 2  # even nodes: class 0
    dst = torch.randint(0, n // 2, (150,), generator=gen) * 2 + 1  # odd nodes: class 1
    g = dgl.to_bidirected(dgl.graph((src, dst), num_nodes=n))
    x = torch.nn.functional.one_hot(y, 2).float() + 0.5 * torch.randn(n, 2, generator=gen)

    def train(learn_omega: bool) -> tuple[float, float, torch.Tensor]:
        torch.manual_seed(0)
        model = build_model("omega-gcn", 2, 2, task_level="node", hidden=16, layers=8)
        for conv in model.convs:
            conv.omega.requires_grad_(learn_omega)
        opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=0.05)
        for _ in range(100):
            loss = torch.nn.functional.cross_entropy(model(g, x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            acc = (model(g, x).argmax(1) == y).float().mean().item()
            energy = dirichlet_energy(g, model.node_states(g, x), "sym")
        return acc, energy, model.omegas()

    acc_w, energy_w, omegas = train(True)
    acc_1, energy_1, _ = train(False)
    assert acc_w >= 0.95 and acc_1 <= 0.7, (acc_w, acc_1)
    assert energy_w > 1e3 * max(energy_1, 1e-12), (energy_w, energy_1)
    assert (omegas - 1).abs().max() > 0.1


def test_omega_receives_gradient_and_can_leave_unit_interval():
    torch.manual_seed(0)
    model = build_model("omega-gcn", 4, 2, task_level="node", hidden=8, layers=2)
    g, x = dgl.remove_self_loop(_toy()), torch.randn(5, 4)
    opt = torch.optim.SGD([p for n, p in model.named_parameters() if n.endswith("omega")], lr=5.0)
    for _ in range(20):
        loss = -model(g, x)[:, 0].var()  # rewards sharpening: ω must leave [0, 1] unconstrained
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert model.omegas().max() > 1.0


def test_invalid_hyperparameters_and_aliases():
    from graphbench.hparams import HyperparameterError
    from graphbench.registry import MODELS
    assert MODELS.get("wgcn").name == "omega-gcn" and MODELS.get("omega_gat").name == "omega-gat"
    with pytest.raises(HyperparameterError, match="divisible by heads"):
        model_hparams("omega-gat", {"hidden": 30, "heads": 4})
    with pytest.raises(HyperparameterError, match="'omega' must be one of"):
        model_hparams("omega-gcn", {"omega": "node"})


def test_dirichlet_energy_by_hand():
    # path 0 - 1 - 2 (both directions), scalar features 0, 1, 3
    g = dgl.graph((torch.tensor([0, 1, 1, 2]), torch.tensor([1, 0, 2, 1])))
    x = torch.tensor([[0.0], [1.0], [3.0]])
    # none: 1/N Σ_(i,j) |x_i - x_j|² = (1 + 1 + 4 + 4) / 3
    assert dirichlet_energy(g, x) == pytest.approx(10 / 3)
    # sym: ½ Σ_(i,j) |x_i/√(1+d_i) - x_j/√(1+d_j)|², degrees 1, 2, 1
    a, b, c = 0 / 2 ** 0.5, 1 / 3 ** 0.5, 3 / 2 ** 0.5
    assert dirichlet_energy(g, x, "sym") == pytest.approx((b - a) ** 2 + (c - b) ** 2)
    # equals tr(Xᵀ Δ̃ X) with Δ̃ = I - D̃^-1/2 (A + I) D̃^-1/2; self-loops do not change either form
    a_t = torch.tensor([[1.0, 1, 0], [1, 1, 1], [0, 1, 1]])
    dinv = a_t.sum(1).rsqrt()
    lap = torch.eye(3) - dinv[:, None] * a_t * dinv[None, :]
    assert dirichlet_energy(dgl.add_self_loop(g), x, "sym") == pytest.approx(float(x.T @ lap @ x), rel=1e-6)
    assert dirichlet_energy(g, torch.ones(3, 4)) == 0.0
    with pytest.raises(ValueError, match="normalisation"):
        dirichlet_energy(g, x, "rw")


def test_deep_gcn_smooths_more_than_omega_gcn_with_sharpening_omega():
    """The over-smoothing claim in its simplest form: 32 propagation steps drive the energy of plain GCN
    propagation (ω = 1) towards 0, while ω = -0.5 (a sharpening step) does not."""
    torch.manual_seed(0)
    g = dgl.add_self_loop(dgl.to_bidirected(dgl.rand_graph(30, 80)))
    x = torch.randn(30, 4)
    smooth, sharp = _conv(SymNormPropagation(), 4), _conv(SymNormPropagation(), 4)
    with torch.no_grad():
        sharp.omega.fill_(-0.5)
    hs, hp = x, x
    for _ in range(32):
        hs, hp = smooth(g, hs), sharp(g, hp)
    e0 = dirichlet_energy(g, x, "sym")
    assert dirichlet_energy(g, hs, "sym") < 1e-2 * e0
    assert dirichlet_energy(g, hp, "sym") > e0


@pytest.mark.data
@pytest.mark.parametrize("name,dataset,epochs,threshold", [("omega-gcn", "cora", 40, 0.6),
                                                            ("omega-gat", "mutag", 15, 0.7)])
def test_trains_end_to_end_through_the_cli(name, dataset, epochs, threshold, shared_data, tmp_path):
    """Node classification (Cora, public split; majority class 0.32 of the test nodes) and graph classification
    (MUTAG fold 0; majority class 0.66) through ``graphbench run``."""
    from graphbench.cli import main
    from graphbench.results.reader import read_results
    out = tmp_path / "r.csv"
    rc = main(["run", "--model", name, "--dataset", dataset, "--seeds", "0", "--folds", "0", "--results", str(out),
               "--epochs", str(epochs), "--hidden", "32", "--layers", "2", "--lr", "0.01", "--dropout", "0.5",
               "--data-root", str(shared_data), "--quiet"])
    assert rc == 0
    rows = read_results(out)
    assert (rows["status"] == "ok").all() and len(rows) == 1
    assert rows["train_metric"].iloc[0] > threshold


@pytest.mark.parametrize("name", ["omega-gcn", "omega-gat"])
def test_released_maps_are_bias_free_glorot_and_torch_maps_keep_a_bias(name):
    """K_open / K_close of the released code: no bias, Glorot-uniform (|w| ≤ √(6 / (fan_in + fan_out)), far below
    PyTorch's default bound 1/√fan_in for the wide opening map); the ωGAT Cora preset has the released count."""
    kw = {"heads": 1} if name == "omega-gat" else {}
    released = build_model(name, 1433, 7, hidden=64, layers=2, task_level="node", **kw)
    torch_maps = build_model(name, 1433, 7, hidden=64, layers=2, task_level="node", maps="torch", **kw)
    for net in (released, torch_maps):
        net.reset_parameters()
    opening, closing = released.encoder.dense, released.head[-1]
    assert opening.bias is None and closing.bias is None
    assert torch_maps.encoder.dense.bias is not None and torch_maps.head[-1].bias is not None
    bound = (6 / (1433 + 64)) ** 0.5
    assert opening.weight.abs().max() <= bound and opening.weight.abs().max() > 0.9 * bound
    assert count_parameters(torch_maps) - count_parameters(released) == 64 + 7
    if name == "omega-gat":  # K1Nopen 64×1433 + KNclose 7×64 + KN1 2×64×64 + att 2×2×64 + ω 2×64
        assert count_parameters(released) == 64 * 1433 + 7 * 64 + 2 * 64 * 64 + 2 * 2 * 64 + 2 * 64
    with pytest.raises(ValueError, match="must be one of"):
        build_model(name, 1433, 7, hidden=64, task_level="node", maps="glorot", **kw)
