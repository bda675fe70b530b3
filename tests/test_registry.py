"""Registries: decorator registration, helpful errors for unknown names, and entry-point plugins."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from graphbench.registry import MODELS, Registry, UnknownNameError
from tests.helpers import ROOT


def test_decorator_registers_and_lookup_is_case_insensitive():
    reg: Registry = Registry("widget")

    @reg.register("Foo", colour="red")
    class Foo:
        pass

    assert reg.get("foo").obj is Foo and reg.get("FOO").meta == {"colour": "red"}
    assert "foo" in reg and reg.names() == ["foo"]


def test_unknown_name_suggests_close_matches():
    with pytest.raises(UnknownNameError) as err:
        MODELS.get("gni")
    msg = str(err.value)
    assert "'gin'" in msg and "Known models" in msg


def test_registering_a_taken_name_is_refused():
    reg: Registry = Registry("widget")
    reg.add("a", object())
    with pytest.raises(ValueError, match="already registered"):
        reg.add("a", object())
    reg.add("a", 1, override=True)
    assert reg.get("a").obj == 1


def test_aliases_resolve_to_the_model():
    assert MODELS.get("graphsage").name == "sage"


def test_entry_point_plugin_registers_a_model_without_editing_graphbench(tmp_path):
    """A user's installed package registers its model through the ``graphbench.plugins`` entry-point group."""
    pkg = tmp_path / "site"
    (pkg / "mygnn").mkdir(parents=True)
    (pkg / "mygnn" / "__init__.py").write_text(textwrap.dedent("""
        from dgl.nn import GraphConv
        from graphbench.models.base import COMMON_HPARAMS, MessagePassingNet
        from graphbench.registry import MODELS

        @MODELS.register("mygcn", hparams=COMMON_HPARAMS, task_levels=("graph",))
        class MyGCN(MessagePassingNet):
            self_loops = True
            def make_conv(self, layer):
                return GraphConv(self.hidden, self.hidden, allow_zero_in_degree=True)
    """))
    dist = pkg / "mygnn-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: mygnn\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[graphbench.plugins]\nmygnn = mygnn\n")
    code = ("import graphbench.api as gb; print(sorted(m['name'] for m in gb.list_models())); "
            "df = gb.run('mygcn', 'csl', folds=[0], hparams={'epochs': 2}, results=None); print(df.status.tolist())")
    env = {"PYTHONPATH": f"{pkg}:{ROOT}", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "mygcn" in out.stdout and "['ok']" in out.stdout


def test_a_broken_plugin_warns_and_builtins_still_work(tmp_path):
    dist = tmp_path / "broken-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[graphbench.plugins]\nbroken = no_such_module_xyz\n")
    code = "from graphbench.registry import MODELS; print(MODELS.names())"
    env = {"PYTHONPATH": f"{tmp_path}:{ROOT}", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "gin" in out.stdout and "broken" in out.stderr and "no_such_module_xyz" in out.stderr


def test_a_failed_builtin_import_fails_loudly_and_recovers_on_the_next_lookup():
    """Issue 9: a built-in module that fails to import used to leave the registries empty for good."""
    code = textwrap.dedent("""
        import importlib.abc, sys
        class Broken(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name == "graphbench.models.gat":
                    raise ImportError("simulated broken install")
        finder = Broken()
        sys.meta_path.insert(0, finder)
        from graphbench.registry import MODELS, RegistryImportError
        try:
            MODELS.get("gcn")
        except RegistryImportError as e:
            assert "graphbench.models" in str(e) and "simulated broken install" in str(e), e
        else:
            raise AssertionError("no error")
        try:
            MODELS.get("gcn")  # still loud, never 'Known models: .'
        except RegistryImportError:
            pass
        sys.meta_path.remove(finder)  # the environment is fixed
        assert MODELS.get("gat").name == "gat" and {"gcn", "gin", "gat", "sage"} <= set(MODELS.names())
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and "ok" in out.stdout, out.stderr
