"""Run every plugin that reads a model on a context, as a user would open each page: figures or a refusal
through `is_compatible`, never another exception; each figure under 2 MB and of a bounded subplot count."""

import dlviz
from dlviz.plugin import Context
from dlviz.registry import run_plugin
from dlviz.testing import MAX_FIGURE_JSON_BYTES


def reads_the_model(plugin) -> bool:
    """Whether `plugin` reads the loaded model: it requires one, or it declares no requirement yet refuses a
    context holding nothing (it reads the model or its recorded run, whichever is there: activations,
    gradients). The lessons, which accept an empty context, train models of their own."""
    if "model" in plugin.requires:
        return True
    return not plugin.requires and plugin.is_compatible(Context()) is not True


# Every registered plugin that reads the model, so that a new one is swept without being listed here.
MODEL_PLUGINS = tuple(
    name for name, info in dlviz.registry.plugins().items() if info.plugin and reads_the_model(info.plugin())
)
# Subplots one figure may hold (the attribution sanity grid at its default is 5 methods x 9 stages).
MAX_SUBPLOTS = 60


def subplot_count(figure) -> int:
    """Axes pairs of a figure: the larger of its x and y axis counts (heatmap rows share one x axis)."""
    layout = figure.layout.to_plotly_json()
    return max(
        sum(key.startswith("xaxis") for key in layout) or 1,
        sum(key.startswith("yaxis") for key in layout) or 1,
    )


def check_figures(name: str, figures: list) -> None:
    for figure in figures:
        assert len(figure.to_json()) < MAX_FIGURE_JSON_BYTES, (name, figure.layout.title.text)
        assert subplot_count(figure) <= MAX_SUBPLOTS, (name, figure.layout.title.text)


def sweep(ctx: Context, plugins: tuple[str, ...] = MODEL_PLUGINS, **params) -> tuple[dict, dict]:
    """(figures by plugin, refusal by plugin) at each plugin's defaults (`params[name]` overrides them)."""
    drawn, refused = {}, {}
    for name in plugins:
        plugin = dlviz.get_plugin(name)
        verdict = plugin.is_compatible(ctx)
        if verdict is not True:
            assert isinstance(verdict, str) and verdict, name
            refused[name] = verdict
            continue
        values = params.get(name, {})
        result = run_plugin(plugin, ctx, dlviz.plugin.make_params(type(plugin).Params, values))
        figures = plugin.figures(result, language=ctx.language)
        assert figures, name
        check_figures(name, figures)
        drawn[name] = figures
    return drawn, refused
