"""``graphbench reproduce``: re-run a paper's table row at its full protocol and record the result in a ledger.

* :mod:`graphbench.reproduce.plan` — the paper's protocol (splits, selection, schedule, repetitions) as a sweep file;
* :mod:`graphbench.reproduce.run` — runs it through the sweep runner (resumable, several workers) and records it;
* :mod:`graphbench.reproduce.ledger` — the ledger of reproductions (shipped: ``graphbench/reproductions.csv``),
  its docs page and its figure (ours against the paper, y = x).

See ``docs/reproductions.md`` for the ledger and ``graphbench reproduce --help`` for the command.
"""
