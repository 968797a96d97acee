"""The pages: an overview, then one page per registered plugin, grouped by the plugin's section.

Nothing here knows any particular plugin. A plugin page draws the plugin's texts in the session's
language, controls generated from its `Params`, its compatibility verdict, the result's notes and
formulas (its `Page`) and its figures (or its own `render`); whatever the plugin raises is shown on
its own page, with the traceback folded away.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

import dlviz
from apps import charts, compute, export, state, widgets
from dlviz.errors import DlvizError
from dlviz.i18n import t
from dlviz.plugin import SECTIONS, Plugin, draw_page
from dlviz.registry import PluginInfo, plugin_figures

SEVERITY_STYLE = {"problem": "error", "warning": "warning", "info": "info", "ok": "success"}
SEVERITY_ICON = {
    "problem": ":material/error:",
    "warning": ":material/warning:",
    "info": ":material/info:",
    "ok": ":material/check_circle:",
}
OVERVIEW_PATH = "overview"
MAX_OPEN_CONTROLS = 6  # more controls than this start folded, so the figures come into view first
TIMING_KEY = "dlviz.page_timing"


def navigation(language: str) -> Any:
    """`st.navigation` over the overview and every registered plugin, sections in SECTIONS order."""
    grouped: dict[str, list] = {section: [] for section in SECTIONS}
    grouped["Overview"].append(
        st.Page(
            overview_page,
            title=t("overview.title", language),
            icon=":material/home:",
            url_path=OVERVIEW_PATH,
            default=True,
        )
    )
    for name, info in dlviz.plugins().items():
        if info.plugin is None:
            grouped["Other"].append(
                st.Page(_failed_page(info), title=name, icon=":material/error:", url_path=name)
            )
            continue
        section = info.plugin.section if info.plugin.section in grouped else "Other"
        title = _plugin_title(info.plugin, language)
        grouped[section].append(st.Page(_plugin_page(name), title=title, url_path=name))
    pages = {t(f"section.{section}", language): entries for section, entries in grouped.items() if entries}
    return st.navigation(pages, position="top")


def _plugin_title(plugin_cls: type[Plugin], language: str) -> str:
    try:
        return plugin_cls().texts(language).title or plugin_cls.name
    except Exception:  # a plugin's texts must not take the navigation down
        return plugin_cls.name


def _plugin_page(name: str) -> Callable[[], None]:
    def page() -> None:
        plugin_page(name)

    page.__name__ = f"plugin_{name}"
    return page


def _failed_page(info: PluginInfo) -> Callable[[], None]:
    def page() -> None:
        language = state.language()
        st.title(info.name)
        st.error(t("plugin.failed_to_load", language, name=info.name, error=info.error or ""))
        if info.traceback:
            with st.expander(t("plugin.traceback", language)):
                st.code(info.traceback, language="text")

    page.__name__ = f"failed_{info.name}"
    return page


def show_notices(ws: state.Workspace, area: Any, language: str) -> None:
    """Messages from the sidebar (errors, saved runs...) at the top of the page; shown once."""
    for notice in ws.notices:
        getattr(area, notice.kind, area.info)(notice.text)
        if notice.details:
            with area.expander(t("plugin.traceback", language)):
                st.code(notice.details, language="text")
    ws.notices.clear()


# ----------------------------------------------------------------------------- plugin pages


def plugin_page(name: str) -> None:
    """One plugin's page; whatever the plugin raises stays on this page."""
    ws, language = state.workspace(), state.language()
    info = dlviz.plugins().get(name)
    if info is None or info.plugin is None:
        st.error(t("plugin.missing", language, name=name))
        return
    plugin = info.plugin()
    try:
        _plugin_body(plugin, ws, language)
    except Exception as exc:  # anything the plugin (or its declarations) raise is shown, not thrown
        _show_failure(plugin, exc, language)


def _plugin_body(plugin: Plugin, ws: state.Workspace, language: str) -> None:
    texts = plugin.texts(language)
    st.title(texts.title)
    if texts.description:
        st.markdown(texts.description)
    params = _plugin_controls(plugin, widgets.plugin_specs(type(plugin)), ws, language)
    if params is None:
        return
    ctx = compute.context(ws, language)
    verdict = plugin.is_compatible(ctx)
    if verdict is not True:
        st.info(t("plugin.incompatible", language, reason=str(verdict)), icon=":material/block:")
        if texts.what_to_look_for:
            _look_for(texts.what_to_look_for, language)
        return
    if texts.what_to_look_for:
        _look_for(texts.what_to_look_for, language)
    timing = PageTiming.start(plugin.name)
    progress_area, findings_area, figures_area = st.empty(), st.container(), st.empty()
    partial = PartialFigures(plugin, figures_area, language, timing)
    value, result_key = compute.result(plugin, ws, language, params, progress_area, on_partial=partial)
    findings = compute.record_findings(ws, plugin, value)
    with findings_area:
        _findings([(plugin.name, finding) for finding in findings], language)
        _suggestion(value, language)
    with figures_area.container():
        if type(plugin).render is not Plugin.render:
            plugin.render(
                st, ctx, value
            )  # a page with a layout of its own draws (and caches) its figures itself
            timing.figure_drawn()
            try:
                figures = compute.figures(plugin, ws, value, result_key, language)
            except Exception:  # the plugin drew itself; export is a bonus, not worth an error
                figures = []
        else:
            draw_page(st, plugin.page(value), language)
            figures = compute.figures(plugin, ws, value, result_key, language)
            for index, figure in enumerate(figures):
                st.plotly_chart(figure, width="stretch", key=f"figure.{plugin.name}.{index}")
                timing.figure_drawn()
    timing.complete()
    _downloads(plugin.name, figures, language)


class PageTiming:
    """When a plugin page began computing, drew its first figure (partial or final) and was complete, in
    ``time.perf_counter`` seconds, kept in the session under TIMING_KEY (bench/pages.py reads it)."""

    def __init__(self, record: dict):
        self._record = record

    @classmethod
    def start(cls, name: str) -> PageTiming:
        record = {"page": name, "started": time.perf_counter(), "first_figure": None, "complete": None}
        st.session_state[TIMING_KEY] = record
        return cls(record)

    def figure_drawn(self) -> None:
        if self._record["first_figure"] is None:
            self._record["first_figure"] = time.perf_counter()

    def complete(self) -> None:
        self._record["complete"] = time.perf_counter()


class PartialFigures:
    """Draws each partial result of a plugin in place of the last one, with its notes, while the rest is
    computed; the complete result then takes its place."""

    def __init__(self, plugin: Plugin, area: Any, language: str, timing: PageTiming):
        self._plugin, self._area, self._language, self._timing = plugin, area, language, timing
        self._count = 0

    def __call__(self, value: Any) -> None:
        self._count += 1
        name = self._plugin.name
        try:
            figures = plugin_figures(self._plugin, value, self._language)
        except Exception:  # a partial result that cannot be drawn is skipped: the complete one follows
            return
        with self._area.container():
            draw_page(st, self._plugin.page(value), self._language)
            for index, figure in enumerate(figures):
                st.plotly_chart(figure, width="stretch", key=f"partial.{name}.{self._count}.{index}")
                self._timing.figure_drawn()


def _suggestion(value: Any, language: str) -> None:
    """A button that applies a result's suggested learning rate (its ``suggested_settings``, e.g. the
    lr_finder's) to the sidebar's model, which the sidebar then rebuilds with it."""
    suggested = getattr(value, "suggested_settings", None)
    rate = suggested.get("learning_rate") if isinstance(suggested, dict) else None
    if not isinstance(rate, int | float) or not rate > 0:
        return
    from apps import sidebar  # imported late, like main.py does: it imports TensorFlow

    option = sidebar.learning_rate_option(float(rate))
    st.button(
        t("plugin.apply_learning_rate", language, value=f"{option:g}"),
        on_click=sidebar.apply_learning_rate,
        args=(option,),
        disabled=not sidebar.builds_model(),
        help=t("plugin.apply_learning_rate_help", language),
        key="suggestion.learning_rate",
        icon=":material/tune:",
    )


def _plugin_controls(plugin: Plugin, specs: list, ws: state.Workspace, language: str) -> Any:
    """The plugin's settings as a Params instance, or None (after showing why) when they are invalid."""
    if not specs:
        return plugin.Params()
    prefix = f"param.{plugin.name}"
    store = ws.params.setdefault(f"plugin:{plugin.name}", {})
    expanded = len(specs) <= MAX_OPEN_CONTROLS
    with st.expander(t("plugin.settings", language), expanded=expanded, icon=":material/tune:"):
        if st.button(
            t("plugin.reset", language),
            key=f"{prefix}.__reset__",
            type="tertiary",
            icon=":material/restart_alt:",
        ):
            widgets.reset(specs, prefix, store)
        try:
            values = widgets.controls(specs, prefix, language, store, suggestions=compute.vocabulary(ws))
            return dlviz.plugin.make_params(plugin.Params, values)
        except DlvizError as exc:
            st.error(t("plugin.bad_params", language, problem=str(exc)))
            return None


def _look_for(text: str, language: str) -> None:
    st.info(f"**{t('plugin.look_for', language)}** {text}", icon=":material/visibility:")


def _findings(findings: list[tuple[str, Any]], language: str, sources: dict[str, str] | None = None) -> None:
    """Problems and warnings as alerts; notes and all-clears folded into one expander.

    `sources` maps a plugin name to the title shown before its findings (on the overview).
    """
    ordered = compute.sort_findings(findings)
    sources = sources or {}
    alerts = [(name, f) for name, f in ordered if f.severity in ("problem", "warning")]
    notes = [(name, f) for name, f in ordered if f.severity not in ("problem", "warning")]
    for name, finding in alerts:
        style = SEVERITY_STYLE.get(finding.severity, "info")
        text = _finding_text(finding, language, sources.get(name))
        getattr(st, style)(text, icon=SEVERITY_ICON.get(finding.severity))
    if notes:
        with st.expander(t("plugin.notes", language, count=len(notes)), icon=":material/fact_check:"):
            for name, finding in notes:
                icon = SEVERITY_ICON.get(finding.severity, "")
                st.markdown(f"{icon} {_finding_text(finding, language, sources.get(name))}")


def _finding_text(finding: Any, language: str, source: str | None = None) -> str:
    """Headline (in bold, after its source), where and when, then the advice, in `language`."""
    if hasattr(finding, "text"):
        headline, advice = finding.text(language)
    else:  # a Finding-like object from an older dlviz
        headline, advice = finding.headline, finding.advice
    where = []
    if finding.layer and finding.layer not in headline:
        where.append(t("finding.layer", language, layer=finding.layer))
    if finding.step is not None and str(finding.step) not in headline:
        where.append(t("finding.step", language, step=finding.step))
    text = (f"{source}: " if source else "") + f"**{headline}**" + (f" ({', '.join(where)})" if where else "")
    if advice:
        text += f"  \n{advice}"
    return text


def _show_failure(plugin: Plugin, exc: BaseException, language: str) -> None:
    message = exc.problem if isinstance(exc, DlvizError) and exc.fix is None else str(exc)
    st.error(
        t("plugin.error", language, title=plugin.texts(language).title, message=message),
        icon=":material/bug_report:",
    )
    with st.expander(t("plugin.traceback", language)):
        st.code("".join(traceback.format_exception(exc)), language="text")


def _downloads(name: str, figures: list, language: str) -> None:
    if not figures:
        return
    missing = export.png_support()
    with st.expander(t("export.title", language), icon=":material/download:"):
        if missing:
            st.caption(t(f"export.png_missing.{missing}", language))
        for index, figure in enumerate(figures):
            title = export.figure_title(figure, index)
            file_stem = f"{name}-{index + 1}-{export.safe_file_name(title)}"
            label, html_slot, png_slot = st.columns([4, 1, 1], vertical_alignment="center")
            label.write(title)
            html_slot.download_button(
                "HTML",
                data=lambda figure=figure: export.figure_html(figure),
                file_name=f"{file_stem}.html",
                mime="text/html",
                key=f"export.{name}.{index}.html",
                on_click="ignore",
                icon=":material/code:",
                help=t("export.html_help", language),
            )
            png_slot.download_button(
                "PNG",
                data=lambda figure=figure: export.figure_png(figure),
                file_name=f"{file_stem}.png",
                mime="image/png",
                key=f"export.{name}.{index}.png",
                on_click="ignore",
                icon=":material/image:",
                disabled=missing is not None,
                help=t("export.png_help", language)
                if missing is None
                else t(f"export.png_missing.{missing}", language),
            )


# ----------------------------------------------------------------------------- overview


def first_paint(area: Any, language: str) -> None:
    """The welcome and the default data, drawn while a cold server still imports TensorFlow."""
    with area.container():
        _welcome(None, language)
        preview = charts.samples(state.bundled_dataset(state.DEFAULT_DATASET), language)
        if preview is not None:
            st.plotly_chart(preview, width="stretch", key="first_paint.preview")


def _welcome(ws: state.Workspace | None, language: str) -> None:
    """The title and the first steps; names the data and model when they are not the defaults."""
    st.title(t("overview.heading", language))
    st.markdown(t("overview.tagline", language))
    if ws is None or ws.dataset is None or ws.model_spec == ws.first_model_spec:
        setup = t("overview.welcome", language)
    else:
        setup = t("overview.welcome_custom", language, dataset=ws.dataset.name, model=ws.model_label or "—")
    with st.container(border=True):
        st.markdown(f"{setup}\n\n{t('overview.welcome_steps', language)}")


def overview_page() -> None:
    ws, language = state.workspace(), state.language()
    if ws.runs:
        st.title(t("overview.heading", language))
        st.markdown(t("overview.tagline", language))
    else:
        _welcome(ws, language)
    _status(ws, language)
    _diagnosis(ws, language)
    current = ws.known_runs().get(ws.current_run) if ws.current_run else None
    left, right = st.columns(2)
    with left:
        st.subheader(t("overview.curves", language))
        if current is not None and len(current.run.epochs.get("epoch", ())):
            st.plotly_chart(
                charts.training_curves(current.run.epochs, language, titled=False),
                width="stretch",
                key="overview.curves",
            )
        elif ws.dataset is not None:
            st.caption(t("overview.no_run", language))
            preview = charts.samples(ws.dataset, language)
            st.plotly_chart(
                preview if preview is not None else charts.class_counts(ws.dataset, language),
                width="stretch",
                key="overview.preview",
            )
    with right:
        st.subheader(t("overview.layers", language))
        _layers(ws, language)
    if ws.dataset is not None:
        with st.expander(t("overview.data", language), icon=":material/dataset:"):
            st.plotly_chart(charts.class_counts(ws.dataset, language), width="stretch", key="overview.counts")
    _failed_plugins(language)


def _status(ws: state.Workspace, language: str) -> None:
    """Four short facts, each with its detail below (metric values must stay short to fit)."""
    dataset, model = ws.dataset, ws.model
    facts = [
        (
            t("overview.dataset", language),
            getattr(dataset, "name", "—") if dataset is not None else "—",
            charts.dataset_summary(dataset, language) if dataset is not None else "",
        ),
        (
            t("overview.model", language),
            f"{model.count_params():,}" if model is not None else "—",
            t("overview.params_of", language, label=ws.model_label) if model is not None else "",
        ),
        (t("overview.epochs", language), str(ws.trained_epochs), ""),
        (
            t("overview.device", language),
            compute.device_description().split(" (")[0],
            compute.device_description(),
        ),
    ]
    for column, (label, value, detail) in zip(st.columns(4), facts, strict=True):
        column.metric(label, value)
        if detail:
            column.caption(detail)


def _layers(ws: state.Workspace, language: str) -> None:
    if ws.model is None:
        st.caption(t("overview.no_model", language))
        return
    try:
        layers = compute.model_handle(ws).layers
    except DlvizError as exc:
        st.error(str(exc))
        return
    table = pd.DataFrame(
        {
            t("layers.name", language): [layer.name for layer in layers],
            t("layers.kind", language): [layer.kind for layer in layers],
            t("layers.shape", language): [str(layer.output_shape) for layer in layers],
            t("layers.params", language): [int(layer.params) for layer in layers],
            t("layers.activation", language): [layer.activation or "" for layer in layers],
        }
    )
    st.dataframe(table, hide_index=True, width="stretch")
    st.caption(t("overview.params", language, params=f"{ws.model.count_params():,}"))


def _diagnosis(ws: state.Workspace, language: str) -> None:
    """Headlines from the plugins that diagnose.

    Views of the training itself (section "Training dynamics", or needing a run) are checked here
    at once: they read what was recorded. The others may train or explain for a while, so their
    findings come from their pages, or from all at once with the "check" button.
    """
    key = compute.context_key(ws)
    found: list[tuple[str, Any]] = []
    later: list[type[Plugin]] = []
    checked = 0
    for name, info in dlviz.plugins().items():
        if info.plugin is None or not compute.has_diagnosis(info.plugin):
            continue
        remembered = ws.findings.get(name)
        if remembered is not None and remembered[0] == key:
            found += [(name, finding) for finding in remembered[1]]
            checked += 1
        elif info.plugin.section == "Training dynamics" or "run" in info.plugin.requires:
            found += _diagnose(info.plugin(), ws, language)
            checked += 1
        else:
            later.append(info.plugin)
    heading, findings_area = st.container(), st.container()
    if later:
        titles = ", ".join(_plugin_title(cls, language) for cls in later)
        if st.button(
            t("overview.check_all", language, count=len(later)),
            key="overview.check_all",
            icon=":material/troubleshoot:",
            help=t("overview.check_all_help", language, pages=titles),
        ):
            for cls in later:
                found += _diagnose(cls(), ws, language)
            checked += len(later)
    if not checked and not later:
        return
    heading.subheader(t("overview.diagnosis", language))
    titles = {name: _plugin_title(dlviz.plugins()[name].plugin, language) for name, _ in found}
    with findings_area:
        if checked and not any(finding.severity in ("problem", "warning") for _, finding in found):
            st.success(t("overview.all_clear", language, count=checked), icon=":material/check_circle:")
        _findings(found, language, titles)


def _diagnose(plugin: Plugin, ws: state.Workspace, language: str) -> list[tuple[str, Any]]:
    """The plugin's findings with its default settings ([] when it cannot run here)."""
    try:
        if plugin.is_compatible(compute.context(ws, language)) is not True:
            return []
        value, _ = compute.result(plugin, ws, language, plugin.Params(), st.empty())
        return [(plugin.name, finding) for finding in compute.record_findings(ws, plugin, value)]
    except Exception as exc:  # a failing diagnosis is shown in full on the plugin's own page
        failed = t("overview.diagnosis_failed", language, error=str(exc))
        return [(plugin.name, dlviz.Finding("info", failed))]


def _failed_plugins(language: str) -> None:
    failed = [info for info in dlviz.plugins().values() if info.plugin is None]
    if failed:
        st.warning(
            t("overview.failed_plugins", language, names=", ".join(info.name for info in failed)),
            icon=":material/extension_off:",
        )
