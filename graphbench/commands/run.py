"""``graphbench run``: train and evaluate models on datasets, one results row per run."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from graphbench.env import ISA_CHOICES

DESCRIPTION = ("Train and evaluate models on datasets: every model x dataset x fold x seed is one run, appended "
               "as one row to the results CSV as soon as it ends. Prints a leaderboard of the runs at the end.")
EPILOG = """examples:
  graphbench run --model gin gcn --dataset csl --seeds 0 1 2 --epochs 50
  graphbench run --model gin --dataset mutag --folds 0 1 --lr 0.01 --set aggregator=pna
  graphbench run --model mygnn gin --dataset csl --set mygnn.alpha=0.3   (a knob of one model)
  graphbench run --config run.yaml --epochs 10          (flags override the file)
  graphbench run --model gin --dataset csl --deterministic   (the same numbers on any x86-64 CPU with AVX2)

Hyperparameters not listed here go through --set KEY=VALUE; `graphbench info MODEL` lists a model's own. With
several models, --set MODEL.KEY=VALUE sets a hyperparameter of that model alone."""

#: Hyperparameters with their own flag: name -> (type, help). The help repeats the declaration's help text
#: (graphbench.train.config.TRAIN_HPARAMS, graphbench.models.base.COMMON_HPARAMS; a test keeps them equal) so
#: that ``graphbench run --help`` does not import the models (torch, DGL).
HP_FLAGS: dict[str, tuple[type, str]] = {
    "epochs": (int, "maximum training epochs"),
    "lr": (float, "Adam learning rate"),
    "hidden": (int, "hidden width"),
    "layers": (int, "message-passing layers"),
    "dropout": (float, "dropout after each layer and in the head"),
    "batch_size": (int, "graphs per mini-batch (graph-level tasks)"),
    "weight_decay": (float, "Adam weight decay (L2)"),
    "patience": (int, "early stopping: epochs without validation improvement"),
    "norm": (str, "normalisation after each layer"),
    "readout": (str, "graph readout (graph-level tasks)"),
    "pe": (str, "positional/structural encoding added to the input (appended to the transform chain)"),
}


def _int_at_least(text: str, low: int, what: str) -> int:
    """``text`` as an integer ``>= low``, or an argparse error that says ``what`` was expected."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{what}, got {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"{what}, got {text!r}")
    return value


def _fold(text: str) -> int | str:
    return text if text == "all" else _int_at_least(text, 0, "a fold is a split index (0, 1, ...) or 'all'")


def _positive_int(text: str) -> int:
    return _int_at_least(text, 1, "expected a positive integer")


def add_arguments(p: argparse.ArgumentParser) -> None:
    what = p.add_argument_group("what to run")
    what.add_argument("--model", nargs="+", metavar="NAME", help="model name(s), see `graphbench list models`")
    what.add_argument("--dataset", nargs="+", metavar="NAME", help="dataset name(s), see `graphbench list datasets`")
    what.add_argument("--seeds", nargs="+", type=int, metavar="N", help="random seeds (default: 0)")
    what.add_argument("--folds", nargs="+", type=_fold, metavar="K",
                      help="split indices to run, or 'all' (default: all splits of the dataset)")
    what.add_argument("--config", metavar="FILE", help="YAML run file with the same settings; flags override it")
    hp = p.add_argument_group("hyperparameters (defaults: `graphbench info MODEL`)")
    for name, (typ, text) in HP_FLAGS.items():
        hp.add_argument(f"--{name.replace('_', '-')}", dest=name, type=typ, default=None,
                        metavar=typ.__name__.upper(), help=text)
    hp.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="any other hyperparameter, e.g. --set heads=8, or of one model: --set gat.heads=8 "
                         "(repeatable; values are JSON or text)")
    hp.add_argument("--preset", metavar="NAME", help="a paper preset of the model (`graphbench info MODEL` lists "
                    "them); flags override its values, and such runs are not recorded as the preset")
    where = p.add_argument_group("where and how")
    where.add_argument("--results", metavar="CSV", help="results file to append to (default: results/results.csv)")
    where.add_argument("--data-root", default=None, metavar="DIR",
                       help="where datasets live (default: $GRAPHBENCH_DATA_ROOT, else ./datasets)")
    where.add_argument("--device", default=None, help="cpu, cuda, cuda:N or auto (default: cpu)")
    where.add_argument("--threads", type=_positive_int, default=None, metavar="N",
                       help="torch CPU threads (default: 1 for small graphs, else the idle cores); recorded on "
                            "every row")
    where.add_argument("--deterministic", action="store_true",
                       help="deterministic algorithms only, and the CPU kernels' instruction set pinned to avx2 "
                            "(unless --isa says otherwise): bit-for-bit repeatable for the same seed, threads and "
                            "library versions on every x86-64 CPU with AVX2")
    where.add_argument("--isa", choices=ISA_CHOICES, default=None, type=str.lower,
                       help="instruction set of torch's, MKL's and oneDNN's CPU kernels: a level to pin, or native "
                            "(the CPU's best; the default without --deterministic); set before torch is imported "
                            "and recorded on every row (isa_pin)")
    where.add_argument("--quiet", action="store_true", help="no progress bar")
    where.add_argument("--dry-run", action="store_true",
                       help="check everything (names, hyperparameters, data, folds, results file) and print the "
                            "runs, without training or writing anything")


def parse_set(items: list[str]) -> dict[str, Any]:
    """``--set key=value`` items as a dict; values are parsed as JSON where they are JSON, else kept as text."""
    out = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"--set expects KEY=VALUE, got {item!r}")
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


def pin_requested_isa(isa: str | None, deterministic: bool, config: str | None) -> str:
    """Pin the kernel instruction set the command asks for (flags over the run file's ``isa`` / ``deterministic``)
    before torch is imported; returns the level (``native``: nothing pinned). Refuses when torch is already
    imported without the pin (:class:`graphbench.env.IsaPinError`)."""
    from graphbench.config import requested_isa
    from graphbench.env import isa_level, pin_isa

    file_isa, file_det = requested_isa(config) if config else (None, False)
    level = isa_level(isa or file_isa, deterministic or file_det)
    if level != "native":
        pin_isa(level, strict=True)
    return level


def plan_text(specs: list, results: str) -> str:
    """What ``--dry-run`` prints: the runs per (model, dataset) and where their rows would go."""
    from collections import Counter

    counts = Counter((s.model, s.dataset) for s in specs)
    lines = [f"{len(specs)} run(s), rows to {results}:"]
    for (model, dataset), n in counts.items():
        spec = next(s for s in specs if (s.model, s.dataset) == (model, dataset))
        folds = sorted({s.fold for s in specs if (s.model, s.dataset) == (model, dataset)})
        lines.append(f"  {model} on {dataset}: {n} run(s), folds {folds}, threads {spec.threads}, "
                     f"hparams {json.dumps(spec.hparams, sort_keys=True, default=str)}")
    return "\n".join(lines)


def handle(args: argparse.Namespace) -> int:
    level = pin_requested_isa(args.isa, args.deterministic, args.config)  # first: torch reads the pin at import

    from tqdm.auto import tqdm

    from graphbench import api
    from graphbench.config import load_run_config
    from graphbench.report import format_leaderboard
    from graphbench.results import check_writable, rows_frame

    cfg: dict[str, Any] = load_run_config(args.config) if args.config else {}
    models = args.model or cfg.get("models")
    datasets = args.dataset or cfg.get("datasets")
    if not models or not datasets:
        raise ValueError("give --model and --dataset (or a --config file that sets models and datasets)")
    hparams = dict(cfg.get("hparams", {}))
    hparams.update({k: getattr(args, k) for k in HP_FLAGS if getattr(args, k) is not None})
    hparams.update(parse_set(args.set))
    seeds = args.seeds if args.seeds is not None else cfg.get("seeds", [0])
    if args.folds is None:
        folds = cfg.get("folds")
    elif "all" in args.folds:
        if len(args.folds) > 1:
            raise ValueError("--folds: give 'all' alone or a list of split indices")
        folds = None
    else:
        folds = list(args.folds)
    results = args.results or cfg.get("results") or api.DEFAULT_RESULTS
    check_writable(results)  # before loading data or training anything
    device = _device(args.device or cfg.get("device", "cpu"))
    preset = args.preset or cfg.get("preset")
    if preset:
        from graphbench.presets import preset_notice

        preset_notice(models, preset, hparams, datasets)
    specs = api.plan_runs(models, datasets, seeds=seeds, folds=folds, hparams=hparams,
                          dataset_options=cfg.get("dataset_options"), data_root=args.data_root or cfg.get("data_root"),
                          device=device, deterministic=args.deterministic or cfg.get("deterministic", False),
                          threads=args.threads or cfg.get("threads"), preset=preset, isa=level)

    if args.dry_run:
        print(plan_text(specs, results))
        return 0

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
