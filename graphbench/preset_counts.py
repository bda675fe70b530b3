"""Parameter counts of the paper presets, and what ``graphbench info MODEL`` prints about presets.

Every preset is built at its ``params_dataset``'s input/output dimensions (derived from the dataset cards, without
reading data files) exactly as a run builds it, and its count is compared with the reference's own
(``docs/presets.md``). This module depends on :mod:`graphbench.presets` and :mod:`graphbench.models`, never the
other way round (the models register their presets in :mod:`graphbench.presets`).

    python -m graphbench.preset_counts --update-docs docs/presets.md   # regenerate the list of presets without a count
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import graphbench.models  # noqa: F401  (the models' modules register their presets)
from graphbench.presets import PRESETS, Preset, presets_for

#: Node-feature width of the TU sets as graphbench's loader builds them (one-hot node label, ENZYMES also its 18
#: attributes), for the sets whose width the dataset cards do not state: MUTAG 7 labels, PTC_MR 18, ENZYMES 3 + 18,
#: PROTEINS 3, NCI1 37, DD 82 (the label values that occur in DD_node_labels.txt, as every DD log of Michel et al.'s
#: TU code implies; MUTAG, PTC_MR and ENZYMES are checked against the loaded files by
#: tests/test_preset_parameter_counts.py). Social sets: the one-hot degree's cardinality (maximum degree + 1).
TU_NODE_DIMS: dict[str, int] = {"mutag": 7, "ptc_mr": 18, "enzymes": 21, "proteins": 3, "nci1": 37, "dd": 82}
#: Social sets with the dataset option ``degree="values"``: the number of degree values that occur (IMDB-BINARY 65,
#: checked against the files by tests/test_pathnn_tu.py; IMDB-MULTI 59, as every IMDB-MULTI log of Michel et al.'s
#: TU code implies).
TU_DEGREE_VALUES: dict[str, int] = {"imdb-binary": 65, "imdb-multi": 59}
#: MUTAG and PTC_MR carry one-hot edge labels (4 bond types each).
TU_EDGE_DIMS: dict[str, int] = {"mutag": 4, "ptc_mr": 4}
TU_DEGREE_CARDINALITY: dict[str, int] = {"imdb-binary": 136}


@dataclass(frozen=True)
class InputDims:
    """What a model is built for on one dataset: node and edge feature specs, output width and task level."""

    node: Any  # graphbench.data.base.FeatureSpec (imported lazily: no data import at module load)
    edge: Any
    outputs: int
    task_level: str


def dataset_input_dims(dataset: str, options: dict[str, Any] | None = None) -> InputDims:
    """The input/output dimensions graphbench's loader gives ``dataset`` (with loader ``options``), derived from the
    dataset cards and feature definitions without reading data files; raises ``KeyError`` for a dataset whose
    dimensions are only known after loading it."""
    from graphbench.data import heterophilous, lrgb, planetoid, tu, zinc
    from graphbench.data.base import FeatureSpec
    from graphbench.data.molecules import atom_spec, bond_spec

    name, options = dataset.lower(), dict(options or {})
    none = FeatureSpec("none")
    if name in planetoid.STATS:
        c = planetoid.expected_counts(name)
        return InputDims(FeatureSpec("dense", dim=c["features"]), none, c["classes"], "node")
    hetero = {h.name: h for h in heterophilous.HETERO_SETS}
    if name in hetero:
        c = hetero[name].counts
        return InputDims(FeatureSpec("dense", dim=c["features"]), none, c["classes"], "node")
    tu_sets = {i.name.lower(): i for i in tu.TU_SETS}
    if name in tu_sets:
        info = tu_sets[name]
        edge = FeatureSpec("dense", dim=TU_EDGE_DIMS[name]) if name in TU_EDGE_DIMS else none
        if info.social and options.get("degree") in ("scalar", "constant"):
            node = FeatureSpec("dense", dim=1)
        elif (info.social and options.get("degree") == "values" and name in TU_DEGREE_VALUES
              and options.get("max_degree") is None):
            node = FeatureSpec("dense", dim=TU_DEGREE_VALUES[name])
        elif (info.social and name in TU_DEGREE_CARDINALITY and options.get("max_degree") is None
              and options.get("degree", "onehot") == "onehot"):
            node = FeatureSpec("categorical", cardinalities=(TU_DEGREE_CARDINALITY[name],))
        elif not info.social and name in TU_NODE_DIMS:
            attributes = 18 if info.attributes and options.get("node_attributes") is False else 0  # ENZYMES's
            node = FeatureSpec("dense", dim=TU_NODE_DIMS[name] - attributes)
        else:
            raise KeyError(f"{dataset}: its node-feature width is only known after loading it")
        return InputDims(node, edge, info.classes, "graph")
    if name == "zinc":
        return InputDims(FeatureSpec("categorical", cardinalities=(zinc.NUM_ATOM_TYPES,)),
                         FeatureSpec("categorical", cardinalities=(zinc.NUM_BOND_TYPES,)), 1, "graph")
    if name == "ogbg-molhiv":
        return InputDims(atom_spec(), bond_spec(), 1, "graph")
    peptides = {i.name: i for i in (lrgb.FUNC, lrgb.STRUCT)}
    if name in peptides:
        return InputDims(atom_spec(), bond_spec(), peptides[name].tasks, "graph")
    if name == "csl":
        from graphbench.data.synthetic.csl import SKIP_LENGTHS

        return InputDims(none, none, len(SKIP_LENGTHS), "graph")
    raise KeyError(f"{dataset}: no input dimensions known without loading it (see dataset_input_dims)")


def build_preset_model(preset: Preset, dataset: str | None = None):
    """The preset's network built at ``dataset``'s dimensions (default: its ``params_dataset``), exactly as a run
    builds it (the model's hyperparameters from the preset, the run's encodings' width)."""
    from graphbench.models import build_model
    from graphbench.train.runner import resolve_hparams
    from graphbench.transforms.config import run_pe_dim

    dataset = dataset or preset.params_dataset
    if not dataset:
        raise ValueError(f"preset {preset.model}/{preset.name} names no params_dataset")
    dims = dataset_input_dims(dataset, preset.dataset_options)
    model_hp, train_hp = resolve_hparams(preset.model, preset.hparams)
    return build_model(preset.model, dims.node, dims.outputs, task_level=dims.task_level, edge_dim=dims.edge,
                       pe_dim=run_pe_dim(preset.model, model_hp, train_hp), **model_hp)


def preset_parameter_count(preset: Preset) -> int:
    """Our parameter count of ``preset`` at its ``params_dataset``'s dimensions."""
    from graphbench.models import count_parameters

    return count_parameters(build_preset_model(preset))


def parameter_status(preset: Preset) -> str:
    """One line: our count against the reference's (verified when equal), or why there is no reference count."""
    if preset.params is None:
        line = f"no reference count: {preset.params_missing or '(params_missing not given)'}"
        if preset.params_dataset:
            try:
                line += f" (ours {preset_parameter_count(preset):,} on {preset.params_dataset})"
            except (KeyError, ValueError) as exc:
                line += f" (ours not computable on {preset.params_dataset}: {exc})"
        return line
    try:
        ours = preset_parameter_count(preset)
    except (KeyError, ValueError) as exc:
        return f"reference {preset.params:,} on {preset.params_dataset}; ours not computable: {exc}"
    verdict = "verified (equal)" if ours == preset.params else f"DIFFERS by {ours - preset.params:+,}"
    return (f"ours {ours:,} / reference {preset.params:,} on {preset.params_dataset} — {verdict} "
            f"(reference count: {preset.params_source or 'source not given'})")


def presets_without_count() -> list[Preset]:
    """Every registered preset that has no reference parameter count, sorted by (model, name)."""
    return [PRESETS[k] for k in sorted(PRESETS) if PRESETS[k].params is None]


def format_missing_counts() -> str:
    """The Markdown list docs/presets.md carries between its generated-list markers (kept in sync by a test)."""
    rows = [f"- `{p.model}` / `{p.name}`: {p.params_missing or '(no reason given)'}" for p in presets_without_count()]
    return "\n".join(rows) if rows else "- none"


def format_preset_table() -> str:
    """A Markdown table of every registered preset: its reference, our parameter count at ``params_dataset``'s
    dimensions and the reference's (``verified`` when equal), or that the reference states none."""
    rows = ["| model | preset | reference | counted on | ours | reference's | |", "|---|---|---|---|---|---|---|"]
    for key in sorted(PRESETS):
        p = PRESETS[key]
        try:
            ours = f"{preset_parameter_count(p):,}" if p.params_dataset else "—"
        except (KeyError, ValueError):
            ours = "not computable"
        if p.params is None:
            theirs, verdict = "none stated", "see below"
        else:
            theirs = f"{p.params:,}"
            verdict = "verified" if ours == theirs else "**differs**"
        ref = (p.reference or "(not given)").replace("|", "\\|")
        rows.append(f"| `{p.model}` | `{p.name}` | {ref} | {p.params_dataset or '—'} | {ours} | {theirs} | {verdict} |")
    return "\n".join(rows)


DOCS_MARKERS = ("<!-- presets-without-count:start -->", "<!-- presets-without-count:end -->")
TABLE_MARKERS = ("<!-- presets-table:start -->", "<!-- presets-table:end -->")


def _replace_between(text: str, markers: tuple[str, str], body: str) -> str:
    start, end = markers
    if start not in text:
        return text
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{body}\n{end}{tail}"


def update_docs_list(path: str) -> bool:
    """Rewrite the generated parts of ``path`` (docs/presets.md): the list of presets without a count between
    :data:`DOCS_MARKERS` and, where the file has them, the table of every preset between :data:`TABLE_MARKERS`;
    returns whether the file changed."""
    from pathlib import Path

    file = Path(path)
    text = file.read_text(encoding="utf-8")
    new = _replace_between(text, DOCS_MARKERS, format_missing_counts())
    if TABLE_MARKERS[0] in new:
        new = _replace_between(new, TABLE_MARKERS, format_preset_table())
    if new != text:
        file.write_text(new, encoding="utf-8")
    return new != text


def format_presets(model: str) -> str:
    """The text ``graphbench info MODEL`` prints about the model's presets."""
    lines = []
    for p in presets_for(model):
        lines.append(f"  {p.name} — {p.source}")
        lines.append(f"      reference: {p.reference or '(not given)'}")
        lines.append(f"      parameters: {parameter_status(p)}")
        lines.append(f"      {p.description}")
        lines.append(f"      datasets: {', '.join(p.datasets) or 'any'}")
        lines.append("      " + ", ".join(f"{k}={v}" for k, v in p.hparams.items()))
        if p.dataset_options:
            lines.append("      dataset options: " + ", ".join(f"{k}={v}" for k, v in p.dataset_options.items()))
        if p.grid:
            lines.append("      paper's grid: " + "; ".join(f"{k} ∈ {v}" for k, v in p.grid.items()))
        lines.append(f"      deviations from the reference: {p.deviations or 'none named'}")
    return "\n".join(lines) if lines else "  none"


if __name__ == "__main__":  # python -m graphbench.preset_counts [--update-docs docs/presets.md]
    import sys

    if len(sys.argv) == 3 and sys.argv[1] == "--update-docs":
        print("updated" if update_docs_list(sys.argv[2]) else "already in sync", sys.argv[2])
    else:
        print(format_missing_counts())
