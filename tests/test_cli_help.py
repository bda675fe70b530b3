"""CLI structure: instant help (no heavy imports), help written for users, argument validation."""

from __future__ import annotations

import subprocess
import sys

import pytest

from graphbench.cli import COMMANDS, build_parser
from tests.helpers import ROOT, run_cli

HEAVY = ("torch", "dgl", "optuna", "pandas", "matplotlib", "sklearn", "scipy")


def _modules_after(argv: list[str]) -> set[str]:
    code = (f"import sys\nfrom graphbench.cli import main\ntry:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
            "print(' '.join(sorted(m for m in sys.modules if '.' not in m)))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return set(out.split("\n")[-2].split())


@pytest.mark.parametrize("argv", [["--help"], *[[name, "--help"] for name in COMMANDS]])
def test_help_imports_no_heavy_library(argv):
    loaded = _modules_after(argv)
    assert not loaded & set(HEAVY), f"`graphbench {' '.join(argv)}` imported {sorted(loaded & set(HEAVY))}"


def test_help_is_for_users_not_sphinx(tmp_path):
    texts = [run_cli("--help", cwd=tmp_path).stdout] + [run_cli(n, "--help", cwd=tmp_path).stdout for n in COMMANDS]
    for text in texts:
        assert ":mod:" not in text and ":func:" not in text and "``" not in text, text
        assert "integrator" not in text
    top = texts[0]
    assert all(name in top for name in COMMANDS) and "quick start" in top


def test_every_run_flag_has_help():
    parser = build_parser("run")
    run = next(a for a in parser._subparsers._group_actions[0].choices.items() if a[0] == "run")[1]
    missing = [a.dest for a in run._actions if not a.help]
    assert not missing, f"run flags without help: {missing}"


def test_run_flag_help_matches_the_declarations():
    from graphbench.commands.run import HP_FLAGS
    from graphbench.models.base import COMMON_HPARAMS
    from graphbench.train.config import TRAIN_HPARAMS

    declared = {**COMMON_HPARAMS, **TRAIN_HPARAMS}
    for name, (typ, text) in HP_FLAGS.items():
        assert declared[name].help == text and declared[name].type is typ, name


def test_every_command_module_is_light():
    for module, _ in COMMANDS.values():
        code = f"import sys, {module} as m\nassert callable(m.add_arguments) and callable(m.handle)\n" \
               f"print(' '.join(k for k in {HEAVY!r} if k in sys.modules))"
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
        assert out.stdout.strip() == "", f"{module} imports {out.stdout.strip()} at module level"


@pytest.mark.parametrize("args, message", [
    (["--folds", "x"], "a fold is a split index (0, 1, ...) or 'all', got 'x'"),
    (["--folds", "-1"], "got '-1'"),
    (["--lr", "0"], "'lr' must be > 0"),
    (["--folds", "all", "1"], "give 'all' alone"),
])
def test_run_arguments_are_validated_before_anything_runs(tmp_path, args, message):
    proc = run_cli("run", "--model", "gin", "--dataset", "csl", *args, cwd=tmp_path, check=False)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr and "invalid literal" not in proc.stderr
    assert not (tmp_path / "results").exists()
