"""The plugin contract: `Plugin`, its `Params` metadata, the `Context` it computes in.

A plugin computes a plain, picklable result from a `Context` (no UI), and draws that result as
Plotly figures. The dashboard builds its controls from the plugin's `Params` dataclass, shows the
docstring's first paragraph as help text and the "What to look for" paragraph beside the figures,
in English or Chinese.

Docstring layout of a plugin (each block a paragraph of its own)::

    First paragraph: what the view shows, in English (the UI help text).

    简介：the same in Chinese.

    What to look for: what a healthy and a sick picture look like.

    观察要点：the same in Chinese.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import re
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from dlviz.errors import ParamsError

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
LANGUAGES = ("en", "zh")
REQUIREMENTS = frozenset({"model", "dataset", "run"})
_REQUIREMENTS_ZH = {"model": "模型", "dataset": "数据集", "run": "训练记录 (run)"}
SECTIONS = ("Overview", "Training dynamics", "Optimization", "Data", "Explanations", "Lessons", "Other")

_ZH_DESCRIPTION = "简介："
_EN_LOOK_FOR = "What to look for:"
_ZH_LOOK_FOR = "观察要点："


def param(
    default: Any,
    *,
    label: str = "",
    label_zh: str = "",
    help: str = "",
    help_zh: str = "",
    min: float | None = None,
    max: float | None = None,
    step: float | None = None,
    choices: tuple | None = None,
    multiple: bool = False,
    log: bool = False,
    choice_labels: dict | None = None,
    choice_labels_zh: dict | None = None,
) -> Any:
    """A `Params` field with the metadata the dashboard turns into a widget.

    `choices` gives a select box (`multiple=True`: a multi-select whose default is a tuple);
    `choice_labels` / `choice_labels_zh` map some or all choices to the names the widget shows
    (the value passed to `compute` stays the choice itself);
    `min`/`max`/`step` a slider or number input (`log=True`: values spread over decades);
    a bool default gives a checkbox; anything else a text input.
    """
    metadata = {
        "label": label,
        "label_zh": label_zh,
        "help": help,
        "help_zh": help_zh,
        "min": min,
        "max": max,
        "step": step,
        "choices": tuple(choices) if choices is not None else None,
        "multiple": multiple,
        "log": log,
        "choice_labels": _checked_choice_labels(choice_labels, choices, label or "param"),
        "choice_labels_zh": _checked_choice_labels(choice_labels_zh, choices, label or "param"),
    }
    return dataclasses.field(default=default, metadata={"dlviz": metadata})


def _checked_choice_labels(labels: dict | None, choices: tuple | None, name: str) -> dict:
    if not labels:
        return {}
    unknown = [key for key in labels if choices is None or key not in choices]
    if unknown:
        raise ParamsError(
            f"Choice labels of {name!r} name values that are not among its choices: {unknown!r}.",
            "give labels only for values listed in choices=.",
        )
    return dict(labels)


@dataclasses.dataclass(frozen=True)
class ParamSpec:
    """One control of a plugin, read from its `Params` field."""

    name: str
    default: Any
    label: str
    label_zh: str
    help: str
    help_zh: str
    min: float | None
    max: float | None
    step: float | None
    choices: tuple | None
    multiple: bool
    log: bool
    # Left out of the hash (dicts are unhashable): the specs stay usable as keys and in sets.
    choice_labels: dict = dataclasses.field(default_factory=dict, hash=False)
    choice_labels_zh: dict = dataclasses.field(default_factory=dict, hash=False)

    def text(self, language: str) -> tuple[str, str]:
        """The label and help text in `language`, falling back to English."""
        if language == "zh":
            return self.label_zh or self.label, self.help_zh or self.help
        return self.label, self.help

    def choice_text(self, value: Any, language: str) -> str:
        """How a widget names the choice `value` in `language`: its label, else the value itself."""
        if language == "zh" and value in self.choice_labels_zh:
            return self.choice_labels_zh[value]
        return self.choice_labels.get(value, str(value))

    def check(self, value: Any) -> Any:
        """Return `value` coerced to this field's type, or raise ParamsError saying why it is refused."""
        if self.multiple:
            values = (value,) if isinstance(value, str) or not _is_iterable(value) else tuple(value)
            for item in values:
                self._check_choice(item)
            return values
        if self.choices is not None:
            self._check_choice(value)
            return value
        if isinstance(self.default, bool):
            if not isinstance(value, bool):
                raise ParamsError(f"Parameter {self.name!r} must be True or False, got {value!r}.")
            return value
        if isinstance(self.default, int | float):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ParamsError(
                    f"Parameter {self.name!r} must be a number, got {value!r}.",
                    f"pass a number between {self.min} and {self.max}.",
                )
            if isinstance(self.default, int) and not isinstance(self.default, bool):
                if value != int(value):
                    raise ParamsError(f"Parameter {self.name!r} must be a whole number, got {value!r}.")
                value = int(value)
            else:
                value = float(value)
            if math.isnan(value):
                raise ParamsError(f"Parameter {self.name!r} is NaN.", "pass a finite number.")
            if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
                raise ParamsError(
                    f"Parameter {self.name!r} = {value!r} is outside its range.",
                    f"pass a value between {self.min} and {self.max}.",
                )
        return value

    def _check_choice(self, value: Any) -> None:
        if self.choices is not None and value not in self.choices:
            raise ParamsError(
                f"Parameter {self.name!r} = {value!r} is not one of its choices.",
                f"pick one of {', '.join(map(repr, self.choices))}.",
            )


def _is_iterable(value: Any) -> bool:
    try:
        iter(value)
    except TypeError:
        return False
    return True


@dataclasses.dataclass(frozen=True)
class NoParams:
    """The `Params` of a plugin that has no controls."""


def param_specs(params_cls: type) -> list[ParamSpec]:
    """The controls declared by a `Params` dataclass, in field order."""
    specs = []
    for field in dataclasses.fields(params_cls):
        meta = dict(field.metadata.get("dlviz", {}))
        if field.default is not dataclasses.MISSING:
            default = field.default
        elif field.default_factory is not dataclasses.MISSING:
            default = field.default_factory()
        else:
            raise ParamsError(
                f"Params field {params_cls.__qualname__}.{field.name} has no default.",
                "give every Params field a default (use dlviz.param(default, ...)).",
            )
        specs.append(
            ParamSpec(
                name=field.name,
                default=default,
                label=meta.get("label") or field.name.replace("_", " ").capitalize(),
                label_zh=meta.get("label_zh", ""),
                help=meta.get("help", ""),
                help_zh=meta.get("help_zh", ""),
                min=meta.get("min"),
                max=meta.get("max"),
                step=meta.get("step"),
                choices=meta.get("choices"),
                multiple=meta.get("multiple", False),
                log=meta.get("log", False),
                choice_labels=meta.get("choice_labels", {}),
                choice_labels_zh=meta.get("choice_labels_zh", {}),
            )
        )
    return specs


def make_params(params_cls: type, values: Mapping[str, Any] | None = None) -> Any:
    """Build a `Params` instance from keyword values, refusing unknown names and out-of-range values."""
    values = dict(values or {})
    specs = {spec.name: spec for spec in param_specs(params_cls)}
    unknown = sorted(set(values) - set(specs))
    if unknown:
        valid = ", ".join(specs) or "none"
        raise ParamsError(
            f"Unknown parameter(s) {', '.join(unknown)} for {params_cls.__qualname__}.",
            f"use one of: {valid}.",
        )
    checked = {name: specs[name].check(value) for name, value in values.items()}
    return params_cls(**checked)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Context:
    """Everything a plugin may compute from. It may grow: read only the fields you need.

    `model` is a `dlviz.ModelHandle` (see `dlviz.wrap`), `dataset` a `dlviz.datasets.Dataset`,
    `run` the `dlviz.Run` being shown and `runs` further runs to compare with it. `progress`, when
    set, takes a fraction in [0, 1] and a short message; call it through `ctx.report`. `partial`, when
    set, takes a result so far (a page draws it while the rest is computed); call it through
    `ctx.report_partial`.
    """

    model: Any = None
    dataset: Any = None
    run: Any = None
    runs: tuple = ()
    device: str = ""
    seed: int = 0
    language: str = "en"
    progress: Callable[[float, str], None] | None = dataclasses.field(default=None, compare=False)
    partial: Callable[[Any], None] | None = dataclasses.field(default=None, compare=False)

    def report(self, fraction: float, message: str = "") -> None:
        """Tell the caller how far a long computation has come (does nothing without a listener)."""
        if self.progress is not None:
            self.progress(min(max(float(fraction), 0.0), 1.0), message)

    @property
    def wants_partial(self) -> bool:
        """Whether someone listens for partial results (build them only then: they may cost time)."""
        return self.partial is not None

    def report_partial(self, result: Any, done: int, total: int, message: str = "") -> None:
        """Hand the caller a valid result so far, after `done` of `total` parts (models trained, epochs...).

        `result` is of the type `compute` returns, with fewer entries, so `figures(result)` draws it; a
        page shows it at once instead of a blank page until the last part. Reports the progress too.
        Does nothing without listeners, so scripts and callers that ignore it are unaffected.

        >>> seen = []
        >>> ctx = Context(progress=lambda f, m: seen.append(f), partial=seen.append)
        >>> ctx.report_partial(("first model",), done=1, total=4)
        >>> seen
        [0.25, ('first model',)]
        >>> Context().report_partial(("first model",), done=1, total=4)  # nobody listens: nothing happens
        """
        self.report(done / total if total else 1.0, message)
        if self.partial is not None:
            self.partial(result)

    def has(self, requirement: str) -> bool:
        """Whether the context holds `requirement` ("model", "dataset" or "run")."""
        return getattr(self, requirement) is not None


@dataclasses.dataclass(frozen=True)
class Finding:
    """One diagnosis headline, e.g. "dense_3: vanishing gradients since step 120".

    `severity` is "ok", "info", "warning" or "problem"; `advice` says what to try. `headline_zh` and
    `advice_zh` carry the Chinese text; `text(language)` picks one, English as fallback.
    """

    severity: str
    headline: str
    advice: str = ""
    layer: str | None = None
    step: int | None = None
    headline_zh: str = ""
    advice_zh: str = ""

    def text(self, language: str = "en") -> tuple[str, str]:
        """The headline and advice in `language`."""
        if language == "zh":
            return self.headline_zh or self.headline, self.advice_zh or self.advice
        return self.headline, self.advice


@dataclasses.dataclass(frozen=True)
class Note:
    """A sentence the page shows above a result's figures (how it was computed, a caveat), in both languages."""

    text: str
    text_zh: str = ""

    def __call__(self, language: str = "en") -> str:
        return tr(language, self.text, self.text_zh)


@dataclasses.dataclass(frozen=True)
class Formula:
    """A formula the page shows with its figures: what it is, in both languages, and its LaTeX."""

    label: str
    label_zh: str
    latex: str


@dataclasses.dataclass(frozen=True)
class Page:
    """What a result carries for its page besides figures, as data: notes, then formulas.

    A result that has a `page` field of this type gets it drawn by the dashboard (notes as captions,
    formulas in an expander titled `formulas_title`) above the figures; no `render` needed.
    """

    notes: tuple[Note, ...] = ()
    formulas: tuple[Formula, ...] = ()
    formulas_title: str = "Formulas"
    formulas_title_zh: str = "公式"

    def notes_in(self, language: str) -> tuple[str, ...]:
        return tuple(note(language) for note in self.notes)


@dataclasses.dataclass(frozen=True)
class PluginTexts:
    """A plugin's words in one language."""

    title: str
    description: str
    what_to_look_for: str


def docstring_sections(doc: str | None) -> dict[str, str]:
    """Split a plugin docstring into its English and Chinese description and "What to look for"."""
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", inspect.cleandoc(doc or "")) if p.strip()]
    sections = {"description": "", "description_zh": "", "look_for": "", "look_for_zh": ""}
    prefixes = {
        "description_zh": _ZH_DESCRIPTION,
        "look_for": _EN_LOOK_FOR,
        "look_for_zh": _ZH_LOOK_FOR,
    }
    for paragraph in paragraphs:
        if paragraph.startswith(">>>"):
            continue
        for key, prefix in prefixes.items():
            if paragraph.startswith(prefix):
                sections[key] = paragraph[len(prefix) :].strip()
                break
        else:
            if not sections["description"]:
                sections["description"] = paragraph
    return sections


class Plugin:
    """Base class of every dlviz plugin; every default here is harmless.

    Subclass it, set `name` (module name = plugin name = entry-point name), declare a frozen
    `Params` dataclass with `dlviz.param` fields, and implement `compute` and `figures`.
    """

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    title_zh: ClassVar[str] = ""
    description: ClassVar[str] = ""
    section: ClassVar[str] = "Other"
    requires: ClassVar[frozenset[str]] = frozenset()
    compares_runs: ClassVar[bool] = False
    # True: the result depends only on the params and the seed, never on the session's model, data or
    # runs, so the dashboard computes it once for every session (see `shared_result_key`).
    session_independent: ClassVar[bool] = False
    Params: ClassVar[type] = NoParams
    _docs: ClassVar[dict[str, str]] = docstring_sections(None)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._docs = docstring_sections(cls.__doc__)
        if not cls.__dict__.get("description"):
            cls.description = cls._docs["description"]
        if not cls.__dict__.get("title") and cls.name:
            cls.title = cls.name.replace("_", " ").capitalize()

    def texts(self, language: str = "en") -> PluginTexts:
        """Title, description and "What to look for" in `language` ("en" or "zh"), English as fallback."""
        docs = type(self)._docs
        if language == "zh":
            return PluginTexts(
                title=self.title_zh or self.title,
                description=docs["description_zh"] or self.description,
                what_to_look_for=docs["look_for_zh"] or docs["look_for"],
            )
        return PluginTexts(self.title, self.description, docs["look_for"])

    def is_compatible(self, ctx: Context) -> bool | str:
        """True, or the reason this plugin cannot run on `ctx`, in `ctx.language`. The default checks `requires`."""
        missing = sorted(req for req in self.requires if not ctx.has(req))
        if missing:
            return tr(
                ctx.language,
                f"{self.title} needs {' and '.join(missing)}: load or train one first.",
                f"{self.title_zh or self.title} 需要{'和'.join(_REQUIREMENTS_ZH[req] for req in missing)}："
                "请先加载或训练。",
            )
        return True

    def shared_result_key(self, ctx: Context, params: Any) -> str | None:
        """Whether sessions may share the result of `params` on `ctx`: None when it depends on the session's
        model, data or runs; else a text naming whatever else of `ctx` it reads (besides the params and the
        seed), "" when nothing. The default: "" when the class sets `session_independent`, else None.

        Override it for a result that reads the session only for some params, e.g. a lesson that trains on
        its own bundled data unless told to use the loaded set.
        """
        return "" if self.session_independent else None

    def compute(self, ctx: Context, params: Any) -> Any:
        """Compute a plain, picklable result. Pure: no UI, no global state."""
        raise NotImplementedError(f"plugin {self.name!r} does not implement compute()")

    def figures(self, result: Any, language: str = "en") -> list:
        """Draw `result` as a list of `plotly.graph_objects.Figure` (titles in `language`)."""
        return []

    def diagnose(self, result: Any) -> list[Finding]:
        """Headlines for the dashboard's overview; none by default."""
        return []

    def page(self, result: Any) -> Page:
        """The notes and formulas shown with `result`: its `page` field when it has one, else none."""
        page = getattr(result, "page", None)
        return page if isinstance(page, Page) else Page()

    def render(self, st: Any, ctx: Context, result: Any) -> None:
        """Draw `result` into a Streamlit container: its `page` (notes, formulas), then `figures()`.

        The dashboard draws the same itself, with cached figures; override this only for a page that
        needs a layout of its own, and say why in the override's docstring.
        """
        draw_page(st, self.page(result), ctx.language)
        for figure in self.figures(result, language=ctx.language):
            st.plotly_chart(figure, width="stretch")


def draw_page(st: Any, page: Page, language: str) -> None:
    """Draw a result's notes (captions) and formulas (LaTeX, in an open expander) into Streamlit `st`."""
    for note in page.notes_in(language):
        st.caption(note)
    if page.formulas:
        with st.expander(tr(language, page.formulas_title, page.formulas_title_zh), expanded=True):
            for formula in page.formulas:
                st.markdown(f"**{tr(language, formula.label, formula.label_zh)}**")
                st.latex(formula.latex)


def tr(language: str, en: str, zh: str) -> str:
    """Pick the English or Chinese form of a figure's text (the English one when there is no Chinese)."""
    return zh if language == "zh" and zh else en


def tr_names(language: str, names, names_zh) -> tuple[str, ...]:
    """Pick names or texts (e.g. a result's ``class_names`` / ``class_names_zh``, or its notes) in a figure's
    language: the Chinese ones when there is one for each English one, else the English.

    >>> tr_names("zh", ("upper moon", "lower moon"), ("上弦月", "下弦月")), tr_names("zh", ("a", "b"), ())
    (('上弦月', '下弦月'), ('a', 'b'))
    """
    return tuple(names_zh) if language == "zh" and len(names_zh) == len(names) else tuple(names)
