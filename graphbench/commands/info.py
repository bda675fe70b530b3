"""``graphbench info NAME [--load]``."""

from __future__ import annotations

import argparse

DESCRIPTION = ("Describe a model (paper, hyperparameters with defaults, default search space) or a dataset "
               "(task, metric, protocol, size, source, citation).")
EPILOG = ("examples:\n  graphbench info gin\n  graphbench info mutag --load --data-root /data/graphbench")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", help="a model, dataset or transform name (see `graphbench list models|datasets|transforms`)")
    p.add_argument("--load", action="store_true",
                   help="datasets: load the data and print its counts and splits next to the published ones")
    p.add_argument("--data-root", default=None, metavar="DIR",
                   help="where datasets live (default: $GRAPHBENCH_DATA_ROOT, else ./datasets)")


def handle(args: argparse.Namespace) -> int:
    from graphbench import api
    from graphbench.registry import DATASETS, MODELS, TRANSFORMS

    if args.name in TRANSFORMS and args.name not in MODELS and args.name not in DATASETS:
        from graphbench.transforms.describe import print_info

        print_info(args.name)
        return 0
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
        from graphbench.preset_counts import format_presets

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
