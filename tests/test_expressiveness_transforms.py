"""The expressiveness protocol with models that have their own input transforms (product graphs, path sets, hop
rings): the transforms run on every relabelled copy and the copies are batched by the trainer's collator, so a
transform-based model is tested on what training feeds it — and a transform that depends on node order is caught
by the reliability check."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import torch
from torch import nn

from graphbench.data.synthetic.expressiveness import nx_to_dgl
from graphbench.expressiveness import evaluate, load_pairs
from graphbench.models.gin import GIN
from graphbench.registry import MODELS, TRANSFORMS
from graphbench.transforms.base import Node, TransformResult, register_transform

SMALL = {"hidden": 16, "layers": 3}


class _DistanceGIN(GIN):
    """GIN whose input states also get Σ_v emb(d(u, v)) over the exact distances from ``u`` (a distance-encoding
    input that 1-WL lacks: it tells two triangles from a hexagon)."""

    @classmethod
    def input_transforms(cls, hparams: dict) -> list[dict]:
        return [{"name": "spd", "unreachable": 15}]

    def __init__(self, in_dim, out_dim, **kw) -> None:
        super().__init__(in_dim, out_dim, **kw)
        self.dist = nn.Embedding(16, self.hidden)

    def encode(self, batch):
        h = super().encode(batch)
        index, dist = batch["spd_index"], batch["spd"]
        return h.index_add(0, index[0], self.dist(dist).to(h.dtype))


@register_transform("test-node-order", version=1, outputs={"order": Node(role="pe", width=1)})
def _node_order(graph, extras, **_):
    """Not equivariant on purpose: a node's id as a feature."""
    return TransformResult(ndata={"order": torch.arange(graph.num_nodes(), dtype=torch.float32)[:, None]})


class _OrderGIN(GIN):
    @classmethod
    def input_transforms(cls, hparams: dict) -> list[dict]:
        return [{"name": "test-node-order"}]


@pytest.fixture(scope="module", autouse=True)
def _models():
    MODELS.add("test-distance-gin", _DistanceGIN, **{k: v for k, v in MODELS.get("gin").meta.items()})
    MODELS.add("test-order-gin", _OrderGIN, **{k: v for k, v in MODELS.get("gin").meta.items()})
    yield
    for name in ("test-distance-gin", "test-order-gin"):
        MODELS._entries.pop(name, None)
    TRANSFORMS._entries.pop("test-node-order", None)


def test_transforms_run_per_copy_and_separate_what_distances_can():
    pairs = load_pairs("wl-pairs")
    plain = evaluate("gin", pairs, hparams=SMALL)
    dist = evaluate("test-distance-gin", pairs, hparams=SMALL)
    assert not any(r.distinguished for r in plain.pairs)
    told = {r.name: r.distinguished for r in dist.pairs}
    assert told["two-triangles/hexagon"] and told["C8/two-C4"] and told["decalin/bicyclopentyl"]
    assert not told["rook4x4/shrikhande"]  # both srg(16,6,2,2): the same distance multiset at every node
    assert all(r.reliable for r in dist.pairs)  # an equivariant transform on each copy: no reliability failure


def _copy_embeddings(model: str, graph, copies: int = 6):
    """Embeddings of ``copies`` random relabellings of ``graph`` through the protocol's batching."""
    from graphbench.expressiveness.pairs import CopySource, random_relabellings
    from graphbench.expressiveness.protocol import PairEvaluator, ProtocolConfig, embed, model_input_steps
    from graphbench.models import build_model
    from graphbench.transforms.config import run_pe_dim

    hp, width = dict(SMALL), run_pe_dim(model, SMALL, {})
    ev = PairEvaluator(lambda: build_model(model, None, 16, pe_dim=width, **hp), ProtocolConfig(),
                       steps=model_input_steps(model, hp))
    net = ev._new_model(0).eval()
    source = CopySource.of(graph)
    with torch.no_grad():
        return embed(net, ev._batch(random_relabellings(source, copies, np.random.default_rng(0))))


def test_transforms_run_on_each_copy_not_once_per_graph():
    # not vertex-transitive, so which node gets which id matters: a transform computed once and carried along with
    # the relabelling would hide the order dependence; run per copy, it shows
    graph = nx_to_dgl(nx.lollipop_graph(4, 3))
    order = _copy_embeddings("test-order-gin", graph)
    assert (order - order[0]).abs().max() > 1e-3
    dist = _copy_embeddings("test-distance-gin", graph)  # equivariant transform: the copies agree
    assert (dist - dist[0]).abs().max() < 1e-9 * dist.abs().max()


def test_trained_mode_runs_the_transforms_too():
    from graphbench.expressiveness import ProtocolConfig

    res = evaluate("test-distance-gin", load_pairs("wl-pairs", max_pairs=1), hparams=SMALL,
                   config=ProtocolConfig(mode="trained", epochs=2, permutations=32))
    assert len(res.pairs) == 1 and res.pairs[0].epochs >= 1
