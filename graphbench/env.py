"""The environment recorded on every results row (versions, git state, host, CPU and kernel instruction set), and
the pin of the kernels' instruction set that makes CPU runs repeat bit for bit across x86-64 machines.

Why a pin: torch (ATen's vectorised kernels), MKL (BLAS, used by ``nn.Linear``) and oneDNN each choose their kernels
by the CPU's vector instruction set. AVX-512 and AVX2 kernels sum in other orders, the last bits of results differ,
and training amplifies them: the same seed and thread count give other metrics on an AVX-512 machine than on an
AVX2 one (docs/results-schema.md, "Reproducibility"). Each library reads its limit from an environment variable
once, when it first runs a kernel, so the pin must be in the environment before torch is imported:
:func:`pin_isa` sets it (the command line does so before importing torch; subprocesses such as sweep workers
inherit it), and refuses (``strict``) or warns loudly when torch is already imported without it.
"""

from __future__ import annotations

import functools
import os
import platform
import socket
import subprocess
import sys
import warnings
from pathlib import Path

import graphbench

#: The level the deterministic mode pins: AVX2 is on every x86-64 CPU of the last decade (Intel since Haswell,
#: 2013; AMD since Excavator, 2015, and every Zen).
PIN_DEFAULT = "avx2"

#: level -> the environment that limits torch, MKL and oneDNN to it. ``default`` is torch's scalar (non-vectorised)
#: ATen kernels with SSE4.2 MKL and SSE4.1 oneDNN: slower, but on every x86-64 CPU.
ISA_ENV: dict[str, dict[str, str]] = {
    "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2", "MKL_CBWR": "AVX2",
             "ONEDNN_MAX_CPU_ISA": "AVX2", "DNNL_MAX_CPU_ISA": "AVX2"},
    "avx512": {"ATEN_CPU_CAPABILITY": "avx512", "MKL_ENABLE_INSTRUCTIONS": "AVX512", "MKL_CBWR": "AVX512",
               "ONEDNN_MAX_CPU_ISA": "AVX512_CORE", "DNNL_MAX_CPU_ISA": "AVX512_CORE"},
    "default": {"ATEN_CPU_CAPABILITY": "default", "MKL_ENABLE_INSTRUCTIONS": "SSE4_2", "MKL_CBWR": "SSE4_2",
                "ONEDNN_MAX_CPU_ISA": "SSE41", "DNNL_MAX_CPU_ISA": "SSE41"},
}
#: What a user may ask for: a level of :data:`ISA_ENV`, or ``native`` (no pin: each library takes the CPU's best).
ISA_CHOICES: tuple[str, ...] = (*ISA_ENV, "native")
#: ATen's capability names (``torch.backends.cpu.get_cpu_capability()``, lower-cased) from lowest to highest.
_ATEN_ORDER = ("default", "avx2", "avx512")


class IsaPinError(RuntimeError):
    """The kernel instruction set cannot be pinned any more: torch was imported without the pin."""


def _is_x86() -> bool:
    return platform.machine().lower() in ("x86_64", "amd64", "i686", "i386", "x86")


def isa_level(isa: str | None, deterministic: bool) -> str:
    """The level a run asks for: ``isa`` when given, else :data:`PIN_DEFAULT` in the deterministic mode, else
    ``native``. Raises ``ValueError`` for an unknown level."""
    level = (isa or (PIN_DEFAULT if deterministic else "native")).lower()
    if level not in ISA_CHOICES:
        raise ValueError(f"unknown instruction-set level {isa!r}; choose one of {', '.join(ISA_CHOICES)}")
    return level


def pin_isa(level: str = PIN_DEFAULT, *, strict: bool = False) -> bool:
    """Limit torch, MKL and oneDNN to the instruction-set ``level`` (a key of :data:`ISA_ENV`; ``native`` does
    nothing) by setting their environment variables. Returns True when the pin is in effect.

    Call it before torch is first imported (``import graphbench.env`` does not import torch; ``graphbench.api``
    does): the libraries read the variables once. When the environment already holds the pin (e.g. a worker
    started by a pinned process) nothing changes. When torch is already imported without it, nothing is set and
    the pin is refused: an :class:`IsaPinError` with ``strict``, else a ``RuntimeWarning`` (the rows then record
    an empty ``isa_pin`` and the capability torch really used). Variables the user set to other values are
    overridden, with a note on stderr. On a CPU that is not x86-64 there is nothing to pin (a warning).
    """
    level = isa_level(level, False)
    if level == "native":
        return False
    if not _is_x86():
        warnings.warn(f"the instruction-set pin ({level}) applies to x86-64 CPUs; this is {platform.machine()}: "
                      "runs are repeatable only on CPUs of the same kind", RuntimeWarning, stacklevel=2)
        return False
    wanted = ISA_ENV[level]
    current = {k: os.environ.get(k) for k in wanted}
    if current == wanted:
        return True
    if "torch" in sys.modules:
        msg = (f"cannot pin the kernel instruction set to {level}: torch is already imported, and torch, MKL and "
               "oneDNN read their limit once. Pin before importing torch (`from graphbench.env import pin_isa; "
               f"pin_isa({level!r})` first thing, or set {' '.join(f'{k}={v}' for k, v in wanted.items())} in the "
               "environment), or use the command line, which does. This run uses the CPU's own kernels "
               f"({_capability()}) and is not repeatable bit for bit on CPUs with other instruction sets.")
        if strict:
            raise IsaPinError(msg)
        warnings.warn(msg, RuntimeWarning, stacklevel=2)
        return False
    overridden = {k: v for k, v in current.items() if v is not None and v != wanted[k]}
    if overridden:
        print(f"graphbench: pinning the kernel instruction set to {level} overrides "
              + ", ".join(f"{k}={v}" for k, v in overridden.items()), file=sys.stderr)
    os.environ.update(wanted)
    return True


def pinned_level() -> str:
    """The level whose whole environment (:data:`ISA_ENV`) is set, and which torch's kernels follow; '' if none.

    Torch's kernels follow it when ``torch.backends.cpu.get_cpu_capability()`` is not above the level (it is
    below on a CPU that lacks the level). An environment set after torch was imported may not be followed by MKL
    either; :func:`pin_isa` never does that."""
    for level, env in ISA_ENV.items():
        if all(os.environ.get(k) == v for k, v in env.items()):
            cap = _capability().lower()
            if cap in _ATEN_ORDER and _ATEN_ORDER.index(cap) > _ATEN_ORDER.index(level):
                return ""
            return level
    return ""


def _capability() -> str:
    import torch

    try:
        return str(torch.backends.cpu.get_cpu_capability())
    except AttributeError:  # torch < 2.0
        return ""


@functools.cache
def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, ``sysctl`` on macOS), else the platform's processor."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Hardware", "Model") and value.strip():
                return value.strip()
    except OSError:
        pass
    if sys.platform == "darwin":
        try:
            out = subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True, text=True,
                                 timeout=5)
            if out.returncode == 0 and out.stdout.strip():
                return out.stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            pass
    return platform.processor() or platform.machine()


def _git(*args: str) -> str | None:
    root = Path(graphbench.__file__).resolve().parent.parent
    try:
        out = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


@functools.cache
def environment() -> dict:
    """Versions, host, CPU and kernel instruction set, and git state (commit and dirty flag of the checkout
    graphbench runs from, if any). Imports torch and DGL."""
    import dgl
    import torch

    commit = _git("rev-parse", "HEAD")
    dirty = None
    if commit:
        status = _git("status", "--porcelain")
        dirty = bool(status) if status is not None else None
    return {
        "graphbench_version": graphbench.__version__,
        "torch_version": torch.__version__,
        "dgl_version": dgl.__version__,
        "python_version": platform.python_version(),
        "git_commit": commit or "",
        "git_dirty": dirty,
        "host": socket.gethostname(),
        "cpu_model": cpu_model(),
        "cpu_capability": _capability(),
        "isa_pin": pinned_level(),
    }
