"""The `generative` plugin: its controls, its diagnosis."""

from __future__ import annotations

import collections
import dataclasses

import plotly.graph_objects as go

import dlviz
from dlviz.plugin import tr
from plugins.generative import figures
from plugins.generative.gan import MODES, train_gan
from plugins.generative.result import MODEL_NAMES, SHAPE_NAMES, GANResult, VAEResult
from plugins.generative.vae import train_vae

# Modes covered at the end of training at or below which the generator has collapsed.
COLLAPSED_MODES = 2
# A validation KL term below this many nats: the codes say next to nothing about the input.
COLLAPSED_KL = 0.1


# The controls each model's training reads; the others leave its result unchanged.
MODEL_FIELDS = {
    "vae": ("vae_epochs", "kl_weight", "grid_size"),
    "gan": (
        "gan_data",
        "gan_steps",
        "generator_learning_rate",
        "discriminator_learning_rate",
        "discriminator_steps",
    ),
}
CACHED_RESULTS = 4
RESULTS: collections.OrderedDict = collections.OrderedDict()


def cache_key(seed: int, params: Params) -> tuple:
    return (params.network, seed, *(getattr(params, field) for field in MODEL_FIELDS[params.network]))


@dataclasses.dataclass(frozen=True)
class Params:
    network: str = dlviz.param(
        "vae",
        label="Model",
        label_zh="模型",
        choices=tuple(MODEL_NAMES),
        choice_labels={name: english for name, (english, _) in MODEL_NAMES.items()},
        choice_labels_zh={name: chinese for name, (_, chinese) in MODEL_NAMES.items()},
        help="Which generative model to train: a VAE on the bundled 8x8 digits or a GAN on 2-D points.",
        help_zh="训练哪种生成模型：在内置 8x8 手写数字上训练 VAE，或在二维点上训练 GAN。",
    )
    vae_epochs: int = dlviz.param(
        30,
        label="VAE epochs",
        label_zh="VAE 训练轮数 (epochs)",
        min=1,
        max=300,
        step=1,
        help="Full passes over the training digits.",
        help_zh="遍历训练数字的次数。",
    )
    kl_weight: float = dlviz.param(
        1.0,
        label="VAE KL weight β",
        label_zh="VAE 的 KL 权重 β",
        min=0.0,
        max=10.0,
        step=0.1,
        help="Weight of the KL term: 0 gives a plain autoencoder (codes spread out, the grid between them decodes "
        "to noise); large values pull every code to the prior and blur the digits.",
        help_zh="KL 项的权重：0 即普通自编码器（编码分散，编码之间的网格解码出来是噪声）；很大时所有编码都被拉向先验，"
        "数字变模糊。",
    )
    grid_size: int = dlviz.param(
        15,
        label="VAE grid size",
        label_zh="VAE 解码网格大小",
        min=3,
        max=30,
        step=1,
        help="Latent points per axis of the decoded grid (evenly spaced quantiles 2% to 98% of N(0, 1)).",
        help_zh="解码网格每个轴上的隐变量点数（取 N(0, 1) 从 2% 到 98% 的等间隔分位数）。",
    )
    gan_data: str = dlviz.param(
        "gaussians",
        label="GAN data",
        label_zh="GAN 数据",
        choices=tuple(SHAPE_NAMES),
        choice_labels={name: english for name, (english, _) in SHAPE_NAMES.items()},
        choice_labels_zh={name: chinese for name, (_, chinese) in SHAPE_NAMES.items()},
        help="The real points the generator learns to imitate, drawn with the seed.",
        help_zh="生成器要模仿的真实点，按随机种子生成。",
    )
    gan_steps: int = dlviz.param(
        2000,
        label="GAN steps",
        label_zh="GAN 训练步数",
        min=100,
        max=20000,
        step=100,
        help="Training steps (one generator update each); snapshots are taken at up to 25 evenly spaced steps.",
        help_zh="训练步数（每步更新一次生成器）；最多在 25 个等间隔的步数上取快照。",
    )
    generator_learning_rate: float = dlviz.param(
        1e-3,
        label="GAN generator learning rate (0.01 provokes mode collapse)",
        label_zh="GAN 生成器学习率（0.01 会引发模式崩溃）",
        min=1e-5,
        max=0.1,
        log=True,
        help="Adam's learning rate for the generator. Ten times the discriminator's (0.01 against 0.001) makes "
        "the generator jump to wherever the discriminator currently says 'real': its points pile onto one or two "
        "modes and hop between them (mode collapse).",
        help_zh="生成器的 Adam 学习率。设为判别器的十倍（0.01 对 0.001）时，生成器会跳到判别器此刻认为“真实”的地方："
        "生成点堆在一两个模式上并在模式之间跳来跳去（模式崩溃）。",
    )
    discriminator_learning_rate: float = dlviz.param(
        1e-3,
        label="GAN discriminator learning rate",
        label_zh="GAN 判别器学习率",
        min=1e-5,
        max=0.1,
        log=True,
        help="Adam's learning rate for the discriminator.",
        help_zh="判别器的 Adam 学习率。",
    )
    discriminator_steps: int = dlviz.param(
        1,
        label="GAN discriminator updates per step",
        label_zh="GAN 每步判别器更新次数",
        min=1,
        max=5,
        step=1,
        help="How often the discriminator learns before each generator update.",
        help_zh="每次更新生成器之前判别器学习几次。",
    )


class Generative(dlviz.Plugin):
    """Generative models lesson: a variational autoencoder (VAE) on the bundled 8x8 digits or a generative
    adversarial network (GAN) on 2-D points, each trained by Keras as Keras' own examples train them (a
    keras.Model with its own train_step). The VAE shows its 2-D latent space with the encoded test digits
    coloured by class, digits decoded on a grid across the latent plane, the reconstruction and KL terms
    over training, and the reparameterisation trick z = μ + σ ⊙ ε with the numbers of one draw. The GAN
    shows the generated points against the real ones over training (an animation with a step slider), the
    discriminator's D(x) beneath them, both losses, and how many of the 8 modes the generated points cover.

    简介：生成模型课程：在内置 8x8 手写数字上训练变分自编码器 (VAE)，或在二维点上训练生成对抗网络
    (GAN)，都按 Keras 官方示例的方式用 Keras 训练（一个带自己 train_step 的
    keras.Model）。VAE
    部分给出二维隐空间（测试数字的编码按类别着色）、在隐空间网格上解码出的数字、训练中的重构项和 KL 项，以及重参数化技巧
    z = μ + σ ⊙ ε 的一次具体取值。GAN
    部分给出训练过程中生成点与真实点的对比（带步数滑块的动画）、下方判别器的 D(x)、两个损失，以及生成点覆盖了 8
    个模式中的几个。

    What to look for: in the VAE's latent space digits of one class gather in one region and the decoded grid
    morphs smoothly from one digit into the next: every point of the plane decodes to something digit-like,
    because the KL term packs the codes around the prior N(0, I). With β = 0 (a plain autoencoder) the KL term
    grows large and the codes spread far beyond N(0, I), so the grid drawn from the prior shows only a corner
    of them: the model no longer generates from the prior. With a large β (5) the KL term falls to about 0:
    every code sits at the origin, the classes overlap and every digit comes back as the same blur (posterior
    collapse). The reconstruction term falls over training while the KL term rises: the encoder spends
    information on the digits. In the GAN, the generated points spread from a small blob at step 0 onto all 8
    modes; D(x) is high (blue) where real points are not yet matched, and as the generator catches up it falls
    to about 1/2 on the modes (white: there D can only guess) while staying low (orange) where only generated
    points lie, such as the trails between the modes; both losses settle near ln 2 ≈ 0.69. Mode collapse: with
    the generator's learning rate at 0.01 the points huddle in one clump that hops across the plane between
    snapshots, landing on one or two modes at most, while D(x) turns high (blue) wherever the clump is not;
    the modes-covered curve stays at 0 to 2 and the spread far below the data's, although the losses hover
    near ln 2 as in a healthy run: a GAN's losses alone do not show collapse.

    观察要点：VAE
    的隐空间中同一类的数字聚在一个区域，解码网格从一个数字平滑地过渡到下一个：平面上每个点都解码成像数字的图像，因为 KL
    项把编码压向先验 N(0, I)。β = 0（普通自编码器）时 KL 项很大，编码散布到远超 N(0, I)
    的范围，按先验取的网格只覆盖其中一角：模型不再能从先验生成。β 很大（5）时 KL 项降到约
    0：所有编码都挤在原点，各类重叠，每个数字都重构成同一团模糊（后验坍塌）。训练中重构项下降而 KL
    项上升：编码器把信息用在数字上。GAN 中，生成点从第 0 步的一小团扩散到全部 8 个模式上；在还没被模仿到的真实点处
    D(x) 高（蓝色），随着生成器追上来，模式上的 D(x) 降到约
    1/2（白色：判别器在那里只能猜），而只有生成点的地方（如模式之间的拖尾）D(x) 保持较低（橙色）；两个损失都稳定在
    ln 2 ≈ 0.69 附近。模式崩溃 (mode collapse)：生成器学习率设为 0.01
    时，生成点挤成一团，在快照之间满平面跳来跳去，最多落在一两个模式上，而团块以外的地方 D(x)
    变高（蓝色）；覆盖模式数的曲线停在 0 到 2，分散程度远低于真实数据，尽管损失和正常训练一样在 ln 2
    附近徘徊：单看 GAN 的损失发现不了模式崩溃。

    >>> import dlviz
    >>> vae = dlviz.compute("generative", vae_epochs=2, grid_size=4)
    >>> vae.grid_images.shape, vae.history["kl_loss"].shape
    ((4, 4, 8, 8), (2,))
    >>> gan = dlviz.compute("generative", network="gan", gan_steps=100)
    >>> gan.generated.shape, int(gan.snapshot_steps[-1])
    ((6, 500, 2), 100)
    """

    name = "generative"
    title = "Generative models: VAE and GAN"
    title_zh = "生成模型：VAE 与 GAN"
    section = "Lessons"
    session_independent = True  # its own data, its params and the seed: one result for every session
    Params = Params

    def compute(self, ctx: dlviz.Context, params: Params) -> VAEResult | GANResult:
        """Train the chosen model; the last few results are kept, since they depend only on the seed and the
        chosen model's own controls (not on the loaded model or data, nor on the language)."""
        key = cache_key(ctx.seed, params)
        if key in RESULTS:
            RESULTS.move_to_end(key)
            ctx.report(1.0, tr(ctx.language, "trained before: the same result", "之前已训练过：结果相同"))
            return RESULTS[key]
        RESULTS[key] = train_vae(ctx, params) if params.network == "vae" else train_gan(ctx, params)
        while len(RESULTS) > CACHED_RESULTS:
            RESULTS.popitem(last=False)
        return RESULTS[key]

    def diagnose(self, result: VAEResult | GANResult) -> list[dlviz.Finding]:
        if isinstance(result, VAEResult):
            reconstruction, kl = result.final("val_reconstruction_loss"), result.final("val_kl_loss")
            if kl < COLLAPSED_KL:
                return [
                    dlviz.Finding(
                        "warning",
                        f"VAE lesson: posterior collapse: the KL term is {kl:.3f} nats, so the codes carry almost "
                        f"nothing about the digits (β = {result.kl_weight:g})",
                        "Lower β (1 is the VAE's own loss) so the encoder can afford to tell the digits apart.",
                        headline_zh=f"VAE 课程：后验坍塌：KL 项只有 {kl:.3f} nats，编码几乎不含数字的信息"
                        f"（β = {result.kl_weight:g}）",
                        advice_zh="降低 β（1 即 VAE 本来的损失），让编码器有余地区分不同的数字。",
                    )
                ]
            return [
                dlviz.Finding(
                    "info",
                    f"VAE lesson: after {result.epochs} epochs the test digits cost {reconstruction:.1f} nats of "
                    f"reconstruction and {kl:.2f} nats of KL (β = {result.kl_weight:g})",
                    "Change β to trade sharp reconstructions against a latent space that decodes everywhere.",
                    headline_zh=f"VAE 课程：训练 {result.epochs} 轮后，测试数字的重构项为 {reconstruction:.1f} nats，"
                    f"KL 项为 {kl:.2f} nats（β = {result.kl_weight:g}）",
                    advice_zh="调整 β，在清晰的重构和处处可解码的隐空间之间权衡。",
                )
            ]
        covered = int(result.modes_covered[-1])
        if covered <= COLLAPSED_MODES:
            return [
                dlviz.Finding(
                    "warning",
                    f"GAN lesson: mode collapse: after {result.steps} steps the generated points cover only "
                    f"{covered} of {MODES} modes",
                    "Lower the generator's learning rate to the discriminator's (0.001) or give the discriminator "
                    "more updates per step.",
                    step=result.steps,
                    headline_zh=f"GAN 课程：模式崩溃：训练 {result.steps} 步后生成点只覆盖了 {MODES} 个模式中的 "
                    f"{covered} 个",
                    advice_zh="把生成器的学习率降到与判别器相同 (0.001)，或让判别器每步多更新几次。",
                )
            ]
        return [
            dlviz.Finding(
                "info",
                f"GAN lesson: after {result.steps} steps the generated points cover {covered} of {MODES} modes",
                headline_zh=f"GAN 课程：训练 {result.steps} 步后生成点覆盖了 {MODES} 个模式中的 {covered} 个",
            )
        ]

    def figures(self, result: VAEResult | GANResult, language: str = "en") -> list[go.Figure]:
        if isinstance(result, VAEResult):
            return figures.vae_figures(result, language)
        return figures.gan_figures(result, language)
