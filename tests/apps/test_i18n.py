"""The UI string catalogue: both languages hold every key, with the same format fields."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dlviz import datasets, models
from dlviz.i18n import LANGUAGES, catalogue, fields, lookup, t
from dlviz.plugin import SECTIONS

APPS = Path(__file__).resolve().parents[2] / "apps"
# t("key", ...) with a literal key, and t(f"prefix.{...}") whose prefix must own keys
LITERAL_KEY = re.compile(r"""\bt\(\s*"([a-z_]+(?:\.[A-Za-z0-9_ ]+)+)\"""")
PREFIX_KEY = re.compile(r"""\b(?:t|lookup)\(\s*f"([a-z_]+(?:\.[a-z_]+)*)\.\{""")


def test_every_key_exists_in_every_language_with_the_same_fields():
    english = catalogue("en")
    for language in LANGUAGES:
        strings = catalogue(language)
        assert set(strings) == set(english), f"{language}: missing {set(english) - set(strings)}, extra {set(strings) - set(english)}"
        for key, text in strings.items():
            assert text.strip(), f"{language}:{key} is empty"
            assert fields(text) == fields(english[key]), f"{language}:{key} has other format fields than English"


def test_every_key_the_app_uses_is_in_the_catalogue():
    source = "\n".join(path.read_text(encoding="utf-8") for path in APPS.glob("*.py"))
    used = set(LITERAL_KEY.findall(source))
    assert used, "the pattern finds the app's keys"
    assert used <= set(catalogue("en")), sorted(used - set(catalogue("en")))
    for prefix in set(PREFIX_KEY.findall(source)):
        assert any(key.startswith(prefix + ".") for key in catalogue("en")), prefix


@pytest.mark.parametrize(
    "keys",
    [
        [f"section.{section}" for section in SECTIONS],
        [f"model.kind.{kind}" for kind in models.KINDS],
        [f"data.name.{name}" for name in datasets.names()],
        ["model.source.build", "model.source.upload", "runs.label.trained", "runs.label.opened", "runs.label.logdir"],
        ["export.png_missing.kaleido", "export.png_missing.chromium", "curves.loss", "curves.accuracy"],
    ],
)
def test_keys_built_at_runtime_exist(keys):
    assert all(lookup(key, "zh") for key in keys), [key for key in keys if not lookup(key, "zh")]


def test_chinese_text_is_chinese_and_keeps_english_terms_on_first_use():
    chinese = catalogue("zh")
    assert t("language.name", "zh") == "简体中文" and t("language.name", "en") == "English"
    assert sum(bool(re.search(r"[\u4e00-\u9fff]", text)) for text in chinese.values()) > 0.9 * len(chinese)
    for key, term in [("model.learning_rate", "learning rate"), ("model.batch_norm", "batch normalization"),
                      ("train.batch_size", "batch size"), ("model.dropout", "dropout")]:
        assert term in chinese[key], f"{key} should name {term!r} beside the Chinese"


def test_t_formats_and_falls_back():
    assert t("train.progress", "zh", epoch=2, epochs=5) == "第 2/5 轮"
    assert t("no.such.key", "zh") == "no.such.key"
    assert t("language.name", "fr") == "English"
