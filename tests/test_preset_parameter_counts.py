"""Every paper preset names its reference and is the reference's network by parameter count (docs/presets.md).

One test per registered preset, so a merge shows which presets are verified: the preset is built at its
``params_dataset``'s dimensions exactly as a run builds it, and its count must equal the reference's own (from the
reference's logs or the paper). Kipf & Welling's GCN on Cora (23,040: the released code has no biases) is the
pattern.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import graphbench.models  # noqa: F401  (the models' modules register their presets)
from graphbench.data.base import FeatureSpec
from graphbench.models import count_parameters
from graphbench.preset_counts import (
    DOCS_MARKERS,
    TABLE_MARKERS,
    build_preset_model,
    dataset_input_dims,
    format_missing_counts,
    format_preset_table,
    parameter_status,
    update_docs_list,
)
from graphbench.presets import PRESETS, get_preset

KEYS = sorted(PRESETS)
IDS = [f"{m}/{n}" for m, n in KEYS]


COUNTED = [k for k in KEYS if PRESETS[k].params is not None]  # the others are listed in docs/presets.md


@pytest.mark.parametrize("key", COUNTED, ids=[f"{m}/{n}" for m, n in COUNTED])
def test_preset_parameter_count_equals_the_references(key):
    preset = PRESETS[key]
    assert preset.params_dataset in preset.datasets, (preset.params_dataset, preset.datasets)
    net = build_preset_model(preset)
    assert count_parameters(net) == preset.params, (
        f"{preset.model}/{preset.name} on {preset.params_dataset}: ours {count_parameters(net):,}, reference "
        f"{preset.params:,} ({preset.params_source})")


@pytest.mark.parametrize("key", KEYS, ids=IDS)
def test_preset_names_its_reference_and_its_count_or_why_not(key):
    preset = PRESETS[key]
    assert preset.reference.strip(), f"{preset.model}/{preset.name}: no reference"
    if preset.params is not None:
        assert preset.params > 0 and preset.params_dataset and preset.params_source.strip(), (
            f"{preset.model}/{preset.name}: a count needs params_dataset and params_source")
        assert not preset.params_missing, "a preset with a count does not also say why it has none"
    else:
        assert preset.params_missing.strip(), (
            f"{preset.model}/{preset.name}: neither a reference parameter count nor params_missing")


def test_the_kipf_pattern_is_23040_at_coras_dimensions():
    """The count machinery itself: Kipf's GCN at Cora's card dimensions (1433 features, 7 classes), built as a
    run builds it (no biases, as tkipf/gcn), has 1433·16 + 16·7 = 23,040 parameters; a wrong dimension (CiteSeer's)
    gives another."""
    kipf = get_preset("gcn", "kipf2017")
    assert count_parameters(build_preset_model(kipf, "cora")) == 23_040
    assert count_parameters(build_preset_model(kipf, "citeseer")) == 3703 * 16 + 16 * 6


def test_parameter_status_says_verified_differs_or_missing():
    from dataclasses import replace

    kipf = get_preset("gcn", "kipf2017")
    ok = replace(kipf, params=23_040, params_dataset="cora", params_source="1433·16 + 16·7", params_missing="")
    assert "ours 23,040 / reference 23,040 on cora" in parameter_status(ok) and "verified" in parameter_status(ok)
    off = replace(ok, params=23_063)
    assert "DIFFERS by -23" in parameter_status(off)
    none = replace(ok, params=None, params_dataset="", params_missing="the paper states none")
    assert parameter_status(none) == "no reference count: the paper states none"
    assert parameter_status(replace(none, params_dataset="cora")) == (
        "no reference count: the paper states none (ours 23,040 on cora)")


def test_input_dims_from_the_cards():
    mutag = dataset_input_dims("mutag")
    assert (mutag.node, mutag.edge, mutag.outputs, mutag.task_level) == (
        FeatureSpec("dense", dim=7), FeatureSpec("dense", dim=4), 2, "graph")
    assert dataset_input_dims("imdb-binary", {"degree": "scalar"}).node == FeatureSpec("dense", dim=1)
    assert dataset_input_dims("imdb-binary", {"degree": "constant"}).node == FeatureSpec("dense", dim=1)
    assert dataset_input_dims("enzymes").node.dim == 21
    assert dataset_input_dims("enzymes", {"node_attributes": False}).node == FeatureSpec("dense", dim=3)
    pep = dataset_input_dims("peptides-struct")
    assert pep.outputs == 11 and pep.node.kind == "categorical" and len(pep.node.cardinalities) == 9
    assert dataset_input_dims("texas").node.dim == 1703 and dataset_input_dims("texas").task_level == "node"
    with pytest.raises(KeyError, match="only known after loading"):
        dataset_input_dims("collab")


@pytest.mark.data
@pytest.mark.parametrize("dataset", ["mutag", "ptc_mr", "enzymes", "imdb-binary", "cora", "cornell", "texas",
                                     "wisconsin", "csl"])
def test_card_dimensions_equal_the_loaded_datasets(dataset, shared_data, tmp_path):
    """The dimension table behind every count is the loaders' own: compare it with the real files."""
    from graphbench.train.runner import get_dataset

    for sub in ("tu", "tu-splits", "planetoid", "geom-gcn", "expressiveness"):
        (tmp_path / sub).symlink_to(shared_data / sub)
    from graphbench.data.tu import PYG_TU_FEATURES

    # the loader's defaults, and PyG's TUDataset features (the FoSR / LASER presets) on the TU sets
    for options in ({}, PYG_TU_FEATURES) if dataset in ("mutag", "ptc_mr", "enzymes", "imdb-binary") else ({},):
        ds = get_dataset(dataset, str(tmp_path), **options)
        dims = dataset_input_dims(dataset, options)
        assert (ds.node_features, ds.edge_features, ds.num_classes, ds.task_level) == (
            dims.node, dims.edge, dims.outputs, dims.task_level), options


def test_docs_list_of_presets_without_a_count_is_in_sync(tmp_path):
    docs = Path(__file__).resolve().parents[1] / "docs" / "presets.md"
    start, end = DOCS_MARKERS
    listed = docs.read_text(encoding="utf-8").split(start, 1)[1].split(end, 1)[0].strip()
    assert listed == format_missing_counts().strip(), (
        "docs/presets.md is out of date: run python -m graphbench.preset_counts --update-docs docs/presets.md")
    tstart, tend = TABLE_MARKERS
    table = docs.read_text(encoding="utf-8").split(tstart, 1)[1].split(tend, 1)[0].strip()
    assert table == format_preset_table().strip(), (
        "docs/presets.md's table is out of date: run python -m graphbench.preset_counts --update-docs docs/presets.md")
    assert table.count("| verified |") == sum(1 for p in PRESETS.values() if p.params is not None)
    stale = tmp_path / "presets.md"
    stale.write_text(f"intro\n{start}\n- old\n{end}\nrest\n", encoding="utf-8")
    assert update_docs_list(str(stale)) and not update_docs_list(str(stale))
    assert stale.read_text(encoding="utf-8") == f"intro\n{start}\n{format_missing_counts()}\n{end}\nrest\n"

