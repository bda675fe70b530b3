"""The published-results table, `graphbench published`, and the reproduction-gap column on a fixture."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from graphbench.cli import main
from graphbench.presets import PRESETS
from graphbench.published import CERTAINTIES, PROTOCOLS, gap_display, published, reproduction_gap
from graphbench.registry import MODELS


def test_table_rows_are_well_formed_and_name_real_presets():
    df = published()
    assert len(df) >= 30 and set(df["certainty"]) <= set(CERTAINTIES) and set(df["protocol"]) <= set(PROTOCOLS)
    for r in df.itertuples():
        assert r.model in MODELS and (not r.preset or (r.model, r.preset) in PRESETS), (r.model, r.preset)
        assert r.source
    cora = published("gcn", "cora").iloc[0]
    assert (cora.value, cora.runs, cora.protocol) == (0.815, 100, "planetoid-public")
    assert published("graphsage", "enzymes").iloc[0].value == 0.582  # aliases resolve


def test_cli_lists_by_model_by_dataset_and_both(capsys):
    assert main(["published", "gin", "enzymes"]) == 0
    out = capsys.readouterr().out
    assert "0.596 ± 0.045" in out and "errica-10fold" in out and "Errica" in out and "xu2019" not in out
    assert main(["published", "cora"]) == 0
    out = capsys.readouterr().out
    assert "0.815" in out and "0.830" in out and "enzymes" not in out
    assert main(["published", "nosuchmodel"]) == 0
    assert "no published results match" in capsys.readouterr().out


def _rows(model, dataset, values, *, split="public", stage="run", preset=None, folds=None):
    folds = folds or [0] * len(values)
    return pd.DataFrame({
        "model": model, "entry": model, "dataset": dataset, "metric": "accuracy", "test_metric": values,
        "split": [split if split == "public" else f"fold{f}" for f in folds], "stage": stage,
        "preset": pd.array([preset] * len(values), dtype="string")})


def test_gap_on_a_fixture():
    counted = pd.concat([
        # GCN under the Kipf preset: mean 0.80, std 0.01 -> diff -0.015, paper has no std -> tolerance 0.01 -> no
        _rows("gcn", "cora", [0.79, 0.80, 0.81], preset="kipf2017"),
        # GAT preset: mean 0.825 std ≈ 0.0071 vs 0.830 ± 0.007 -> tolerance sqrt(0.0071² + 0.007²) -> within
        _rows("gat", "cora", [0.82, 0.83], preset="velickovic2018"),
        # GIN with a fixed configuration on 10 folds vs Errica's per-fold grid search -> protocol differs
        _rows("gin", "enzymes", [0.5 + 0.01 * k for k in range(10)], split="fold", folds=list(range(10)),
              preset="errica2020"),
        # a model/dataset with no published number -> no row
        _rows("sage", "cora", [0.7, 0.71]),
    ], ignore_index=True)
    gap = reproduction_gap(counted).set_index(["dataset", "entry"])
    assert len(gap) == 3
    g = gap.loc[("cora", "gcn")]
    assert g["diff"] == pytest.approx(-0.015) and g["tolerance"] == pytest.approx(0.01) and not g["within"]
    assert g.protocol == "same" and g.certainty == "quoted"
    a = gap.loc[("cora", "gat")]
    assert a.tolerance == pytest.approx(math.sqrt(0.5 * 0.01 ** 2 + 0.007 ** 2)) and bool(a["within"])
    e = gap.loc[("enzymes", "gin")]
    assert e.protocol.startswith("differs") and "selection" in e.protocol and e.paper_value == 0.596
    shown = gap_display(reproduction_gap(counted)).set_index("model")
    assert shown.loc["gin", "within combined std"].endswith("(protocol differs)")
    assert shown.loc["gcn", "diff"] == "-0.0150" and shown.loc["gat", "paper"].startswith("0.8300")


def test_gap_marks_runs_that_are_not_the_preset_and_the_optimistic_xu_protocol():
    gap = reproduction_gap(_rows("gcn", "cora", [0.8, 0.82])).iloc[0]
    assert "not the paper's preset" in gap.protocol
    xu = pd.DataFrame({"model": ["gin"], "preset": ["xu2019"], "dataset": ["mutag"], "metric": ["accuracy"],
                       "value": [0.894], "std": [0.056], "runs": [10], "protocol": ["xu-10fold-cv"],
                       "source": ["x"], "certainty": ["quoted"], "note": [""]})
    rows = _rows("gin", "mutag", [0.85, 0.9], split="fold", folds=[0, 1], stage="final", preset="xu2019")
    gap = reproduction_gap(rows, xu).iloc[0]
    assert "test folds" in gap.protocol and "splits: ours 2-fold" in gap.protocol


def test_report_has_the_gap_section(tmp_path):
    from graphbench.report import build_report
    from tests.report.fixtures import make_row, write

    rows = [make_row("cora", "gcn", v, seed=i, split="public", stage="run", preset="kipf2017")
            for i, v in enumerate([0.81, 0.82, 0.83])]
    rows += [make_row("cora", "gat", 0.8, seed=i, split="public", stage="run") for i in range(2)]
    res = build_report(write(tmp_path / "r.csv", rows), tmp_path / "out", figures=False)
    md = res.markdown.read_text()
    assert "Reproduction gap (ours vs published)" in md
    assert "0.8200 ± 0.0100 (n=3)" in md and "+0.0050" in md and "Kipf & Welling, ICLR 2017, Table 2, as listed" in md
    assert "[quoted]" in md
    gap = pd.read_csv(tmp_path / "out" / "reproduction_gap.csv").set_index("entry")
    assert gap.loc["gcn", "protocol"] == "same" and "not the paper's preset" in gap.loc["gat", "protocol"]


def test_version_1_results_read_with_an_empty_preset(tmp_path):
    from graphbench.results import read_results
    from graphbench.results.schema import COLUMNS_V1
    from tests.report.fixtures import make_row

    row = make_row("cora", "gcn", 0.8, split="public", schema_version=1)
    path = tmp_path / "v1.csv"
    cells = {k: ("true" if row.get(k) is True else "false" if row.get(k) is False else row.get(k)) for k in COLUMNS_V1}
    pd.DataFrame([cells]).to_csv(path, index=False)  # booleans as graphbench writes them
    df = read_results(path)
    assert df["preset"].isna().all() and df["test_metric"].iloc[0] == 0.8


def test_every_row_names_registered_models_presets_and_datasets():
    from graphbench.registry import DATASETS

    for r in published().itertuples():
        assert r.model in MODELS and MODELS.get(r.model).name == r.model, r.model
        assert r.dataset in DATASETS, (r.model, r.dataset)
        if r.preset:
            preset = PRESETS[(r.model, r.preset)]
            assert preset.applies_to(r.dataset), (r.model, r.preset, r.dataset)


def test_no_number_is_recalled_without_the_reason_it_could_not_be_checked():
    from graphbench.published import RECALLED_PREFIX, check_table

    df = published()
    recalled = df[df["certainty"] == "recalled"]
    assert len(recalled) <= 3  # 17 before every row was checked (issue 19)
    assert all(n.startswith(RECALLED_PREFIX) and len(n) > 60 for n in recalled["note"])
    bad = df.copy()
    bad.loc[0, ["certainty", "note"]] = ["recalled", "mean over 100 runs"]
    with pytest.raises(ValueError, match="a recalled number needs a note"):
        check_table(bad)


def test_pathnn_tu_rows_are_the_released_logs_with_the_tu_preset():
    rows = published("pathnn-sp").set_index("dataset")
    enz = rows.loc["enzymes"]
    assert (enz["value"], enz["std"], enz["protocol"], enz["certainty"], enz["preset"]) == (
        0.73, 0.052, "errica-10fold", "released-logs", "michel2023-tu")
    assert "PathNNs_expressive@2b8eb71:TUDatasets/logs/ENZYMES/" in enz["source"]


def _pub_row(model, dataset, protocol, value=0.5, std=0.05):
    return pd.DataFrame({"model": [model], "preset": [""], "dataset": [dataset], "metric": ["accuracy"],
                         "value": [value], "std": [std], "runs": [10], "protocol": [protocol], "source": ["x"],
                         "certainty": ["paper-table"], "note": [""]})


def test_geom_gcn_splits_are_recognised_and_compared_with_the_ten_split_protocol():
    from graphbench.published import run_protocol

    ten = _rows("omega-gcn", "texas", [0.8] * 10, split="fold", folds=list(range(10))).assign(
        split=[f"geom{k}" for k in range(10)])
    assert run_protocol(ten) == ("10 geom-gcn splits", "fixed")
    gap = reproduction_gap(ten, _pub_row("omega-gcn", "texas", "geom-gcn-10splits")).iloc[0]
    assert gap.protocol == "differs: our runs are not the paper's preset"  # the split scheme itself matches
    three = ten.iloc[:3]
    gap = reproduction_gap(three, _pub_row("omega-gcn", "texas", "geom-gcn-10splits")).iloc[0]
    assert "splits: ours 3 geom-gcn splits, paper 10 geom-gcn splits" in gap.protocol


def test_rewiring_and_spen_protocols_say_how_their_numbers_were_made():
    fosr, laser, spen = (PROTOCOLS[p] for p in ("fosr-tu-random-splits", "laser-tu-random-splits",
                                                  "spen-10fold-last10"))
    # FoSR's ± is a 95% CI over 100 trials scored at the last epoch; the description must let a reader convert it
    assert "2σ/√trials" in fosr.description and "LAST epoch" in fosr.description and "100 trials" in fosr.description
    # the paper's Table 1 prints 1.96σ/√trials; its rows read from the authors' Sep 2022 results files give σ itself
    assert "1.96σ/√trials" in fosr.description
    gcn = published("gcn", "proteins").set_index("protocol").loc["fosr-tu-random-splits"]
    assert (gcn["value"], gcn["std"], gcn["runs"], gcn["certainty"]) == (0.7098, 0.0376, 100, "released-logs")
    assert "kedar2/FoSR@e5e1303" in gcn["source"]
    assert "ShuffleSplit" in laser.description and laser.splits == fosr.splits == "random 80/10/10"
    rows = _rows("spen", "mutag", [0.85, 0.9], split="fold", folds=[0, 1])
    gap = reproduction_gap(rows, _pub_row("spen", "mutag", "spen-10fold-last10")).iloc[0]
    assert "without a validation set" in gap.protocol and "splits: ours 2-fold, paper 10-fold" in gap.protocol


def test_the_formerly_recalled_rows_are_settled_with_the_quote_named():
    df = published()
    assert (df["certainty"] == "recalled").sum() == 0
    pubmed = published("gat", "pubmed").iloc[0]
    assert (pubmed["value"], pubmed["std"], pubmed["certainty"]) == (0.79, 0.003, "quoted")
    assert "fedem96/NeuralNetworksOnGraphs@835639e" in pubmed.source
    ptc = published("gin", "ptc_mr").set_index("preset").loc["xu2019"]
    assert (ptc["value"], ptc["std"]) == (0.646, 0.07) and "dmlc/dgl@8f99b13" in ptc["source"]
    laser = published("laser-gcn", "peptides-func").iloc[0]
    assert laser.certainty == "quoted" and "Adaptive Message Passing" in laser.source
    prmpnn = published("pr-mpnn", "peptides-struct").iloc[0]
    assert (prmpnn["value"], prmpnn["std"], prmpnn["preset"], prmpnn["metric"]) == (0.2477, 0.0005, "", "mae")


def test_an_unread_row_has_no_value_says_what_was_searched_and_is_never_compared():
    from graphbench.published import UNREAD_PREFIX, check_table, format_published

    df = published()
    unread = df[df["certainty"] == "unread"]
    assert {"fosr-gcn", "sdrf-gcn", "laser-gcn", "omega-gcn", "omega-gat", "spen"} <= set(unread["model"])
    assert unread["value"].isna().all() and unread["std"].isna().all()
    assert all(n.startswith(UNREAD_PREFIX) and len(n) > 80 for n in unread["note"])
    assert "not read" in format_published(published("spen"))
    # a number on an unread row, or a row with no number that does not say it was unread, is refused
    bad = df.copy()
    i = int(unread.index[0])
    bad.loc[i, "value"] = 0.7
    with pytest.raises(ValueError, match="an unread row has no value"):
        check_table(bad)
    bad = df.copy()
    bad.loc[0, "value"] = float("nan")
    with pytest.raises(ValueError, match="certainty 'unread'"):
        check_table(bad)
    # our runs of such a row get no gap (there is nothing to compare with) rather than a gap against NaN
    counted = _rows("spen", "mutag", [0.8 + 0.01 * k for k in range(10)], split="fold", folds=list(range(10)),
                    preset="mitton2021")
    assert reproduction_gap(counted).empty
