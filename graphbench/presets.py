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


_KIPF = dict(layers=2, hidden=16, bias=False, encoder=False, head="none", norm="none", residual=False,
             activation="relu", dropout=0.5, input_dropout=0.5, weight_decay=5e-4, decay_scope="first_layer", lr=0.01,
             epochs=200, patience=200, scheduler="none")
_GAT = dict(layers=2, hidden=64, heads=8, out_heads=1, encoder=False, head="none", norm="none", residual=False,
            activation="elu", dropout=0.6, input_dropout=0.6, attn_dropout=0.6, weight_decay=5e-4,
            decay_scope="all", lr=0.005, epochs=1000, patience=100, scheduler="none")
# Errica et al. (2020), config_GIN.yml and models/graph_classifiers/GIN.py (docs/models/baselines.md §GIN): the
# point below is one grid point (64 × 4, train_eps, sum, dropout 0.5, batch 32, early stopping on accuracy);
# patience 500 with a tie counting as an improvement (EarlyStopper.Patience: val_acc >= best).
# hidden and layers stay fixed (so a sweep searches hidden_units alone); hidden_units replaces them in the model.
_ERRICA_GIN = dict(hidden_units="64,64,64,64", hidden=64, layers=4, learn_eps=True, encoder=True, encoder_act=True,
                   edge_features=False,
                   input_layers=2, input_term="pool_of_linear", residual=False, norm="batch", layer_readout="sum",
                   layer_dropout=False, readout="sum", dropout=0.5, batch_size=32, lr=0.01, scheduler="step",
                   lr_step=50, lr_factor=0.5, epochs=1000, patience=500, monitor="val_metric", ties="later",
                   weight_decay=0.0)
_ERRICA_GIN_GRID = {"hidden_units": ["64,64,64,64", "32,32,32,32", "64", "32,32"], "learn_eps": [True, False],
                    "readout": ["mean", "sum"], "dropout": [0.5, 0.0], "batch_size": [32, 128],
                    "monitor": ["val_metric", "val_loss"]}
# Errica et al. (2020), config_GraphSAGE.yml and models/graph_classifiers/GraphSAGE.py (§GraphSAGE).
_ERRICA_SAGE = dict(hidden=64, layers=3, aggregator="mean", max_fc=True, encoder=False, norm="none",
                    residual=False, activation="none", layer_dropout=False, layer_readout="concat", readout="max",
                    head="mlp", dropout=0.0, batch_size=32, lr=1e-3, scheduler="none", epochs=1000, patience=500,
                    monitor="val_metric", ties="later", weight_decay=0.0)
_ERRICA_SAGE_GRID = {"lr": [1e-4, 1e-2, 1e-3], "hidden": [32, 64], "layers": [3, 5],
                     "aggregator": ["sum", "max", "mean"], "monitor": ["val_metric", "val_loss"]}
# Errica et al.'s social sets: the degree as one number (PrepareDatasets.py --use-degree; their "SOCIAL + degree"
# table, the one published_results.csv quotes). The option is ignored by sets with node labels.
_ERRICA_DATA = {"degree": "scalar"}
# Xu et al. (2019), weihua916/powerful-gnns main.py and models/graphcnn.py (§GIN, Xu et al.): 5 layers counting the
# input one, 2-layer MLPs, an epoch of 50 random batches, StepLR(50, 0.5) stepped once per epoch, 350 epochs.
_XU_GIN = dict(hidden=32, layers=4, learn_eps=False, encoder=False, residual=False, norm="batch", edge_features=False,
               layer_readout="sum", layer_dropout=False, readout="sum", dropout=0.5, batch_size=32, iters_per_epoch=50,
               lr=0.01, scheduler="step", lr_step=50, lr_factor=0.5, epochs=350, patience=350, weight_decay=0.0)
XU_BIO = ("mutag", "ptc_mr", "nci1", "proteins")
XU_SOCIAL = ("collab", "imdb-binary", "imdb-multi", "reddit-binary", "reddit-multi-5k")
_XU_DEVIATIONS = ("Xu et al. select one epoch for all folds by the validation accuracy averaged over the 10 folds "
                  "(no test part); we select on each fold's validation part (Errica et al.'s protocol). Their "
                  "GIN-0 model also registers a (never used) ε per layer, 4 parameters that ours does not have. "
                  "Batch norm statistics, dropout and the random batches use torch's generator, not NumPy's.")
_ERRICA_PROTOCOL = ("Errica et al. report per outer fold the mean test accuracy of 3 trainings of the selected "
                    "configuration (risk assessment), selected by an inner hold-out over the whole grid; a single "
                    "`graphbench run` trains the preset point once (`graphbench reproduce` runs the protocol).")

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
    "the paper's two-layer GCN without biases: Â-conv(features → 16) → ReLU → Â-conv(16 → classes), dropout 0.5 "
    "on both layers' inputs, L2 5e-4 on the first layer only, Adam lr 0.01, 200 epochs, row-normalised features",
    _KIPF, datasets=PLANETOID, dataset_options={"normalize_features": True},
    deviations="Kipf & Welling stop when the validation loss exceeds the mean of the last 10 epochs (window 10) "
               "and report the final model; we train the 200 epochs and keep the epoch with the best validation "
               "accuracy. (Their input dropout acts on the sparse feature matrix's stored entries, and so does "
               "ours: sparse_input is auto and Planetoid's bag of words is below 10 % dense; docs/models/"
               "baselines.md §Sparse input features.)",
    reference="tkipf/gcn@39a4089fe72a:gcn/models.py (GCN), gcn/layers.py (GraphConvolution, bias=False), "
              "gcn/train.py (flags: hidden1 16, dropout 0.5, weight_decay 5e-4, lr 0.01, epochs 200, "
              "early_stopping 10)",
    params=23_040, params_dataset="cora",
    params_source="counted from the reference code's trainable variables (gcn/models.py builds two "
                  "GraphConvolution layers with bias=False: 1433·16 + 16·7 weights); neither the paper nor the "
                  "code's output prints a count. With biases (DGL's default) it would be 23,063."))
register_preset(Preset(
    "velickovic2018", "gat", "Veličković et al., Graph Attention Networks, ICLR 2018 (§3.3, transductive setup)",
    "the paper's Cora/CiteSeer GAT: 8 heads × 8 features → ELU → 1 output head, dropout 0.6 on both layers' inputs "
    "and on the attention coefficients, L2 5e-4, Adam lr 0.005, patience 100, row-normalised features",
    _GAT, datasets=("cora", "citeseer"), dataset_options={"normalize_features": True},
    deviations="The reference stops on validation loss and accuracy together (patience 100: an epoch where "
               "either reaches its best, ties included, resets the count) and keeps the last epoch where both are "
               "at their best; we select and stop on validation accuracy alone, with at most 1000 epochs. The "
               "reference's attention-score projections (conv1d f_1, f_2) each carry a bias, two per head; they "
               "add one constant to all logits of a head, which the softmax cancels, so ours omit them (18 "
               "parameters on Cora).",
    reference="PetarV-/GAT@5af87e7fce2b:execute_cora.py (hid_units [8], n_heads [8, 1], lr 0.005, l2 5e-4, "
              "patience 100), models/gat.py, utils/layers.py (attn_head)",
    params_dataset="cora",
    params_missing="neither the paper nor the code's output states a count. Counted from utils/layers.py the "
                   "reference has 92,391 parameters on Cora; ours 92,373 (the 18 softmax-cancelled attention "
                   "biases, see deviations)."))
register_preset(Preset(
    "velickovic2018-pubmed", "gat", "Veličković et al., Graph Attention Networks, ICLR 2018 (§3.3, PubMed)",
    "the paper's PubMed GAT: 8 heads × 8 features → ELU → 8 averaged output heads, L2 0.001, Adam lr 0.01",
    {**_GAT, "out_heads": 8, "weight_decay": 1e-3, "lr": 0.01}, datasets=("pubmed",),
    dataset_options={"normalize_features": True},
    deviations="as velickovic2018 (the attention-score biases: 16 + 16 parameters on PubMed)",
    reference="PetarV-/GAT@5af87e7fce2b: the repository ships Cora's script only; the PubMed settings (8 output "
              "heads, lr 0.01, L2 0.001) are the paper's §3.3",
    params_dataset="pubmed",
    params_missing="neither the paper nor the code states a count; counted from utils/layers.py the reference has "
                   "32 more than ours (the attention-score biases)"))
register_preset(Preset(
    "xu2019", "gin", "Xu, Hu, Leskovec, Jegelka, How Powerful are Graph Neural Networks?, ICLR 2019 (§7, Eq. 4.2; "
    "bioinformatics sets)",
    "GIN-0: 5 layers including the input layer (4 GIN layers, 2-layer MLPs with batch norm), sum readout of every "
    "layer through its own linear map and dropout, raw one-hot node labels, Adam lr 0.01 halved every 50 epochs, "
    "350 epochs of 50 random batches",
    _XU_GIN, datasets=XU_BIO, grid={"hidden": [16, 32], "batch_size": [32, 128], "dropout": [0.0, 0.5]},
    deviations=_XU_DEVIATIONS,
    reference="weihua916/powerful-gnns@9a2ce8ac3e99:main.py (iters_per_epoch 50, StepLR(50, 0.5), epochs 350), "
              "models/graphcnn.py, models/mlp.py; the grid is the paper's §7 (hidden {16, 32}, batch {32, 128}, "
              "dropout {0, 0.5} on bioinformatics sets)",
    params_dataset="mutag",
    params_missing="the paper states no count and main.py prints none; counted from models/graphcnn.py the "
                   "reference has 8,444 on MUTAG (7 labels, 2 classes, hidden 32), ours 8,440: graphcnn.py "
                   "registers an ε per GIN layer even for GIN-0, which never uses it"))
register_preset(Preset(
    "xu2019-social", "gin", "Xu, Hu, Leskovec, Jegelka, How Powerful are Graph Neural Networks?, ICLR 2019 (§7, "
    "Eq. 4.2; social sets)",
    "GIN-0 as xu2019 with hidden 64 on one-hot node degrees (--degree_as_tag), the paper's social-set setting",
    {**_XU_GIN, "hidden": 64}, datasets=XU_SOCIAL, dataset_options={"degree": "onehot"},
    grid={"batch_size": [32, 128], "dropout": [0.0, 0.5]},
    deviations=_XU_DEVIATIONS + " On REDDIT-BINARY and REDDIT-MULTI-5K Xu et al. give every node the same feature "
                                "(uninformative); we give the one-hot degree there too.",
    reference="weihua916/powerful-gnns@9a2ce8ac3e99:main.py (--degree_as_tag, iters_per_epoch 50, StepLR(50, "
              "0.5), epochs 350), models/graphcnn.py; the grid is the paper's §7 (hidden 64, batch {32, 128}, "
              "dropout {0, 0.5} on social sets)",
    params_dataset="imdb-binary",
    params_missing="the paper states no count and main.py prints none; the reference has 4 more than ours "
                   "(an unused ε per GIN layer, as on MUTAG)"))
register_preset(Preset(
    "errica2020", "gin", "Errica, Podda, Bacciu, Micheli, A Fair Comparison of Graph Neural Networks for Graph "
    "Classification, ICLR 2020 (config_GIN.yml)",
    "Errica et al.'s GIN: input MLP Linear → BN → ReLU → Linear → BN → ReLU, GIN-ε layers (2-layer MLPs with "
    "batch norm), every layer's pooled state through its own linear map and dropout, summed; Adam lr 0.01 halved "
    "every 50 epochs, up to 1000 epochs, early stopping with patience 500 (a tie counts as an improvement); the "
    "paper's grid is 128 configurations",
    _ERRICA_GIN, datasets=ERRICA_CHEMICAL + ERRICA_SOCIAL, dataset_options=_ERRICA_DATA, grid=_ERRICA_GIN_GRID,
    deviations="Their input layer's readout term calls F.dropout without training=self.training, so it is also "
               "dropped at evaluation (a random prediction, different on every evaluation, whenever dropout is "
               "0.5); ours evaluates deterministically (dropout off at evaluation). Their reported training "
               "accuracy is the running accuracy of the training epoch (dropout on); ours re-evaluates the "
               "selected state. " + _ERRICA_PROTOCOL,
    reference="diningphil/gnn-comparison@c524e97193e3:config_GIN.yml (grid, StepLR, Patience 500 on accuracy or "
              "loss), models/graph_classifiers/GIN.py, models/utils/EarlyStopper.py (Patience), "
              "models/gnn_wrapper/NetWrapper.py (training loop)",
    params=42_082, params_dataset="enzymes",
    params_source="counted from models/graph_classifiers/GIN.py's layers at the grid's first hidden_units "
                  "[64, 64, 64, 64], ENZYMES's 21 node features (18 attributes + 3 labels, datasets/manager.py) "
                  "and 6 classes: input MLP 5,824 + 4 GINConv of 8,577 (ε included) + 5 linear readouts of 390; "
                  "the paper and the logs print no count"))
register_preset(Preset(
    "errica2020", "sage", "Errica, Podda, Bacciu, Micheli, A Fair Comparison of Graph Neural Networks for Graph "
    "Classification, ICLR 2020 (config_GraphSAGE.yml)",
    "Errica et al.'s GraphSAGE: SAGE layers on the raw features without norm or activation between them (with "
    "max aggregation a shared Linear → ReLU after each), every layer's states concatenated, max-pooled, then "
    "Linear → ReLU → Linear; Adam, no schedule, up to 1000 epochs, patience 500 (a tie counts as an improvement); "
    "the paper's grid is 72 configurations",
    _ERRICA_SAGE, datasets=ERRICA_CHEMICAL + ERRICA_SOCIAL, dataset_options=_ERRICA_DATA, grid=_ERRICA_SAGE_GRID,
    deviations="Their reported training accuracy is the running accuracy of the training epoch; ours re-evaluates "
               "the selected state. " + _ERRICA_PROTOCOL,
    reference="diningphil/gnn-comparison@c524e97193e3:config_GraphSAGE.yml (grid, no scheduler, Patience 500 on "
              "accuracy or loss), models/graph_classifiers/GraphSAGE.py (PyG SAGEConv, fc_max), "
              "models/utils/EarlyStopper.py",
    params=32_006, params_dataset="enzymes",
    params_source="counted from models/graph_classifiers/GraphSAGE.py's layers (PyG SAGEConv: a linear map with "
                  "bias for the neighbours, one without for the root) at the preset point (64 × 3, mean), "
                  "ENZYMES's 21 node features and 6 classes: 2,752 + 2 × 8,256 + fc1 12,352 + fc2 390; the paper "
                  "and the logs print no count"))


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
