"""The dashboard's words in English and Chinese: `t(key, language, **fmt)`.

The catalogues are JSON files beside this module, one per language (`en.json`, `zh.json`), mapping
a dotted key (e.g. ``"sidebar.train"``) to a string that may hold ``str.format`` fields. Both must
hold the same keys with the same fields (the test suite checks it). A technical term keeps its
English name beside the Chinese the first time a text uses it, e.g. 梯度消失 (vanishing gradients).

>>> from dlviz.i18n import t
>>> t("language.name", "zh")
'简体中文'
>>> t("overview.trained_epochs", "en", epochs=3)
'Trained for 3 epochs'
"""

from __future__ import annotations

import functools
import json
import string
from importlib import resources

LANGUAGES = ("en", "zh")
DEFAULT_LANGUAGE = "en"


@functools.cache
def catalogue(language: str) -> dict[str, str]:
    """Every string of `language`, by key (read once from the package's JSON file)."""
    if language not in LANGUAGES:
        raise KeyError(f"unknown language {language!r}; use one of {LANGUAGES}")
    text = resources.files(__name__).joinpath(f"{language}.json").read_text(encoding="utf-8")
    return json.loads(text)


def t(key: str, language: str = DEFAULT_LANGUAGE, /, **fmt: object) -> str:
    """The string `key` in `language`, formatted with `fmt`.

    A key missing from `language` falls back to English, and a key missing everywhere shows as
    the key itself, so a gap in a catalogue never breaks a page (the tests catch the gap).
    """
    if language not in LANGUAGES:
        language = DEFAULT_LANGUAGE
    text = catalogue(language).get(key)
    if text is None:
        text = catalogue(DEFAULT_LANGUAGE).get(key, key)
    return text.format(**fmt) if fmt else text


def lookup(key: str, language: str = DEFAULT_LANGUAGE) -> str | None:
    """The string `key` in `language` (English as fallback), or None when no catalogue has it."""
    text = catalogue(language if language in LANGUAGES else DEFAULT_LANGUAGE).get(key)
    return text if text is not None else catalogue(DEFAULT_LANGUAGE).get(key)


def fields(text: str) -> set[str]:
    """The names of the ``str.format`` fields in `text` (to compare the two catalogues)."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}
