"""The `initialization` plugin: its controls, its diagnosis."""

from __future__ import annotations

import dataclasses

import plotly.graph_objects as go

import dlviz
from dlviz import models
from plugins.initialization.compute import BUNDLED, compute_initialization
from plugins.initialization.figures import curves_figure, step_zero_figure, symmetry_figure
from plugins.initialization.result import INITIALIZER_NAMES, InitializationResult

ACTIVATIONS = ("tanh", "relu", "sigmoid", "selu", "linear")
# Output spread of the last hidden layer against the first beyond this factor (either way) is reported.
SPREAD_FACTOR = 100.0


@dataclasses.dataclass(frozen=True)
class Params:
    initializers: tuple = dlviz.param(
        models.INITIALIZERS,
        label="Initialisers",
        label_zh="初始化方法",
        choices=models.INITIALIZERS,
        multiple=True,
        choice_labels={name: english for name, (english, _) in INITIALIZER_NAMES.items()},
        choice_labels_zh={name: chinese for name, (_, chinese) in INITIALIZER_NAMES.items()},
        help="keras.initializers drawing every kernel of the same MLP: one model per initialiser.",
        help_zh="用 keras.initializers 初始化同一个 MLP 的全部权重矩阵：每种初始化方法一个模型。",
    )
    activation: str = dlviz.param(
        "tanh",
        label="Activation",
        label_zh="激活函数",
        choices=ACTIVATIONS,
        help="Activation of every hidden layer (He suits relu, LeCun selu and tanh, Glorot tanh and sigmoid).",
        help_zh="所有隐藏层的激活函数（He 适合 relu，LeCun 适合 selu 和 tanh，Glorot 适合 tanh 和 sigmoid）。",
    )
    depth: int = dlviz.param(
        8,
        label="Hidden layers",
        label_zh="隐藏层数",
        min=1,
        max=20,
        step=1,
        help="Deep networks show vanishing and exploding signals most clearly.",
        help_zh="网络越深，信号消失与爆炸越明显。",
    )
    width: int = dlviz.param(
        32,
        label="Units per hidden layer",
        label_zh="每个隐藏层的单元数",
        min=2,
        max=256,
        step=2,
        help="n_in of every layer after the first: the fan the initialisers scale by.",
        help_zh="第一层之后每层的 n_in：初始化方法据此缩放。",
    )
    data: str = dlviz.param(
        "moons",
        label="Data",
        label_zh="数据",
        choices=("auto", *BUNDLED),
        help="auto: the loaded dataset when it is 2-D points or a table, else moons. The others are bundled 2-D sets.",
        help_zh="auto：已加载的数据集是二维点或表格时用它，否则用 moons。其余为内置二维数据集。",
    )
    samples: int = dlviz.param(
        400,
        label="Points (bundled sets)",
        label_zh="点数（内置数据集）",
        min=100,
        max=5000,
        step=100,
        help="Points of a bundled set, split 80/20 into training and validation.",
        help_zh="内置数据集的点数，按 80/20 分为训练集和验证集。",
    )
    epochs: int = dlviz.param(
        20,
        label="Epochs",
        label_zh="训练轮数 (epochs)",
        min=1,
        max=500,
        step=1,
        help="Full passes over the training samples, for every initialiser.",
        help_zh="每种初始化都遍历训练样本这么多次。",
    )
    batch_size: int = dlviz.param(
        32,
        label="Batch size",
        label_zh="批大小",
        min=1,
        max=1000,
        step=1,
        help="Samples per SGD update; every model sees the same batches.",
        help_zh="每次 SGD 更新所用的样本数；所有模型看到相同的批次。",
    )
    learning_rate: float = dlviz.param(
        0.05,
        label="Learning rate",
        label_zh="学习率",
        min=1e-4,
        max=1.0,
        log=True,
        help="Plain SGD's learning rate, the same for every initialiser.",
        help_zh="普通 SGD 的学习率，所有初始化方法相同。",
    )


class Initialization(dlviz.Plugin):
    """Weight initialisation lesson: the same deep MLP built once per initialiser of keras.initializers
    (zeros, a constant, a small and a large normal, Glorot uniform, He normal, LeCun normal), measured
    before the first update (step 0: the spread of every layer's outputs and the gradient norm of every
    kernel, layer by layer), then trained by SGD on the same batches: loss and accuracy curves side by
    side, and the first hidden layer's units after training, where zeros and constant starts leave every
    unit identical.

    简介：权重初始化 (weight initialization) 课程：同一个深层 MLP 按 keras.initializers 中的每种初始化方法各建一次
    （全零、常数、小正态、大正态、Glorot 均匀、He 正态、LeCun 正态），在第一次更新之前（第 0 步）逐层测量输出的离散程度
    和每个权重矩阵的梯度范数，然后用 SGD 在相同的批次上训练：并排给出损失和准确率曲线，以及训练后第一个隐藏层的各个单元；
    全零和常数初始化会让所有单元完全相同。

    What to look for: with a small normal start the outputs shrink layer after layer towards zero
    (vanishing signal) and the gradients of the early layers are tiny, so training stalls on a plateau; a
    large normal start saturates tanh (outputs stuck at ±1) or makes ReLU outputs explode layer after
    layer. Glorot, He and LeCun keep the output spread about constant through depth, as their variance
    n_in·Var(w) ≈ 1 (or 2 for ReLU) is chosen to do, and their loss falls first. Zeros and a constant
    make every unit of a layer compute the same thing and get the same gradient, so they stay identical
    however long you train (symmetry): the heat map shows identical columns and the layer counts one
    distinct unit.

    观察要点：小正态初始化时，输出一层比一层缩小、趋近于零（信号消失），前面几层的梯度极小，训练停在平台上；大正态
    初始化让 tanh 饱和（输出卡在 ±1），或让 ReLU 的输出逐层爆炸 (exploding)。Glorot、He 和 LeCun 让输出的离散程度
    随深度基本不变，因为它们选的方差正好使 n_in·Var(w) ≈ 1（ReLU 为 2），它们的损失最先下降。全零和常数初始化让一层中的
    每个单元计算同样的东西、得到同样的梯度，所以无论训练多久都一模一样（对称性问题 (symmetry)）：热图中各列相同，
    该层只有一个不同的单元。

    >>> import dlviz
    >>> result = dlviz.compute("initialization", initializers=("zeros", "he_normal"), depth=2, width=4,
    ...                        epochs=1, samples=100)
    >>> result.layers, dict(zip(result.initializers, result.distinct_units.tolist()))
    (('hidden_1', 'hidden_2', 'output'), {'he_normal': [4, 4], 'zeros': [1, 1]})
    """

    name = "initialization"
    title = "Weight initialisation"
    title_zh = "权重初始化"
    section = "Lessons"
    Params = Params

    def shared_result_key(self, ctx: dlviz.Context, params: Params) -> str | None:
        """Shared by every session unless "auto" trains on the loaded 2-D or tabular classification set (the rule
        of compute.lesson_data)."""
        own = ctx.dataset
        its_own = own is not None and own.kind in ("points2d", "tabular") and own.task == "classification"
        return None if params.data == "auto" and its_own else ""

    def compute(self, ctx: dlviz.Context, params: Params) -> InitializationResult:
        return compute_initialization(ctx, params)

    def diagnose(self, result: InitializationResult) -> list[dlviz.Finding]:
        findings = []
        for name in result.symmetric:
            english, chinese = INITIALIZER_NAMES[name]
            findings.append(
                dlviz.Finding(
                    "info",
                    f"Initialisation lesson: {english} leaves every hidden layer with one distinct unit "
                    f"after {result.epochs} epochs (symmetry)",
                    "Start from random weights (Glorot, He, LeCun) so the units can learn different features.",
                    headline_zh=f"初始化课程：{chinese} 训练 {result.epochs} 轮后每个隐藏层只有一个不同的单元（对称性问题）",
                    advice_zh="使用随机初始化（Glorot、He、LeCun），让各单元能学到不同的特征。",
                )
            )
        hidden = len(result.hidden_layers)
        for name, spread in zip(result.initializers, result.activation_std, strict=True):
            if name in result.symmetric or hidden < 2 or not spread[0] > 0:
                continue
            ratio = spread[hidden - 1] / spread[0]
            if ratio < 1 / SPREAD_FACTOR or ratio > SPREAD_FACTOR:
                english, chinese = INITIALIZER_NAMES[name]
                shrinks = ratio < 1
                findings.append(
                    dlviz.Finding(
                        "info",
                        f"Initialisation lesson: with {english} the output spread "
                        f"{'shrinks' if shrinks else 'grows'} {max(ratio, 1 / ratio):.0f}-fold from the first "
                        f"to the last hidden layer at step 0",
                        "Scale the initial weights by the layer's fan-in (He for ReLU, Glorot or LeCun otherwise).",
                        headline_zh=f"初始化课程：{chinese} 在第 0 步从第一个到最后一个隐藏层，输出的离散程度"
                        f"{'缩小' if shrinks else '放大'}了 {max(ratio, 1 / ratio):.0f} 倍",
                        advice_zh="按该层的输入数 (fan-in) 缩放初始权重（ReLU 用 He，其他用 Glorot 或 LeCun）。",
                    )
                )
        return findings

    def figures(self, result: InitializationResult, language: str = "en") -> list[go.Figure]:
        return [
            step_zero_figure(result, language),
            curves_figure(result, language),
            symmetry_figure(result, language),
        ]
