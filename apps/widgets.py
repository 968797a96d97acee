"""Widgets generated from parameter declarations (`dlviz.plugin.param_specs`), never written per plugin.

One rule maps a declaration to a widget: ``choices`` give a select box (a multi-select with
``multiple``; ``multiple`` without choices, e.g. layer names, a multi-select of suggestions that
also takes typed values), a bool a checkbox, a number with both bounds a slider (over decades with ``log``),
other numbers a number input, a tuple of numbers a comma-separated text input, anything else a
text input. Values survive page switches: Streamlit forgets the state of a widget that a run does
not draw, so each value is also kept in the session's store and seeded back into the widget. Choices
survive a language switch through `keep_selection`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, MutableMapping, Sequence
from typing import Any

import streamlit as st

from dlviz.errors import ParamsError
from dlviz.plugin import ParamSpec, param_specs

_NICE_MANTISSAS = (1.0, 2.0, 5.0)
SELECTIONS_KEY = "dlviz.selection_texts"


def spec_from_dict(
    name: str, declaration: dict[str, Any], label: str = "", label_zh: str = "", help_zh: str = ""
) -> ParamSpec:
    """A `ParamSpec` from a plain declaration such as ``dlviz.datasets.PARAMETERS[name][param]``."""
    return ParamSpec(
        name=name,
        default=declaration.get("default"),
        label=label or declaration.get("label") or name.replace("_", " ").capitalize(),
        label_zh=label_zh or declaration.get("label_zh", ""),
        help=declaration.get("help", ""),
        help_zh=help_zh or declaration.get("help_zh", ""),
        min=declaration.get("min"),
        max=declaration.get("max"),
        step=declaration.get("step"),
        choices=tuple(declaration["choices"]) if declaration.get("choices") is not None else None,
        multiple=bool(declaration.get("multiple", False)),
        log=bool(declaration.get("log", False)),
    )


def log_grid(low: float, high: float, default: float) -> list[float]:
    """1-2-5 steps per decade between `low` and `high`, with `default` among them."""
    values = {float(default), float(low), float(high)}
    for exponent in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1):
        for mantissa in _NICE_MANTISSAS:
            value = float(f"{mantissa}e{exponent}")
            if low <= value <= high:
                values.add(value)
    return sorted(values)


def raw_default(spec: ParamSpec) -> Any:
    """The widget's initial value for `spec` (the text form for tuples typed as text)."""
    if spec.multiple:
        return list(spec.default or ())
    if _is_number_tuple(spec):
        return ", ".join(str(item) for item in spec.default)
    if _is_number(spec.default) and spec.choices is None:
        return float(spec.default) if isinstance(spec.default, float) else int(spec.default)
    return spec.default


def value_of(spec: ParamSpec, raw: Any) -> Any:
    """The parameter value a widget's raw value stands for (ParamsError when the text is not valid)."""
    if spec.multiple:
        return tuple(raw)
    if _is_number_tuple(spec):
        kind = type(spec.default[0]) if spec.default else float
        try:
            return tuple(kind(part) for part in str(raw).replace(";", ",").split(",") if part.strip())
        except ValueError as exc:
            raise ParamsError(
                f"{spec.label}: {raw!r} is not a comma-separated list of numbers.", "write e.g. 32, 16."
            ) from exc
    if isinstance(spec.default, int) and not isinstance(spec.default, bool) and spec.choices is None:
        return int(raw)
    return raw


def keep_selection(key: str, options: Sequence[Any], format_func: Callable[[Any], str]) -> None:
    """Keep the choice of the selection widget under `key` when the texts of its options change.

    Call it just before drawing the select box, multi-select or segmented control. A browser sends a
    selection back as the text the widget showed (Streamlit 1.67 serialises options by their
    ``format_func`` text), so after a language switch the text it sends matches no option any more
    and Streamlit falls back to the widget's default: a CNN chosen in English became the first kind
    in the list, an MLP, once the page was in Chinese. The value read back before drawing is still
    decoded with the texts the browser had, so when the texts change it is written back into the
    session state (which Streamlit then sends to the browser), and a text left over from an earlier
    rendering is decoded through every text each option has been shown as.
    """
    texts = {format_func(option): option for option in options}
    memory = st.session_state.setdefault(SELECTIONS_KEY, {})
    shown_before, seen = memory.get(key, ({}, {}))
    seen = {**seen, **texts}
    memory[key] = (texts, seen)
    if key not in st.session_state:
        return
    value = st.session_state[key]
    if isinstance(value, list):
        chosen = [seen.get(item, item) if isinstance(item, str) else item for item in value]
        valid = all(item in options for item in chosen)
    else:
        chosen = seen.get(value, value) if isinstance(value, str) and value not in options else value
        valid = chosen is None or chosen in options
    if valid and (texts != shown_before or chosen != value):
        st.session_state[key] = chosen


def control(spec: ParamSpec, key: str, language: str, container: Any = st, suggestions: tuple = ()) -> Any:
    """Draw the widget for `spec` under `key` in `container`; return its raw value.

    A multi-valued parameter without declared choices (e.g. layer names) gets a multi-select that
    offers `suggestions` and accepts typed values.
    """
    label, help_text = spec.text(language)
    help_text = help_text or None
    if spec.multiple and spec.choices is None:
        return container.multiselect(
            label, list(suggestions), key=key, help=help_text, format_func=str, accept_new_options=True
        )
    if spec.choices is not None:
        options = list(spec.choices)
        name = functools.partial(spec.choice_text, language=language)
        keep_selection(key, options, name)
        if spec.multiple:
            return container.multiselect(label, options, key=key, help=help_text, format_func=name)
        return container.selectbox(label, options, key=key, help=help_text, format_func=name)
    if isinstance(spec.default, bool):
        return container.checkbox(label, key=key, help=help_text)
    if _is_number(spec.default):
        return _number(spec, key, label, help_text, container)
    return container.text_input(label, key=key, help=help_text)


def _number(spec: ParamSpec, key: str, label: str, help_text: str | None, container: Any) -> Any:
    is_int = isinstance(spec.default, int)
    low, high = spec.min, spec.max
    if low is not None and high is not None:
        if spec.log and low > 0:
            options = log_grid(low, high, spec.default)
            if is_int:
                options = sorted({int(round(value)) for value in options})
            return container.select_slider(label, options, key=key, help=help_text, format_func=_short)
        if is_int:
            step = max(int(spec.step or 1), 1)
            return container.slider(label, int(low), int(high), step=step, key=key, help=help_text)
        step = float(spec.step) if spec.step else _nice_step((high - low) / 100)
        return container.slider(
            label, float(low), float(high), step=step, key=key, help=help_text, format=_format_for(step)
        )
    if is_int:
        return container.number_input(
            label,
            min_value=None if low is None else int(low),
            max_value=None if high is None else int(high),
            step=max(int(spec.step or 1), 1),
            key=key,
            help=help_text,
        )
    step = float(spec.step) if spec.step else None
    return container.number_input(
        label,
        min_value=None if low is None else float(low),
        max_value=None if high is None else float(high),
        step=step,
        key=key,
        help=help_text,
        format=_format_for(step) if step else "%g",
    )


def controls(
    specs: list[ParamSpec],
    prefix: str,
    language: str,
    store: MutableMapping[str, Any],
    columns: int = 3,
    container: Any = st,
    suggestions: tuple = (),
) -> dict[str, Any]:
    """Draw a widget per spec (laid out in up to `columns` columns) and return the parameter values.

    `store` keeps the raw values between page switches; a stored value the widget no longer accepts
    (the declaration changed) is replaced by the default. Raises ParamsError for text that is not valid.
    """
    if not specs:
        return {}
    slots = container.columns(min(columns, len(specs))) if columns > 1 else [container]
    raw_values = {}
    for index, spec in enumerate(specs):
        key = f"{prefix}.{spec.name}"
        if key not in st.session_state:
            stored = store.get(spec.name, raw_default(spec))
            st.session_state[key] = stored if _accepts(spec, stored) else raw_default(spec)
        raw_values[spec.name] = control(spec, key, language, slots[index % len(slots)], suggestions)
        store[spec.name] = raw_values[spec.name]
    return {spec.name: value_of(spec, raw_values[spec.name]) for spec in specs}


def reset(specs: list[ParamSpec], prefix: str, store: MutableMapping[str, Any]) -> None:
    """Put every widget of `specs` back to its default (call before the widgets are drawn)."""
    store.clear()
    for spec in specs:
        st.session_state.pop(f"{prefix}.{spec.name}", None)


def plugin_specs(plugin_cls: type) -> list[ParamSpec]:
    return param_specs(plugin_cls.Params)


def _accepts(spec: ParamSpec, raw: Any) -> bool:
    if spec.multiple and spec.choices is None:
        return isinstance(raw, list)
    if spec.choices is not None:
        if spec.multiple:
            return isinstance(raw, list) and all(item in spec.choices for item in raw)
        return raw in spec.choices
    if _is_number(spec.default) and spec.min is not None and spec.max is not None:
        return _is_number(raw) and spec.min <= raw <= spec.max
    return True


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_number_tuple(spec: ParamSpec) -> bool:
    return (
        spec.choices is None
        and not spec.multiple
        and isinstance(spec.default, tuple)
        and all(_is_number(item) for item in spec.default)
    )


def _nice_step(raw_step: float) -> float:
    if raw_step <= 0:
        return 0.01
    exponent = math.floor(math.log10(raw_step))
    return float(f"1e{exponent}")


def _format_for(step: float) -> str:
    decimals = max(0, -math.floor(math.log10(step))) if step > 0 else 2
    return f"%.{decimals}f"


def _short(value: float) -> str:
    return f"{value:g}"
