"""Command-line interface: a thin layer over :mod:`graphbench.api`.

    graphbench list models|datasets
    graphbench info NAME
    graphbench run --model gin --dataset csl --seeds 0 1 2 [--epochs --lr --hidden --layers ... | --config run.yaml]
    graphbench sweep sweeps/NAME.yaml [--workers N] [--storage URL] [--dry-run]
    graphbench report RESULTS... --out reports/NAME/ [--baseline gin --model mymodel]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from tqdm.auto import tqdm

from graphbench import __version__

# hyperparameters with their own flags; anything else goes through --set key=value
_HP_FLAGS = {"epochs": int, "lr": float, "hidden": int, "layers": int, "dropout": float, "batch_size": int,
             "weight_decay": float, "patience": int, "norm": str, "readout": str, "pe": str}


def _parse_set(items: list[str]) -> dict[str, Any]:
    out = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"--set expects key=value, got {item!r}")
        key, value = item.split("=", 1)
        try:
            out[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            out[key.strip()] = value
    return out


def _device(name: str) -> str:
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"--device {name}: CUDA is not available on this machine (torch {torch.__version__}); "
                         "use --device cpu")
    return name


def cmd_list(args: argparse.Namespace) -> int:
    from graphbench import api

    if args.what == "models":
        rows = api.list_models()
        print(f"{'model':<12} {'tasks':<12} {'edge feats':<10} paper")
        for m in rows:
            print(f"{m['name']:<12} {','.join(m['task_levels']):<12} {'yes' if m['edge_features'] else 'no':<10} "
                  f"{m['paper']}")
    else:
        rows = api.list_datasets()
        print(f"{'dataset':<26} {'task':<24} {'metric':<14} size")
        for d in rows:
            task = f"{d['task_level']} {d['task_kind']}"
            metric = f"{d['metric']} ({'↑' if d['direction'] == 'max' else '↓'})"
            print(f"{d['name']:<26} {task:<24} {metric:<14} {d['size']}")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from graphbench import api

    info = api.describe(args.name)
    if info["kind"] == "model":
        print(f"model {info['name']} — {info['paper']}\n")
        print(info["doc"], "\n")
        print(f"task levels: {', '.join(info['task_levels'])}; edge features: {info['edge_features']}")
        print("\nhyperparameters (default — help):")
        for k, v in {**info["hparams"], **info["train_hparams"]}.items():
            print(f"  {k:<14} {v!r:<10} {info['hparam_help'].get(k, '')}")
        print("\ndefault search space:")
        for k, v in info["search_space"].items():
            print(f"  {k:<14} {v}")
        from graphbench.presets import format_presets

        print(f"\npaper presets (graphbench run --model {info['name']} --preset NAME):")
        print(format_presets(info["name"]))
    else:
        print(f"dataset {info['name']}: {info['description']}\n")
        for key in ("task_level", "task_kind", "metric", "direction", "protocol", "size", "source", "citation"):
            print(f"  {key:<11} {info[key]}")
        if args.load:
            ds = api.load_dataset(info["name"], args.data_root)
            for k, v in ds.summary().items():
                print(f"  {k:<11} {v}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from graphbench import api
    from graphbench.config import load_run_config

    cfg: dict[str, Any] = load_run_config(args.config) if args.config else {}
    models = args.model or cfg.get("models")
    datasets = args.dataset or cfg.get("datasets")
    if not models or not datasets:
        raise ValueError("give --model and --dataset (or a --config file that sets models and datasets)")
    hparams = dict(cfg.get("hparams", {}))
    hparams.update({k: getattr(args, k) for k in _HP_FLAGS if getattr(args, k) is not None})
    hparams.update(_parse_set(args.set))
    seeds = args.seeds if args.seeds is not None else cfg.get("seeds", [0])
    if args.folds is None:
        folds = cfg.get("folds")
    else:
        folds = None if args.folds == ["all"] else [int(f) for f in args.folds]
    results = args.results or cfg.get("results") or api.DEFAULT_RESULTS
    device = _device(args.device or cfg.get("device", "cpu"))
    preset = args.preset or cfg.get("preset")
    if preset:
        from graphbench.presets import preset_notice

        preset_notice(models, preset, hparams, datasets)
    specs = api.plan_runs(models, datasets, seeds=seeds, folds=folds, hparams=hparams,
                          dataset_options=cfg.get("dataset_options"), data_root=args.data_root or cfg.get("data_root"),
                          device=device, deterministic=args.deterministic or cfg.get("deterministic", False),
                          preset=preset)
    from graphbench.report import format_leaderboard
    from graphbench.results import rows_frame

    rows: list[dict] = []
    bar = tqdm(total=len(specs), desc="runs", unit="run", disable=args.quiet, file=sys.stderr)

    def on_start(spec) -> None:
        bar.set_description(f"{spec.model} on {spec.dataset} fold {spec.fold} seed {spec.seed}")

    def progress(h: dict) -> None:
        bar.set_postfix(epoch=h["epoch"], loss=f"{h['loss']:.3f}", val=f"{h['val']:.3f}", refresh=True)

    def on_run(spec, row: dict) -> None:
        rows.append(row)
        if row["status"] != "ok":
            tqdm.write(f"run {spec.model}/{spec.dataset}/fold{spec.fold}/seed{spec.seed} {row['status']}: "
                       f"{row.get('error')}", file=sys.stderr)
        bar.update(1)

    try:
        api.execute(specs, results=results, on_start=on_start, on_run=on_run,
                    progress=None if args.quiet else progress)
    except KeyboardInterrupt:
        bar.close()
        print(f"\ninterrupted: {len(rows)} completed run(s) are in {results}; the interrupted run was not written",
              file=sys.stderr)
        return 130
    bar.close()
    print(format_leaderboard(rows_frame(rows, source=str(results)), stage="run"))
    failed = sum(r["status"] != "ok" for r in rows)
    print(f"\n{len(rows)} run(s) appended to {results}" + (f" ({failed} failed)" if failed else ""))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="graphbench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"graphbench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("list", help="list registered models or datasets")
    p.add_argument("what", choices=("models", "datasets"))
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("info", help="describe a model or dataset")
    p.add_argument("name")
    p.add_argument("--load", action="store_true", help="load the dataset and print its counts and splits")
    p.add_argument("--data-root", default=None)
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("run", help="train and evaluate models on datasets; appends one row per run")
    p.add_argument("--model", nargs="+", help="model name(s)")
    p.add_argument("--dataset", nargs="+", help="dataset name(s)")
    p.add_argument("--seeds", nargs="+", type=int, help="seeds (default 0)")
    p.add_argument("--folds", nargs="+", help="fold indices or 'all' (default all)")
    p.add_argument("--config", help="YAML run file (flags override it)")
    for name, typ in _HP_FLAGS.items():
        p.add_argument(f"--{name.replace('_', '-')}", dest=name, type=typ, default=None)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="any other hyperparameter, e.g. --set heads=8 (repeatable)")
    p.add_argument("--preset", help="a paper preset of the model (graphbench info MODEL lists them); flags override "
                   "its values, and such runs are not recorded as the preset")
    p.add_argument("--results", help=f"results CSV to append to (default {'results/results.csv'})")
    p.add_argument("--data-root", default=None, help="data root (default $GRAPHBENCH_DATA_ROOT or ./datasets)")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:N or auto (default cpu)")
    p.add_argument("--deterministic", action="store_true", help="enforce deterministic algorithms")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_run)

    from graphbench.published import register as register_published
    from graphbench.report.cli import register as register_report
    from graphbench.sweep.cli import register as register_sweep

    register_sweep(sub)
    register_report(sub)
    register_published(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from graphbench.config import ConfigError
    from graphbench.hparams import HyperparameterError
    from graphbench.registry import UnknownNameError
    from graphbench.results import SchemaError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (UnknownNameError, HyperparameterError, ConfigError, SchemaError, FileNotFoundError, ValueError) as exc:
        print(f"graphbench: error: {exc}", file=sys.stderr)
        return 2
