"""The results CSV schema: the one place where columns are defined (docs/results-schema.md mirrors it).

One row per run, where a run is one (model, dataset, split/fold, seed, configuration) training. Bump
``SCHEMA_VERSION`` whenever a column is added, removed, renamed or changes meaning. Readers accept the versions in
``READABLE_VERSIONS`` (columns a file of an older version lacks are read as empty) and refuse others instead of
guessing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

SCHEMA_VERSION = 3
#: Versions a reader accepts; files of an older version lack the columns added since (read as empty).
READABLE_VERSIONS = (1, 2, 3)
STATUSES = ("ok", "failed", "pruned")
STAGES = ("run", "search", "final", "expressiveness")


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str  # "str", "int", "float", "bool", "json"
    description: str
    required: bool = True  # must be non-empty on every row (status "ok" or not)


COLUMNS: tuple[Column, ...] = (
    Column("schema_version", "int", "Version of this schema; a reader refuses other versions."),
    Column("run_id", "str", "Unique id of the run (uuid4 hex)."),
    Column("started_at", "str", "Start time, UTC, ISO 8601."),
    Column("ended_at", "str", "End time, UTC, ISO 8601."),
    Column("graphbench_version", "str", "graphbench version."),
    Column("torch_version", "str", "PyTorch version."),
    Column("dgl_version", "str", "DGL version."),
    Column("python_version", "str", "Python version."),
    Column("git_commit", "str", "Commit of the graphbench checkout that ran, empty when not a git checkout.", False),
    Column("git_dirty", "bool", "True when that checkout had uncommitted changes.", False),
    Column("host", "str", "Host name."),
    Column("device", "str", "Device the run trained on (cpu, cuda:0, ...)."),
    Column("stage", "str", "run: a direct `graphbench run`; search: a sweep trial; final: a re-run of the selected "
           "configuration that counts in the leaderboard; expressiveness: one category of a `graphbench "
           "expressiveness` run (never in leaderboards)."),
    Column("study", "str", "Optuna study name for sweep rows; empty otherwise.", False),
    Column("trial", "int", "Optuna trial number for sweep rows; empty otherwise.", False),
    Column("dataset", "str", "Dataset registry name."),
    Column("split", "str", "Split name: 'fold3' for cross-validation, 'public', 'holdout', ..."),
    Column("fold", "int", "Index of the split among the dataset's splits."),
    Column("model", "str", "Model registry name."),
    Column("seed", "int", "Seed of the run (python, numpy, torch, DGL)."),
    Column("deterministic", "bool", "True when torch deterministic algorithms were enforced."),
    Column("hparams", "json", "Resolved hyperparameters (model and training), as sorted JSON."),
    Column("config_hash", "str", "sha256 prefix of (model, dataset, hparams, dataset_options) without seed and fold: "
           "rows with equal hash are repetitions of one configuration."),
    Column("param_budget", "int", "Parameter budget the width was solved for; empty when none.", False),
    Column("metric", "str", "Metric name (accuracy, rocauc, ap, mae, ...)."),
    Column("direction", "str", "max when higher is better, min when lower is better."),
    Column("train_metric", "float", "Training metric at the selected epoch.", False),
    Column("val_metric", "float", "Validation metric at the selected epoch (the selection criterion).", False),
    Column("test_metric", "float", "Test metric of the model from the selected epoch.", False),
    Column("best_epoch", "int", "Selected epoch (best validation metric), 1-based.", False),
    Column("epochs", "int", "Epochs actually run (early stopping may end before the limit).", False),
    Column("time_per_epoch_s", "float", "Mean wall time of one training epoch, seconds.", False),
    Column("train_time_s", "float", "Total training wall time, seconds (evaluation excluded).", False),
    Column("inference_time_s", "float", "Wall time of one pass over the test part, seconds.", False),
    Column("total_time_s", "float", "Wall time of the whole run, data preparation included, seconds."),
    Column("peak_mem_mb", "float", "Peak resident memory of the process during the run (MiB); on CUDA, peak "
           "allocated device memory.", False),
    Column("num_params", "int", "Trainable parameters of the model.", False),
    Column("status", "str", "ok, failed or pruned."),
    Column("error", "str", "Why the run failed or was pruned; empty when ok.", False),
    # --- added in schema version 2 (empty in rows read from version-1 files) ---
    Column("threads", "int", "torch CPU threads the run used (results are bit-for-bit repeatable only for the same "
           "seed, thread count and device).", False),
    Column("dataset_options", "json", "Options the dataset was loaded with (e.g. normalize_features, splits), as "
           "sorted JSON; {} for the defaults.", False),
    Column("dataset_modified", "str", "Non-empty when the raw files differ from the published statistics and were "
           "used anyway (dataset option accept_modified): what differs.", False),
    Column("split_source", "str", "Where the split came from: 'official: ...' (the published split file) or "
           "'generated ...' (made by graphbench, with its seed).", False),
    # -- added in v2 (sweep protocol) --
    Column("protocol", "str", "Sweep rows: the selection protocol. per-fold: a configuration selected inside each "
           "outer fold on that fold's inner validation only (Errica et al.); select-once: one configuration "
           "selected on the listed folds' validation and re-run on every fold (optimistic on k-fold data: other "
           "folds' test graphs were seen by the selection); empty for direct runs.", False),
    Column("selection_fold", "int", "per-fold sweep rows: the outer fold whose selection produced the row "
           "(search rows: the fold searched); empty otherwise.", False),
    Column("selection_trials", "int", "Final rows: finished search trials of the study when its configuration was "
           "selected (0: the study had one configuration, nothing to select, and ran no search). A study's final "
           "rows whose config_hash differs from that of its largest selection are superseded (see 'Derived "
           "columns').", False),
    Column("holdout", "float", "Final rows of the Errica final phase: the fraction of the outer training set held "
           "out at random (seeded by the run's seed) for early stopping instead of the inner validation part; "
           "empty otherwise.", False),
    # -- added in v2 (expressiveness protocol) --
    Column("expr_category", "str", "Expressiveness rows: the pair category (BREC's basic, regular, ..., cfi; the "
           "dataset's name for EXP, SR25, CSL, wl-pairs); empty otherwise.", False),
    Column("expr_pairs", "int", "Expressiveness rows: pairs of non-isomorphic graphs tested in the category.", False),
    Column("expr_distinguished", "int", "Expressiveness rows: pairs the model told apart (Hotelling's T² above "
           "expr_threshold and not equal to the reliability statistic; BREC's 'Correct').", False),
    Column("expr_reliability_failures", "int", "Expressiveness rows: pairs whose reliability check failed (a graph "
           "'distinguished' from its own relabelling; BREC's 'Fail'). Counts are trustworthy only when this is 0.",
           False),
    Column("expr_threshold", "float", "Expressiveness rows: the T² threshold, (q-1)p/(q-p)·F_{1-α}(p, q-p) for q "
           "relabellings, p output dimensions, level α (72.34 for BREC's 32, 16, 0.05); the protocol's other "
           "settings are the expr_* keys of hparams.", False),
    # -- added in v2 (paper presets) --
    Column("preset", "str", "Paper preset the run's configuration is exactly (e.g. kipf2017; `graphbench info "
           "MODEL` lists them); empty when none or when the run changed one of the preset's values.", False),
    # --- added in schema version 3 (empty in rows read from older files) ---
    Column("cpu_model", "str", "The CPU's model name (/proc/cpuinfo on Linux).", False),
    Column("cpu_capability", "str", "The vector instruction set torch's CPU kernels used "
           "(torch.backends.cpu.get_cpu_capability(): DEFAULT, AVX2, AVX512, ...). Runs on CPUs with another "
           "capability differ in the last bits, which training amplifies, unless isa_pin is set.", False),
    Column("isa_pin", "str", "The instruction-set level torch, MKL and oneDNN were limited to (avx2, avx512, "
           "default; set by --deterministic or --isa before torch was imported); empty when each library used the "
           "CPU's best. Rows with the same isa_pin, seed, threads and library versions repeat bit for bit on "
           "x86-64 CPUs that have that level.", False),
)

COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
#: The columns of schema version 1 (the first ones, up to ``error``); readers fill the later ones with empty cells.
COLUMNS_V1: tuple[str, ...] = COLUMN_NAMES[: COLUMN_NAMES.index("error") + 1]
#: The header of every readable version (each a prefix of the current one).
COLUMNS_BY_VERSION: dict[int, tuple[str, ...]] = {
    1: COLUMNS_V1, 2: COLUMN_NAMES[: COLUMN_NAMES.index("preset") + 1], 3: COLUMN_NAMES}
_BY_NAME = {c.name: c for c in COLUMNS}


class SchemaError(ValueError):
    """A row or file that does not follow the results schema."""


def _format(col: Column, value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if col.dtype == "bool":
        if not isinstance(value, bool):
            raise SchemaError(f"column {col.name!r} wants a bool, got {value!r}")
        return "true" if value else "false"
    if col.dtype == "int":
        if isinstance(value, bool) or int(value) != value:
            raise SchemaError(f"column {col.name!r} wants an integer, got {value!r}")
        return str(int(value))
    if col.dtype == "float":
        return repr(float(value))
    return str(value)


def validate_row(row: dict[str, Any]) -> dict[str, str]:
    """Check a row against the schema and format it as strings; raises :class:`SchemaError` naming the column."""
    unknown = set(row) - set(COLUMN_NAMES)
    if unknown:
        raise SchemaError(f"unknown result columns {sorted(unknown)}; the schema is docs/results-schema.md")
    out = {}
    for col in COLUMNS:
        text = _format(col, row.get(col.name))
        if col.required and text == "":
            raise SchemaError(f"result column {col.name!r} is required")
        out[col.name] = text
    if out["status"] not in STATUSES:
        raise SchemaError(f"status must be one of {STATUSES}, got {out['status']!r}")
    if out["stage"] not in STAGES:
        raise SchemaError(f"stage must be one of {STAGES}, got {out['stage']!r}")
    if out["direction"] not in ("max", "min"):
        raise SchemaError(f"direction must be 'max' or 'min', got {out['direction']!r}")
    if out["stage"] == "search" and out["test_metric"] != "":
        raise SchemaError("a search row must not carry a test_metric: selection never scores the test part")
    if out["schema_version"] != str(SCHEMA_VERSION):
        raise SchemaError(f"schema_version must be {SCHEMA_VERSION}")
    return out


def column(name: str) -> Column:
    return _BY_NAME[name]


def schema_markdown() -> str:
    """The column table of docs/results-schema.md (a test keeps the two identical)."""
    lines = ["| column | type | required | meaning |", "|---|---|---|---|"]
    lines += [f"| `{c.name}` | {c.dtype} | {'yes' if c.required else 'no'} | {c.description} |" for c in COLUMNS]
    return "\n".join(lines) + "\n"
