"""Paper presets build exactly the paper's network, run through the CLI, and seed sweeps."""

from __future__ import annotations

import pytest
import torch
from dgl.nn import GATConv, GraphConv
from torch import nn

from graphbench.cli import main
from graphbench.data.base import FeatureSpec
from graphbench.models import build_model, count_parameters, model_hparams
from graphbench.presets import (
    PRESETS,
    apply_preset,
    get_preset,
    preset_for_dataset,
    sweep_first_trial,
    sweep_model_options,
)
from graphbench.registry import UnknownNameError
from graphbench.train.config import TRAIN_HPARAMS
from graphbench.train.runner import resolve_hparams


def preset_model(model: str, preset: str, in_dim, out_dim: int, task_level: str):
    model_hp, _ = resolve_hparams(model, get_preset(model, preset).hparams)
    return build_model(model, in_dim, out_dim, task_level=task_level, **model_hp)


def test_every_preset_is_valid_for_its_model():
    for (model, _), preset in PRESETS.items():
        resolve_hparams(model, preset.hparams)  # raises on an unknown or invalid value
        for key in preset.grid:
            assert key in {**model_hparams(model), **TRAIN_HPARAMS}, (preset.name, key)
        assert preset.source and preset.description
        level = "node" if preset.datasets[0] in ("cora", "citeseer", "pubmed") else "graph"
        net = preset_model(model, preset.name, FeatureSpec("dense", dim=6), 3, level).eval()
        import dgl

        g = dgl.batch([dgl.rand_graph(7, 20), dgl.rand_graph(5, 12)])
        assert net(g, torch.randn(12, 6)).shape == ((12, 3) if level == "node" else (2, 3))


def test_kipf_gcn_on_cora_is_the_papers_two_layer_network():
    net = preset_model("gcn", "kipf2017", 1433, 7, "node")
    # Kipf & Welling's code (tkipf/gcn gcn/layers.py: bias=False) on Cora with 16 hidden units: 1433·16 + 16·7
    assert count_parameters(net) == 23_040 == get_preset("gcn", "kipf2017").params
    assert all(c.bias is None for c in net.convs)
    convs = list(net.convs)
    assert [type(c) for c in convs] == [GraphConv, GraphConv]
    assert (convs[0]._in_feats, convs[0]._out_feats, convs[1]._in_feats, convs[1]._out_feats) == (1433, 16, 16, 7)
    assert net.encoder is None and isinstance(net.head, nn.Identity)
    assert all(isinstance(n, nn.Identity) for n in net.norms) and len(net.norms) == 1  # nothing after the output
    assert net.input_dropout.p == 0.5 and net.layer_drop.p == 0.5
    # weight decay 5e-4 on the first layer only
    groups = net.param_groups(5e-4)
    assert [g["weight_decay"] for g in groups] == [5e-4, 0.0]
    assert {id(p) for p in groups[0]["params"]} == {id(p) for p in convs[0].parameters()}
    assert sum(p.numel() for p in groups[1]["params"]) == 16 * 7


def test_trainer_uses_the_models_parameter_groups(tmp_path, monkeypatch):
    from graphbench.data import load_dataset
    from graphbench.train.config import TrainConfig
    from graphbench.train.trainer import Trainer
    from tests.data.test_node_level import write_geom

    write_geom(tmp_path, "cornell", actor=False)
    ds = load_dataset("cornell", tmp_path, accept_modified=True)  # a tiny written copy
    net = preset_model("gcn", "kipf2017", ds.node_features, ds.num_classes, "node")
    seen = []

    class Spy(torch.optim.Adam):
        def __init__(self, params, **kw):
            super().__init__(params, **kw)
            seen.append([(sum(p.numel() for p in g["params"]), g["weight_decay"]) for g in self.param_groups])

    monkeypatch.setattr(torch.optim, "Adam", Spy)
    Trainer(net, ds, ds.splits[0], TrainConfig(epochs=1, weight_decay=5e-4)).fit()
    first = sum(p.numel() for p in net.convs[0].parameters())
    assert seen == [[(first, 5e-4), (count_parameters(net) - first, 0.0)]]


def test_gat_preset_is_velickovic_cora_network():
    net = preset_model("gat", "velickovic2018", 1433, 7, "node")
    c0, c1 = net.convs
    assert isinstance(c0, GATConv) and isinstance(c1, GATConv)
    assert (c0._num_heads, c0._out_feats, c1._num_heads, c1._out_feats) == (8, 8, 1, 7)
    assert isinstance(net.activation, nn.ELU) and net.input_dropout.p == 0.6 and c0.attn_drop.p == 0.6
    # 1433·64 + 2·64 (attention) + 64 (bias) + 64·7 + 2·7 + 7
    assert count_parameters(net) == 1433 * 64 + 2 * 64 + 64 + 64 * 7 + 2 * 7 + 7
    import dgl

    out = net.eval()(dgl.rand_graph(30, 90), torch.randn(30, 1433))
    assert out.shape == (30, 7)


def test_xu_gin_reads_out_every_layer_including_the_input():
    spec = FeatureSpec("dense", dim=7)
    net = preset_model("gin", "xu2019", spec, 2, "graph")
    assert net.encoder is None and not net.residual
    assert len(net.layer_heads) == 5  # input layer + 4 GIN layers
    assert net.layer_heads[0].in_features == 7 and all(h.in_features == 32 for h in net.layer_heads[1:])
    import dgl

    g = dgl.batch([dgl.rand_graph(6, 14), dgl.rand_graph(9, 20)])
    x = torch.randn(15, 7)
    net.eval()
    # Eq. 4.2 by hand: Σ_k W_k · sum-pool(h^(k))
    from graphbench.transforms.batch import as_batch

    batch = as_batch(g, x, None, None)
    states = net.layer_states(batch, net.encode(batch))
    pooled = [torch.stack([s[:6].sum(0), s[6:].sum(0)]) for s in states]
    expected = sum(head(p) for head, p in zip(net.layer_heads, pooled))
    torch.testing.assert_close(net(g, x), expected)


def test_gin_default_reads_out_every_layer_and_drops_out_only_there():
    net = build_model("gin", 5, 3, task_level="graph", dropout=0.5)
    assert net.layer_heads is not None and len(net.layer_heads) == net.num_layers + 1
    assert net.layer_drop.p == 0.0 and net.dropout.p == 0.5
    node = build_model("gin", 5, 3, task_level="node")
    assert node.layer_heads is None


def test_switches_refuse_impossible_combinations():
    with pytest.raises(ValueError, match="encoder=false needs node features"):
        build_model("gcn", None, 2, task_level="graph", encoder=False)
    with pytest.raises(ValueError, match="graph readout"):
        build_model("gcn", 5, 2, task_level="node", layer_readout="sum")


def test_apply_preset_records_changes_and_unknown_names():
    hp, opts, changed = apply_preset("gcn", "kipf2017", {"lr": 0.01, "seed_note": 1})
    assert hp["hidden"] == 16 and opts == {"normalize_features": True} and changed == []
    _, _, changed = apply_preset("gcn", "kipf2017", {"lr": 0.05})
    assert changed == ["lr"]
    with pytest.raises(UnknownNameError, match="kipf2017"):
        get_preset("gcn", "kipf")


def test_sweep_first_trial_is_the_preset_only_where_the_paper_ran_it():
    defaults = {k: v for k, v in model_hparams("gcn").items()}
    space = {"lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
             "hidden": {"type": "categorical", "choices": [16, 64]}}
    fixed = sweep_model_options("gcn", {"preset": "kipf2017", "search_space": space})["hparams"]
    context = {**defaults, **{k: hp.default for k, hp in TRAIN_HPARAMS.items()}, **fixed}
    params, attrs = sweep_first_trial("gcn", "cora", space, context, context)
    assert params == {"lr": 0.01, "hidden": 16}
    assert attrs["gb.paper_preset"] == "kipf2017" and "Kipf" in attrs["gb.first_trial"]
    # a dataset the paper never used: the model's defaults, not called a paper preset
    params, attrs = sweep_first_trial("gcn", "mutag", space, context, context)
    assert "gb.paper_preset" not in attrs and "default" in attrs["gb.first_trial"]
    # the preset's searched values, but the sweep leaves the rest at the backbone's defaults: not the preset
    plain = {**defaults, **{k: hp.default for k, hp in TRAIN_HPARAMS.items()}}
    params, attrs = sweep_first_trial("gcn", "cora", space, plain, plain)
    assert params["hidden"] == 16 and "gb.paper_preset" not in attrs and "encoder" in attrs["gb.first_trial"]
    assert preset_for_dataset("gat", "pubmed").name == "velickovic2018-pubmed"


def test_sweep_model_options_search_around_a_preset():
    opts = sweep_model_options("gin", {"preset": "errica2020", "search_space": "preset", "hparams": {"epochs": 5}})
    assert opts["hparams"]["epochs"] == 5 and opts["hparams"]["lr"] == 0.01
    assert "dropout" not in opts["hparams"] and opts["search_space"]["dropout"]["choices"] == [0.5, 0.0]
    with pytest.raises(ValueError, match="needs 'preset"):
        sweep_model_options("gin", {"search_space": "preset"})


def test_info_lists_presets_with_sources(capsys):
    assert main(["info", "gcn"]) == 0
    out = capsys.readouterr().out
    assert "kipf2017 — Kipf & Welling" in out and "without biases" in out


def test_run_with_preset_through_the_cli(tmp_path, capsys):
    from tests.data.test_node_level import write_geom

    write_geom(tmp_path, "cornell", actor=False)
    results = tmp_path / "r.csv"
    cfg = tmp_path / "run.yaml"
    cfg.write_text("dataset_options: {accept_modified: true}\n")  # a tiny written copy of cornell
    args = ["run", "--config", str(cfg), "--model", "gcn", "--preset", "kipf2017", "--dataset", "cornell", "--folds",
            "0", "--data-root", str(tmp_path), "--results", str(results), "--quiet", "--epochs", "200"]
    assert main(args) == 0
    assert main([*args[:-2], "--lr", "0.05"]) == 0
    err = capsys.readouterr().err
    assert "lr override preset kipf2017" in err and "did not run preset kipf2017 on cornell" in err
    from graphbench.results import read_results

    df = read_results(results)
    assert list(df["preset"].fillna("")) == ["kipf2017", ""]
    assert (df["status"] == "ok").all()
    hp = __import__("json").loads(df["hparams"].iloc[0])
    assert hp["encoder"] is False and hp["head"] == "none" and hp["decay_scope"] == "first_layer"


def test_sweep_file_fixes_a_preset_and_searches_its_grid(tmp_path):
    from graphbench.sweep.config import ConfigError, load_sweep

    path = tmp_path / "s.yaml"
    path.write_text("name: p\nmodels: {gin: {preset: errica2020, search_space: preset, hparams: {epochs: 3}}, "
                    "gcn: {preset: kipf2017}}\ndatasets: [enzymes, cora]\ntrials: 2\n"
                    # explicit folds, so that listing the studies needs no data files
                    "protocol: {selection: select-once, search: {folds: [0]}, final: {folds: [0]}}\n")
    sweep = load_sweep(path, check_datasets=False)
    studies = {(s.model, s.dataset): s for s in sweep.studies()}
    gin = studies[("gin", "enzymes")]
    assert gin.fixed["input_layers"] == 2 and gin.fixed["epochs"] == 3 and "dropout" not in gin.fixed
    assert gin.space == get_preset("gin", "errica2020").search_space()  # the paper's grid and nothing else
    assert gin.space["readout"]["choices"] == ["mean", "sum"]
    assert studies[("gcn", "cora")].fixed["decay_scope"] == "first_layer"
    path.write_text("name: p\nmodels: {gcn: {preset: nope}}\ndatasets: [cora]\ntrials: 2\n")
    with pytest.raises(ConfigError, match="kipf2017"):
        load_sweep(path, check_datasets=False)


# -- Errica et al.'s GIN and GraphSAGE, Xu et al.'s GIN: the reference networks and grids (issue 19, point 4) ------


def _preset_with(model: str, preset: str, in_dim, out_dim: int, **override):
    model_hp, _ = resolve_hparams(model, {**get_preset(model, preset).hparams, **override})
    return build_model(model, in_dim, out_dim, task_level="graph", **model_hp)


def _two_graphs():
    """Two graphs with shuffled (unsorted) edge lists, so that no result can depend on an edge order."""
    import dgl

    gen = torch.Generator().manual_seed(3)
    graphs = []
    for n, m in ((6, 9), (8, 13)):
        src, dst = torch.randint(0, n, (m,), generator=gen), torch.randint(0, n, (m,), generator=gen)
        src, dst = torch.cat([src, dst]), torch.cat([dst, src])
        perm = torch.randperm(len(src), generator=gen)
        graphs.append(dgl.graph((src[perm], dst[perm]), num_nodes=n))
    return dgl.batch(graphs), [6, 8]


def _randomise(net: nn.Module) -> None:
    """Non-trivial batch-norm statistics and affine parameters (and ε), so a wrong order of operations shows."""
    gen = torch.Generator().manual_seed(5)
    for m in net.modules():
        if isinstance(m, nn.BatchNorm1d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=gen))
            m.running_var.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
            m.weight.data.copy_(torch.randn(m.num_features, generator=gen))
            m.bias.data.copy_(torch.randn(m.num_features, generator=gen))
    for name, p in net.named_parameters():
        if name.endswith("eps"):
            p.data.fill_(0.3)


def test_errica_gin_grid_and_schedule_are_config_gin_yml():
    import math

    p = get_preset("gin", "errica2020")
    assert p.grid == {"hidden_units": ["64,64,64,64", "32,32,32,32", "64", "32,32"], "learn_eps": [True, False],
                      "readout": ["mean", "sum"], "dropout": [0.5, 0.0], "batch_size": [32, 128],
                      "monitor": ["val_metric", "val_loss"]}
    assert math.prod(len(v["choices"]) for v in p.search_space().values()) == 4 * 2 * 2 * 2 * 2 * 2 == 128
    hp = p.hparams
    assert (hp["patience"], hp["ties"], hp["epochs"], hp["lr"], hp["weight_decay"]) == (500, "later", 1000, 0.01, 0)
    assert (hp["scheduler"], hp["lr_step"], hp["lr_factor"]) == ("step", 50, 0.5)
    assert p.dataset_options == {"degree": "scalar"}
    # hidden_units ties width and depth: the GIN layers that config_GIN.yml lists, plus the input layer
    for units, layers, width in (("64,64,64,64", 4, 64), ("32,32,32,32", 4, 32), ("64", 1, 64), ("32,32", 2, 32)):
        net = _preset_with("gin", "errica2020", 21, 6, hidden_units=units)
        assert net.num_layers == layers and len(net.layer_heads) == layers + 1
        assert all(h.in_features == width for h in net.layer_heads)
        assert all(conv.apply_func.linears[0].out_features == width for conv in net.convs)
    assert count_parameters(_preset_with("gin", "errica2020", 21, 6)) == p.params == 42_082
    with pytest.raises(Exception, match="equal positive widths"):
        _preset_with("gin", "errica2020", 21, 6, hidden_units="64,32")


def test_errica_gin_is_the_reference_forward():
    """The input layer is Linear → BN → ReLU → Linear → BN → ReLU; each GIN layer (1 + ε) h + Σ h_u through
    Linear → BN → ReLU → Linear → BN → ReLU; the output Σ_k of the layers' readouts, the input layer's pooled after
    its linear map (models/graph_classifiers/GIN.py), recomputed here by hand on two graphs with sum pooling."""
    net = _preset_with("gin", "errica2020", 5, 3, hidden_units="16,16,16")
    post = list(net.encoder_post)
    assert [type(m) for m in post] == [nn.BatchNorm1d, nn.ReLU, nn.Linear, nn.BatchNorm1d, nn.ReLU]
    assert isinstance(net.encoder.dense, nn.Linear) and net.encoder.dense.in_features == 5
    _randomise(net)
    net.eval()
    g, sizes = _two_graphs()
    x = torch.randn(sum(sizes), 5, generator=torch.Generator().manual_seed(7))
    src, dst = g.edges()

    def bn(m, h):
        return (h - m.running_mean) / torch.sqrt(m.running_var + m.eps) * m.weight + m.bias

    def pool(h):
        return torch.stack([h[:sizes[0]].sum(0), h[sizes[0]:].sum(0)])

    with torch.no_grad():
        h = torch.relu(bn(post[0], net.encoder.dense(x)))
        h = torch.relu(bn(post[3], post[2](h)))
        out = pool(net.layer_heads[0](h))  # pooled after the linear map: the bias counts once per node
        for k, conv in enumerate(net.convs):
            agg = torch.zeros_like(h).index_add_(0, dst, h[src])
            mlp = conv.apply_func
            z = (1 + conv.eps) * h + agg
            z = mlp.linears[1](torch.relu(bn(mlp.norms[0], mlp.linears[0](z))))
            h = torch.relu(bn(net.norms[k], z))
            out = out + net.layer_heads[k + 1](pool(h))
        torch.testing.assert_close(net(g, x), out)


def test_errica_sage_max_aggregation_has_the_shared_fc_max():
    p = get_preset("sage", "errica2020")
    assert p.grid == {"lr": [1e-4, 1e-2, 1e-3], "hidden": [32, 64], "layers": [3, 5],
                      "aggregator": ["sum", "max", "mean"], "monitor": ["val_metric", "val_loss"]}
    assert (p.hparams["patience"], p.hparams["ties"], p.hparams["scheduler"]) == (500, "later", "none")
    assert count_parameters(_preset_with("sage", "errica2020", 21, 6)) == p.params == 32_006
    mean = _preset_with("sage", "errica2020", 5, 3, hidden=16)
    assert mean.fc_max is None
    net = _preset_with("sage", "errica2020", 5, 3, hidden=16, aggregator="max")
    assert count_parameters(net) == count_parameters(mean) + 16 * 16 + 16  # one fc_max, shared by the 3 layers
    net.eval()
    g, sizes = _two_graphs()
    x = torch.randn(sum(sizes), 5, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        h, states = x, []
        for conv in net.convs:
            h = torch.relu(net.fc_max(conv(g, h)))
            states.append(h)
        cat = torch.cat(states, 1)
        pooled = torch.stack([cat[:sizes[0]].max(0).values, cat[sizes[0]:].max(0).values])
        torch.testing.assert_close(net(g, x), net.head(pooled))
        assert not torch.allclose(net(g, x), mean(g, x))


def test_xu_gin_presets_follow_the_released_code_and_the_papers_grid():
    bio, social = get_preset("gin", "xu2019"), get_preset("gin", "xu2019-social")
    for p in (bio, social):
        hp = p.hparams
        assert (hp["iters_per_epoch"], hp["epochs"], hp["lr_step"], hp["lr_factor"]) == (50, 350, 50, 0.5)
        assert hp["layers"] == 4 and hp["encoder"] is False and hp["learn_eps"] is False
    assert bio.grid["hidden"] == [16, 32] and bio.hparams["hidden"] in bio.grid["hidden"]
    assert "hidden" not in social.grid and social.hparams["hidden"] == 64
    assert set(bio.datasets).isdisjoint(social.datasets)
    assert count_parameters(_preset_with("gin", "xu2019", 7, 2)) == 8_440  # graphcnn.py's 8,444 less its unused ε


def test_a_sweep_over_the_baselines_grids_searches_exactly_the_grid(tmp_path):
    from graphbench.sweep.config import load_sweep

    for model, preset in (("gin", "errica2020"), ("sage", "errica2020"), ("gin", "xu2019"), ("gin", "xu2019-social")):
        path = tmp_path / "s.yaml"
        data = get_preset(model, preset).datasets[0]
        path.write_text(f"name: p\nmodels: {{{model}: {{preset: {preset}, search_space: preset}}}}\n"
                        f"datasets: [{data}]\ntrials: 2\n"
                        "protocol: {selection: select-once, search: {folds: [0]}, final: {folds: [0]}}\n")
        (study,) = load_sweep(path, check_datasets=False).studies()
        assert study.space == get_preset(model, preset).search_space(), (model, preset)


def test_xu_and_errica_gin_ignore_bond_labels_as_their_code():
    """MUTAG and PTC_MR carry bond labels; Xu et al.'s and Errica et al.'s GIN read node features only, so their
    presets build GIN layers (not GINE) even where the dataset has edge features."""
    from dgl.nn import GINConv as DGLGINConv

    from graphbench.preset_counts import build_preset_model

    for name in ("xu2019", "errica2020"):
        net = build_preset_model(get_preset("gin", name), "mutag")
        assert net.edge_encoders is None, name
        assert all(isinstance(c, DGLGINConv) for c in net.convs), name
    plain = build_model("gin", FeatureSpec("dense", dim=7), 2, edge_dim=FeatureSpec("dense", dim=4), hidden=8,
                        layers=2)
    assert plain.edge_encoders is not None  # the default still uses edge features (GINE)
