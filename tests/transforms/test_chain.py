"""Transform chains from run files, flat hyperparameters and sweep files; a transform parameter as a search
dimension; the CLI's list / info."""

from __future__ import annotations

import json

import optuna
import pytest

from graphbench.hparams import HyperparameterError
from graphbench.results import read_results
from graphbench.train.runner import resolve_hparams
from graphbench.transforms.config import run_pe_dim, run_steps
from tests.helpers import run_cli
from tests.sweep.helpers import write_sweep


def test_dotted_parameters_fold_into_the_chain_with_defaults():
    model_hp, train_hp = resolve_hparams("gin", {"transforms": [{"name": "lappe"}, "spd"], "lappe.k": 3})
    assert train_hp["transforms"] == [{"name": "lappe", "k": 3}, {"name": "spd", "cutoff": 0, "unreachable": -1}]
    # resolving the resolved hparams again gives the same (a sweep resolves twice)
    assert resolve_hparams("gin", {**model_hp, **train_hp})[1]["transforms"] == train_hp["transforms"]
    assert "transforms" not in resolve_hparams("gin", {})[1]  # plain runs keep their hparams and config hash
    with pytest.raises(HyperparameterError, match="lappe.k"):
        resolve_hparams("gin", {"lappe.k": 3})


def test_the_pe_switch_and_the_model_inputs_extend_the_chain():
    model_hp, train_hp = resolve_hparams("gin", {"transforms": ["spd"], "pe": "lappe", "pe_dim": 5})
    assert [s.name for s in run_steps("gin", model_hp, train_hp)] == ["spd", "lappe"]
    assert run_pe_dim("gin", model_hp, train_hp) == 5
    _, both = resolve_hparams("gin", {"transforms": [{"name": "rwse", "steps": 4}], "pe": "lappe", "pe_dim": 3})
    assert run_pe_dim("gin", model_hp, both) == 7


def test_run_file_transforms_reach_the_row(tmp_path):
    cfg = tmp_path / "run.yaml"
    cfg.write_text("model: gcn\ndataset: csl\nfolds: [0]\nhparams: {epochs: 2, hidden: 8, layers: 1}\n"
                   "transforms: [{name: lappe, k: 3}, {name: rwse, steps: 5}]\n"
                   f"results: {tmp_path / 'r.csv'}\n")
    run_cli("run", "--config", str(cfg), "--quiet", cwd=tmp_path)
    row = read_results(tmp_path / "r.csv").iloc[0]
    assert row["status"] == "ok"
    assert json.loads(row["hparams"])["transforms"] == [{"name": "lappe", "k": 3}, {"name": "rwse", "steps": 5}]


def test_a_transform_parameter_is_a_sweep_search_dimension(tmp_path):
    from graphbench.sweep.config import load_sweep
    from graphbench.sweep.runner import work
    from graphbench.sweep.storage import open_storage

    path = write_sweep(tmp_path, trials=3, hparams={"epochs": 1, "batch_size": 64, "layers": 1, "hidden": 8,
                                                     "transforms": [{"name": "lappe"}]},
                       search_space={"lappe.k": {"type": "int", "low": 2, "high": 6}, "hidden": None,
                                     "lr": None, "dropout": None},
                       protocol={"search": {"folds": [0], "seeds": [0]}, "final": {"folds": [0], "seeds": [0]}})
    sweep = load_sweep(path)
    (study,) = sweep.studies()
    assert "lappe.k" in study.space
    storage = open_storage(f"journal:{sweep.journal_path}")
    assert work(sweep, storage) == 0
    trials = optuna.load_study(study_name=study.name, storage=storage).get_trials(deepcopy=False)
    df = read_results(sweep.results)
    search = df[df["stage"] == "search"].sort_values("trial")
    ks = [t.params["lappe.k"] for t in sorted(trials, key=lambda t: t.number)]
    assert [json.loads(h)["transforms"][0]["k"] for h in search["hparams"]] == ks
    assert (df["status"] == "ok").all()


def test_sweep_file_refuses_a_bad_transform_parameter_value(tmp_path):
    from graphbench.config import ConfigError
    from graphbench.sweep.config import load_sweep

    path = write_sweep(tmp_path, search_space={"lappe.k": {"type": "int", "low": 0, "high": 4}})
    with pytest.raises(ConfigError, match="lappe.k"):
        load_sweep(path)


def test_cli_lists_and_describes_transforms(tmp_path):
    out = run_cli("list", "transforms", cwd=tmp_path).stdout
    assert all(name in out for name in ("rwse", "lappe", "spd"))
    info = run_cli("info", "lappe", cwd=tmp_path).stdout
    assert "lappe.k" in info and "sign_flip" in info and "version 1" in info
