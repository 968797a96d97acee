"""Plugin pages draw partial results while the rest is computed, and share session-independent results."""

from __future__ import annotations

import dataclasses

import pytest
from dashboard_helpers import assert_no_exception, chart_specs, echo_figure, new_app, open_page

import dlviz
from apps.pages import TIMING_KEY

pytestmark = pytest.mark.slow  # two fresh dashboard sessions: seconds each to build the default model


@dataclasses.dataclass(frozen=True)
class Trained:
    models: tuple[str, ...]
    complete: bool


class ThreeModels(dlviz.Plugin):
    """A test view that trains three models and reports a partial result after each of the first two (the
    second of which it cannot draw).

    简介：测试视图。

    What to look for: one bar per model.

    观察要点：每个模型一个柱。
    """

    name = "zz_three_models"
    section = "Lessons"
    drawn: list = []  # every result whose figures were drawn, in order

    def compute(self, ctx, params):
        models = ("first", "second", "third")
        for done in (1, 2):
            ctx.report_partial(Trained(models[:done], complete=False), done, len(models))
        return Trained(models, complete=True)

    def figures(self, result, language="en"):
        type(self).drawn.append(result)
        if len(result.models) == 2:
            raise ValueError("a partial result this view cannot draw")
        return [echo_figure(f"{len(result.models)} models")]


@dataclasses.dataclass(frozen=True)
class Race:
    steps: int
    paths: list  # mutable on purpose: one session changing it (diagnose does) must not change another's


class SharedRace(dlviz.Plugin):
    """A test view whose result depends on its params alone.

    简介：测试视图。

    What to look for: the title.

    观察要点：标题。
    """

    name = "zz_shared_race"
    section = "Optimization"
    session_independent = True
    computed = drawn = 0

    @dataclasses.dataclass(frozen=True)
    class Params:
        steps: int = dlviz.param(3, label="Steps", min=1, max=10)

    def compute(self, ctx, params):
        type(self).computed += 1
        return Race(params.steps, paths=list(range(params.steps)))

    def figures(self, result, language="en"):
        type(self).drawn += 1
        return [echo_figure(f"{result.steps} steps")]

    def diagnose(self, result):
        seen = len(result.paths)
        result.paths.append("changed by this session")
        return [dlviz.Finding("info", f"{seen} paths seen")]


class PerSession(SharedRace):
    """A test view whose result belongs to the session.

    简介：测试视图。

    What to look for: the title.

    观察要点：标题。
    """

    name = "zz_per_session"
    session_independent = False
    computed = drawn = 0


def chart_titles(at) -> list[str]:
    return [spec["layout"]["title"]["text"] for spec in chart_specs(at)]


@pytest.fixture(scope="module")
def two_sessions():
    """Two fresh sessions of the dashboard (nothing trained), as two students opening it."""
    return new_app().run(), new_app().run()


def test_partial_results_are_drawn_before_the_complete_one_which_alone_stays(two_sessions, registered):
    registered(ThreeModels)
    ThreeModels.drawn.clear()
    at = open_page(two_sessions[0], ThreeModels.name).run()
    assert_no_exception(at)
    assert [(len(drawn.models), drawn.complete) for drawn in ThreeModels.drawn] == [
        (1, False),
        (2, False),
        (3, True),
    ]
    assert chart_titles(at) == ["3 models"], "the complete result replaces the partial figures"
    assert not at.error, "a partial result that cannot be drawn is skipped"
    assert not at.get("progress"), "the progress bar is cleared once the result is complete"
    timing = at.session_state[TIMING_KEY]
    assert timing["page"] == ThreeModels.name
    assert timing["started"] <= timing["first_figure"] <= timing["complete"]
    # The complete result is cached: a second visit neither computes nor draws partial results again.
    ThreeModels.drawn.clear()
    at = open_page(at, "overview").run()
    at = open_page(at, ThreeModels.name).run()
    assert not any(not drawn.complete for drawn in ThreeModels.drawn)
    assert chart_titles(at) == ["3 models"]


def test_session_independent_results_are_computed_once_for_all_sessions(two_sessions, registered):
    registered(SharedRace)
    registered(PerSession)
    first, second = two_sessions
    for at in (first, second):
        for cls in (SharedRace, PerSession):
            at = open_page(at, cls.name).run()
            assert_no_exception(at)
            assert chart_titles(at) == ["3 steps"]
            notes = [str(markdown.value) for markdown in at.markdown]
            assert any("3 paths seen" in note for note in notes), "each session reads its own copy"
    assert SharedRace.computed == 1, "the second session got the shared result without computing"
    assert SharedRace.drawn == 1, "and its figures without drawing them"
    assert PerSession.computed == PerSession.drawn == 2, "a result of the session's own: once in each"
    at = open_page(second, SharedRace.name).run()
    at.slider(key=f"param.{SharedRace.name}.steps").set_value(4).run()
    assert chart_titles(at) == ["4 steps"] and SharedRace.computed == 2, "other params, another result"
