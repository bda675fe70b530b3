"""Every `graphbench` command in the README's code blocks is accepted (issue 21).

The commands are read from README.md's ```bash blocks (``&&`` chains split, comments dropped), so a new example is
checked without editing this file. Each is parsed by the real parser (flags and their values), and the names it
uses are validated: models, datasets, presets, sweep files. Commands that need no external data are run, the
training ones with ``--dry-run`` (everything checked, nothing trained); the "Compare your model" one registers
the README's own ``mygnn`` first. Commands whose datasets are files to download are checked up to that point.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from graphbench.cli import build_parser, main
from graphbench.env import ISA_ENV
from graphbench.registry import DATASETS, MODELS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def readme_blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def readme_commands() -> list[list[str]]:
    """argv (after the program name) of every graphbench command in the README's bash blocks."""
    out = []
    for block in readme_blocks("bash"):
        for line in block.splitlines():
            for part in line.split("&&"):
                words = shlex.split(part, comments=True)
                if words and Path(words[0]).name == "graphbench":
                    out.append(words[1:])
    return out


COMMANDS = readme_commands()


def _needs_files(datasets: list[str]) -> bool:
    return any(DATASETS.get(d).meta["card"].needs_files for d in datasets)


def test_the_readme_has_the_examples_this_test_checks():
    verbs = [argv[0] for argv in COMMANDS]
    assert len(COMMANDS) >= 15
    assert {"list", "info", "run", "sweep", "report", "expressiveness", "published"} <= set(verbs)
    assert ["sweep", "sweeps/quick.yaml", "--workers", "2"] in COMMANDS  # the main command, on both cores


def run_file_example() -> str:
    """The run file of graphbench/config.py's docstring, which the README points to for `--config run.yaml`."""
    import textwrap

    import graphbench.config

    doc = graphbench.config.__doc__
    body = doc.split("flags::", 1)[1].split("Command-line flags override", 1)[0]
    return textwrap.dedent(body).strip() + "\n"


@pytest.fixture
def readme_env(tmp_path, monkeypatch):
    """Run from a scratch folder holding the repository's sweep files, with the kernel pin in the environment
    (as the command line leaves it before torch is imported; this process imported torch long ago)."""
    (tmp_path / "sweeps").symlink_to(ROOT / "sweeps")
    (tmp_path / "run.yaml").write_text(run_file_example())
    monkeypatch.chdir(tmp_path)
    for k, v in ISA_ENV["avx2"].items():
        monkeypatch.setenv(k, v)
    MODELS.names()  # built-in models and plugins loaded before the copy
    monkeypatch.setattr(MODELS, "_entries", dict(MODELS._entries))  # the README's mygnn is unregistered after
    exec(compile(next(b for b in readme_blocks("python") if '@MODELS.register("mygnn"' in b), "README", "exec"), {})
    return tmp_path


@pytest.mark.parametrize("argv", COMMANDS, ids=[" ".join(a)[:80] for a in COMMANDS])
def test_readme_command_is_accepted(argv, readme_env, capsys):
    args = build_parser(argv[0]).parse_args(argv)  # flags, choices, types: an argparse error is SystemExit(2)
    verb = argv[0]
    if verb == "run":
        if args.config:
            from graphbench.config import load_run_config

            cfg = load_run_config(args.config)
            args.model, args.dataset = cfg["models"], cfg["datasets"]
        for m in args.model:
            MODELS.get(m)
        for d in args.dataset:
            DATASETS.get(d)
        if args.preset:
            from graphbench.presets import get_preset

            for m in args.model:
                get_preset(m, args.preset)
        if _needs_files(args.dataset):
            return
        assert main([*argv, "--dry-run"]) == 0, capsys.readouterr().err
        assert "run(s), rows to" in capsys.readouterr().out
    elif verb == "sweep":
        from graphbench.sweep.config import load_sweep

        sweep = load_sweep(ROOT / args.file)
        if not _needs_files(sweep.datasets):
            assert main(["sweep", str(ROOT / args.file), "--dry-run"]) == 0, capsys.readouterr().err
    elif verb == "expressiveness":
        from graphbench.expressiveness.pairs import pair_datasets

        for m in args.model:
            MODELS.get(m)
        assert set(args.dataset) <= set(pair_datasets())
    elif verb == "report":
        for name in (args.baseline, args.model):
            if name:
                assert name in MODELS or name == "mymodel"  # the README's placeholder for the user's model
    elif verb == "reproduce":  # hours of training: the plan is built (names, published row, protocol), not run
        from graphbench.reproduce.plan import make_plan

        make_plan(args.model, args.preset, args.dataset, trials=args.trials, seeds=args.seeds)
    elif verb == "published" and args.ledger:  # the user's ledger, as `graphbench reproduce` leaves it
        from graphbench.reproduce.ledger import COLUMNS

        Path(args.ledger).parent.mkdir(parents=True, exist_ok=True)
        Path(args.ledger).write_text(",".join(COLUMNS) + "\n")
        assert main(argv) == 0, capsys.readouterr().err
    elif verb == "info" and "--load" in argv and _needs_files([argv[1]]):
        DATASETS.get(argv[1])
    else:  # list, info, published: quick, run for real
        assert main(argv) == 0, capsys.readouterr().err
