"""The ``graphbench`` subcommands, one module each (see the table ``COMMANDS`` in :mod:`graphbench.cli`).

A command module defines::

    def add_arguments(parser: argparse.ArgumentParser) -> None: ...   # its flags, with help for users
    def handle(args: argparse.Namespace) -> int: ...                  # runs it; returns the exit code

and optionally ``DESCRIPTION`` (the text above ``graphbench NAME --help``'s flags) and ``EPILOG`` (examples).
It must import only the standard library at module level: torch, DGL, Optuna and pandas are imported inside
``handle``, so that ``graphbench --help`` and ``graphbench NAME --help`` answer at once.
"""
