"""Every Finding of the diagnosing plugins carries Chinese text, and figures' notes follow the language.

The static tests read each module's source: every `Finding(...)` call must pass `headline_zh=`, and
`advice_zh=` whenever it passes an advice; every advice constant has its `_ZH` twin. The cheap
dynamic tests build findings from real numbers and check the Chinese text keeps them.
"""

from __future__ import annotations

import ast
import collections
import re
from pathlib import Path

import numpy as np
import pytest

import dlviz
from dlviz import registry

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"
# Every source file of the built-in plugins, modules and packages alike, by its path under plugins/.
MODULES = tuple(sorted(str(path.relative_to(PLUGINS)) for path in PLUGINS.rglob("*.py")))
CJK = re.compile(r"[\u4e00-\u9fff]")
NUMBER = re.compile(r"\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def finding_calls(tree: ast.AST) -> list[ast.Call]:
    calls = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name == "Finding":
                calls.append(node)
    return calls


def parse(module: str) -> ast.Module:
    return ast.parse((PLUGINS / module).read_text(encoding="utf-8"))


def plugin_of(module: str) -> str:
    """The plugin (or shared helper) a source file belongs to: a module's stem or its package's name."""
    return Path(module).parts[0].removesuffix(".py")


@pytest.mark.parametrize("module", MODULES)
def test_every_finding_passes_chinese_text(module):
    for call in finding_calls(parse(module)):
        keywords = {keyword.arg: keyword.value for keyword in call.keywords}
        where = f"plugins/{module}:{call.lineno}"
        assert "headline_zh" in keywords, f"{where}: Finding without headline_zh="
        headline = keywords["headline_zh"]
        assert not (isinstance(headline, ast.Constant) and not headline.value), f"{where}: empty headline_zh"
        has_advice = len(call.args) >= 3 or "advice" in keywords
        if has_advice:
            assert "advice_zh" in keywords, f"{where}: Finding with an advice but no advice_zh="
        # Literal Chinese text must really be Chinese.
        for name in ("headline_zh", "advice_zh"):
            literal = "".join(
                node.value
                for node in ast.walk(keywords.get(name, ast.Constant("")))
                if isinstance(node, ast.Constant) and isinstance(node.value, str)
            )
            if name == "headline_zh" or literal:
                assert not literal or CJK.search(literal), f"{where}: {name} has no Chinese characters"


@pytest.mark.parametrize("module", MODULES)
def test_every_advice_constant_has_a_chinese_twin(module):
    tree = parse(module)
    constants = {
        target.id: node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    for name in constants:
        if name.endswith("_ADVICE"):
            assert f"{name}_ZH" in constants, f"plugins/{module}: {name} has no {name}_ZH"
            text = ast.literal_eval(constants[f"{name}_ZH"])
            assert CJK.search(text), f"plugins/{module}: {name}_ZH is not Chinese"


def test_the_static_test_sees_the_findings():
    counts = collections.Counter()
    for module in MODULES:
        counts[plugin_of(module)] += len(finding_calls(parse(module)))
    assert counts["gradients"] >= 6 and counts["activations"] >= 3 and counts["optimizers"] >= 6
    assert sum(counts.values()) >= 25


def assert_bilingual(finding: dlviz.Finding) -> None:
    assert CJK.search(finding.headline_zh), finding
    if finding.advice:
        assert CJK.search(finding.advice_zh), finding
    # Same numbers and layer names in both languages.
    missing = set(NUMBER.findall(finding.headline)) - set(NUMBER.findall(finding.headline_zh))
    assert not missing, (finding.headline, finding.headline_zh, missing)
    assert finding.text("zh") == (finding.headline_zh, finding.advice_zh)
    assert finding.text("en") == (finding.headline, finding.advice)


# ----------------------------------------------------------------------------- gradients, from real norms


def test_gradient_findings_are_bilingual():
    from plugins.gradients.diagnosis import diagnose_norms
    from plugins.gradients.plugin import Params

    steps = np.array([0, 10, 20, 30])
    layers = ["dense_1", "dense_2", "out"]
    broken = np.array([[1.0, 1.0, np.nan, np.nan], [1.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0]])
    findings = diagnose_norms(layers, steps, broken, np.ones(3), Params(persist=2))
    vanishing = np.array([[1e-2, 1e-4, 1e-6, 1e-7], [1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0]])
    findings += diagnose_norms(layers, steps, vanishing, np.ones(3), Params(persist=2))
    findings += diagnose_norms(layers, None, np.ones((3, 1)), np.ones(3), Params())
    kinds = {finding.headline.split(" ")[0] for finding in findings}
    assert {"Exploding", "Dead", "Vanishing", "Gradients"} <= kinds, kinds
    for finding in findings:
        assert_bilingual(finding)
    by_kind = {finding.headline.split(" ")[0]: finding for finding in findings}
    assert "梯度爆炸" in by_kind["Exploding"].headline_zh and "dense_1" in by_kind["Exploding"].headline_zh
    assert "梯度消失 (vanishing gradients)" in by_kind["Vanishing"].headline_zh


# ----------------------------------------------------------------------------- activations


def test_activation_findings_are_bilingual():
    from plugins.activations.diagnosis import diagnose_layers
    from plugins.activations.plugin import Params
    from plugins.activations.result import ProbeHealth

    health = ProbeHealth(
        dead_layers=("dense", "dense_1"),
        dead_units=(16, 3),
        units=(16, 16),
        saturating_layers=("dense_2",),
        saturating_activations=("tanh",),
        saturated=(0.75,),
        layers=("dense", "dense_1", "dense_2", "out"),
    )
    findings = diagnose_layers(None, health, Params(dead_units=0.1, saturation=0.5))
    assert [finding.severity for finding in findings] == ["problem", "warning", "warning"]
    for finding in findings:
        assert_bilingual(finding)
    assert "死亡 ReLU (dying ReLU)" in findings[0].headline_zh
    assert "饱和 (saturation)" in findings[2].headline_zh and "75%" in findings[2].headline_zh

    healthy = ProbeHealth((), (), (), (), (), (), ("dense", "out"))
    (ok,) = diagnose_layers(None, healthy, Params())
    assert ok.severity == "ok"
    assert_bilingual(ok)


def test_activation_notes_follow_the_language():
    from dlviz.plugin import draw_page
    from plugins.activations import Activations
    from plugins.activations.result import ActivationsResult
    from plugins.activations.views import view_reason

    ctx = registry.make_context()
    assert view_reason(ctx, "distributions") is None
    for view in ("training", "feature_maps", "unit_responses"):
        english, chinese = view_reason(ctx, view)
        assert Activations().view_compatibility(ctx, view) == english
        assert CJK.search(chinese), chinese

    class Captions:
        def __init__(self):
            self.lines = []

        def caption(self, text):
            self.lines.append(text)

    english, chinese = view_reason(ctx, "training")
    result = ActivationsResult(
        distributions=None,
        probe_health=None,
        feature_maps=None,
        unit_responses=None,
        findings=(),
        page=dlviz.Page((dlviz.Note(english, chinese),)),
        thresholds=(0.9, 0.9),
    )
    for language, expected in (("en", english), ("zh", chinese)):
        st = Captions()
        draw_page(st, Activations().page(result), language)
        assert st.lines == [expected]
