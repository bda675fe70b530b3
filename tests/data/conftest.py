"""Fixtures for the dataset tests: an isolated cache folder and a network kill switch."""

from __future__ import annotations

import socket

import pytest


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Caches of one test module go to a temporary folder, never to the real data root or ~/.cache."""
    monkeypatch.setenv("GRAPHBENCH_CACHE", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a socket fails the test: loaders must not touch the network when files are present."""
    def refuse(*args, **kwargs):
        raise AssertionError("a loader tried to use the network although its files are present")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
