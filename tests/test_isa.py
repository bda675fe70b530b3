"""The kernel instruction-set pin (issue 21): rows record the CPU and torch's kernel capability, and
``--deterministic`` pins torch / MKL / oneDNN to AVX2 before torch is imported, so that runs repeat bit for bit on
CPUs whose own best instruction sets differ.

Two CPUs are simulated on one machine by ``ATEN_CPU_CAPABILITY``, which torch reads when it is imported: ``default``
(scalar kernels) against ``avx2`` / ``avx512``. The CSL configuration below is the one of the issue: its metrics
change with the kernels (0.6 with default or AVX-512 kernels, 0.5 with AVX2 ones on the machine it was found on).
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from graphbench.env import ISA_ENV, PIN_DEFAULT, isa_level

ROOT = Path(__file__).resolve().parent.parent
# The configuration, one fold (both folds of the issue move together).
RUN = ["-m", "graphbench", "run", "--model", "gin", "--dataset", "csl", "--pe", "rwse", "--epochs", "30", "--lr",
       "0.0234", "--hidden", "16", "--layers", "3", "--seeds", "0", "--folds", "0", "--threads", "1", "--quiet"]
METRICS = ["train_metric", "val_metric", "test_metric", "best_epoch"]
PIN_VARS = sorted({k for env in ISA_ENV.values() for k in env})


def _cpu_flags() -> set[str]:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def _clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PIN_VARS}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["GRAPHBENCH_DATA_ROOT"] = str(tmp_path / "data")
    env.update(extra)
    return env


def _runs(tmp_path: Path, *runs: tuple[str, str, tuple[str, ...]]) -> list[dict]:
    """Run ``(name, ATEN_CPU_CAPABILITY, extra flags)`` runs side by side (one thread each); their rows."""
    from graphbench.results import read_results

    procs = [(name, subprocess.Popen([sys.executable, *RUN, "--results", str(tmp_path / f"{name}.csv"), *flags],
                                     cwd=tmp_path, env=_clean_env(tmp_path, ATEN_CPU_CAPABILITY=capability),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
             for name, capability, flags in runs]
    out = []
    for name, proc in procs:
        _, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 0, stderr[-2000:]
        row = read_results(tmp_path / f"{name}.csv").iloc[0]
        out.append({"metrics": [row[m] for m in METRICS], "capability": row["cpu_capability"],
                    "pin": row["isa_pin"], "cpu": row["cpu_model"], "stderr": stderr})
    return out


@pytest.mark.skipif(not sys.platform.startswith("linux") or "avx2" not in _cpu_flags(),
                    reason="needs an x86-64 Linux CPU with AVX2 (this one lacks it): the pin cannot be shown to "
                           "change anything where AVX2 kernels cannot run")
def test_pin_gives_identical_metrics_under_two_isa_settings_and_unpinned_they_differ(tmp_path):
    top = "avx512" if "avx512f" in _cpu_flags() else "avx2"
    pinned_a, pinned_b = _runs(tmp_path, ("pinned_default", "default", ("--deterministic",)),
                               (f"pinned_{top}", top, ("--deterministic",)))
    assert pinned_a["pin"] == pinned_b["pin"] == PIN_DEFAULT
    assert pinned_a["capability"] == pinned_b["capability"] == "AVX2"  # the pin overrode both settings
    assert "overrides ATEN_CPU_CAPABILITY=default" in pinned_a["stderr"]
    assert pinned_a["metrics"] == pinned_b["metrics"]  # bit for bit: floats compared exactly

    free_default, free_avx2 = _runs(tmp_path, ("free_default", "default", ()), ("free_avx2", "avx2", ()))
    assert (free_default["capability"], free_avx2["capability"]) == ("DEFAULT", "AVX2")
    assert pd_isna(free_default["pin"]) and pd_isna(free_avx2["pin"])
    assert free_default["cpu"]  # the CPU model is recorded
    # Without the pin the kernels' last bits differ and 30 epochs amplify them into other metrics.
    assert free_default["metrics"] != free_avx2["metrics"]


def pd_isna(value) -> bool:
    import pandas as pd

    return bool(pd.isna(value))


def test_isa_level_defaults_to_avx2_when_deterministic_and_native_otherwise():
    assert isa_level(None, True) == "avx2"
    assert isa_level(None, False) == "native"
    assert isa_level("DEFAULT", True) == "default"
    assert isa_level("native", True) == "native"
    with pytest.raises(ValueError, match="avx3"):
        isa_level("avx3", False)


_PROBE_BEFORE = """
import os, sys
from graphbench.env import pin_isa
assert 'torch' not in sys.modules
print(pin_isa('avx2'))
import torch
from graphbench.env import environment
env = environment()
print(os.environ['MKL_CBWR'], os.environ['ONEDNN_MAX_CPU_ISA'], env['cpu_capability'], env['isa_pin'])
"""

_PROBE_AFTER = """
import os, sys, warnings
import torch
from graphbench.env import IsaPinError, pin_isa
try:
    pin_isa('avx2', strict=True)
    print('no error')
except IsaPinError as exc:
    print('refused' if 'already imported' in str(exc) else exc)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter('always')
    print(pin_isa('avx2'), [str(w.category.__name__) for w in caught])
print(os.environ.get('MKL_CBWR'))
from graphbench.env import environment
print(repr(environment()['isa_pin']))
"""


@pytest.mark.skipif("avx2" not in _cpu_flags(), reason="needs an x86-64 CPU with AVX2")
def test_pin_before_torch_sets_every_library_and_after_torch_is_refused(tmp_path):
    before = subprocess.run([sys.executable, "-c", _PROBE_BEFORE], env=_clean_env(tmp_path), capture_output=True,
                            text=True, timeout=120, check=True).stdout.split()
    assert before == ["True", "AVX2", "AVX2", "AVX2", "avx2"]
    after = subprocess.run([sys.executable, "-c", _PROBE_AFTER], env=_clean_env(tmp_path), capture_output=True,
                           text=True, timeout=120, check=True).stdout.splitlines()
    assert after[0] == "refused"
    assert after[1] == "False ['RuntimeWarning']"
    assert after[2] == "None"  # nothing set after the fact
    assert after[3] == "''"  # and the rows say so


def test_environment_records_cpu_and_capability():
    import torch

    from graphbench.env import environment
    from graphbench.results.schema import COLUMN_NAMES

    env = environment()
    assert env["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert env["cpu_model"]
    assert {"cpu_model", "cpu_capability", "isa_pin"} <= set(env) <= set(COLUMN_NAMES)


def test_cli_refuses_the_pin_when_torch_is_already_imported(monkeypatch, capsys):
    import torch  # noqa: F401  (this process has imported it: the pin can no longer take effect)

    from graphbench.cli import main

    for k in PIN_VARS:
        monkeypatch.delenv(k, raising=False)
    code = main(["run", "--model", "gin", "--dataset", "csl", "--deterministic", "--epochs", "1"])
    assert code == 2
    assert "torch is already imported" in capsys.readouterr().err
    assert "MKL_CBWR" not in os.environ


def test_api_deterministic_warns_when_it_cannot_pin(monkeypatch):
    from graphbench import api

    for k in PIN_VARS:
        monkeypatch.delenv(k, raising=False)
    with pytest.warns(RuntimeWarning, match="cannot pin the kernel instruction set"):
        specs = api.plan_runs(["gin"], ["csl"], folds=[0], deterministic=True, threads=1)
    assert specs[0].deterministic
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        api.plan_runs(["gin"], ["csl"], folds=[0], deterministic=True, isa="native", threads=1)


def test_run_file_and_sweep_file_isa_keys(tmp_path):
    from graphbench.config import ConfigError, load_run_config, requested_isa

    good = tmp_path / "run.yaml"
    good.write_text("model: gin\ndataset: csl\nisa: AVX2\ndeterministic: false\n")
    assert load_run_config(good)["isa"] == "avx2"
    assert requested_isa(good) == ("avx2", False)
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: gin\ndataset: csl\nisa: sse9\n")
    with pytest.raises(ConfigError, match=r"'isa' \(line 3\) must be one of avx2, avx512, default, native"):
        load_run_config(bad)
    det = tmp_path / "det.yaml"
    det.write_text("deterministic: true\n")
    assert requested_isa(det) == (None, True)


def test_sweep_file_keys_reach_the_runs_and_the_workers(tmp_path, monkeypatch):
    from graphbench.sweep import launch
    from graphbench.sweep.config import load_sweep

    sweep = tmp_path / "s.yaml"
    sweep.write_text("name: s\nmodels: [gin]\ndatasets: [csl]\ntrials: 1\ndeterministic: true\nisa: avx2\n")
    loaded = load_sweep(sweep)
    assert loaded.deterministic and loaded.isa == "avx2"

    seen = {}

    class FakePopen:
        def __init__(self, cmd, env, preexec_fn):
            seen["cmd"], seen["env"] = cmd, env

    for k, v in ISA_ENV["avx2"].items():  # as the parent's pin_isa left them, before torch's import
        monkeypatch.setenv(k, v)
    monkeypatch.setattr(launch.subprocess, "Popen", FakePopen)
    launch._spawn(sweep, 0, launch.Options(workers=2, isa="avx2"), None)
    assert all(seen["env"][k] == v for k, v in ISA_ENV["avx2"].items())  # workers inherit the pin
    assert seen["cmd"][seen["cmd"].index("--isa") + 1] == "avx2"
