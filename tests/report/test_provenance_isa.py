"""Reports say which CPUs and kernel instruction sets produced the counted rows, and warn when they mix (issue 21)."""

from __future__ import annotations

from graphbench.report import build_report
from tests.report.fixtures import make_row, write


def _rows(capabilities: list[tuple[str, str]]) -> list[dict]:
    rows = []
    for i, (cap, pin) in enumerate(capabilities):
        for m, v in (("gin", 0.8), ("gcn", 0.7)):
            rows.append(make_row("ds", m, v + 0.01 * i, seed=i, cpu_model="AMD EPYC 9654", cpu_capability=cap,
                                 isa_pin=pin))
    return rows


def test_provenance_lists_cpus_capabilities_and_pins_and_warns_on_a_mix(tmp_path):
    mixed = write(tmp_path / "mixed.csv", _rows([("AVX512", ""), ("AVX2", "avx2"), ("AVX2", "avx2")]))
    rep = build_report(mixed, tmp_path / "rep")
    md = rep.markdown.read_text()
    assert "- CPUs: {'AMD EPYC 9654': 6}" in md
    assert "kernel instruction set used by torch: {'AVX2': 4, 'AVX512': 2}" in md
    assert "instruction-set pin: {'(none)': 2, 'avx2': 4}" in md
    assert "several instruction sets: AVX2 kernels (pinned avx2), AVX512 kernels (not pinned)" in md

    same = write(tmp_path / "same.csv", _rows([("AVX2", "avx2"), ("AVX2", "avx2")]))
    md = build_report(same, tmp_path / "rep2").markdown.read_text()
    assert "several instruction sets" not in md
