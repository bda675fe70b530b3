"""The one registry mechanism for models, datasets and (later) aggregators, transforms, protocols.

A :class:`Registry` maps a name to an entry (a class or factory plus metadata). Entries are added with the
``register`` decorator or, from another installed package, through the ``graphbench.plugins`` Python entry-point
group: each entry point names a module (or callable) whose import registers things. Plugins are loaded lazily the
first time a registry is queried, so importing graphbench stays cheap.
"""

from __future__ import annotations

import difflib
import importlib.metadata
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
PLUGIN_GROUP = "graphbench.plugins"


class UnknownNameError(KeyError):
    """Raised when a registry has no entry of the requested name; the message lists close matches."""

    def __str__(self) -> str:  # KeyError quotes its argument; we want the plain sentence.
        return str(self.args[0])


@dataclass(frozen=True)
class Entry(Generic[T]):
    """A registered object and its metadata (capabilities, search space, description, ...)."""

    name: str
    obj: T
    meta: dict[str, Any] = field(default_factory=dict)


class Registry(Generic[T]):
    """A named collection of objects of one kind.

    Names are case-insensitive and stored lower-case. Registering a taken name raises unless ``override=True``,
    so a plugin cannot silently replace a baseline.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry[T]] = {}
        self._aliases: dict[str, str] = {}

    def register(self, name: str, *, override: bool = False, **meta: Any) -> Callable[[T], T]:
        """Decorator: ``@MODELS.register("gin", search_space=...)`` above a class or factory function."""

        def decorator(obj: T) -> T:
            self.add(name, obj, override=override, **meta)
            return obj

        return decorator

    def add(self, name: str, obj: T, *, override: bool = False, **meta: Any) -> None:
        key = name.lower()
        if not key or not key.replace("-", "").replace("_", "").replace(".", "").isalnum():
            raise ValueError(f"invalid {self.kind} name {name!r}: use letters, digits, '-', '_' or '.'")
        if key in self._entries and not override and self._entries[key].obj is not obj \
                and not _same_definition(self._entries[key].obj, obj):
            raise ValueError(
                f"{self.kind} {key!r} is already registered (by {_origin(self._entries[key].obj)}); "
                "choose another name or pass override=True"
            )
        self._entries[key] = Entry(key, obj, dict(meta))
        for alias in meta.get("aliases", ()):
            self._aliases[alias.lower()] = key

    def get(self, name: str) -> Entry[T]:
        """The entry called ``name``; an unknown name raises :class:`UnknownNameError` naming close matches."""
        load_plugins()
        key = self._aliases.get(name.lower(), name.lower())
        if key not in self._entries:
            close = difflib.get_close_matches(key, list(self._entries), n=3, cutoff=0.5)
            hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise UnknownNameError(
                f"unknown {self.kind} {name!r}.{hint} Known {self.kind}s: {', '.join(sorted(self._entries))}. "
                f"`graphbench list {self.kind}s` describes them."
            )
        return self._entries[key]

    def __contains__(self, name: object) -> bool:
        load_plugins()
        return isinstance(name, str) and self._aliases.get(name.lower(), name.lower()) in self._entries

    def __iter__(self) -> Iterator[Entry[T]]:
        load_plugins()
        return iter(sorted(self._entries.values(), key=lambda e: e.name))

    def names(self) -> list[str]:
        return [e.name for e in self]


def _same_definition(a: object, b: object) -> bool:
    """The same class or function defined again (its module was imported again after a failed import)."""
    qa, qb = getattr(a, "__qualname__", None), getattr(b, "__qualname__", None)
    return qa is not None and qa == qb and getattr(a, "__module__", None) == getattr(b, "__module__", None)


def _origin(obj: object) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', type(obj).__name__)}"


class RegistryImportError(ImportError):
    """A built-in module of graphbench could not be imported; the message names it and the cause."""


BUILTIN_MODULES = ("graphbench.models", "graphbench.data", "graphbench.transforms")
_plugins_lock = threading.RLock()  # re-entrant: built-in modules may query a registry while loading
_plugins_loaded = False
_loading = False


def load_plugins(*, reload: bool = False) -> list[str]:
    """Import every ``graphbench.plugins`` entry point once; returns the names loaded.

    A plugin that fails to import is reported with a warning naming the entry point and the error, and the
    built-in entries stay usable. A built-in module that fails to import raises :class:`RegistryImportError`
    (naming the module and the error) on this and every later lookup until it imports: the registries are never
    left silently empty ("Known models: ."), and a fixed environment recovers on the next lookup.
    """
    global _plugins_loaded, _loading
    with _plugins_lock:
        if (_plugins_loaded and not reload) or _loading:
            return []  # done, or a built-in module queries a registry while it is being imported
        _loading = True
        try:
            return _load_all()
        finally:
            _loading = False


def _load_all() -> list[str]:
    global _plugins_loaded
    # Built-ins first, so a plugin that clashes with a baseline name gets the clear "already registered" error.
    for module in BUILTIN_MODULES:
        try:
            importlib.import_module(module)
        except Exception as exc:
            raise RegistryImportError(
                f"graphbench's built-in module {module!r} failed to import ({type(exc).__name__}: {exc}); the "
                "model and dataset registries are incomplete. Fix the installation (e.g. `pip install -c "
                "constraints.txt -e .`); the next lookup tries again.") from exc
    _plugins_loaded = True
    loaded = []
    for ep in importlib.metadata.entry_points(group=PLUGIN_GROUP):
        try:
            target = ep.load()
            if callable(target) and not isinstance(target, type):
                target()
            loaded.append(ep.name)
        except Exception as exc:  # a broken plugin must not take the built-ins down with it
            log.warning("graphbench plugin %r (%s) failed to load: %s: %s", ep.name, ep.value,
                        type(exc).__name__, exc)
    return loaded


MODELS: Registry[Any] = Registry("model")
DATASETS: Registry[Any] = Registry("dataset")
AGGREGATORS: Registry[Any] = Registry("aggregator")
TRANSFORMS: Registry[Any] = Registry("transform")  # graphbench.transforms: pure, versioned, cached graph transforms
