"""The expressiveness protocol (BREC's RPC): the T² test, relabelled copies, what theory says models can and cannot
tell apart, rows written, and the CLI end to end."""

from __future__ import annotations

import json

import dgl
import networkx as nx
import numpy as np
import pytest
import torch

from graphbench.data.synthetic.expressiveness import dgl_to_nx, nx_to_dgl
from graphbench.expressiveness import (
    PairSet,
    ProtocolConfig,
    evaluate,
    load_pairs,
    permute_graph,
    t2_statistic,
    t2_threshold,
)
from graphbench.expressiveness import protocol as protocol_module
from graphbench.expressiveness.pairs import CopySource, batch_copies
from graphbench.expressiveness.runner import run as run_protocol
from graphbench.expressiveness.stats import decide
from graphbench.results import read_results
from tests.helpers import run_cli

SMALL = {"hidden": 16, "layers": 3}  # theory does not depend on width; keeps the tests fast


# --------------------------------------------------------------------------------------------------- statistics
def test_threshold_is_brecs_and_computed_from_q_p_alpha():
    assert t2_threshold(32, 16, 0.05) == pytest.approx(72.34, abs=0.01)  # BREC's THRESHOLD
    assert t2_threshold(32, 16, 0.01) > t2_threshold(32, 16, 0.05)
    with pytest.raises(ValueError, match="more samples than dimensions"):
        t2_threshold(16, 16)


def test_t2_flags_a_shifted_mean_and_not_noise():
    rng = np.random.default_rng(0)
    q, p = 32, 16
    noise_x, noise_y = rng.normal(size=(q, p)), rng.normal(size=(q, p))
    thr = t2_threshold(q, p)
    assert t2_statistic(noise_x, noise_y) < thr  # same distribution: not distinguished
    assert t2_statistic(noise_x + 3.0, noise_y) > thr  # a shifted mean: distinguished
    # "hotelling" is the textbook statistic, q times BREC's
    assert t2_statistic(noise_x + 0.5, noise_y, statistic="hotelling") == pytest.approx(
        q * t2_statistic(noise_x + 0.5, noise_y))
    # exactly invariant embeddings (float64, no noise): a real difference is huge, equality gives 0
    base = np.tile(rng.normal(size=p), (q, 1))
    assert t2_statistic(base, base.copy(), eps_rel=1e-8) == 0.0
    assert t2_statistic(base + 1e-5, base, eps_rel=1e-8) > 1e5 * thr
    assert t2_statistic(base + 1e-15, base, eps_rel=1e-8) < 1e-6  # rounding-level differences are not
    with pytest.raises(FloatingPointError):
        t2_statistic(base * np.nan, base)


def test_decision_follows_brecs_rule():
    assert decide(100.0, 1.0, 72.34).distinguished and decide(100.0, 1.0, 72.34).reliable
    assert not decide(50.0, 1.0, 72.34).distinguished
    same = decide(100.0, 100.0, 72.34)  # equal to the reliability statistic: not counted, and unreliable
    assert not same.distinguished and not same.reliable


# --------------------------------------------------------------------------------------------- relabelled copies
def test_relabelled_copies_are_isomorphic_and_carry_their_features():
    G = nx.random_regular_graph(3, 10, seed=1)
    g = nx_to_dgl(G)
    g.ndata["feat"] = torch.arange(10).view(-1, 1)
    g.edata["feat"] = torch.arange(g.num_edges()).float().view(-1, 1)
    rng = np.random.default_rng(0)
    perm, order = rng.permutation(10), rng.permutation(g.num_edges())
    c = permute_graph(g, perm, order)
    assert nx.is_isomorphic(dgl_to_nx(c), G)
    assert torch.equal(c.ndata["feat"][torch.as_tensor(perm)], g.ndata["feat"])  # node i's feature is at perm[i]
    s, d = g.edges()
    cs, cd = c.edges()
    assert torch.equal(cs, torch.as_tensor(perm)[s[order]]) and torch.equal(c.edata["feat"].view(-1),
                                                                           torch.as_tensor(order).float())
    # the batched fast path builds exactly the same graphs
    src = CopySource.of(g)
    copies = [(src, rng.permutation(10), rng.permutation(g.num_edges())) for _ in range(3)]
    fast = batch_copies(copies)
    slow = dgl.batch([permute_graph(g, p, o) for _, p, o in copies])
    assert torch.equal(fast.batch_num_nodes(), slow.batch_num_nodes())
    assert all(torch.equal(a, b) for a, b in zip(fast.edges(), slow.edges(), strict=True))
    assert torch.equal(fast.ndata["feat"], slow.ndata["feat"]) and torch.equal(fast.edata["feat"],
                                                                               slow.edata["feat"])


def _pairset(pairs: list[tuple[nx.Graph, nx.Graph]], name: str = "toy") -> PairSet:
    graphs = [nx_to_dgl(G) for a, b in pairs for G in (a, b)]
    return PairSet(name, graphs, [(2 * i, 2 * i + 1) for i in range(len(pairs))], [name] * len(pairs),
                   [f"pair {i}" for i in range(len(pairs))])


# ------------------------------------------------------------------------------------------ what theory predicts
def test_t2_protocol_flags_a_non_isomorphic_pair_and_not_a_permuted_copy():
    hexagon, triangles = nx.cycle_graph(6), nx.disjoint_union(nx.cycle_graph(3), nx.cycle_graph(3))
    copy = nx.relabel_nodes(hexagon, dict(enumerate(np.random.default_rng(0).permutation(6).tolist())))
    ps = _pairset([(triangles, hexagon), (hexagon, copy)])
    res = evaluate("gin", ps, hparams={**SMALL, "pe": "rwse"})
    non_iso, same = res.pairs
    assert non_iso.distinguished and non_iso.reliable
    assert not same.distinguished and same.reliable
    assert same.decision.t2 < 1e-6 < res.config.threshold < non_iso.decision.t2


def test_a_subset_gives_the_same_verdicts_as_the_full_run():
    full = load_pairs("wl-pairs")
    sub = full.limit(6)
    sub = PairSet(sub.dataset, sub.graphs, sub.pairs[2:4], sub.categories[2:4], sub.names[2:4], ids=[2, 3])
    hp = {**SMALL, "pe": "rwse"}
    a, b = evaluate("gin", full, hparams=hp).pairs[2:4], evaluate("gin", sub, hparams=hp).pairs
    assert [r.index for r in b] == [2, 3]
    for x, y in zip(a, b, strict=True):
        assert x.distinguished == y.distinguished
        assert y.decision.t2 == pytest.approx(x.decision.t2, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("model", ["gin", "gcn", "sage", "gat"])
def test_1wl_bounded_models_distinguish_no_1wl_equivalent_pair(model):
    res = evaluate(model, load_pairs("wl-pairs"), hparams=SMALL)
    assert len(res.pairs) == 6
    assert [r.distinguished for r in res.pairs] == [False] * 6
    assert all(r.reliable for r in res.pairs)


def test_gin_distinguishes_no_exp_pair(shared_data):
    res = evaluate("gin", load_pairs("exp", shared_data, max_pairs=12), hparams=SMALL)
    assert len(res.pairs) == 12 and not any(r.distinguished for r in res.pairs)
    assert all(r.reliable for r in res.pairs)


def test_rwse_gin_separates_only_what_its_walk_counts_can():
    res = evaluate("gin", load_pairs("wl-pairs"), hparams={**SMALL, "pe": "rwse"})
    told = {r.name: r.distinguished for r in res.pairs}
    # rook's 4x4 and Shrikhande are both srg(16,6,2,2): equal closed-walk counts, so RWSE cannot separate them
    assert told == {"two-triangles/hexagon": True, "decalin/bicyclopentyl": True, "rook4x4/shrikhande": False,
                    "K33/prism": True, "C8/two-C4": True, "CSL(11,2)/CSL(11,3)": True}
    csl = evaluate("gin", load_pairs("csl", max_pairs=12), hparams={**SMALL, "pe": "rwse"})
    assert sum(r.distinguished for r in csl.pairs) >= 10 and all(r.reliable for r in csl.pairs)


def test_rwse_gin_separates_exp_but_no_sr25_pair(shared_data):
    hp = {**SMALL, "pe": "rwse"}
    exp = evaluate("gin", load_pairs("exp", shared_data, max_pairs=12), hparams=hp)
    assert sum(r.distinguished for r in exp.pairs) >= 6
    sr25 = evaluate("gin", load_pairs("sr25", shared_data, max_pairs=12), hparams=hp)  # 3-WL-equivalent
    assert len(sr25.pairs) == 12 and not any(r.distinguished for r in sr25.pairs)
    assert all(r.reliable for r in exp.pairs + sr25.pairs)


@pytest.mark.slow
def test_rwse_gin_separates_no_sr25_pair_at_all(shared_data):
    res = evaluate("gin", load_pairs("sr25", shared_data), hparams={"pe": "rwse"})
    assert len(res.pairs) == 105 and not any(r.distinguished for r in res.pairs)


def test_trained_mode_siamese_training_on_a_pair():
    """BREC's trained mode: GIN cannot be trained to separate two triangles from a hexagon; RWSE-GIN can."""
    ps = load_pairs("wl-pairs").limit(1)
    ps = PairSet(ps.dataset, ps.graphs, ps.pairs[:1], ps.categories[:1], ps.names[:1])
    cfg = ProtocolConfig(mode="trained", epochs=3)
    gin = evaluate("gin", ps, hparams=SMALL, config=cfg).pairs[0]
    assert not gin.distinguished and gin.reliable
    assert gin.epochs == 3  # the cosine loss cannot get below the threshold
    rwse = evaluate("gin", ps, hparams={**SMALL, "pe": "rwse"}, config=cfg).pairs[0]
    assert rwse.distinguished and rwse.reliable


@pytest.mark.slow
@pytest.mark.parametrize("model", ["gin", "gcn", "sage", "gat"])
def test_trained_mode_on_all_wl_pairs(model):
    res = evaluate(model, load_pairs("wl-pairs"), config=ProtocolConfig(mode="trained"))
    assert not any(r.distinguished for r in res.pairs) and all(r.reliable for r in res.pairs)


@pytest.mark.slow
def test_trained_rwse_gin_on_all_wl_pairs():
    rwse = evaluate("gin", load_pairs("wl-pairs"), hparams={"pe": "rwse"}, config=ProtocolConfig(mode="trained"))
    assert [r.distinguished for r in rwse.pairs] == [True, True, False, True, True, True]
    assert all(r.reliable for r in rwse.pairs)


# ------------------------------------------------------------------------------------------------ rows and CLI
def test_rows_per_category_and_failed_rows(tmp_path, monkeypatch):
    out = tmp_path / "r.csv"
    rows = run_protocol(["gin"], ["wl-pairs"], hparams={**SMALL, "pe": "rwse"}, results=out, seeds=[0, 1])
    df = read_results(out)
    assert len(df) == 2 and set(df["stage"]) == {"expressiveness"} and set(df["status"]) == {"ok"}
    assert df["expr_distinguished"].tolist() == [5, 5] and df["expr_pairs"].tolist() == [6, 6]
    assert df["expr_reliability_failures"].tolist() == [0, 0]
    assert df["expr_threshold"].round(2).tolist() == [72.34, 72.34]
    assert df["test_metric"].tolist() == pytest.approx([5 / 6, 5 / 6])
    hp = json.loads(df["hparams"].iloc[0])
    assert hp["pe"] == "rwse" and hp["expr_mode"] == "quick" and hp["expr_permutations"] == 32
    assert rows[0]["config_hash"] == rows[1]["config_hash"]

    def broken(model, batch):
        return torch.full((batch.batch_size, 16), float("nan"), dtype=torch.float64)

    monkeypatch.setattr(protocol_module, "embed", broken)
    run_protocol(["gcn"], ["wl-pairs"], hparams=SMALL, results=out)
    bad = read_results(out).iloc[-1]
    assert bad["status"] == "failed" and "NaN" in bad["error"] and bad["expr_pairs"] == 6


def test_cli_end_to_end_on_written_brec_files_and_report(tmp_path):
    from tests.data.test_brec import tiny_pairs, write_brec

    write_brec(tmp_path / "data" / "expressiveness" / "BREC", tiny_pairs())
    out = run_cli("expressiveness", "--model", "gin", "--dataset", "brec", "--data-root", "data", "--hidden", "8",
                  "--layers", "2", "--pe", "rwse", "--results", "r.csv", "--quiet", cwd=tmp_path).stdout
    assert "gin on brec" in out and "strongly-regular" in out and "cfi" in out and "total" in out
    assert "brec: all" in out and "7 row(s) appended to r.csv" in out
    df = read_results(tmp_path / "r.csv")
    assert df["expr_category"].tolist() == ["basic", "regular", "strongly-regular", "extension", "cfi",
                                            "4-vertex-condition", "distance-regular"]
    # RWSE separates every pair of these files except rook/shrikhande (written as the strongly regular pair)
    assert df.set_index("expr_category")["expr_distinguished"].to_dict()["strongly-regular"] == 0
    assert df["expr_distinguished"].sum() == 6
    from graphbench.cli import main

    assert main(["report", str(tmp_path / "r.csv"), "--out", str(tmp_path / "rep")]) == 0
    md = (tmp_path / "rep" / "report.md").read_text()
    assert "## Expressiveness" in md and "brec: basic" in md and "brec: all" in md and "| 6/7 |" in md


def test_cli_errors_are_clear(tmp_path, capsys, monkeypatch):
    from graphbench.cli import main

    monkeypatch.chdir(tmp_path)
    cases = [
        (["--dataset", "ring-transfer-n10"], "declares no pairs"),
        (["--dataset", "wl-pairs", "--model", "gni"], "Did you mean 'gin'"),
        (["--dataset", "wl-pairs", "--permutations", "8"], "more samples than dimensions"),
        (["--dataset", "wl-pairs", "--set", "lr=0.1"], "do not apply to the expressiveness protocol"),
    ]
    for args, message in cases:
        argv = ["expressiveness", "--model", "gin", *args]
        assert main(argv) == 2, args
        err = capsys.readouterr().err
        assert message in err, (args, err)
    assert not (tmp_path / "results").exists()  # nothing ran, nothing written
