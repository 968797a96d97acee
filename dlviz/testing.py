"""Tools for plugin authors' own tests: `check_plugin` and tiny recorded fixtures.

>>> from dlviz.testing import check_plugin
>>> from plugins.model_summary import ModelSummary
>>> check_plugin(ModelSummary).notes  # raises AssertionError or PluginError when the contract is broken
()
"""

from __future__ import annotations

import dataclasses
import functools
import json
import pickle
from collections.abc import Iterator
from contextlib import contextmanager

from dlviz import registry
from dlviz.plugin import LANGUAGES, Context, Plugin, param_specs

MAX_FIGURE_JSON_BYTES = 2_000_000
NO_LANGUAGE_NOTE = (
    "figures(self, result) takes no language: the host calls it without one, so its figures read the "
    "same in every language (add `language='en'` to draw them in the reader's language)."
)


@dataclasses.dataclass(frozen=True)
class PluginCheck:
    """What `check_plugin` found besides the contract: the contexts it ran on, and notes for the author."""

    contexts_checked: int
    notes: tuple[str, ...]


@functools.cache
def tiny_context(kind: str = "points2d") -> Context:
    """A small trained model with a recorded run, built once per process.

    `kind` is "points2d" (an MLP on the 2-D xor set), "tabular" (an MLP on breast_cancer) or
    "image" (a CNN on a subset of digits). Each trains for two epochs with a Recorder.
    """
    from dlviz import datasets, models
    from dlviz.datasets import Dataset
    from dlviz.recorder import Recorder

    if kind == "points2d":
        dataset = datasets.load("xor", seed=0, n_samples=200)
        model = models.build("mlp", dataset, hidden=(8, 8), seed=0)
    elif kind == "tabular":
        dataset = datasets.load("breast_cancer", seed=0)
        model = models.build("mlp", dataset, hidden=(8,), seed=0)
    elif kind == "image":
        full = datasets.load("digits", seed=0)
        dataset = Dataset.from_arrays(
            full.x_train[:240],
            full.y_train[:240],
            x_test=full.x_test[:60],
            y_test=full.y_test[:60],
            name="digits (subset)",
            kind="image",
            class_names=full.class_names,
            class_names_zh=full.class_names_zh,
            standardize=False,
        )
        model = models.build("cnn", dataset, hidden=(16,), seed=0)
    else:
        raise ValueError(f"unknown tiny context kind {kind!r}; use points2d, tabular or image")
    recorder = Recorder.for_dataset(dataset, every=2, max_snapshots=20)
    model.fit(
        dataset.x_train,
        dataset.y_train,
        validation_data=(dataset.x_test, dataset.y_test),
        epochs=2,
        batch_size=32,
        verbose=0,
        callbacks=[recorder],
    )
    return registry.make_context(model=model, dataset=dataset, run=recorder.run, seed=0)


def check_plugin(cls: type[Plugin], contexts: tuple[Context, ...] | None = None) -> PluginCheck:
    """Check that `cls` keeps the plugin contract; raise AssertionError (or PluginError) if not.

    Validates the class as registration does, requires its texts in English and Chinese, then on
    every compatible context (the tiny fixtures by default) computes with default parameters,
    checks the result pickles, and that `figures` returns small Plotly figures in both languages
    (called as the host calls it: with ``language`` only when it accepts one, which the notes say).
    """
    import plotly.graph_objects as go

    registry.validate(cls)
    plugin = cls()
    for language in LANGUAGES:
        texts = plugin.texts(language)
        assert texts.title, f"{cls.name}: no title in {language}"
        assert texts.description, f"{cls.name}: no description in {language} (docstring first paragraph / 简介：)"
        assert texts.what_to_look_for, f"{cls.name}: no 'What to look for' text in {language}"
    for spec in param_specs(cls.Params):
        assert spec.label and spec.text("zh")[0], f"{cls.name}: parameter {spec.name} has no label"

    if contexts is None:
        contexts = tuple(tiny_context(kind) for kind in ("points2d", "tabular", "image"))
    checked = 0
    for ctx in contexts:
        verdict = plugin.is_compatible(ctx)
        assert verdict is True or (isinstance(verdict, str) and verdict), (
            f"{cls.name}: is_compatible must return True or a non-empty reason, got {verdict!r}"
        )
        if verdict is not True:
            continue
        result = registry.run_plugin(plugin, ctx)
        result = pickle.loads(pickle.dumps(result))
        for language in LANGUAGES:
            figures = registry.plugin_figures(plugin, result, language)
            assert isinstance(figures, list) and figures, f"{cls.name}: figures() returned no figure"
            for figure in figures:
                assert isinstance(figure, go.Figure), f"{cls.name}: figures() returned {type(figure)}"
                assert figure.data, f"{cls.name}: a figure has no data"
                assert figure.layout.title.text, f"{cls.name}: a figure has no title"
                size = len(json.dumps(figure.to_plotly_json(), default=str))
                assert size < MAX_FIGURE_JSON_BYTES, f"{cls.name}: a figure's JSON is {size} bytes"
        for finding in plugin.diagnose(result):
            assert finding.severity in ("ok", "info", "warning", "problem"), finding
        checked += 1
    assert checked or not contexts, f"{cls.name}: compatible with none of the test contexts"
    notes = () if registry.accepts_language(plugin.figures) else (NO_LANGUAGE_NOTE,)
    return PluginCheck(checked, notes)


@contextmanager
def isolated_registry() -> Iterator[None]:
    """Run a block with an empty registry and discovery blocked; the previous state comes back after."""
    with registry._lock:
        saved, saved_discovered = dict(registry._registry), registry._discovered
        registry._registry.clear()
        registry._discovered = True
    try:
        yield
    finally:
        with registry._lock:
            registry._registry.clear()
            registry._registry.update(saved)
            registry._discovered = saved_discovered
