"""`graphbench info MODEL` shows each preset's reference, whether its parameter count is verified, and deviations."""

from __future__ import annotations

from dataclasses import replace

import graphbench.models  # noqa: F401  (registers the presets)
from graphbench.cli import main
from graphbench.presets import PRESETS


def test_info_shows_reference_count_and_deviations(capsys, monkeypatch):
    key = ("gcn", "kipf2017")
    kipf = PRESETS[key]
    counted = replace(kipf, reference="tkipf/gcn@39a4089:gcn/models.py (GCN)", params=23_040, params_dataset="cora",
                      params_source="1433·16 + 16·7 (no biases)", params_missing="")
    monkeypatch.setitem(PRESETS, key, counted)
    assert main(["info", "gcn"]) == 0
    out = capsys.readouterr().out
    assert "reference: tkipf/gcn@39a4089:gcn/models.py (GCN)" in out
    assert "parameters: ours 23,040 / reference 23,040 on cora — verified (equal)" in out
    assert "deviations from the reference: Kipf & Welling stop when" in out

    monkeypatch.setitem(PRESETS, key, replace(counted, params=23_063))  # a count with DGL's biases
    assert main(["info", "gcn"]) == 0
    assert "ours 23,040 / reference 23,063 on cora — DIFFERS by -23" in capsys.readouterr().out

    monkeypatch.setitem(PRESETS, key, replace(counted, params=None, params_dataset="",
                                              params_missing="the paper states none"))
    assert main(["info", "gcn"]) == 0
    assert "parameters: no reference count: the paper states none" in capsys.readouterr().out
