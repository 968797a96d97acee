"""The simplest plugin contract, method signatures checked at registration, and plugin files of one's own."""

from __future__ import annotations

import textwrap

import plotly.graph_objects as go
import pytest

import dlviz
from dlviz import registry
from dlviz.testing import NO_LANGUAGE_NOTE, check_plugin, isolated_registry

DOCSTRING = '''"""Counts to three.

    简介：数到三。

    What to look for: three bars.

    观察要点：三根柱子。
    """'''

PLUGIN_FILE = f'''
import plotly.graph_objects as go

import dlviz


@dlviz.register
class Registered(dlviz.Plugin):
    {DOCSTRING}

    name = "registered_here"

    def compute(self, ctx, params):
        return [1, 2, 3]

    def figures(self, result):
        return [go.Figure(go.Bar(y=result), layout={{"title": "three"}})]


class NamelessBase(dlviz.Plugin):
    """A base for the file's plugins: no name, so not a plugin of its own."""


class Unregistered(NamelessBase):
    {DOCSTRING}

    name = "defined_here"

    def compute(self, ctx, params):
        return [3, 2, 1]

    def figures(self, result, language="en"):
        return [go.Figure(go.Bar(y=result), layout={{"title": "three" if language == "en" else "三"}})]
'''


class Simplest(dlviz.Plugin):
    """Counts to three.

    简介：数到三。

    What to look for: three bars.

    观察要点：三根柱子。
    """

    name = "simplest"

    def compute(self, ctx, params):
        return [1, 2, 3]

    def figures(self, result):
        return [go.Figure(go.Bar(y=result), layout={"title": "three"})]


def test_figures_without_a_language_is_called_without_one_and_check_plugin_says_so():
    with isolated_registry():
        dlviz.register(Simplest)
        (figure,) = dlviz.figures("simplest", language="zh")
        assert list(figure.data[0].y) == [1, 2, 3]
    report = check_plugin(Simplest, contexts=(registry.make_context(),))
    assert report.contexts_checked == 1 and report.notes == (NO_LANGUAGE_NOTE,)
    with_language = type("WithLanguage", (Simplest,), {"figures": lambda self, result, language="en": []})
    assert registry.accepts_language(with_language().figures)
    assert not registry.accepts_language(Simplest().figures)


def _made(**methods):
    namespace = {
        "name": "made",
        "compute": lambda self, ctx, params: 1,
        "figures": lambda self, result: [],
        **methods,
    }
    return type("Made", (dlviz.Plugin,), namespace)


@pytest.mark.parametrize(
    ("methods", "named"),
    [
        ({"compute": lambda self, ctx: 1}, "compute"),
        ({"compute": lambda self, ctx, params, extra: 1}, "compute"),
        ({"figures": lambda self: []}, "figures"),
        ({"figures": lambda self, result, language: []}, "figures"),
        ({"is_compatible": lambda self: True}, "is_compatible"),
        ({"diagnose": lambda self, result, language: []}, "diagnose"),
        ({"render": lambda self, st, result: None}, "render"),
        ({"figures": staticmethod(lambda result: [])}, "figures"),
    ],
)
def test_wrong_method_signatures_are_refused_at_registration_naming_the_method(methods, named):
    with isolated_registry(), pytest.raises(dlviz.PluginError, match=rf"\b{named}\b"):
        dlviz.register(_made(**methods))


def test_optional_extras_in_signatures_are_accepted():
    with isolated_registry():
        dlviz.register(
            _made(
                compute=lambda self, ctx, params=None: 1,
                figures=lambda self, result, language="en", **options: [],
                diagnose=lambda self, *args: [],
            )
        )
        assert dlviz.plugins()["made"].status == "loaded"


def test_a_plugin_file_registers_its_plugins_from_that_file(tmp_path):
    path = tmp_path / "my_plugins.py"
    path.write_text(PLUGIN_FILE, encoding="utf-8")
    with isolated_registry():
        assert sorted(registry.load_files(path)) == ["defined_here", "registered_here"]
        known = dlviz.plugins()
        assert {known[name].source for name in ("defined_here", "registered_here")} == {f"file {path}"}
        assert "NamelessBase" not in str(known)
        (figure,) = dlviz.figures("registered_here")
        assert list(figure.data[0].y) == [1, 2, 3]
        (figure,) = dlviz.figures("defined_here", language="zh")
        assert figure.layout.title.text == "三"


def test_a_folder_loads_every_file_and_a_broken_one_is_recorded_not_raised(tmp_path):
    (tmp_path / "good.py").write_text(PLUGIN_FILE, encoding="utf-8")
    (tmp_path / "broken.py").write_text("def oops(:\n", encoding="utf-8")
    (tmp_path / "clash.py").write_text(
        textwrap.dedent(
            """
            import dlviz

            @dlviz.register
            class Bad(dlviz.Plugin):
                name = "bad_signature"

                def compute(self, ctx):
                    return 1

                def figures(self, result):
                    return []
            """
        ),
        encoding="utf-8",
    )
    (tmp_path / "_helpers.py").write_text("raise RuntimeError('never imported')\n", encoding="utf-8")
    with isolated_registry():
        names = registry.load_files(tmp_path)
        known = dlviz.plugins()
        assert sorted(names) == ["broken", "clash", "defined_here", "registered_here"]
        assert known["broken"].status == "failed" and "SyntaxError" in known["broken"].error
        assert known["clash"].status == "failed" and "compute" in known["clash"].error
        assert "bad_signature" not in known, "a failed file registers nothing"
        assert known["registered_here"].status == "loaded"
        missing = registry.load_files(tmp_path / "nowhere.py")
        assert dlviz.plugins()[missing[0]].status == "failed"
