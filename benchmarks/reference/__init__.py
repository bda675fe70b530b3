"""Reference implementations of the research families on PyG's public operators, for benchmarks only.

Each module follows the structure of one family's released reference code (named in its ``SOURCE``) and exposes
``cases() -> list[FamilyCase]`` (see :mod:`benchmarks.reference.case`); ``benchmarks/families_vs_reference.py``
runs them against graphbench's own models. No reference code is copied; torch_geometric is imported here only.
"""
