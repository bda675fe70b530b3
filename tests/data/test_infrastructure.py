"""Offline behaviour, cache integrity and the completeness of every dataset card."""

from __future__ import annotations

import time

import pytest
import torch

from graphbench.data import cache, dataset_card, load_dataset
from graphbench.data.files import MissingDataError, ensure_files
from graphbench.registry import DATASETS

FILE_BACKED = ["mutag", "imdb-multi", "cora", "citeseer", "cornell", "actor", "ogbg-molhiv", "ogbg-molpcba", "zinc",
               "peptides-func", "peptides-struct", "exp", "sr25", "graph8c", "counting-chen"]


@pytest.mark.parametrize("name", FILE_BACKED)
def test_missing_files_fail_fast_with_a_message_naming_files_and_place(name, tmp_path, monkeypatch, no_network):
    monkeypatch.setenv("GRAPHBENCH_OFFLINE", "1")
    start = time.monotonic()
    with pytest.raises(MissingDataError) as info:
        load_dataset(name, tmp_path)
    assert time.monotonic() - start < 2.0
    msg = str(info.value)
    assert str(tmp_path) in msg and "Missing:" in msg and "--data-root" in msg


def test_missing_files_without_network_fail_fast_even_with_download_urls(tmp_path, monkeypatch):
    import socket

    def unreachable(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.delenv("GRAPHBENCH_OFFLINE", raising=False)
    monkeypatch.setattr(socket, "create_connection", unreachable)
    start = time.monotonic()
    with pytest.raises(MissingDataError, match="no network"):
        load_dataset("mutag", tmp_path)
    assert time.monotonic() - start < 2.0


def test_present_files_are_never_fetched(tmp_path, no_network):
    (tmp_path / "a.txt").write_text("x")
    assert ensure_files("x", tmp_path, ["a.txt"], source="nowhere", urls={"a.txt": "https://example.invalid/a"})


def _exp_like(tmp_path):
    return load_dataset("ring-transfer-n10", tmp_path, num_graphs=100)


def test_cache_round_trip_is_exact(tmp_path):
    built = load_dataset("ring-transfer-n10", tmp_path, num_graphs=100, use_cache=False)
    first = _exp_like(tmp_path)
    again = _exp_like(tmp_path)  # from the cache
    for ds in (first, again):
        assert torch.equal(ds.labels, built.labels)
        assert all(torch.equal(a.ndata["feat"], b.ndata["feat"]) for a, b in zip(ds.graphs, built.graphs))
        assert all(torch.equal(a.edges()[0], b.edges()[0]) for a, b in zip(ds.graphs, built.graphs))
        assert [s.name for s in ds.splits] == [s.name for s in built.splits]
        assert ds.card is not None and ds.meta["readout"] == "target"


def test_corrupt_cache_is_detected_and_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("GRAPHBENCH_CACHE", str(tmp_path / "cache"))
    _exp_like(tmp_path)
    entries = list((tmp_path / "cache" / "ring-transfer-n10").iterdir())
    assert len(entries) == 1 and (entries[0] / "DONE").exists()
    data = entries[0] / "data.npz"
    data.write_bytes(data.read_bytes()[:100])  # truncated, as after a crash or a full disk
    assert cache.load(entries[0]) is None
    ds = _exp_like(tmp_path)
    assert ds.num_examples == 100
    assert cache.load(entries[0]) is not None  # rewritten


def test_stale_cache_key_builds_a_new_entry(tmp_path, monkeypatch):
    monkeypatch.setenv("GRAPHBENCH_CACHE", str(tmp_path / "cache"))
    key = cache.cache_key("x", 1, {"a": 1})
    stale = dict(key, dgl="0.4.3")
    assert cache.entry_folder(None, key) != cache.entry_folder(None, stale)
    assert cache.entry_folder(None, key) != cache.entry_folder(None, cache.cache_key("x", 2, {"a": 1}))


def test_cache_goes_to_a_writable_place_when_the_data_root_is_read_only(tmp_path, monkeypatch):
    monkeypatch.delenv("GRAPHBENCH_CACHE")
    import os
    monkeypatch.setattr(os, "access", lambda *a, **k: False)  # chmod does not stop root, so fake it
    assert cache.cache_dir(tmp_path) != tmp_path / ".cache"


@pytest.mark.parametrize("name", DATASETS.names())
def test_every_dataset_card_is_complete(name):
    card = dataset_card(name)
    for field in ("description", "protocol", "source", "citation", "size", "metric"):
        assert getattr(card, field), f"{name}: card.{field} is empty"
    assert card.direction in ("max", "min")
