"""Export: standalone HTML with plotly.js inside, PNG through kaleido, a run as a zip Run.load reads."""

from __future__ import annotations

import re
import shutil

import plotly.graph_objects as go
import pytest
from dashboard_helpers import assert_no_exception, new_app, open_page

import dlviz
from apps import export
from dlviz.testing import tiny_context


@pytest.fixture
def figure():
    figure = go.Figure(go.Bar(x=["一", "b"], y=[1, 2]))
    figure.update_layout(title="Gradient <b>norm</b> per layer", xaxis_title="layer", yaxis_title="norm")
    return figure


def test_html_export_embeds_plotly_js_so_it_renders_offline(figure):
    html = export.figure_html(figure).decode("utf-8")
    assert "<html>" in html[:100] and "Plotly.newPlot" in html
    assert not re.search(r"<script[^>]*\bsrc=", html), "no script is fetched from the network"
    assert len(html) > 1_000_000, "plotly.js itself is inside"


@pytest.mark.slow
def test_png_export_renders_with_kaleido_and_chromium(figure):
    if export.png_support() is not None:
        pytest.skip(f"PNG export needs {export.png_support()} here")
    png = export.figure_png(figure)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5_000


def test_png_support_names_what_is_missing(monkeypatch):
    export.png_support.cache_clear()
    monkeypatch.delenv("BROWSER_PATH", raising=False)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    try:
        assert export.png_support() == "chromium"
        monkeypatch.setattr(export.importlib.util, "find_spec", lambda name: None)
        export.png_support.cache_clear()
        assert export.png_support() == "kaleido"
    finally:
        export.png_support.cache_clear()


def test_exports_replace_streamlits_placeholder_template():
    import plotly.io as pio
    import streamlit.elements.plotly_chart  # noqa: F401 - makes Streamlit's template the default

    assert pio.templates.default == "streamlit"
    built_in_the_app = go.Figure(go.Table(cells={"values": [[1, 2]]}))
    assert built_in_the_app.layout.template == pio.templates["streamlit"]
    exported = export.portable(built_in_the_app)
    assert exported.layout.template == pio.templates["plotly"]
    assert built_in_the_app.layout.template == pio.templates["streamlit"], "the shown figure is untouched"
    html = export.figure_html(built_in_the_app).decode()
    assert "#000038" not in html[html.index("Plotly.newPlot") :], "no placeholder colour is exported"
    own = go.Figure(layout={"template": "plotly_white"})
    assert export.portable(own).layout.template == pio.templates["plotly_white"]


def test_file_names_come_from_titles_without_tags_or_paths(figure):
    assert export.figure_title(figure, 0) == "Gradient norm per layer"
    assert export.safe_file_name("../../etc/<b>passwd</b>") == "etc_passwd"
    assert export.safe_file_name("") == "figure"


def test_a_run_zip_loads_with_run_load(tmp_path):
    run = tiny_context("points2d").run
    path = tmp_path / "run.zip"
    path.write_bytes(export.run_zip(run, "tiny run"))
    loaded = dlviz.Run.load(path)
    assert loaded.layers == run.layers
    assert list(loaded.epochs["loss"]) == pytest.approx(list(run.epochs["loss"]))
    assert loaded.snapshots.shape == run.snapshots.shape and not loaded.problems


def test_plugin_pages_offer_html_and_png_downloads_for_each_figure():
    at = open_page(new_app().run(), "model_summary").run()
    assert_no_exception(at)
    keys = {button.key for button in at.get("download_button")}
    assert {"export.model_summary.0.html", "export.model_summary.0.png", "export.model_summary.1.html"} <= keys
