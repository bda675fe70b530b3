"""Sweep-file validation: every error names the key and its line, before anything runs."""

from __future__ import annotations

import textwrap

import pytest

from graphbench.config import ConfigError
from graphbench.sweep.config import load_sweep


def _file(tmp_path, text: str):
    p = tmp_path / "s.yaml"
    p.write_text(textwrap.dedent(text))
    return p


BASE = """\
models: [gcn]
datasets: [csl]
trials: 2
"""


def test_minimal_file_is_valid_and_names_its_study(tmp_path):
    sweep = load_sweep(_file(tmp_path, BASE))
    studies = sweep.studies()  # per-fold by default: one study per outer fold of CSL
    assert [s.outer_fold for s in studies] == [0, 1, 2, 3, 4]
    study = studies[0]
    assert study.name.startswith("s/gcn/csl/per-fold-1s-") and study.name.endswith("/fold0")
    assert set(study.space) == {"hidden", "layers", "dropout", "lr"}  # the model's registered space
    assert sweep.journal_path.name == "s.journal"


@pytest.mark.parametrize("text, key, line", [
    (BASE + "trails: 3\n", "trails", 4),
    ("models: [gcn, gnc]\ndatasets: [csl]\ntrials: 2\n", "gnc", 1),
    ("models: [gcn]\ndatasets: [csl, nosuchdata]\ntrials: 2\n", "nosuchdata", 2),
    (BASE + "search_space:\n  lr: {type: float, low: 0.1, high: 0.01}\n", "low", 5),
    (BASE + "search_space:\n  lr: {type: flaot, low: 0.1, high: 1}\n", "type", 5),
    (BASE + "search_space:\n  lr: {type: float, low: 0, high: 1, log: true}\n", "log", 5),
    (BASE + "search_space:\n  hidden: {type: categorical, choices: []}\n", "choices", 5),
    (BASE + "search_space:\n  widht: {type: int, low: 1, high: 2}\n", "widht", 5),
    (BASE + "hparams:\n  epochs: 0\n", "epochs", 5),
    (BASE + "hparams:\n  epoch: 3\n", "epoch", 5),
    (BASE + "protocol:\n  final: {folds: [0, 0]}\n", "folds", 5),
    (BASE + "protocol:\n  search: {folds: [0], seeds: [0]}\n", "folds", 5),  # per-fold searches inside folds
    (BASE + "protocol:\n  selection: once\n", "selection", 5),
    (BASE + "protocol:\n  final: {holdout: 1.5}\n", "holdout", 5),
    (BASE + "pruner: {type: median, n_warmup_steps: -1}\n", "n_warmup_steps", 4),
    (BASE + "pruner: sometimes\n", "pruner", 4),
    (BASE + "timeout: soon\n", "timeout", 4),
    ("models: [gcn]\ndatasets: [csl]\ntrials: 0\n", "trials", 3),
    (BASE + "models_extra: 1\n", "models_extra", 4),
])
def test_invalid_sweep_file_error_names_key_and_line(tmp_path, text, key, line):
    with pytest.raises(ConfigError) as info:
        load_sweep(_file(tmp_path, text))
    msg = str(info.value)
    assert key in msg and f"line {line}" in msg, msg


def test_missing_budget_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="trial budget"):
        load_sweep(_file(tmp_path, "models: [gcn]\ndatasets: [csl]\n"))


def test_condition_on_unknown_parameter_and_cycle_are_errors(tmp_path):
    bad = BASE + "search_space:\n  pe_dim: {type: int, low: 4, high: 8, when: {pee: rwse}}\n"
    with pytest.raises(ConfigError, match="pee"):
        load_sweep(_file(tmp_path, bad))
    cycle = BASE + ("search_space:\n  pe: {type: categorical, choices: [none, rwse], when: {pe_dim: 8}}\n"
                    "  pe_dim: {type: int, low: 4, high: 8, when: {pe: rwse}}\n")
    with pytest.raises(ConfigError, match="cycle"):
        load_sweep(_file(tmp_path, cycle))


def test_overrides_merge_model_file_and_fixed_values(tmp_path):
    text = """\
    models:
      gat: {search_space: {heads: {type: categorical, choices: [2]}}}
      gcn: {hparams: {layers: 3}}
    datasets: [csl]
    trials: 2
    hparams: {epochs: 3}
    search_space:
      dropout: null
      heads: {type: categorical, choices: [1, 4]}
      pe: {type: categorical, choices: [none, rwse]}
      pe_dim: {type: int, low: 4, high: 8, when: {pe: rwse}}
    """
    gat, gcn = [s for s in load_sweep(_file(tmp_path, text)).studies() if s.outer_fold == 0]
    assert gat.space["heads"]["choices"] == [2]  # the model's own entry wins over the file's
    assert "dropout" not in gat.space and "heads" not in gcn.space  # null removes; undeclared is skipped
    assert "layers" not in gcn.space and gcn.fixed["layers"] == 3  # fixed values are never searched
    assert gcn.space["pe_dim"]["when"] == {"pe": "rwse"}


def test_param_budget_removes_hidden_from_the_space(tmp_path):
    sweep = load_sweep(_file(tmp_path, BASE + "param_budget: 20000\n"))
    assert "hidden" not in sweep.studies()[0].space
    with pytest.raises(ConfigError, match="hidden"):
        load_sweep(_file(tmp_path, BASE + "param_budget: 20000\nhparams: {hidden: 8}\n"))


def test_example_sweep_files_validate_with_registered_models_and_datasets():
    from pathlib import Path

    from graphbench.registry import DATASETS

    files = sorted(Path(__file__).resolve().parents[2].glob("sweeps/*.yaml"))
    assert {f.stem for f in files} >= {"quick", "expressiveness", "tu", "long-range", "molecules"}
    for f in files:
        sweep = load_sweep(f)  # every model and dataset named there is registered
        assert sweep.protocol.selection == "per-fold", f"{f}: example files use the per-fold protocol"
        for dataset in sweep.datasets:
            # pair sets without training splits (sr25, graph8c, wl-pairs) cannot be swept
            protocol = DATASETS.get(dataset).meta["card"].protocol
            assert not protocol.startswith("no split"), f"{f}: {dataset} has no training splits"

