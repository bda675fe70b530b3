"""``graphbench list transforms`` and ``graphbench info NAME`` for a transform (hooked into the CLI)."""

from __future__ import annotations

from typing import Any

from graphbench.registry import TRANSFORMS
from graphbench.transforms.base import Edge, Extra, Node, transform_info


def _output(out: Any) -> str:
    if isinstance(out, Node):
        extra = [f"role {out.role}" if out.role else "", f"width {out.width}" if out.width else "",
                 f"training-time {out.augment}" if out.augment else ""]
        return "node tensor (ndata)" + "".join(f", {x}" for x in extra if x)
    if isinstance(out, Edge):
        return "edge tensor (edata)"
    if isinstance(out, Extra):
        if out.graph:
            return "per-graph DGLGraph (batched with dgl.batch)"
        what = {"nodes": "node ids", "edges": "edge ids", None: "values"}[out.index]
        of = f" of extra graph {out.of!r}" if out.of else ""
        shift = " (offset per graph)" if out.index else " (concatenated)"
        return f"per-graph tensor of {what}{of}{shift}, batched along dim {out.dim}"
    return repr(out)


def list_transforms() -> list[dict[str, Any]]:
    """One dict per registered transform: name, version, parameters with defaults, outputs, paper, doc."""
    rows = []
    for e in TRANSFORMS:
        info = e.meta["info"]
        rows.append({"name": info.name, "version": info.version, "stochastic": info.stochastic,
                     "hparams": {k: hp.default for k, hp in info.hparams.items()},
                     "hparam_help": {k: hp.help for k, hp in info.hparams.items()},
                     "outputs": {k: _output(v) for k, v in info.outputs.items()}, "paper": info.paper,
                     "doc": info.doc})
    return rows


def print_list() -> None:
    print(f"{'transform':<14} {'version':<8} {'parameters':<30} outputs")
    for t in list_transforms():
        params = ", ".join(f"{k}={v!r}" for k, v in t["hparams"].items()) or "-"
        print(f"{t['name']:<14} {t['version']:<8} {params:<30} {', '.join(t['outputs'])}")


def print_info(name: str) -> None:
    info = transform_info(name)
    t = next(x for x in list_transforms() if x["name"] == info.name)
    seeded = ", stochastic: seeded by the run" if t["stochastic"] else ""
    print(f"transform {t['name']} (version {t['version']}{seeded})" + (f" — {t['paper']}" if t["paper"] else "") + "\n")
    print(t["doc"], "\n")
    print("parameters (default — help; in a sweep searchable as NAME.PARAM):")
    for k, v in t["hparams"].items():
        print(f"  {info.name}.{k:<12} {v!r:<8} {t['hparam_help'][k]}")
    if not t["hparams"]:
        print("  (none)")
    print("\noutputs:")
    for k, v in t["outputs"].items():
        print(f"  {k:<14} {v}")
    print(f"\nuse: transforms: [{{name: {info.name}"
          + "".join(f", {k}: {v!r}" for k, v in t["hparams"].items()) + "}]")
