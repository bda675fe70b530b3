"""Paper presets: named configurations that rebuild a paper's network and training setting exactly.

A preset belongs to one model and names its source. ``hparams`` are the model's and the trainer's hyperparameters
(the backbone's switches — ``encoder``, ``head``, ``norm``, ``residual``, ``input_dropout``, ``decay_scope``,
``layer_readout`` — turn off what the paper's network lacks); ``dataset_options`` are loader options the paper's
preprocessing needs (Kipf & Welling row-normalise the Planetoid features); ``datasets`` are the datasets the paper
ran it on (the sweep enqueues the preset as its first trial only there); ``grid`` is the paper's own
hyperparameter grid where it published one (a sweep may search it: ``space: preset``); ``deviations`` says, in
words, where our run of the preset still differs from the paper's code.

    graphbench run --model gcn --preset kipf2017 --dataset cora
    graphbench info gcn            # lists the presets with their sources

Where the paper's numbers are: :mod:`graphbench.published`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphbench.registry import UnknownNameError

PLANETOID = ("cora", "citeseer", "pubmed")
ERRICA_CHEMICAL = ("dd", "enzymes", "nci1", "proteins")
ERRICA_SOCIAL = ("imdb-binary", "imdb-multi", "reddit-binary", "reddit-multi-5k", "collab")
XU_TU = ("mutag", "ptc_mr", "nci1", "proteins", "collab", "imdb-binary", "imdb-multi", "reddit-binary",
         "reddit-multi-5k")


@dataclass(frozen=True)
class Preset:
    """One paper's configuration of one model (see the module docstring)."""

    name: str
    model: str
    source: str
    description: str
    hparams: dict[str, Any]
    datasets: tuple[str, ...] = ()
    dataset_options: dict[str, Any] = field(default_factory=dict)
    grid: dict[str, list[Any]] = field(default_factory=dict)
    deviations: str = ""
    #: Where the reference network lives, precisely: ``owner/repo@commit:path (config or script)`` for released code,
    #: or the paper's table / section where no code was released.
    reference: str = ""
    #: The reference's own parameter count (from its logs or the paper), for ``params_dataset``'s dimensions;
    #: ``None`` where neither states one (then ``params_missing`` says so and why).
    params: int | None = None
    #: The dataset whose input/output dimensions ``params`` was counted on (one of ``datasets``).
    params_dataset: str = ""
    #: Where ``params`` is stated (a log file, a table), so a reader can check it.
    params_source: str = ""
    #: Why there is no reference count (e.g. "the logs print none and the paper states none").
    params_missing: str = ""

    def applies_to(self, dataset: str) -> bool:
        """Whether the paper ran this configuration on ``dataset`` (the sweep's first-trial rule)."""
        return dataset.lower() in self.datasets

    def search_space(self) -> dict[str, dict]:
        """The paper's grid as a sweep search space (categorical choices), empty if it published none."""
        return {k: {"type": "categorical", "choices": list(v)} for k, v in self.grid.items()}


_KIPF = dict(layers=2, hidden=16, encoder=False, head="none", norm="none", residual=False, activation="relu",
             dropout=0.5, input_dropout=0.5, weight_decay=5e-4, decay_scope="first_layer", lr=0.01, epochs=200,
             patience=200, scheduler="none")
_GAT = dict(layers=2, hidden=64, heads=8, out_heads=1, encoder=False, head="none", norm="none", residual=False,
            activation="elu", dropout=0.6, input_dropout=0.6, attn_dropout=0.6, weight_decay=5e-4,
            decay_scope="all", lr=0.005, epochs=1000, patience=100, scheduler="none")
# Errica et al. (2020), config_GIN.yml: the grid below; the preset is its point of issue 9 (64 × 4, dropout 0.5, sum).
_ERRICA_GIN = dict(hidden=64, layers=4, learn_eps=True, encoder=True, encoder_act=True, residual=False, norm="batch",
                   layer_readout="sum", layer_dropout=False, readout="sum", dropout=0.5, batch_size=32, lr=0.01,
                   scheduler="step", lr_step=50, lr_factor=0.5, epochs=1000, patience=20, weight_decay=0.0)
_ERRICA_SAGE = dict(hidden=64, layers=3, aggregator="mean", encoder=False, norm="none", residual=False,
                    activation="none", layer_readout="concat", readout="max", head="mlp", dropout=0.0,
                    batch_size=32, lr=1e-3, scheduler="none", epochs=1000, patience=500, weight_decay=0.0)
_XU_GIN = dict(hidden=64, layers=4, learn_eps=False, encoder=False, residual=False, norm="batch",
               layer_readout="sum", layer_dropout=False, readout="sum", dropout=0.5, batch_size=32, lr=0.01,
               scheduler="step", lr_step=50, lr_factor=0.5, epochs=350, patience=350, weight_decay=0.0)

PRESETS: dict[tuple[str, str], Preset] = {}


def register_preset(preset: Preset) -> Preset:
    """Add a preset (plugins may add their own); a taken (model, name) pair raises."""
    key = (preset.model.lower(), preset.name.lower())
    if key in PRESETS and PRESETS[key] is not preset:
        raise ValueError(f"preset {preset.name!r} of model {preset.model!r} is already registered")
    PRESETS[key] = preset
    return preset


register_preset(Preset(
    "kipf2017", "gcn", "Kipf & Welling, Semi-Supervised Classification with Graph Convolutional Networks, ICLR 2017 "
    "(§5.2, Appendix B)",
    "the paper's two-layer GCN: Â-conv(features → 16) → ReLU → Â-conv(16 → classes), dropout 0.5 on both layers' "
    "inputs, L2 5e-4 on the first layer only, Adam lr 0.01, 200 epochs, row-normalised features",
    _KIPF, datasets=PLANETOID, dataset_options={"normalize_features": True},
    deviations="Kipf & Welling stop when the validation loss exceeds the mean of the last 10 epochs and report the "
               "final model; we train the 200 epochs and keep the epoch with the best validation accuracy. The "
               "TensorFlow code has no biases (23,040 weights on Cora); DGL's GraphConv has them (23,063)."))
register_preset(Preset(
    "velickovic2018", "gat", "Veličković et al., Graph Attention Networks, ICLR 2018 (§3.3, transductive setup)",
    "the paper's Cora/CiteSeer GAT: 8 heads × 8 features → ELU → 1 output head, dropout 0.6 on both layers' inputs "
    "and on the attention coefficients, L2 5e-4, Adam lr 0.005, patience 100, row-normalised features",
    _GAT, datasets=("cora", "citeseer"), dataset_options={"normalize_features": True},
    deviations="The paper stops on validation loss and accuracy together (patience 100); we select and stop on "
               "validation accuracy alone, with at most 1000 epochs."))
register_preset(Preset(
    "velickovic2018-pubmed", "gat", "Veličković et al., Graph Attention Networks, ICLR 2018 (§3.3, PubMed)",
    "the paper's PubMed GAT: 8 heads × 8 features → ELU → 8 averaged output heads, L2 0.001, Adam lr 0.01",
    {**_GAT, "out_heads": 8, "weight_decay": 1e-3, "lr": 0.01}, datasets=("pubmed",),
    dataset_options={"normalize_features": True}, deviations="as velickovic2018"))
register_preset(Preset(
    "xu2019", "gin", "Xu, Hu, Leskovec, Jegelka, How Powerful are Graph Neural Networks?, ICLR 2019 (§7, Eq. 4.2)",
    "GIN-0: 5 layers including the input layer (4 GIN layers, 2-layer MLPs with batch norm), hidden 64, sum "
    "readout of every layer through its own linear map and dropout, raw one-hot input, Adam lr 0.01 halved every "
    "50 epochs, 350 epochs",
    _XU_GIN, datasets=XU_TU, grid={"hidden": [16, 32, 64], "batch_size": [32, 128], "dropout": [0.0, 0.5]},
    deviations="Xu et al. select the number of epochs by the 10-fold cross-validation accuracy averaged over folds "
               "(no separate validation set); we select on each fold's validation part (Errica et al.'s "
               "protocol). Their grid uses hidden {16, 32} on bioinformatics and 64 on social sets."))
register_preset(Preset(
    "errica2020", "gin", "Errica, Podda, Bacciu, Micheli, A Fair Comparison of Graph Neural Networks for Graph "
    "Classification, ICLR 2020 (config_GIN.yml)",
    "Errica et al.'s GIN: input layer Linear → BatchNorm → ReLU, GIN-ε layers (2-layer MLPs with batch norm), "
    "every layer's pooled state through its own linear map and dropout, summed; Adam lr 0.01 halved every 50 "
    "epochs, patience 20, up to 1000 epochs",
    _ERRICA_GIN, datasets=ERRICA_CHEMICAL + ERRICA_SOCIAL,
    grid={"hidden": [32, 64], "layers": [3, 4], "dropout": [0.0, 0.5], "readout": ["mean", "sum"],
          "batch_size": [32, 128]},
    deviations="Their grid ties width and depth ((32, 3 layers) or (64, 4 layers)); as a search space ours "
               "crosses them (4 combinations instead of 2). Their input layer is always sum-pooled. Their code also "
               "applies the input layer's readout dropout at evaluation time (F.dropout without training=...); we "
               "do not."))
register_preset(Preset(
    "errica2020", "sage", "Errica, Podda, Bacciu, Micheli, A Fair Comparison of Graph Neural Networks for Graph "
    "Classification, ICLR 2020 (config_GraphSAGE.yml)",
    "Errica et al.'s GraphSAGE: SAGE layers on the raw features without activation between them, every layer's "
    "states concatenated, max-pooled, then Linear → ReLU → Linear; Adam, no schedule, patience 500",
    _ERRICA_SAGE, datasets=ERRICA_CHEMICAL + ERRICA_SOCIAL,
    grid={"hidden": [32, 64], "layers": [3, 5], "aggregator": ["mean", "max", "sum"], "lr": [1e-4, 1e-3, 1e-2]},
    deviations="With max aggregation Errica's code adds a Linear → ReLU after each layer (fc_max); ours does not "
               "(DGL's 'pool' aggregator is the paper's max-pooling aggregator)."))


def presets_for(model: str) -> list[Preset]:
    """The presets of ``model`` (canonical registry name), sorted by name."""
    key = model.lower()
    return sorted((p for (m, _), p in PRESETS.items() if m == key), key=lambda p: p.name)


def get_preset(model: str, name: str) -> Preset:
    """The preset ``name`` of ``model``; an unknown name raises listing the model's presets."""
    from graphbench.registry import MODELS

    canonical = MODELS.get(model).name
    preset = PRESETS.get((canonical, name.lower()))
    if preset is None:
        known = ", ".join(p.name for p in presets_for(canonical)) or "none"
        raise UnknownNameError(f"model {canonical!r} has no preset {name!r}; its presets: {known} "
                               f"(`graphbench info {canonical}` describes them)")
    return preset


def preset_for_dataset(model: str, dataset: str) -> Preset | None:
    """The first preset of ``model`` that its paper ran on ``dataset`` (None if the paper never did)."""
    return next((p for p in presets_for(model) if p.applies_to(dataset)), None)


def apply_preset(model: str, name: str, hparams: dict[str, Any] | None = None,
                 dataset_options: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """The preset's hyperparameters and dataset options with the user's on top, and the names of the preset
    values the user changed (a run with changes is not the paper's configuration and is not recorded as it)."""
    preset = get_preset(model, name)
    given = dict(hparams or {})
    changed = sorted(k for k, v in given.items() if k in preset.hparams and preset.hparams[k] != v)
    return ({**preset.hparams, **given}, {**preset.dataset_options, **(dataset_options or {})}, changed)


def sweep_first_trial(model: str, dataset: str, space: dict[str, dict], defaults: dict[str, Any],
                      context: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """For the sweep runner: the parameters of a study's first enqueued trial and its user attributes.

    Where ``model`` has a preset its paper ran on ``dataset``, the trial takes the preset's values of the searched
    parameters (those inside the space); it is described as the paper preset (``gb.paper_preset``) only when the
    whole configuration — ``context`` (the model's defaults and the sweep's fixed values) plus these parameters —
    equals the preset on every preset value; otherwise the description names the values that differ. Without such
    a preset the first trial is the model's defaults, described as such.
    """
    from graphbench.sweep.space import default_params

    preset = preset_for_dataset(model, dataset)
    if preset is None:
        return default_params(space, defaults, context), {"gb.first_trial": "the model's default configuration"}
    params = default_params(space, {**defaults, **preset.hparams}, {**context, **preset.hparams})
    config = {**context, **params}
    differ = sorted(k for k, v in preset.hparams.items() if config.get(k) != v)
    if differ:
        what = (f"values of paper preset {preset.name} for the searched parameters; the sweep fixes or leaves "
                f"{', '.join(differ)} at other values, so it is not the paper's configuration")
        return params, {"gb.first_trial": what}
    return params, {"gb.first_trial": f"paper preset {preset.name} ({preset.source})", "gb.paper_preset": preset.name}


def sweep_model_options(model: str, opts: dict[str, Any]) -> dict[str, Any]:
    """A sweep file's per-model entry with ``preset: NAME`` expanded: the preset's values become fixed
    hyperparameters except those the entry searches (``search_space``; ``search_space: preset`` is the paper's
    own grid), and the entry's ``hparams`` override them. Returns ``{"hparams": ..., "search_space": ...}``."""
    space = opts.get("search_space") or {}
    hparams = dict(opts.get("hparams") or {})
    name = opts.get("preset")
    if name is None:
        if space == "preset":
            raise ValueError(f"models.{model}: 'search_space: preset' needs 'preset: NAME'")
        return {"hparams": hparams, "search_space": dict(space)}
    preset = get_preset(model, str(name))
    if space == "preset":
        if not preset.grid:
            raise ValueError(f"preset {preset.name} of {model} has no published grid; give a search_space")
        space = preset.search_space()
    fixed = {k: v for k, v in preset.hparams.items() if k not in space}
    return {"hparams": {**fixed, **hparams}, "search_space": dict(space)}


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


def preset_notice(models: list[str], name: str, hparams: dict[str, Any], datasets: list[str]) -> None:
    """Tell the CLI user (stderr) which preset values their flags override and on which datasets the paper did
    not run the preset; raises for a model without that preset."""
    import sys

    for m in models:
        preset = get_preset(m, name)
        _, _, changed = apply_preset(m, name, hparams)
        if changed:
            print(f"note: {', '.join(changed)} override preset {preset.name} of {m}; these runs are not recorded "
                  "as the preset", file=sys.stderr)
        other = [d for d in datasets if not preset.applies_to(d)]
        if other:
            print(f"note: {preset.source} did not run preset {preset.name} on {', '.join(other)}; there is no "
                  "paper number to compare with there", file=sys.stderr)


# ---------------------------------------------------------------------------------------------------------------
# Parameter counts: every preset is built at its ``params_dataset``'s input/output dimensions and its count compared
# with the reference's own (docs/presets.md).
# ---------------------------------------------------------------------------------------------------------------

#: Node-feature width of the TU sets as graphbench's loader builds them (one-hot node label, ENZYMES also its 18
#: attributes), for the sets whose width the dataset cards do not state: MUTAG 7 labels, PTC_MR 18, ENZYMES 3 + 18,
#: PROTEINS 3, NCI1 37 (MUTAG, PTC_MR and ENZYMES are checked against the loaded files by
#: tests/test_preset_parameter_counts.py). Social sets: the one-hot degree's cardinality (maximum degree + 1).
TU_NODE_DIMS: dict[str, int] = {"mutag": 7, "ptc_mr": 18, "enzymes": 21, "proteins": 3, "nci1": 37}
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
        if info.social and options.get("degree") == "scalar":
            node = FeatureSpec("dense", dim=1)
        elif info.social and name in TU_DEGREE_CARDINALITY and options.get("max_degree") is None:
            node = FeatureSpec("categorical", cardinalities=(TU_DEGREE_CARDINALITY[name],))
        elif not info.social and name in TU_NODE_DIMS:
            node = FeatureSpec("dense", dim=TU_NODE_DIMS[name])
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
    import graphbench.models  # noqa: F401  (the models' modules register their presets)

    return [PRESETS[k] for k in sorted(PRESETS) if PRESETS[k].params is None]


def format_missing_counts() -> str:
    """The Markdown list docs/presets.md carries between its generated-list markers (kept in sync by a test)."""
    rows = [f"- `{p.model}` / `{p.name}`: {p.params_missing or '(no reason given)'}" for p in presets_without_count()]
    return "\n".join(rows) if rows else "- none"


DOCS_MARKERS = ("<!-- presets-without-count:start -->", "<!-- presets-without-count:end -->")


def update_docs_list(path: str) -> bool:
    """Rewrite the generated list of presets without a count between :data:`DOCS_MARKERS` in ``path``
    (docs/presets.md); returns whether the file changed."""
    from pathlib import Path

    file = Path(path)
    text = file.read_text(encoding="utf-8")
    start, end = DOCS_MARKERS
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    new = f"{head}{start}\n{format_missing_counts()}\n{end}{tail}"
    if new != text:
        file.write_text(new, encoding="utf-8")
    return new != text


if __name__ == "__main__":  # python -m graphbench.presets [--update-docs docs/presets.md]
    import sys

    from graphbench.presets import format_missing_counts as _missing
    from graphbench.presets import update_docs_list as _update

    if len(sys.argv) == 3 and sys.argv[1] == "--update-docs":
        print("updated" if _update(sys.argv[2]) else "already in sync", sys.argv[2])
    else:
        print(_missing())
