"""Typed hyperparameter declarations and validation shared by models and the trainer.

A model or the trainer declares each hyperparameter once as an :class:`HParam` (type, default, range or choices,
help). :func:`validate` resolves a user dict against those declarations: unknown names get close-match hints,
wrong types and out-of-range values say which parameter and why.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class HyperparameterError(ValueError):
    """An invalid hyperparameter: the message names it and says what is allowed."""


@dataclass(frozen=True)
class HParam:
    """Declaration of one hyperparameter: ``type`` is int, float, bool or str."""

    type: type
    default: Any
    help: str = ""
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] | None = None
    #: ``low`` itself is not allowed (e.g. a learning rate must be > 0)
    low_open: bool = False

    def _number(self, name: str, value: Any) -> int | float:
        """``value`` as this parameter's number type (numeric strings accepted; bools, NaN and 1.5 for an int
        refused)."""
        kind = "an integer" if self.type is int else "a number"
        v = value
        if isinstance(v, str):
            try:
                v = float(v)
            except ValueError:
                raise HyperparameterError(f"hyperparameter {name!r} must be {kind}, got {value!r}") from None
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v:
            raise HyperparameterError(f"hyperparameter {name!r} must be {kind}, got {value!r}")
        if self.type is int:
            if int(v) != v:
                raise HyperparameterError(f"hyperparameter {name!r} must be {kind}, got {value!r}")
            return int(v)
        return float(v)

    def coerce(self, name: str, value: Any) -> Any:
        v = value
        if self.type is bool:
            if isinstance(v, str) and v.lower() in ("true", "false", "1", "0", "yes", "no"):
                v = v.lower() in ("true", "1", "yes")
            if not isinstance(v, bool):
                raise HyperparameterError(f"hyperparameter {name!r} must be true or false, got {value!r}")
        elif self.type in (int, float):
            v = self._number(name, value)
        elif self.type is str:
            if not isinstance(v, str):
                raise HyperparameterError(f"hyperparameter {name!r} must be a string, got {value!r}")
        if self.choices is not None and v not in self.choices:
            raise HyperparameterError(
                f"hyperparameter {name!r} must be one of {', '.join(map(repr, self.choices))}; got {value!r}")
        if self.low is not None and (v <= self.low if self.low_open else v < self.low):
            raise HyperparameterError(
                f"hyperparameter {name!r} must be {'>' if self.low_open else '>='} {self.low}, got {value!r}")
        if self.high is not None and v > self.high:
            raise HyperparameterError(f"hyperparameter {name!r} must be <= {self.high}, got {value!r}")
        return v


def validate(declared: Mapping[str, HParam], given: Mapping[str, Any], *, what: str) -> dict[str, Any]:
    """Defaults overridden by ``given``, each value checked; ``what`` names the owner in error messages."""
    for name in given:
        if name not in declared:
            close = difflib.get_close_matches(name, list(declared), n=3, cutoff=0.6)
            hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
            raise HyperparameterError(
                f"{what} has no hyperparameter {name!r}.{hint} Its hyperparameters: {', '.join(sorted(declared))}.")
    return {name: (hp.coerce(name, given[name]) if name in given else hp.default) for name, hp in declared.items()}
