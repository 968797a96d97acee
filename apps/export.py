"""Downloads: a figure as standalone HTML or PNG, and a run as a zip that `dlviz.Run.load` reads.

The HTML embeds plotly.js (a CDN link would not render offline, in a classroom without internet).
PNG export goes through kaleido, which drives a Chrome or Chromium; Debian's ``chromium`` is used
when present. When either is missing, `png_support` says what to install instead of failing.
"""

from __future__ import annotations

import functools
import importlib.util
import io
import os
import re
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

_BROWSER_ENV = "BROWSER_PATH"
_BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")
_UNSAFE_FILE_CHARS = re.compile(r"[^\w.-]+", re.UNICODE)
_TAGS = re.compile(r"<[^>]*>")
STREAMLIT_TEMPLATE = "streamlit"
EXPORT_TEMPLATE = "plotly"


def portable(figure: Any) -> Any:
    """A copy of the figure that looks the same outside Streamlit.

    Importing Streamlit makes its own template Plotly's default, and that template holds placeholder
    colours (#000038...) which only Streamlit's frontend replaces; a figure built in the app carries
    it, so an export would come out dark navy. The copy gets Plotly's standard template instead.
    """
    import plotly.graph_objects as go
    import plotly.io as pio

    copy = go.Figure(figure)
    if STREAMLIT_TEMPLATE in pio.templates and copy.layout.template == pio.templates[STREAMLIT_TEMPLATE]:
        copy.layout.template = pio.templates[EXPORT_TEMPLATE]
    return copy


def figure_html(figure: Any) -> bytes:
    """The figure as one self-contained HTML page (plotly.js embedded, renders offline)."""
    return portable(figure).to_html(include_plotlyjs=True, full_html=True).encode("utf-8")


@functools.cache
def png_support() -> str | None:
    """None when PNG export works here, else what is missing (in English: shown with a translation)."""
    if importlib.util.find_spec("kaleido") is None:
        return "kaleido"
    if os.environ.get(_BROWSER_ENV) and Path(os.environ[_BROWSER_ENV]).exists():
        return None
    for name in _BROWSERS:
        found = shutil.which(name)
        if found:
            os.environ.setdefault(_BROWSER_ENV, found)
            return None
    return "chromium"


def figure_png(figure: Any, scale: float = 2.0) -> bytes:
    """The figure as a PNG image (needs `png_support()` to be None)."""
    missing = png_support()
    if missing is not None:
        raise RuntimeError(f"PNG export needs {missing}")
    figure = portable(figure)
    width = figure.layout.width or 1100
    height = figure.layout.height or 600
    return figure.to_image(format="png", width=width, height=height, scale=scale)


def run_zip(run: Any, name: str = "run") -> bytes:
    """The run as a zip of its run folder (`dlviz.Run.load` opens the zip directly)."""
    with tempfile.TemporaryDirectory(prefix="dlviz-export-") as scratch:
        folder = run.save(Path(scratch) / safe_file_name(name, "run"))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(Path(folder).rglob("*")):
                if path.is_file():
                    archive.write(path, Path(folder.name) / path.relative_to(folder))
    return buffer.getvalue()


def safe_file_name(title: str, fallback: str = "figure") -> str:
    """A file name made from a figure title (letters, digits, '.', '_' and '-' only)."""
    cleaned = _UNSAFE_FILE_CHARS.sub("_", _TAGS.sub(" ", title or "")).strip("._")
    return cleaned[:80] or fallback


def figure_title(figure: Any, index: int) -> str:
    """The figure's title as plain text (Plotly titles may hold <br> and <sub> tags)."""
    text = figure.layout.title.text if figure.layout.title is not None else None
    plain = " ".join(_TAGS.sub(" ", text or "").split())
    return plain or f"figure {index + 1}"
