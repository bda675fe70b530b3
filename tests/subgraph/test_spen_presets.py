"""SPEN's three TU presets (graphbench/models/spen.py, docs/models/spen.md §4) against the reference's configs
(JoshuaMitton/LPEGN@98458de0c182, lpegn/utils/config.py and lpegn/configs/10fold_config_*.json): each ego network
gets the code's weight set, IMDB-BINARY's input is the adjacency alone, and the presets differ only where the
configs differ. Parameter counts: tests/subgraph/test_reference_presets.py."""

from __future__ import annotations

import dgl
import pytest
import torch

from graphbench.data.base import FeatureSpec
from graphbench.models import build_model, model_hparams
from graphbench.models.spen import ego_sizes
from graphbench.presets import get_preset

#: utils/config.py's WEIGHT_DEGREES and DEGREE_MAPPING (code size → weight degree) for the three sets
MUTAG_CODE = ([2, 3, 4], {2: 2, 3: 3, 4: 4, 5: 4})
PTC_CODE = ([2, 3, 4, 5], {2: 2, 3: 3, 4: 4, 5: 5})
IMDBB_DEGREES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28,
                 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 48, 49, 50, 51, 54, 55, 56, 57,
                 58, 59, 60, 62, 63, 64, 65, 68, 71, 83, 86, 135]
IMDBB_CODE = (IMDBB_DEGREES, {k: k for k in IMDBB_DEGREES})

# (preset, dataset dims, the code's weights and mapping, our ego size minus the code's: 0 everywhere, since the
# IMDB-BINARY preset leaves the centre out as the code does — no diagonal labels, no self-loops)
BUCKET_CASES = [
    ("mitton2021", FeatureSpec("dense", dim=7), MUTAG_CODE, 0),
    ("mitton2021-ptc_mr", FeatureSpec("dense", dim=18), PTC_CODE, 0),
    ("mitton2021-imdb-binary", FeatureSpec("categorical", cardinalities=(136,)), IMDBB_CODE, 0),
]


def _preset_net(preset: str, node: FeatureSpec, **override):
    hp = {k: v for k, v in get_preset("spen", preset).hparams.items() if k in model_hparams("spen", {})}
    return build_model("spen", node, 2, **{**hp, **override})


@pytest.mark.parametrize(("preset", "node", "code", "shift"), BUCKET_CASES, ids=[c[0] for c in BUCKET_CASES])
def test_every_ego_network_gets_the_codes_weight_set(preset, node, code, shift):
    """A subgraph the code sees with k nodes uses weight set DEGREE_MAPPING[k] of WEIGHT_DEGREES; ours of the same
    node (k + shift nodes) must use the bucket of the same index, with one bucket per code weight set."""
    weights, mapping = code
    spen = _preset_net(preset, node, hidden=2).spen
    assert len(spen.size_buckets) + 1 == len(weights)
    assert {k: spen.bucket(k + shift) for k in mapping} == {k: weights.index(w) for k, w in mapping.items()}


def _two_graphs(feat_seed: int) -> dgl.DGLGraph:
    gen = torch.Generator().manual_seed(feat_seed)
    graphs = []
    for n, edges in ((5, [(0, 1), (1, 2), (2, 0), (2, 3), (3, 4)]), (4, [(0, 1), (1, 2), (2, 3), (3, 0), (0, 2)])):
        src = [a for a, b in edges] + [b for a, b in edges]
        dst = [b for a, b in edges] + [a for a, b in edges]
        g = dgl.graph((torch.tensor(src), torch.tensor(dst)), num_nodes=n)
        g.ndata["feat"] = torch.randint(0, 6, (n, 1), generator=gen)       # a categorical degree-like column
        graphs.append(g)
    return dgl.batch(graphs)


def test_imdb_preset_reads_the_normalised_adjacency_alone():
    """NUM_LABELS['IMDBBINARY'] = 0: the code's order-2 input is one channel (Â); the preset ignores the degree
    column the loader adds — other node features give the same output — while node_features=True reads it."""
    spec = FeatureSpec("categorical", cardinalities=(6,))
    torch.manual_seed(0)
    net = _preset_net("mitton2021-imdb-binary", spec, hidden=4).eval()
    assert net.spen.layers[0].w22.shape[2] == 1
    a, b = _two_graphs(0), _two_graphs(1)
    assert not torch.equal(a.ndata["feat"], b.ndata["feat"])
    assert torch.allclose(net(a, a.ndata["feat"]), net(b, b.ndata["feat"]), atol=1e-6)
    # the preset's open neighbourhoods reach the network: the same weights on closed ones give other outputs
    closed = _preset_net("mitton2021-imdb-binary", spec, hidden=4, centre=True).eval()
    closed.load_state_dict(net.state_dict())
    assert not torch.allclose(closed(a, a.ndata["feat"]), net(a, a.ndata["feat"]), atol=1e-4)
    torch.manual_seed(0)
    reads = _preset_net("mitton2021-imdb-binary", spec, hidden=4, node_features=True).eval()
    assert reads.spen.layers[0].w22.shape[2] == 1 + 6
    assert not torch.allclose(reads(a, a.ndata["feat"]), reads(b, b.ndata["feat"]), atol=1e-6)


def test_the_three_presets_differ_only_where_the_configs_differ():
    """10fold_config_{MUTAG,PTC,IMDBB}.json with config.py's 10-fold overrides: architecture, size buckets, batch
    size, lr and (IMDB-BINARY) the node input and the open neighbourhoods; everything else is the shared training
    setup."""
    presets = [get_preset("spen", n).hparams for n in ("mitton2021", "mitton2021-ptc_mr", "mitton2021-imdb-binary")]
    keys = set().union(*presets)
    differ = {k for k in keys if len({repr(p.get(k, "absent")) for p in presets}) > 1}
    assert differ == {"hidden", "layers", "size_buckets", "batch_size", "lr", "node_features", "centre"}
    got = [(p["hidden"], p["layers"], p["batch_size"], p["lr"], p["epochs"]) for p in presets]
    assert got == [(64, 5, 4, 0.0015, 50), (16, 4, 16, 0.0006, 50), (32, 5, 16, 0.00064, 50)]


@pytest.mark.data
def test_graphbench_ego_sizes_are_the_codes_subgraph_sizes(shared_data, tmp_path):
    """On graphbench's files: PTC_MR's ego networks have the code's sizes 2–5 (SUBGRAPH_DEGREES['PTC']);
    IMDB-BINARY's open neighbourhoods (the preset's centre=false) have exactly the code's 65 sizes."""
    from graphbench.train.runner import get_dataset

    for sub in ("tu", "tu-splits"):
        (tmp_path / sub).symlink_to(shared_data / sub)
    for name, expected in (("ptc_mr", {2, 3, 4, 5}), ("imdb-binary", set(IMDBB_DEGREES))):
        ds = get_dataset(name, str(tmp_path))
        centre = get_preset("spen", f"mitton2021-{name}").hparams.get("centre", True)
        sizes = set()
        for g in ds.graphs:
            sizes.update(ego_sizes(g, 1, centre).tolist())
        assert sizes == expected, name
