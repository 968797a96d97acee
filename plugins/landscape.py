"""The loss landscape of a real model (Li et al. 2018), with training trajectories drawn on it."""

from __future__ import annotations

import dataclasses
import math
import os

import numpy as np
import plotly.graph_objects as go

import dlviz
from dlviz.errors import DlvizError, ModelError, ParamsError, PluginError
from dlviz.plugin import tr

MEMORY_BUDGET_BYTES = 1 << 30
MAX_MULTIPLY_ADDS = 2e12
MAX_CHUNK = 1024
PROGRESS_CHUNK = 64
LINE_RANGE = (-0.5, 1.5)
RUN_COLORS = ("#e45756", "#4c78a8", "#f58518", "#54a24b", "#b279a2", "#9d755d", "#72b7b2", "#eeca3b")

# Layers that tf.vectorized_map turns into batched kernels; anything else (convolutions, whose
# filters pfor cannot batch) is evaluated with tf.map_fn, one weight setting after the other.
_VECTORISABLE_LAYERS = frozenset(
    {
        "Dense",
        "Activation",
        "Dropout",
        "BatchNormalization",
        "Flatten",
        "Reshape",
        "ReLU",
        "LeakyReLU",
        "Softmax",
    }
)

# ----------------------------------------------------------------------------- weights as vectors


def flat_weights(model) -> np.ndarray:
    """The trainable weights of `model` as one float32 vector, in `model.trainable_variables` order."""
    return np.concatenate([np.asarray(v.numpy(), np.float32).ravel() for v in model.trainable_variables])


def filter_normalized_direction(model, rng: np.random.Generator) -> np.ndarray:
    """A random direction in weight space, filter-normalised as in Li et al. 2018 (ignore='biasbn').

    Each weight tensor of two or more dimensions gets a Gaussian direction whose every filter (the
    slice for one output unit: Keras keeps output units on the last axis, so Dense kernel columns
    and Conv kernel [..., k]) is rescaled to the norm of the same filter of the weights. Biases and
    batch-norm parameters (one-dimensional tensors) get a zero direction, as the paper does.
    """
    parts = []
    for variable in model.trainable_variables:
        weights = np.asarray(variable.numpy(), np.float32)
        if weights.ndim <= 1:
            parts.append(np.zeros(weights.size, np.float32))
            continue
        direction = rng.standard_normal(weights.shape).astype(np.float32)
        axes = tuple(range(weights.ndim - 1))
        weight_norms = np.sqrt(np.sum(weights.astype(np.float64) ** 2, axis=axes, keepdims=True))
        direction_norms = np.sqrt(np.sum(direction.astype(np.float64) ** 2, axis=axes, keepdims=True))
        parts.append((direction * (weight_norms / (direction_norms + 1e-10))).astype(np.float32).ravel())
    return np.concatenate(parts)


def filter_norms(model, vector: np.ndarray) -> list[np.ndarray]:
    """The norm of every filter of `vector` laid out like the model's trainable weights (for checks)."""
    norms, offset = [], 0
    for variable in model.trainable_variables:
        shape = tuple(variable.shape)
        part = vector[offset : offset + math.prod(shape)].reshape(shape).astype(np.float64)
        offset += math.prod(shape)
        axes = tuple(range(part.ndim - 1))
        norms.append(np.sqrt(np.sum(part**2, axis=axes)) if part.ndim > 1 else np.abs(part))
    return norms


# ----------------------------------------------------------------------------- batched evaluation


class BatchedLoss:
    """The loss of one model at many weight settings, evaluated in one compiled function.

    A weight setting is `base + coefficients @ directions` (flattened trainable weights); the
    non-trainable weights (batch-norm moving statistics) stay at the model's values. Each setting
    runs through `model.stateless_call(..., training=False)` (dropout off, batch norm in inference
    mode), and the model's compiled loss is applied in the same graph to the output it produced, so
    Keras computes a sigmoid/softmax cross-entropy from the logits exactly as `model.evaluate` does;
    regularisation losses are evaluated at the setting's weights. Settings are batched with
    `tf.vectorized_map` (dense models) or `tf.map_fn`, in chunks sized to `memory_budget` bytes.
    """

    def __init__(self, handle, x: np.ndarray, y: np.ndarray, memory_budget: int | None = None):
        import tensorflow as tf

        model = handle.model
        if getattr(model, "_compile_loss", None) is None:
            raise ModelError(
                "The loss landscape needs the model's loss, and this model was not compiled with one.",
                "compile it first, e.g. model.compile(optimizer='adam', loss='sparse_categorical_crossentropy').",
            )
        self.model = model
        self.x, self.y = handle.prepare(x, y)
        self.n_params = int(sum(math.prod(v.shape) for v in model.trainable_variables))
        self._shapes = [tuple(v.shape) for v in model.trainable_variables]
        self._sizes = [math.prod(shape) for shape in self._shapes]
        self._non_trainable = [tf.convert_to_tensor(v.value) for v in model.non_trainable_variables]
        kinds = {info.kind for info in handle.layers}
        self.vectorised = kinds <= _VECTORISABLE_LAYERS
        units = sum(math.prod(d for d in info.output_shape if d is not None) for info in handle.layers)
        # Two copies of the weights and of every activation per setting (inputs and outputs of each op).
        self.bytes_per_setting = 8 * (self.n_params + len(self.x) * max(units, 1))
        budget = memory_budget if memory_budget is not None else default_memory_budget()
        if self.bytes_per_setting > budget:
            raise PluginError(
                f"Evaluating this model at one weight setting on {len(self.x)} samples needs about "
                f"{self.bytes_per_setting / 2**20:.0f} MB, more than the {budget / 2**20:.0f} MB this "
                "computation may use.",
                "evaluate on fewer samples ('Evaluation samples') or use a smaller model.",
            )
        self.chunk = int(min(MAX_CHUNK, budget // self.bytes_per_setting))
        x_const, y_const = tf.constant(self.x), tf.constant(self.y)
        loss_of = model._compile_loss

        def loss_at(base, directions, coefficients):
            flat = base + tf.linalg.matvec(directions, coefficients, transpose_a=True)
            values = [
                tf.reshape(part, shape)
                for part, shape in zip(tf.split(flat, self._sizes), self._shapes, strict=True)
            ]
            y_pred, _, extra = model.stateless_call(
                values, self._non_trainable, x_const, training=False, return_losses=True
            )
            loss = tf.cast(loss_of(y_const, y_pred), tf.float32)
            for term in extra:
                loss += tf.cast(term, tf.float32)
            return loss

        def chunk_losses(base, directions, coefficients):
            if self.vectorised:
                return tf.vectorized_map(lambda c: loss_at(base, directions, c), coefficients)
            return tf.map_fn(
                lambda c: loss_at(base, directions, c),
                coefficients,
                fn_output_signature=tf.float32,
                parallel_iterations=8,
            )

        signature = [
            tf.TensorSpec((self.n_params,), tf.float32),
            tf.TensorSpec((None, self.n_params), tf.float32),
            tf.TensorSpec((None, None), tf.float32),
        ]
        try:
            self._compiled = tf.function(chunk_losses).get_concrete_function(*signature)
        except DlvizError:
            raise
        except Exception as exc:
            raise ModelError(
                f"The model could not be evaluated at other weights: {type(exc).__name__}: {exc}",
                "the loss landscape supports Keras models with one input and one output.",
            ) from exc

    def losses(
        self, base: np.ndarray, directions: np.ndarray, coefficients: np.ndarray, progress=None
    ) -> np.ndarray:
        """Loss at `base + c @ directions` for every row `c` of `coefficients` ([K, k] -> [K])."""
        import tensorflow as tf

        base = tf.constant(np.asarray(base, np.float32))
        directions = tf.constant(np.asarray(directions, np.float32).reshape(-1, self.n_params))
        coefficients = np.asarray(coefficients, np.float32).reshape(len(coefficients), -1)
        out = np.empty(len(coefficients), np.float32)
        # About ten chunks, so a progress bar moves, but never more than the memory budget allows.
        chunk = min(self.chunk, max(PROGRESS_CHUNK, math.ceil(len(coefficients) / 10)))
        for start in range(0, len(coefficients), chunk):
            stop = min(start + chunk, len(coefficients))
            out[start:stop] = self._compiled(base, directions, tf.constant(coefficients[start:stop])).numpy()
            if progress is not None:
                progress(stop / len(coefficients))
        return out

    def at(self, weights: np.ndarray, progress=None) -> np.ndarray:
        """Loss at each row of `weights` ([K, n_params] flattened trainable weights)."""
        weights = np.asarray(weights, np.float32).reshape(-1, self.n_params)
        return self.losses(
            np.zeros(self.n_params, np.float32), weights, np.eye(len(weights), dtype=np.float32), progress
        )


def default_memory_budget() -> int:
    """A quarter of the memory available now, at most `MEMORY_BUDGET_BYTES`."""
    try:
        available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return MEMORY_BUDGET_BYTES
    return int(min(MEMORY_BUDGET_BYTES, available // 4))


# ----------------------------------------------------------------------------- trajectories


def pca_plane(trajectories: list[np.ndarray], centre: np.ndarray):
    """The first two PCA directions of the trajectories' weights minus `centre` (Li et al. 2018).

    Returns (directions [2, n_params], explained variance ratio [2], coordinates of each
    trajectory on the plane [n_i, 2]), the coordinates being (weights − centre) · direction.
    """
    from sklearn.decomposition import PCA

    deltas = [np.asarray(t, np.float64) - centre for t in trajectories]
    pca = PCA(n_components=2, svd_solver="full").fit(np.concatenate(deltas))
    directions = pca.components_.astype(np.float32)
    coordinates = [delta @ pca.components_.T for delta in deltas]
    return directions, pca.explained_variance_ratio_.astype(np.float64), coordinates


@dataclasses.dataclass(frozen=True)
class Trajectory:
    """One run's weight snapshots on the landscape plane."""

    label: str
    steps: np.ndarray
    coordinates: np.ndarray
    plane_losses: np.ndarray
    losses: np.ndarray
    label_zh: str = ""  # `label` in Chinese ("" when it is the same)

    def text(self, language: str) -> str:
        """The run's legend label in `language`."""
        return tr(language, self.label, self.label_zh)


@dataclasses.dataclass(frozen=True)
class Line:
    """Loss along a straight line in weight space: `base + t · direction`.

    For an interpolation, `steps` are the training steps at t = 0 and t = 1.
    """

    label: str
    t: np.ndarray
    losses: np.ndarray
    steps: tuple[int, int] = (0, 0)
    label_zh: str = ""  # `label` in Chinese ("" when it is the same)

    def text(self, language: str) -> str:
        """The line's legend label in `language`."""
        return tr(language, self.label, self.label_zh)


@dataclasses.dataclass(frozen=True)
class LandscapeResult:
    """The loss on a grid of weight settings around the trained weights, trajectories, 1-D lines."""

    directions: str
    alphas: np.ndarray
    betas: np.ndarray
    losses: np.ndarray
    centre_loss: float
    explained_variance: tuple[float, ...]
    trajectories: tuple[Trajectory, ...]
    line_kind: str
    lines: tuple[Line, ...]
    eval_samples: int
    split: str
    n_params: int
    loss_name: str
    log_scale: bool
    seed: int


class Landscape(dlviz.Plugin):
    """The loss surface of your trained model on a plane through its weights: two filter-normalised random directions (Li et al. 2018), or the plane in which training moved (PCA of a run's weight snapshots) with the training path drawn on it; several runs can share one surface. A 1-D view shows the loss along the straight line from the start to the end of training.

    简介：训练后模型在一个穿过其权重的平面上的损失曲面 (loss landscape)：平面由两个经过滤波器归一化 (filter normalisation) 的随机方向张成（Li 等，2018），或由训练轨迹的主成分分析 (PCA) 得到（即训练实际移动的平面），并在其上画出训练路径；多条训练记录 (runs) 可以画在同一个曲面上比较。一维视图显示从训练开始到结束的直线上的损失。

    What to look for: a wide, round basin around the trained weights (a flat minimum) tends to
    generalise better than a narrow, steep one; chaotic, non-convex contours mean the model is hard to
    train (very deep nets without skip connections, bad initialisation). On the PCA plane, the path
    should run downhill into the basin; zigzags across a valley mean the learning rate is high; SGD and
    Adam runs from the same start often end in different places. The straight line from start to end
    of training is usually smooth and monotone (no barrier), even though the optimizer took a curved path.

    观察要点：训练后的权重周围若是宽而圆的盆地（平坦极小值 (flat minimum)），往往比窄而陡的极小值泛化得更好；
    等高线杂乱、非凸说明模型难以训练（没有残差连接的很深的网络、糟糕的初始化）。在 PCA 平面上，路径应顺坡而下进入盆地；
    在山谷两侧来回折返说明学习率偏大；从同一起点出发的 SGD 与 Adam 常常停在不同的位置。从训练开始到结束的直线上，
    损失通常平滑且单调下降（没有势垒 (barrier)），尽管优化器实际走的是一条弯路。

    >>> import dlviz
    >>> dataset = dlviz.datasets.load("moons", n_samples=200)
    >>> model = dlviz.models.build("mlp", dataset, hidden=(8,))
    >>> _ = model.fit(dataset.x_train, dataset.y_train, epochs=2, verbose=0)
    >>> figures = dlviz.figures("landscape", model=model, dataset=dataset, resolution=11)
    >>> [figure.layout.title.text.split(":")[0] for figure in figures]
    ['Loss landscape', 'Loss surface (3-D)', 'Loss along a line']
    """

    name = "landscape"
    title = "Loss landscape"
    title_zh = "损失曲面"
    section = "Optimization"
    requires = frozenset({"model", "dataset"})
    compares_runs = True

    @dataclasses.dataclass(frozen=True)
    class Params:
        directions: str = dlviz.param(
            "auto",
            label="Plane",
            label_zh="平面",
            help=(
                "'random': two filter-normalised random directions through the trained weights; 'pca': the "
                "plane of the training trajectory (needs a run with weight snapshots); 'auto': pca when a run "
                "has snapshots, else random."
            ),
            help_zh="random：穿过训练后权重的两个滤波器归一化随机方向；pca：训练轨迹所在的平面（需要带权重快照的训练记录）；auto：有快照时用 pca，否则用 random。",
            choices=("auto", "random", "pca"),
        )
        resolution: int = dlviz.param(
            21,
            label="Grid points per axis",
            label_zh="每个坐标轴的网格点数",
            help="The surface is evaluated on resolution × resolution weight settings (odd, so the trained weights sit on the grid).",
            help_zh="在 resolution × resolution 个权重设置上计算损失（取奇数，使训练后的权重位于网格上）。",
            min=5,
            max=101,
            step=2,
        )
        span: float = dlviz.param(
            1.0,
            label="Span (random plane)",
            label_zh="范围（随机平面）",
            help="The random plane covers −span … span along each filter-normalised direction (1 = one filter norm).",
            help_zh="随机平面在每个滤波器归一化方向上覆盖 −span … span（1 = 一个滤波器范数）。",
            min=0.05,
            max=5.0,
            step=0.05,
        )
        eval_samples: int = dlviz.param(
            256,
            label="Evaluation samples",
            label_zh="评估样本数",
            help="The loss is computed on this many samples (a fixed random subset, chosen with the seed).",
            help_zh="在这么多样本上计算损失（按随机种子固定抽取的子集）。",
            min=16,
            max=5000,
            step=16,
        )
        split: str = dlviz.param(
            "train",
            label="Data",
            label_zh="数据",
            help="Compute the loss on training or test samples.",
            help_zh="在训练样本还是测试样本上计算损失。",
            choices=("train", "test"),
        )
        line_points: int = dlviz.param(
            41,
            label="Points on the 1-D line",
            label_zh="一维直线上的点数",
            help="Weight settings evaluated along the straight line of the 1-D view.",
            help_zh="一维视图中直线上计算的权重设置数。",
            min=5,
            max=401,
        )
        log_scale: bool = dlviz.param(
            True,
            label="Log colour scale",
            label_zh="对数色标",
            help="Space contour levels logarithmically in the loss, so the basin's shape shows.",
            help_zh="按损失的对数划分等高线，使盆地的形状更清楚。",
        )

    def is_compatible(self, ctx: dlviz.Context) -> bool | str:
        verdict = super().is_compatible(ctx)
        if verdict is not True:
            return verdict
        model = ctx.model.model
        if not model.trainable_variables:
            return tr(
                ctx.language,
                "The loss landscape needs trainable weights; this model has none.",
                "损失曲面 (loss landscape) 需要可训练的权重 (trainable weights)；这个模型没有。",
            )
        if getattr(model, "_compile_loss", None) is None:
            return tr(
                ctx.language,
                "The loss landscape needs the model's loss: compile the model with a loss first.",
                "损失曲面 (loss landscape) 需要模型的损失函数 (loss)：请先用一个损失函数编译 (compile) 模型。",
            )
        return True

    # ------------------------------------------------------------------------- compute

    def compute(self, ctx: dlviz.Context, params) -> LandscapeResult:
        if params.resolution % 2 == 0:
            raise ParamsError(
                f"Grid points per axis must be odd, got {params.resolution}.",
                f"use {params.resolution + 1}, so that the trained weights lie on the grid.",
            )
        model = ctx.model.model
        runs = self._runs_with_snapshots(ctx)
        mode = params.directions
        if mode == "auto":
            mode = "pca" if runs else "random"
        if mode == "pca" and not runs:
            raise PluginError(
                "The PCA plane needs a run with at least 3 weight snapshots of this model.",
                "train with dlviz.Recorder(weights=True) and pass its run, or choose the random plane.",
            )
        x, y = self._evaluation_subset(ctx, params)
        n_params = int(sum(math.prod(v.shape) for v in model.trainable_variables))
        points = params.resolution**2 + params.line_points + sum(len(run.snapshots) for run in runs) * 2
        work = points * len(x) * n_params
        if work > MAX_MULTIPLY_ADDS:
            raise ParamsError(
                f"About {points:,} weight settings x {len(x):,} samples x {n_params:,} parameters "
                f"(~{work:.1e} multiply-adds) is more than this view computes.",
                "lower 'Grid points per axis' or 'Evaluation samples'.",
            )
        evaluator = BatchedLoss(ctx.model, x, y)
        centre = flat_weights(model)
        ctx.report(0.02, tr(ctx.language, "choosing the plane", "选择平面"))
        directions, alphas, betas, explained, coordinates = self._plane(ctx, mode, runs, centre, params)

        def report(start: float, width: float, message: str):
            return lambda fraction: ctx.report(start + width * fraction, message)

        grid = np.stack(np.meshgrid(alphas, betas), axis=-1).reshape(-1, 2)
        message = tr(ctx.language, f"loss at {len(grid)} weight settings", f"计算 {len(grid)} 组权重处的损失")
        losses = evaluator.losses(centre, directions, grid, report(0.05, 0.75, message))
        losses = losses.reshape(len(betas), len(alphas))
        centre_loss = float(evaluator.losses(centre, directions, np.zeros((1, 2)))[0])

        trajectories = []
        # Random directions are almost orthogonal to any training path (Li et al. 2018, section 7), so
        # trajectories are drawn on the PCA plane only.
        for index, (run, coords) in enumerate(zip(runs if mode == "pca" else [], coordinates, strict=True)):
            trajectories.append(
                Trajectory(
                    label=_run_label(run, index),
                    steps=np.asarray(run.snapshot_steps),
                    coordinates=coords.astype(np.float32),
                    plane_losses=evaluator.losses(centre, directions, coords),
                    losses=evaluator.at(run.snapshots),
                    label_zh=_run_label(run, index, "zh"),
                )
            )
        ctx.report(0.85, tr(ctx.language, "the 1-D line", "一维直线"))
        lines, line_kind = self._lines(evaluator, runs, centre, directions, params)
        ctx.report(1.0, tr(ctx.language, "done", "完成"))
        return LandscapeResult(
            directions=mode,
            alphas=alphas.astype(np.float32),
            betas=betas.astype(np.float32),
            losses=losses,
            centre_loss=centre_loss,
            explained_variance=explained,
            trajectories=tuple(trajectories),
            line_kind=line_kind,
            lines=lines,
            eval_samples=len(x),
            split=params.split,
            n_params=evaluator.n_params,
            loss_name=_loss_name(model),
            log_scale=params.log_scale,
            seed=ctx.seed,
        )

    @staticmethod
    def _plane(ctx: dlviz.Context, mode: str, runs: list, centre: np.ndarray, params):
        """Directions [2, n_params] and grid axes of the plane, explained variance, trajectory coordinates."""
        if mode == "random":
            rng = np.random.default_rng(ctx.seed)
            directions = np.stack([filter_normalized_direction(ctx.model.model, rng) for _ in range(2)])
            half = (params.resolution - 1) // 2
            axis = params.span * np.arange(-half, half + 1) / half  # exactly 0 in the middle
            return directions, axis, axis.copy(), (), []
        directions, ratio, coordinates = pca_plane([run.snapshots for run in runs], centre)
        alphas, betas = (_covering_axis(coordinates, axis, params.resolution) for axis in (0, 1))
        return directions, alphas, betas, tuple(float(value) for value in ratio), coordinates

    @staticmethod
    def _runs_with_snapshots(ctx: dlviz.Context) -> list:
        """ctx.run and ctx.runs that hold ≥ 3 snapshots; a run of another architecture is refused."""
        shapes = [list(v.shape) for v in ctx.model.model.trainable_variables]
        runs = []
        for run in (ctx.run, *ctx.runs):
            if run is None or len(run.snapshot_steps) < 3:
                continue
            recorded = [list(v["shape"]) for v in run.meta.get("variables", [])]
            if recorded != shapes:
                raise PluginError(
                    f"A run's weight snapshots ({sum(math.prod(s) for s in recorded):,} parameters) do not fit "
                    f"this model ({sum(math.prod(s) for s in shapes):,} parameters).",
                    "compare runs of the same model architecture (same layers and sizes) on one landscape.",
                )
            runs.append(run)
        return runs

    @staticmethod
    def _evaluation_subset(ctx: dlviz.Context, params) -> tuple[np.ndarray, np.ndarray]:
        dataset = ctx.dataset
        x, y = (
            (dataset.x_train, dataset.y_train)
            if params.split == "train"
            else (dataset.x_test, dataset.y_test)
        )
        if len(x) == 0:
            raise PluginError(f"The dataset has no {params.split} samples.", "choose the other split.")
        if len(x) > params.eval_samples:
            keep = np.sort(np.random.default_rng(ctx.seed).choice(len(x), params.eval_samples, replace=False))
            x, y = x[keep], y[keep]
        return np.asarray(x), np.asarray(y)

    @staticmethod
    def _lines(evaluator: BatchedLoss, runs, centre, directions, params):
        """Start-to-end interpolation of each run, or without runs a slice along random direction 1."""
        if runs:
            t = np.linspace(*LINE_RANGE, params.line_points)
            lines = []
            for index, run in enumerate(runs):
                first, last = run.snapshots[0], run.snapshots[-1]
                losses = evaluator.losses(first, (last - first)[None], t[:, None])
                steps = (int(run.snapshot_steps[0]), int(run.snapshot_steps[-1]))
                label, label_zh = _run_label(run, index), _run_label(run, index, "zh")
                lines.append(Line(label, t.astype(np.float32), losses, steps, label_zh))
            return tuple(lines), "interpolation"
        t = np.linspace(-params.span, params.span, params.line_points)
        losses = evaluator.losses(centre, directions[:1], t[:, None])
        return (Line("direction 1", t.astype(np.float32), losses),), "direction"

    # ------------------------------------------------------------------------- figures

    def figures(self, result: LandscapeResult, language: str = "en") -> list[go.Figure]:
        return [
            self._contour_figure(result, language),
            self._surface_figure(result, language),
            self._line_figure(result, language),
        ]

    def _axis_titles(self, result: LandscapeResult, language: str, short: bool = False) -> tuple[str, str]:
        if result.directions == "pca":
            if short:
                return tuple(f"PC{i + 1} ({share:.0%})" for i, share in enumerate(result.explained_variance))
            return tuple(
                tr(
                    language,
                    f"PC{i + 1} ({share:.1%} of the trajectory's variance)",
                    f"PC{i + 1}（占轨迹方差的 {share:.1%}）",
                )
                for i, share in enumerate(result.explained_variance)
            )
        if short:
            return ("α", "β")
        return tuple(
            tr(
                language,
                f"{name}: filter-normalised random direction {i + 1}",
                f"{name}：滤波器归一化随机方向 {i + 1}",
            )
            for i, name in enumerate(("α", "β"))
        )

    def _plane_title(self, result: LandscapeResult, language: str) -> str:
        data = tr(
            language,
            f"{result.split} loss, {result.eval_samples} samples",
            f"{'训练' if result.split == 'train' else '测试'}损失，{result.eval_samples} 个样本",
        )
        if result.directions == "pca":
            return tr(language, "on the PCA plane of training", "训练轨迹的 PCA 平面") + f" ({data})"
        return tr(language, "random filter-normalised plane", "随机滤波器归一化平面") + f" ({data})"

    def _colour(self, result: LandscapeResult, language: str) -> tuple[np.ndarray, dict]:
        title = result.loss_name
        if not result.log_scale:
            return result.losses, {"title": {"text": title}}
        low, high = float(np.nanmin(result.losses)), float(np.nanmax(result.losses))
        ticks = _nice_log_ticks(low, high)
        colorbar = {
            "title": {"text": title + tr(language, " (log scale)", "（对数刻度）")},
            "tickvals": [math.log10(v) for v in ticks],
            "ticktext": [f"{v:.3g}" for v in ticks],
        }
        return np.log10(np.maximum(result.losses, 1e-12)), colorbar

    def _contour_figure(self, result: LandscapeResult, language: str) -> go.Figure:
        z, colorbar = self._colour(result, language)
        figure = go.Figure(
            go.Contour(
                x=_rounded(result.alphas),
                y=_rounded(result.betas),
                z=_rounded(z),
                colorscale="Viridis",
                ncontours=25,
                colorbar=colorbar,
                customdata=_rounded(result.losses),
                hovertemplate="%{x:.3f}, %{y:.3f}<br>"
                + tr(language, "loss", "损失")
                + " %{customdata:.4g}<extra></extra>",
                name=tr(language, "loss", "损失"),
                showlegend=False,
            )
        )
        for index, trajectory in enumerate(result.trajectories):
            color = RUN_COLORS[index % len(RUN_COLORS)]
            figure.add_trace(
                go.Scatter(
                    x=_rounded(trajectory.coordinates[:, 0]),
                    y=_rounded(trajectory.coordinates[:, 1]),
                    mode="lines+markers",
                    line={"color": color, "width": 2.5},
                    marker={"size": 5, "color": color, "line": {"color": "white", "width": 0.5}},
                    name=trajectory.text(language),
                    customdata=np.c_[trajectory.steps, _rounded(trajectory.losses)].tolist(),
                    hovertemplate=(
                        f"{trajectory.text(language)}<br>"
                        + tr(language, "step", "步")
                        + " %{customdata[0]}<br>"
                        + tr(language, "loss", "损失")
                        + " %{customdata[1]:.4g}<extra></extra>"
                    ),
                )
            )
            figure.add_trace(
                go.Scatter(
                    x=_rounded(trajectory.coordinates[:1, 0]),
                    y=_rounded(trajectory.coordinates[:1, 1]),
                    mode="markers",
                    marker={
                        "symbol": "circle",
                        "size": 11,
                        "color": "white",
                        "line": {"color": color, "width": 3},
                    },
                    name=tr(language, "start of training", "训练起点"),
                    showlegend=index == 0,
                    legendgroup="start",
                )
            )
        figure.add_trace(
            go.Scatter(
                x=[0.0],
                y=[0.0],
                mode="markers",
                marker={
                    "symbol": "x",
                    "size": 13,
                    "color": "white",
                    "line": {"color": "black", "width": 1.5},
                },
                name=tr(
                    language,
                    f"trained weights (loss {result.centre_loss:.4g})",
                    f"训练后的权重（损失 {result.centre_loss:.4g}）",
                ),
            )
        )
        x_title, y_title = self._axis_titles(result, language)
        figure.update_layout(
            title=tr(language, "Loss landscape: ", "损失曲面：") + self._plane_title(result, language),
            xaxis_title=x_title,
            yaxis={"title": {"text": y_title}, "scaleanchor": "x" if result.directions == "random" else None},
            legend={"orientation": "h", "x": 0.0, "y": -0.15, "yanchor": "top"},
            height=620,
        )
        return figure

    def _surface_figure(self, result: LandscapeResult, language: str) -> go.Figure:
        z, colorbar = self._colour(result, language)
        figure = go.Figure(
            go.Surface(
                x=_rounded(result.alphas),
                y=_rounded(result.betas),
                z=_rounded(z),
                colorscale="Viridis",
                colorbar=colorbar,
                opacity=0.9,
                name=tr(language, "loss", "损失"),
                hoverinfo="skip",
            )
        )
        lift = 0.01 * float(np.ptp(z)) if z.size else 0.0
        for index, trajectory in enumerate(result.trajectories):
            heights = (
                np.log10(np.maximum(trajectory.plane_losses, 1e-12))
                if result.log_scale
                else trajectory.plane_losses
            )
            figure.add_trace(
                go.Scatter3d(
                    x=_rounded(trajectory.coordinates[:, 0]),
                    y=_rounded(trajectory.coordinates[:, 1]),
                    z=_rounded(heights + lift),
                    mode="lines+markers",
                    line={"color": RUN_COLORS[index % len(RUN_COLORS)], "width": 6},
                    marker={"size": 2.5, "color": RUN_COLORS[index % len(RUN_COLORS)]},
                    name=trajectory.text(language),
                )
            )
        centre = math.log10(max(result.centre_loss, 1e-12)) if result.log_scale else result.centre_loss
        figure.add_trace(
            go.Scatter3d(
                x=[0.0],
                y=[0.0],
                z=[centre + lift],
                mode="markers",
                marker={"symbol": "x", "size": 6, "color": "black"},
                name=tr(language, "trained weights", "训练后的权重"),
            )
        )
        x_title, y_title = self._axis_titles(result, language, short=True)
        z_axis = {"title": {"text": colorbar["title"]["text"]}}
        if result.log_scale:
            z_axis.update(tickvals=colorbar["tickvals"], ticktext=colorbar["ticktext"])
        figure.update_layout(
            title=tr(language, "Loss surface (3-D): ", "损失曲面（三维）：")
            + self._plane_title(result, language),
            scene={
                "xaxis": {"title": {"text": x_title}},
                "yaxis": {"title": {"text": y_title}},
                "zaxis": z_axis,
            },
            legend={"orientation": "h", "x": 0.0, "y": -0.05, "yanchor": "top"},
            height=650,
        )
        return figure

    def _line_figure(self, result: LandscapeResult, language: str) -> go.Figure:
        figure = go.Figure()
        interpolation = result.line_kind == "interpolation"
        for index, line in enumerate(result.lines):
            figure.add_trace(
                go.Scatter(
                    x=_rounded(line.t),
                    y=_rounded(line.losses),
                    mode="lines",
                    line={"color": RUN_COLORS[index % len(RUN_COLORS)], "width": 2.5},
                    name=line.text(language) if interpolation else tr(language, "loss", "损失"),
                    showlegend=interpolation,
                )
            )
        if interpolation:
            title = tr(
                language,
                "Loss along a line: from the start to the end of training",
                "沿直线的损失：从训练开始到结束",
            )
            if len(result.lines) == 1:
                first, last = result.lines[0].steps
                x_title = tr(
                    language,
                    f"t (0 = first snapshot, step {first}; 1 = last snapshot, step {last})",
                    f"t（0 = 第一个快照，第 {first} 步；1 = 最后一个快照，第 {last} 步）",
                )
            else:
                x_title = tr(
                    language,
                    "t (0 = each run's first snapshot, 1 = its last snapshot)",
                    "t（0 = 每条训练记录的第一个快照，1 = 其最后一个快照）",
                )
            for t in (0.0, 1.0):
                figure.add_vline(x=t, line={"dash": "dot", "color": "grey"})
        else:
            title = tr(
                language,
                "Loss along a line: filter-normalised random direction 1 through the trained weights",
                "沿直线的损失：沿滤波器归一化随机方向 1 穿过训练后的权重",
            )
            x_title = tr(language, "α (0 = trained weights)", "α（0 = 训练后的权重）")
            figure.add_vline(x=0.0, line={"dash": "dot", "color": "grey"})
        figure.update_layout(
            title=title,
            xaxis_title=x_title,
            yaxis={
                "title": {
                    "text": tr(
                        language,
                        f"{result.split} loss ({result.loss_name})",
                        f"{'训练' if result.split == 'train' else '测试'}损失（{result.loss_name}）",
                    )
                },
                "type": "log" if result.log_scale else "linear",
                "tickformat": ".3g",
            },
            legend_title_text=tr(language, "run", "训练记录"),
        )
        return figure

    # ------------------------------------------------------------------------- diagnosis

    def diagnose(self, result: LandscapeResult) -> list[dlviz.Finding]:
        findings = []
        lowest = int(np.argmin(result.losses))
        row, column = np.unravel_index(lowest, result.losses.shape)
        lowest_loss = float(result.losses[row, column])
        if lowest_loss < 0.9 * result.centre_loss:
            findings.append(
                dlviz.Finding(
                    "info",
                    f"Lower loss ({lowest_loss:.4g} vs {result.centre_loss:.4g}) lies beside the trained weights "
                    "on this plane: training had not reached the bottom of its basin.",
                    "Train longer, or lower the learning rate towards the end of training.",
                    headline_zh=f"在这个平面上，训练后权重的旁边有更低的损失 (loss)（{lowest_loss:.4g} 对比 "
                    f"{result.centre_loss:.4g}）：训练还没有到达其盆地 (basin) 的底部。",
                    advice_zh="训练更久，或在训练后期降低学习率 (learning rate)。",
                )
            )
        if result.directions == "pca" and sum(result.explained_variance) < 0.5:
            findings.append(
                dlviz.Finding(
                    "info",
                    f"The PCA plane holds only {sum(result.explained_variance):.0%} of the trajectory's variance.",
                    "The path drawn is a rough shadow of the real one: read the hover losses, not only the contours.",
                    headline_zh=f"主成分分析 (PCA) 平面只包含轨迹方差的 {sum(result.explained_variance):.0%}。",
                    advice_zh="画出的路径只是真实路径的粗略投影：请看悬停显示的损失值，而不只看等高线。",
                )
            )
        if result.line_kind == "interpolation":
            for line in result.lines:
                inside = line.losses[(line.t > 0) & (line.t < 1)]
                ends = line.losses[np.argmin(np.abs(line.t))], line.losses[np.argmin(np.abs(line.t - 1))]
                if inside.size and inside.max() > 1.1 * max(ends):
                    findings.append(
                        dlviz.Finding(
                            "info",
                            f"{line.label}: the straight line from start to end crosses a barrier (loss {inside.max():.4g}).",
                            "The optimizer went around a ridge; the landscape between the two is not convex.",
                            headline_zh=f"{line.text('zh')}：从起点到终点的直线穿过了一道屏障 (barrier)"
                            f"（损失 {inside.max():.4g}）。",
                            advice_zh="优化器绕过了一道山脊 (ridge)；两者之间的损失地形 (loss landscape) 不是凸的 (convex)。",
                        )
                    )
        return findings


def _covering_axis(coordinates: list[np.ndarray], axis: int, points: int) -> np.ndarray:
    """`points` evenly spaced values covering every trajectory point and the origin with a margin.

    The spacing is chosen so that 0 (the trained weights) is one of the values.
    """
    values = np.concatenate([c[:, axis] for c in coordinates] + [np.zeros(1)])
    low, high = float(values.min()), float(values.max())
    margin = 0.15 * max(high - low, 1e-6)
    low, high = low - margin, high + margin
    step = (high - low) / (points - 1)
    first = min(round(low / step), 0)
    return (first + np.arange(points)) * step


def _run_label(run, index: int, language: str = "en") -> str:
    optimizer = run.meta.get("optimizer") or {}
    name = optimizer.get("class") or optimizer.get("name") or tr(language, "run", "训练记录")
    rate = optimizer.get("learning_rate")
    rate_text = f" (lr={float(rate):g})" if isinstance(rate, int | float) else ""
    return f"{index + 1}: {name}{rate_text}"


def _loss_name(model) -> str:
    loss = getattr(model, "loss", None)
    if isinstance(loss, str):
        return loss
    return getattr(loss, "name", None) or type(loss).__name__


def _nice_log_ticks(low: float, high: float) -> list[float]:
    """Round loss values between `low` and `high` for a log-scale colour bar: 1-2-5 steps, else 1-9."""
    low, high = max(low, 1e-12), max(high, 2e-12)
    exponents = range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
    for mantissas in ((1, 2, 5), tuple(range(1, 10))):
        ticks = [m * 10.0**e for e in exponents for m in mantissas if low <= m * 10.0**e <= high]
        if len(ticks) >= 3:
            return ticks
    return [float(f"{value:.3g}") for value in np.geomspace(low, high, 4)]


def _rounded(values) -> list:
    """Plain floats with 5 significant digits (None for NaN), to keep the figures' JSON small."""
    array = np.asarray(values, np.float64)
    out = np.array(
        [float(f"{value:.5g}") if np.isfinite(value) else None for value in array.ravel()], dtype=object
    )
    return out.reshape(array.shape).tolist()
