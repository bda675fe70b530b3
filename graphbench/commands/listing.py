"""``graphbench list models|datasets|transforms``."""

from __future__ import annotations

import argparse

DESCRIPTION = "List the registered models, datasets or transforms, one per line, with what they support."
EPILOG = "examples:\n  graphbench list models\n  graphbench list datasets"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("what", choices=("models", "datasets", "transforms"), help="what to list")


def handle(args: argparse.Namespace) -> int:
    from graphbench import api

    if args.what == "transforms":
        from graphbench.transforms.describe import print_list

        print_list()
    elif args.what == "models":
        rows = api.list_models()
        width = max([len("model"), *(len(m["name"]) for m in rows)])
        print(f"{'model':<{width}} {'tasks':<12} {'edge feats':<10} paper")
        for m in rows:
            print(f"{m['name']:<{width}} {','.join(m['task_levels']):<12} {'yes' if m['edge_features'] else 'no':<10} "
                  f"{m['paper']}")
    else:
        rows = api.list_datasets()
        print(f"{'dataset':<26} {'task':<24} {'metric':<14} size")
        for d in rows:
            task = f"{d['task_level']} {d['task_kind']}"
            metric = f"{d['metric']} ({'↑' if d['direction'] == 'max' else '↓'})"
            print(f"{d['name']:<26} {task:<24} {metric:<14} {d['size']}")
    return 0
