"""The `playground` plugin: its controls and their choices, its diagnosis."""

from __future__ import annotations

import dataclasses
import inspect

import keras
import numpy as np
import plotly.graph_objects as go

import dlviz
from dlviz.plugin import tr
from plugins.playground.data import CLASSIFICATION_SETS, FEATURES, REGRESSION_SETS, playground_data
from plugins.playground.figures import animation_figure, loss_figure, unit_maps_figure
from plugins.playground.regression_figures import curve_figure, surface_figure, unit_curves_figure
from plugins.playground.result import PlaygroundResult
from plugins.playground.training import train_playground

DATASETS = (*CLASSIFICATION_SETS, *REGRESSION_SETS, "context")
ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear", "leaky_relu", "elu", "selu", "gelu", "silu", "softplus")
# Every optimizer class keras.optimizers exports, except the wrappers around another optimizer.
OPTIMIZERS = tuple(
    sorted(
        name
        for name, cls in vars(keras.optimizers).items()
        if inspect.isclass(cls)
        and issubclass(cls, keras.optimizers.Optimizer)
        and cls is not keras.optimizers.Optimizer
        and name not in ("LossScaleOptimizer", "MultiOptimizer")
    )
)


@dataclasses.dataclass(frozen=True)
class Params:
    problem: str = dlviz.param(
        "classification",
        label="Problem type",
        label_zh="问题类型",
        choices=("classification", "regression"),
        help="Classification draws the decision boundary (sigmoid or softmax output, cross-entropy); "
        "regression the predicted surface or curve (one linear output, mean squared error).",
        help_zh="分类 (classification) 画出决策边界（sigmoid 或 softmax 输出，交叉熵）；回归 (regression) "
        "画出预测的曲面或曲线（一个线性输出，均方误差）。",
    )
    data: str = dlviz.param(
        "circles",
        label="Data",
        label_zh="数据",
        choices=DATASETS,
        help="Classification: circles, xor, gauss, spirals, moons; regression: plane, multigauss (2-D) or "
        "curve (1-D); 'context' for the loaded dataset when it has two features (one for regression).",
        help_zh="分类：circles、xor、gauss、spirals、moons；回归：plane、multigauss（二维）或 curve（一维）；"
        "选 context 使用已加载的数据集（需两个特征，回归时也可以是一个）。",
    )
    classes: int = dlviz.param(
        2,
        label="Classes (spirals, gauss)",
        label_zh="类别数（spirals、gauss）",
        min=2,
        max=6,
        step=1,
        help="More than two classes gives spirals more arms and gauss more blobs (softmax output).",
        help_zh="大于 2 时 spirals 有更多旋臂、gauss 有更多团簇（输出层用 softmax）。",
    )
    noise: float = dlviz.param(
        0.1,
        label="Noise",
        label_zh="噪声",
        min=0.0,
        max=0.5,
        step=0.01,
        help="Standard deviation of the noise (capped at the set's own maximum).",
        help_zh="噪声标准差（不超过该数据集允许的最大值）。",
    )
    n_samples: int = dlviz.param(
        400,
        label="Points",
        label_zh="点数",
        min=50,
        max=2000,
        step=50,
        help="Points generated, split into training and test.",
        help_zh="生成的点数，划分为训练集和测试集。",
    )
    train_fraction: float = dlviz.param(
        0.5,
        label="Ratio of training data",
        label_zh="训练数据比例",
        min=0.1,
        max=0.9,
        step=0.05,
        help="Fraction of the points used for training; the rest is the test split.",
        help_zh="用于训练的点所占比例；其余为测试集。",
    )
    features: tuple = dlviz.param(
        ("x1", "x2"),
        label="Features",
        label_zh="输入特征",
        choices=tuple(FEATURES),
        multiple=True,
        help="Inputs the network sees, computed from the point (x1, x2).",
        help_zh="网络看到的输入，由点 (x1, x2) 计算得到。",
    )
    hidden: str = dlviz.param(
        "4, 2",
        label="Hidden layers (units each)",
        label_zh="隐藏层（每层单元数）",
        help="Units of each hidden layer, comma separated, e.g. '4, 2'; empty for none (logistic regression).",
        help_zh="每个隐藏层的单元数，用逗号分隔，例如 '4, 2'；留空表示没有隐藏层（逻辑回归）。",
    )
    activation: str = dlviz.param(
        "tanh",
        label="Activation",
        label_zh="激活函数",
        choices=ACTIVATIONS,
        help="keras.activations function of every hidden layer.",
        help_zh="每个隐藏层使用的 keras.activations 函数。",
    )
    optimizer: str = dlviz.param(
        "Adam",
        label="Optimizer",
        label_zh="优化器",
        choices=OPTIMIZERS,
        help="Any optimizer class of keras.optimizers, with its default settings and the learning rate below.",
        help_zh="keras.optimizers 中的任意优化器类，使用默认设置和下面的学习率。",
    )
    learning_rate: float = dlviz.param(
        0.03,
        label="Learning rate",
        label_zh="学习率",
        min=1e-5,
        max=10.0,
        log=True,
        help="Step size of the optimizer.",
        help_zh="优化器的步长。",
    )
    regularization: str = dlviz.param(
        "none",
        label="Regularization",
        label_zh="正则化",
        choices=("none", "L1", "L2"),
        help="Penalty on every kernel (keras.regularizers).",
        help_zh="对每个权重矩阵的惩罚 (keras.regularizers)。",
    )
    regularization_rate: float = dlviz.param(
        1e-3,
        label="Regularization rate",
        label_zh="正则化系数",
        min=1e-6,
        max=1.0,
        log=True,
        help="λ of the penalty.",
        help_zh="惩罚项的系数 λ。",
    )
    batch_size: int = dlviz.param(
        10,
        label="Batch size",
        label_zh="批大小",
        min=1,
        max=1000,
        step=1,
        help="Points per gradient step.",
        help_zh="每个梯度步使用的点数。",
    )
    epochs: int = dlviz.param(
        40,
        label="Epochs",
        label_zh="训练轮数 (epochs)",
        min=1,
        max=300,
        step=1,
        help="Passes over the training points; one animation frame per epoch.",
        help_zh="遍历训练点的次数；每轮一帧动画。",
    )
    resolution: int = dlviz.param(
        40,
        label="Grid resolution",
        label_zh="网格分辨率",
        min=10,
        max=80,
        step=5,
        help="Grid points per side where the boundary is evaluated.",
        help_zh="每边计算决策边界的网格点数。",
    )


class Playground(dlviz.Plugin):
    """TensorFlow Playground on a real Keras model: pick a 2-D dataset (circles, xor, gauss, spirals, moons,
    more classes for spirals and gauss), the input features (x1, x2, x1², x2², x1·x2, sin x1, sin x2), the
    hidden layers and their units, the activation, the learning rate, any Keras optimizer, L1/L2
    regularization and the batch size, and watch the decision boundary form epoch by epoch. The animation
    replays the boundary recorded at every epoch's end during one model.fit (no retraining per frame);
    beside it each hidden unit's response over the plane and the training and test loss.

    简介：在真正的 Keras 模型上运行的 TensorFlow Playground：选择二维数据集（circles、xor、gauss、spirals、
    moons，spirals 和 gauss 可有更多类别）、输入特征（x1、x2、x1²、x2²、x1·x2、sin x1、sin x2）、隐藏层及其单元数、
    激活函数、学习率、任意 Keras 优化器、L1/L2 正则化和批大小，然后逐轮观察决策边界 (decision boundary) 的形成。
    动画回放的是同一次 model.fit 中每轮结束时记录下的边界（不是每帧重新训练）；旁边是每个隐藏单元在平面上的响应，
    以及训练损失和测试损失。

    What to look for: a network without hidden layers draws a straight boundary (logistic regression): it
    cannot separate circles or xor from x1 and x2, but it can once x1² and x2² (circles) or x1·x2 (xor)
    are given as features: good features replace layers. With hidden layers, each unit of the first layer
    draws one line (its response map is a ramp); later units combine them into curves. Spirals need
    several layers and many epochs. Watch the test loss: when it rises while the training loss keeps falling,
    the network has started to overfit; L2 or fewer units smooth the boundary. Too large a learning rate
    makes the boundary jump between epochs; too small a rate barely moves it. In regression mode (plane,
    multigauss, the 1-D curve) the output is one linear unit trained on the mean squared error: watch its
    surface or curve bend towards the points; a network without hidden layers only fits a plane or a line.

    观察要点：没有隐藏层的网络只能画出一条直线边界（即逻辑回归）：仅用 x1、x2 无法分开 circles 或 xor，但加入 x1²、
    x2²（circles）或 x1·x2（xor）特征后就可以：好的特征可以代替网络层。有隐藏层时，第一层的每个单元画出一条直线
    （其响应图是一个斜坡），后面的单元把这些直线组合成曲线。spirals 需要多层和较多的训练轮数。注意测试损失：
    训练损失继续下降而测试损失上升时，网络开始过拟合 (overfitting)；L2 正则化或减少单元数能让边界更平滑。
    学习率过大时边界在各轮之间跳动；过小时边界几乎不动。回归 (regression) 模式下（plane、multigauss、一维 curve），
    输出是一个用均方误差 (MSE) 训练的线性单元：观察它的曲面或曲线如何逐渐贴近数据点；没有隐藏层的网络只能拟合平面或直线。

    >>> import dlviz
    >>> result = dlviz.compute("playground", data="xor", features=("x1", "x2", "x1*x2"), hidden="", epochs=5)
    >>> result.dataset_name, result.frames.shape
    ('xor', (5, 40, 40))
    >>> [figure.layout.title.text.split(":")[0] for figure in dlviz.get_plugin("playground").figures(result)]
    ['Decision boundary over training', 'Loss', 'Units']
    """

    name = "playground"
    title = "Playground"
    title_zh = "神经网络游乐场 (Playground)"
    section = "Lessons"
    Params = Params

    def compute(self, ctx: dlviz.Context, params: Params) -> PlaygroundResult:
        data, notes = playground_data(ctx, params)
        message = tr(ctx.language, "training", "训练中")
        _, result = train_playground(
            data,
            params,
            seed=ctx.seed,
            notes=notes,
            progress=ctx.report,
            language=ctx.language,
            partial=(lambda so_far, done, total: ctx.report_partial(so_far, done, total, message))
            if ctx.wants_partial
            else None,
        )
        return result

    def shared_result_key(self, ctx: dlviz.Context, params: Params) -> str | None:
        """Shared by every session unless it trains on the loaded dataset ('context')."""
        return None if params.data == "context" else ""

    def diagnose(self, result: PlaygroundResult) -> list[dlviz.Finding]:
        if result.epochs < 5:
            return []
        best = int(np.argmin(result.test_loss))
        if (
            result.test_loss[-1] > 1.1 * result.test_loss[best]
            and result.train_loss[-1] < result.train_loss[best]
        ):
            return [
                dlviz.Finding(
                    "info",
                    f"Playground: the test loss rose after epoch {best + 1} while the training loss kept falling",
                    "The network overfits the training points: add L2 regularization, fewer units, or more data.",
                    step=best + 1,
                    headline_zh=f"游乐场：第 {best + 1} 轮之后测试损失上升，而训练损失仍在下降",
                    advice_zh="网络过拟合 (overfitting) 了训练点：加入 L2 正则化、减少单元数，或增加数据。",
                )
            ]
        return []

    def figures(self, result: PlaygroundResult, language: str = "en") -> list[go.Figure]:
        if result.task == "regression" and result.grid_y.size == 0:  # 1-D points: curves, not maps
            return [
                curve_figure(result, language),
                loss_figure(result, language),
                unit_curves_figure(result, language),
            ]
        if result.task == "regression":
            return [
                surface_figure(result, language),
                loss_figure(result, language),
                unit_maps_figure(result, language),
            ]
        return [
            animation_figure(result, language),
            loss_figure(result, language),
            unit_maps_figure(result, language),
        ]
