"""The sidebar: language, dataset, model, training and runs. It keeps the session's workspace in step.

Each section reads its widgets and updates the `Workspace` when a choice changed: a new dataset or
model settings rebuild the (untrained) model, "Train" trains it into the main area, and the runs
section picks the run the pages show and the runs they compare it with. Problems become notices
shown at the top of the page, never exceptions.
"""

from __future__ import annotations

import csv
import io
import math
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import streamlit as st

import dlviz
from apps import charts, export, logdir, state, training, widgets
from apps import settings as teacher
from apps.state import LANGUAGE_KEY, Workspace
from dlviz import datasets, models
from dlviz.errors import DlvizError
from dlviz.i18n import LANGUAGES, lookup, t

CSV_OPTION = "__csv__"
BATCH_SIZES = (8, 16, 32, 64, 128, 256)
LEARNING_RATES = widgets.log_grid(1e-4, 1.0, 1e-3)
PENALTIES = (0.0, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1)
DEFAULT_HIDDEN = "32, 16"
MAX_RUN_ZIP_UNPACKED = 1024 * 2**20
MAX_RUN_ZIP_RATIO = 200.0


def draw(ws: Workspace, logdir_path: Path | None, main_area: Any) -> None:
    """Draw the sidebar and apply its choices to `ws`; training output goes to `main_area`."""
    with st.sidebar:
        language = _language()
        with st.expander(t("sidebar.data", language), expanded=False, icon=":material/dataset:"):
            _dataset(ws, language)
        with st.expander(t("sidebar.model", language), expanded=False, icon=":material/hub:"):
            _model(ws, language)
        with st.expander(t("sidebar.training", language), expanded=True, icon=":material/model_training:"):
            _training(ws, language, main_area)
        with st.expander(
            t("sidebar.runs", language), expanded=bool(logdir_path), icon=":material/folder_open:"
        ):
            _runs(ws, language, logdir_path)
        with st.expander(t("server.about", language), expanded=False, icon=":material/info:"):
            teacher.about(language)


# ----------------------------------------------------------------------------- language


def _language() -> str:
    if LANGUAGE_KEY not in st.session_state:
        st.session_state[LANGUAGE_KEY] = LANGUAGES[0]
    chosen = st.session_state[LANGUAGE_KEY]
    st.segmented_control(
        t("sidebar.language", chosen),
        LANGUAGES,
        key=LANGUAGE_KEY,
        format_func=lambda code: t("language.name", code),
        selection_mode="single",
        required=True,
    )
    return st.session_state[LANGUAGE_KEY]


# ----------------------------------------------------------------------------- dataset


def _dataset_specs(name: str) -> list:
    specs = []
    for param, declaration in datasets.PARAMETERS.get(name, {}).items():
        specs.append(
            widgets.spec_from_dict(
                param,
                declaration,
                label=lookup(f"data.param.{param}", "en") or "",
                label_zh=lookup(f"data.param.{param}", "zh") or "",
                help_zh=lookup(f"data.param_help.{param}", "zh") or "",
            )
        )
    return specs


def _dataset_label(name: str, language: str) -> str:
    if name == CSV_OPTION:
        return t("data.csv_option", language)
    return lookup(f"data.name.{name}", language) or name


def _dataset(ws: Workspace, language: str) -> None:
    options = [*datasets.names(), CSV_OPTION]
    if "data.name" not in st.session_state:
        st.session_state["data.name"] = (
            state.DEFAULT_DATASET if state.DEFAULT_DATASET in options else options[0]
        )
    widgets.keep_selection("data.name", options, lambda n: _dataset_label(n, language))
    name = st.selectbox(
        t("data.choose", language),
        options,
        key="data.name",
        format_func=lambda n: _dataset_label(n, language),
    )
    if name == CSV_OPTION:
        spec, make = _csv_dataset(language)
    else:
        specs = _dataset_specs(name)
        store = ws.params.setdefault(f"dataset:{name}", {})
        try:
            values = widgets.controls(specs, f"data.{name}", language, store, columns=1)
        except DlvizError as exc:
            ws.notify("error", str(exc))
            return
        params = tuple(sorted(values.items()))
        spec = ("bundled", name, params)

        def make() -> Any:
            return state.bundled_dataset(name, params)

    if spec is not None and spec != ws.dataset_spec:
        try:
            dataset = make()
        except DlvizError as exc:
            ws.notify("error", t("data.failed", language, problem=str(exc)))
        except Exception as exc:  # a CSV can fail in ways no validator foresaw; say so, keep going
            ws.notify("error", t("data.failed", language, problem=f"{type(exc).__name__}: {exc}"), exc)
        else:
            ws.dataset, ws.dataset_spec = dataset, spec
    if ws.dataset is not None:
        description = dataset_description(ws.dataset, language)
        st.caption(charts.dataset_summary(ws.dataset, language))
        if description:
            st.caption(description)


def dataset_description(dataset: Any, language: str) -> str:
    """What the dataset is, in `language`: its Chinese description in Chinese when it has one, else English."""
    english = getattr(dataset, "description", "") or ""
    if language == "zh":
        return getattr(dataset, "description_zh", "") or english
    return english


def _csv_dataset(language: str) -> tuple[tuple | None, Any]:
    """The user's uploaded file: a CSV (with its target column and whether it is a class or a number), an
    .npz of arrays or a zip of class folders of images, all read by `Dataset.from_file`."""
    upload = st.file_uploader(
        t("data.csv_upload", language),
        type=["csv", "npz", "zip"],
        key="data.csv",
        help=t("data.csv_help", language),
        max_upload_size=teacher.current().max_upload_mb,
    )
    if upload is None:
        st.caption(t("data.csv_waiting", language))
        return None, None
    data = upload.getvalue()
    name = Path(upload.name).stem or "upload"
    suffix = Path(upload.name).suffix.lower()
    options: dict[str, Any] = {"name": name}
    if suffix == ".csv":
        columns = _csv_header(data)
        if not columns:
            st.error(t("data.csv_no_header", language))
            return None, None
        if st.session_state.get("data.csv_target") not in columns:
            st.session_state["data.csv_target"] = columns[-1]
        options["target"] = st.selectbox(t("data.csv_target", language), columns, key="data.csv_target")
        tasks = ("classification", "regression")
        st.session_state.setdefault("data.csv_task", tasks[0])
        widgets.keep_selection("data.csv_task", tasks, lambda task: t(f"data.task.{task}", language))
        options["task"] = st.segmented_control(
            t("data.csv_task", language),
            tasks,
            key="data.csv_task",
            format_func=lambda task: t(f"data.task.{task}", language),
            required=True,
        )

    def make() -> Any:
        # from_file reads paths: the upload goes to a private temporary folder, removed right after
        with tempfile.TemporaryDirectory(prefix="dlviz-data-") as folder:
            path = Path(folder) / f"upload{suffix}"
            path.write_bytes(data)
            return datasets.Dataset.from_file(path, **options)

    return ("upload", state.digest(data), suffix, tuple(sorted(options.items()))), make


def _csv_header(data: bytes) -> list[str]:
    first_line = data[:65536].decode("utf-8-sig", errors="replace").splitlines()[:1]
    if not first_line:
        return []
    row = next(csv.reader(first_line), [])
    return [column for column in row if column.strip()]


# ----------------------------------------------------------------------------- model


def _model(ws: Workspace, language: str) -> None:
    sources = ("build", "upload")
    st.session_state.setdefault("model.source", sources[0])
    widgets.keep_selection("model.source", sources, lambda s: t(f"model.source.{s}", language))
    source = st.segmented_control(
        t("model.source", language),
        sources,
        key="model.source",
        format_func=lambda s: t(f"model.source.{s}", language),
        required=True,
    )
    if source == "upload":
        _uploaded_model(ws, language)
    else:
        _built_model(ws, language)
    if ws.model is not None:
        st.caption(t("model.summary", language, label=ws.model_label, params=f"{ws.model.count_params():,}"))


def _built_model(ws: Workspace, language: str) -> None:
    if ws.dataset is None:
        return
    is_image = ws.dataset.kind == "image"
    widgets.keep_selection("model.kind", models.KINDS, lambda k: t(f"model.kind.{k}", language))
    if "model.kind" not in st.session_state:
        st.session_state["model.kind"] = "cnn" if is_image and "cnn" in models.KINDS else "mlp"
    elif st.session_state["model.kind"] == "cnn" and not is_image:
        st.session_state["model.kind"] = "mlp"
        ws.notify("info", t("model.cnn_switched", language))
    fitting = models.kinds_for(ws.dataset)
    if st.session_state["model.kind"] not in fitting:
        st.session_state["model.kind"] = "mlp"
    kind = st.selectbox(
        t("model.kind", language),
        fitting,
        key="model.kind",
        format_func=lambda k: t(f"model.kind.{k}", language),
    )
    dense = kind != "logreg"
    hidden_text = st.text_input(
        t("model.hidden", language),
        DEFAULT_HIDDEN,
        key="model.hidden",
        help=t("model.hidden_help", language),
        disabled=not dense,
    )
    activation = st.selectbox(t("model.activation", language), models.ACTIVATIONS, key="model.activation")
    initializer = st.selectbox(
        t("model.initializer", language),
        models.INITIALIZERS,
        key="model.initializer",
        help=t("model.initializer_help", language),
    )
    optimizer = st.selectbox(
        t("model.optimizer", language),
        models.OPTIMIZERS,
        index=models.OPTIMIZERS.index("adam"),
        key="model.optimizer",
    )
    learning_rate = st.select_slider(
        t("model.learning_rate", language),
        LEARNING_RATES,
        value=1e-3,
        key="model.learning_rate",
        format_func="{:g}".format,
    )
    dropout = st.slider(
        t("model.dropout", language), 0.0, 0.8, 0.0, 0.05, key="model.dropout", disabled=not dense
    )
    left, right = st.columns(2)
    l1 = left.select_slider(
        "L1",
        PENALTIES,
        value=0.0,
        key="model.l1",
        format_func="{:g}".format,
        help=t("model.l1_help", language),
    )
    l2 = right.select_slider(
        "L2",
        PENALTIES,
        value=0.0,
        key="model.l2",
        format_func="{:g}".format,
        help=t("model.l2_help", language),
    )
    batch_norm = st.checkbox(t("model.batch_norm", language), key="model.batch_norm", disabled=not dense)
    try:
        hidden = tuple(int(part) for part in hidden_text.replace(";", ",").split(",") if part.strip())
    except ValueError:
        ws.notify("error", t("model.hidden_invalid", language, text=hidden_text))
        return
    settings = {
        "hidden": hidden,
        "activation": activation,
        "optimizer": optimizer,
        "learning_rate": float(learning_rate),
        "dropout": float(dropout),
        "l1": float(l1),
        "l2": float(l2),
        "batch_norm": bool(batch_norm),
        "initializer": initializer,
    }
    spec = ("build", ws.dataset_spec, kind, tuple(sorted(settings.items())))
    if spec == ws.model_spec:
        return
    dataset = ws.dataset

    def make() -> Any:
        return models.build(kind, dataset, seed=0, **settings)

    try:
        model = make()
    except DlvizError as exc:
        ws.notify("error", t("model.failed", language, problem=str(exc)))
        ws.model = None
        ws.model_spec = None
        return
    ws.set_model(model, spec, f"{kind} · {activation} · {optimizer}", make)


def learning_rate_option(value: float) -> float:
    """The sidebar's learning-rate option nearest `value` on a log scale (what a plugin's suggestion sets)."""
    return min(LEARNING_RATES, key=lambda option: abs(math.log10(option / value)))


def apply_learning_rate(value: float) -> None:
    """Set the sidebar's learning rate (a button's on_click, so before the sidebar is drawn again): the model
    is rebuilt with it, untrained, on this rerun. `value` must be one of LEARNING_RATES."""
    st.session_state["model.learning_rate"] = value


def builds_model() -> bool:
    """Whether the session's model is built from the sidebar's settings (not uploaded)."""
    return st.session_state.get("model.source", "build") == "build"


def _uploaded_model(ws: Workspace, language: str) -> None:
    upload = st.file_uploader(
        t("model.upload", language),
        type=["keras", "h5"],
        key="model.file",
        help=t("model.upload_help", language),
        max_upload_size=teacher.current().max_upload_mb,
    )
    if upload is None:
        st.caption(t("model.upload_waiting", language))
        return

    data = upload.getvalue()
    spec = ("upload", state.digest(data), ws.dataset_spec)
    if spec == ws.model_spec:
        return
    suffix = (
        Path(upload.name).suffix.lower()
        if Path(upload.name).suffix.lower() in (".keras", ".h5")
        else ".keras"
    )

    def make() -> Any:
        with tempfile.TemporaryDirectory(prefix="dlviz-upload-") as folder:
            path = Path(folder) / f"uploaded{suffix}"
            path.write_bytes(data)
            return dlviz.load_model(path)

    try:
        model = make()
    except DlvizError as exc:
        ws.notify("error", t("model.upload_refused", language, name=upload.name, problem=str(exc)))
        ws.model, ws.model_spec, ws.handle = None, spec, None
        return
    expected = tuple(model.input_shape[1:]) if hasattr(model, "input_shape") else None
    if ws.dataset is not None and expected is not None and expected != tuple(ws.dataset.input_shape):
        ws.notify(
            "warning",
            t("model.shape_mismatch", language, model=str(expected), data=str(tuple(ws.dataset.input_shape))),
        )
    ws.set_model(model, spec, Path(upload.name).name, make)


# ----------------------------------------------------------------------------- training


def _training(ws: Workspace, language: str, main_area: Any) -> None:
    training.collect(ws, language)
    most = teacher.current().max_epochs
    st.number_input(t("train.epochs", language), 1, most, min(5, most), key="train.epochs")
    st.select_slider(t("train.batch_size", language), BATCH_SIZES, value=32, key="train.batch_size")
    st.number_input(
        t("train.every", language), 1, 1000, 10, key="train.every", help=t("train.every_help", language)
    )
    st.checkbox(t("train.fresh", language), True, key="train.fresh", help=t("train.fresh_help", language))
    busy = ws.training is not None
    st.button(
        t("train.button", language),
        key="train.go",
        type="primary",
        icon=":material/play_arrow:",
        width="stretch",
        disabled=busy or ws.model is None or ws.dataset is None,
        help=t("train.busy", language) if busy else None,
        on_click=_start_training,
    )
    if ws.trained_epochs:
        st.caption(t("train.trained_for", language, epochs=ws.trained_epochs))
    training.show(ws, main_area, language)


def _start_training() -> None:
    """Train's on_click: runs before the script, so the run that follows draws Train disabled and the
    training's status at once."""
    ws, language = state.workspace(), state.language()
    if ws.training is not None or ws.model is None or ws.dataset is None:
        return
    settings = training.TrainingSettings(
        int(st.session_state["train.epochs"]),
        int(st.session_state["train.batch_size"]),
        int(st.session_state["train.every"]),
        bool(st.session_state["train.fresh"]),
    )
    try:
        training.start(ws, settings)
    except DlvizError as exc:
        ws.notify("error", t("train.failed", language, problem=str(exc)), exc)
    except Exception as exc:  # a user's model or data can fail before the fit: say so, keep the page
        ws.notify("error", t("train.failed", language, problem=f"{type(exc).__name__}: {exc}"), exc)


# ----------------------------------------------------------------------------- runs


def _sync_current() -> None:
    state.workspace().current_run = st.session_state.get("runs.current") or None


def _sync_compare() -> None:
    state.workspace().compare = tuple(st.session_state.get("runs.compare") or ())


def _runs(ws: Workspace, language: str, logdir_path: Path | None) -> None:
    root = logdir.runs_root(logdir_path)
    if logdir_path is not None:
        st.caption(t("runs.logdir", language, path=str(logdir_path)))
    st.button(t("runs.refresh", language), key="runs.refresh", icon=":material/refresh:", width="stretch")
    _read_logdir(ws, root, language)
    runs = ws.known_runs()
    keys = ["", *runs]
    if ws.current_run not in runs:
        ws.current_run = None
    st.session_state["runs.current"] = ws.current_run or ""
    st.selectbox(
        t("runs.current", language),
        keys,
        key="runs.current",
        on_change=_sync_current,
        format_func=lambda key: runs[key].label(language) if key else t("runs.none", language),
    )
    ws.compare = tuple(key for key in ws.compare if key in runs and key != ws.current_run)
    st.session_state["runs.compare"] = list(ws.compare)
    st.multiselect(
        t("runs.compare", language),
        [key for key in runs if key != ws.current_run],
        key="runs.compare",
        on_change=_sync_compare,
        format_func=lambda key: runs[key].label(language),
        help=t("runs.compare_help", language),
    )
    current = runs.get(ws.current_run) if ws.current_run else None
    _save(ws, current, root, language)
    _open(ws, language)


def _read_logdir(ws: Workspace, root: Path, language: str) -> None:
    found = {}
    for path in logdir.find_runs(root):
        name = str(path.relative_to(root)) if path != root else path.name
        version = logdir.signature(path)
        try:
            run = logdir.load_run(str(path), version)
        except DlvizError as exc:
            st.caption(t("runs.unreadable", language, name=name, problem=str(exc)))
            continue
        epochs = len(run.epochs.get("epoch", ()))
        steps = len(run.steps.get("step", ()))
        entry_key = f"logdir:{name}"
        found[entry_key] = state.RunEntry(
            entry_key, run, "logdir", version, {"name": name, "epochs": epochs, "steps": steps}
        )
    ws.logdir_runs = found


def _save(ws: Workspace, current: Any, root: Path, language: str) -> None:
    if current is None:
        return
    if current.origin != "logdir":
        default_name = f"run-{ws.session_number}-{current.key.split(':')[-1]}"
        name = st.text_input(t("runs.save_name", language), default_name, key="runs.save_name")
        if st.button(t("runs.save", language), key="runs.save", icon=":material/save:", width="stretch"):
            target = root / logdir.safe_folder_name(name)
            try:
                if target.exists():
                    raise DlvizError(t("runs.exists", language, path=str(target)))
                current.run.save(target)
            except (DlvizError, OSError) as exc:
                ws.notify("error", t("runs.save_failed", language, problem=str(exc)))
            else:
                ws.notify("success", t("runs.saved", language, path=str(target)))
                st.rerun()  # list the saved run with the others
    st.download_button(
        t("runs.download", language),
        data=lambda: export.run_zip(current.run, current.key.replace(":", "-")),
        file_name=f"{logdir.safe_folder_name(current.key)}.zip",
        mime="application/zip",
        key="runs.download",
        icon=":material/download:",
        on_click="ignore",
        width="stretch",
    )


def _open(ws: Workspace, language: str) -> None:
    upload = st.file_uploader(
        t("runs.upload", language),
        type=["zip"],
        key="runs.upload",
        max_upload_size=teacher.current().max_upload_mb,
    )
    if upload is None:
        return

    data = upload.getvalue()
    tag = state.digest(data)
    if any(entry.label_args.get("digest") == tag for entry in ws.runs.values()):
        return
    try:
        run = _load_zip(data, language)
    except DlvizError as exc:
        ws.notify("error", t("runs.open_failed", language, name=upload.name, problem=str(exc)))
        return
    entry = ws.add_run(run, "opened", name=upload.name, digest=tag)
    ws.current_run = entry.key
    ws.notify("success", t("runs.opened", language, name=upload.name))
    st.rerun()  # the run selector above was drawn before this run existed


def _load_zip(data: bytes, language: str) -> Any:
    """Open an uploaded run zip after checking it cannot blow up in memory."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise DlvizError(t("runs.not_zip", language)) from exc
    if unpacked > MAX_RUN_ZIP_UNPACKED or unpacked > MAX_RUN_ZIP_RATIO * max(len(data), 1):
        raise DlvizError(t("runs.zip_too_big", language))
    with tempfile.NamedTemporaryFile(suffix=".zip") as handle:
        handle.write(data)
        handle.flush()
        return dlviz.Run.load(handle.name)
