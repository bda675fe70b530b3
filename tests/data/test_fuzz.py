"""Fuzzing the raw-file readers: random truncations and byte flips of each shared TU and geom-gcn file.

Every outcome must be either a read whose counts equal the intact files' (graphs, nodes per graph, edges per
graph, class sizes — a flip inside a value that keeps every count, e.g. a node label 3 -> 5 or an edge's endpoint
in geom-gcn's one-directional list, cannot be told apart without checksums, and is accepted) or a
:class:`DataFileError` naming the damaged file. Never another exception, a hang or a silent partial load. The
readers and checks run exactly as the loaders run them before building graphs (graph building is safe once they
pass: every edge is checked to lie inside one graph). The cases are seeded, so a failure reproduces.
"""

from __future__ import annotations

import random
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from graphbench.data import heterophilous, tu
from graphbench.data.integrity import DataFileError, check_counts

TU = ["MUTAG", "PTC_MR", "ENZYMES", "IMDB-BINARY"]
GEOM = ["cornell", "texas", "wisconsin"]
CASES_PER_FILE = 8


def _read_tu(name: str, root: Path) -> tuple:
    info = next(i for i in tu.TU_SETS if i.name == name)
    folder = root / "tu" / name
    raw = tu.read_tu(folder, name)
    tu.check_tu_counts(info, raw, sorted(folder.glob("*.txt")), accept_modified=False)
    if (sfile := tu.split_file(root, info)) is not None:
        tu.errica_splits(sfile, info.graphs)
    gon = raw["graph_of_node"]
    return (np.bincount(gon).tolist(), np.bincount(gon[raw["edges"][:, 0]]).tolist(),
            sorted(np.unique(raw["graph_labels"], return_counts=True)[1].tolist()))


def _read_geom(name: str, root: Path) -> tuple:
    info = next(i for i in heterophilous.HETERO_SETS if i.name == name)
    folder = root / "geom-gcn" / "new_data" / info.folder
    x, y, e, _ = heterophilous.read_geom_gcn(folder, actor=False)
    check_counts(name, {"nodes": len(y), "undirected edges": len(e) // 2, "features": x.shape[1],
                        "classes": len(np.unique(y))}, info.counts, sorted(folder.glob("*.txt")))
    return len(y), len(e), x.shape[1], sorted(np.bincount(y).tolist())


def _mutations(data: bytes, rng: random.Random) -> list[tuple[str, bytes]]:
    out = []
    for _ in range(CASES_PER_FILE // 2):
        cut = rng.randrange(len(data))
        out.append((f"truncate at {cut}", data[:cut]))
        pos, byte = rng.randrange(len(data)), rng.choice(b"0123456789,-\n \t.x\x00\xff")
        out.append((f"byte {pos} -> {bytes([byte])!r}", data[:pos] + bytes([byte]) + data[pos + 1:]))
    return out


def _fuzz(read, name: str, files: list[Path], root: Path, rng: random.Random) -> list[str]:
    reference = read(name, root)
    problems = []
    for path in files:
        intact = path.read_bytes()
        for what, damaged in _mutations(intact, rng):
            if damaged == intact:
                continue
            path.write_bytes(damaged)
            start = time.monotonic()
            try:
                counts = read(name, root)
            except DataFileError as exc:
                if path.name not in str(exc):
                    problems.append(f"{path.name} {what}: error does not name the file: {exc}")
            except Exception as exc:  # noqa: BLE001 - anything else is the defect this test looks for
                problems.append(f"{path.name} {what}: {type(exc).__name__}: {exc}")
            else:
                if counts != reference:
                    problems.append(f"{path.name} {what}: loaded silently with different counts")
            if time.monotonic() - start > 20:
                problems.append(f"{path.name} {what}: took {time.monotonic() - start:.0f} s")
            path.write_bytes(intact)
    return problems


@pytest.mark.data
@pytest.mark.parametrize("name", TU)
def test_fuzzed_tu_files_load_correctly_or_fail_naming_the_file(name, shared_data, tmp_path):
    shutil.copytree(shared_data / "tu" / name, tmp_path / "tu" / name)
    shutil.copytree(shared_data / "tu-splits", tmp_path / "tu-splits")
    files = sorted((tmp_path / "tu" / name).glob("*.txt")) + sorted((tmp_path / "tu-splits").glob(f"{name}_*.json"))
    problems = _fuzz(_read_tu, name, files, tmp_path, random.Random(name))
    assert not problems, "\n".join(problems)


@pytest.mark.data
@pytest.mark.parametrize("name", GEOM)
def test_fuzzed_geom_gcn_files_load_correctly_or_fail_naming_the_file(name, shared_data, tmp_path):
    shutil.copytree(shared_data / "geom-gcn", tmp_path / "geom-gcn")
    folder = tmp_path / "geom-gcn" / "new_data" / name
    problems = _fuzz(_read_geom, name, sorted(folder.glob("*.txt")), tmp_path, random.Random(name))
    assert not problems, "\n".join(problems)
