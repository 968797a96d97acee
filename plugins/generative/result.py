"""What the generative lesson computes: a trained VAE's latent space, decoded grid, loss terms and one
reparameterised draw, or a trained GAN's snapshots; with the lesson's formulas."""

from __future__ import annotations

import dataclasses

import numpy as np

import dlviz

MODEL_NAMES = {
    "vae": ("variational autoencoder (VAE) on digits", "变分自编码器 (VAE)：手写数字"),
    "gan": ("generative adversarial network (GAN) on 2-D points", "生成对抗网络 (GAN)：二维点"),
}
SHAPE_NAMES = {
    "gaussians": ("8 Gaussians on a circle", "圆周上的 8 个高斯分布"),
    "ring": ("a ring", "圆环"),
}

VAE_FORMULAS = (
    dlviz.Formula(
        "Loss: reconstruction + β · KL (the negative evidence lower bound, ELBO)",
        "损失：重构项 + β · KL（负的证据下界 ELBO）",
        r"\mathcal{L}(x) = \underbrace{\sum_{i=1}^{64} \mathrm{BCE}\big(x_i, \hat{x}_i(z)\big)}_{\text{reconstruction}}"
        r" + \beta\, \underbrace{D_{\mathrm{KL}}\big(\mathcal{N}(\mu, \sigma^2)\,\|\,\mathcal{N}(0, I)\big)}_{\text{KL}}",
    ),
    dlviz.Formula(
        "KL divergence of the encoder's Gaussian from the prior, in closed form",
        "编码器输出的高斯分布与先验之间的 KL 散度（解析式）",
        r"D_{\mathrm{KL}} = -\frac{1}{2} \sum_{j=1}^{2} \left(1 + \log \sigma_j^2 - \mu_j^2 - \sigma_j^2\right)",
    ),
    dlviz.Formula(
        "Reparameterisation trick: the randomness moves into ε, so gradients flow through μ and σ",
        "重参数化技巧：随机性移到 ε 上，梯度因此能流过 μ 和 σ",
        r"z = \mu + \sigma \odot \varepsilon,\qquad \varepsilon \sim \mathcal{N}(0, I),\qquad "
        r"\sigma = \exp\!\left(\tfrac{1}{2} \log \sigma^2\right)",
    ),
)

GAN_FORMULAS = (
    dlviz.Formula(
        "The minimax game of generator G and discriminator D",
        "生成器 G 与判别器 D 的极小极大博弈",
        r"\min_G \max_D\; \mathbb{E}_{x \sim p_{\text{data}}}\big[\log D(x)\big]"
        r" + \mathbb{E}_{z \sim \mathcal{N}(0, I)}\big[\log\big(1 - D(G(z))\big)\big]",
    ),
    dlviz.Formula(
        "Discriminator loss: binary cross-entropy, real points labelled 1, generated points 0",
        "判别器损失：二元交叉熵，真实点标签为 1，生成点标签为 0",
        r"L_D = -\tfrac{1}{2}\Big(\mathbb{E}_x\big[\log D(x)\big] + \mathbb{E}_z\big[\log\big(1 - D(G(z))\big)\big]\Big)",
    ),
    dlviz.Formula(
        "Generator loss (the non-saturating form Keras' example trains): generated points labelled 1",
        "生成器损失（Keras 示例使用的非饱和形式）：生成点标签为 1",
        r"L_G = -\mathbb{E}_z\big[\log D(G(z))\big]",
    ),
    dlviz.Formula(
        "At the equilibrium the generated distribution equals the data and D can only guess",
        "达到均衡时生成分布等于数据分布，判别器只能猜",
        r"D^*(x) = \frac{p_{\text{data}}(x)}{p_{\text{data}}(x) + p_G(x)} = \tfrac{1}{2}"
        r"\quad\Rightarrow\quad L_D = L_G = \ln 2 \approx 0.693",
    ),
)


@dataclasses.dataclass(frozen=True)
class Reparameterisation:
    """One test digit through the encoder and the Sampling layer: z = μ + σ ⊙ ε with the numbers."""

    image: np.ndarray  # (8, 8) input pixels
    label: int
    mu: np.ndarray  # (2,)
    sigma: np.ndarray  # (2,)
    epsilon: np.ndarray  # (2,) the draw from N(0, I)
    z: np.ndarray  # (2,) the Sampling layer's output for that ε
    decoded: np.ndarray  # (8, 8) the decoder's image of z
    decoded_mean: np.ndarray  # (8, 8) the decoder's image of μ

    def latex(self) -> str:
        """z = μ + σ ⊙ ε written out with this draw's numbers."""

        def column(values) -> str:
            return r"\begin{pmatrix}" + r" \\ ".join(f"{value:.3f}" for value in values) + r"\end{pmatrix}"

        return (
            f"z = {column(self.mu)} + {column(self.sigma)} \\odot {column(self.epsilon)} = {column(self.z)}"
        )


@dataclasses.dataclass(frozen=True)
class VAEResult:
    """A VAE trained on the digits: per-epoch loss terms as `fit` reported them (training and validation),
    the test digits' encoded means, images decoded on a grid of latent points, test digits beside their
    reconstructions (decoded from μ), and one reparameterised draw."""

    epochs: int
    kl_weight: float
    n_train: int
    history: dict  # term -> per-epoch values: reconstruction_loss, kl_loss, total_loss and their val_ twins
    latent_means: np.ndarray  # (n_test, 2) μ of every test digit
    latent_sigmas: np.ndarray  # (n_test, 2) σ of every test digit
    labels: np.ndarray  # (n_test,) their classes
    class_names: tuple[str, ...]
    grid_axis: np.ndarray  # (n,) latent values along each axis of the decoded grid
    grid_images: np.ndarray  # (n, n, 8, 8): row i is z2 = grid_axis[i], column j is z1 = grid_axis[j]
    originals: np.ndarray  # (k, 8, 8) one test digit per class
    reconstructions: np.ndarray  # (k, 8, 8) their reconstructions from μ
    original_labels: np.ndarray  # (k,)
    sample: Reparameterisation
    page: dlviz.Page

    def final(self, term: str) -> float:
        return float(self.history[term][-1])


@dataclasses.dataclass(frozen=True)
class GANResult:
    """A GAN trained on 2-D points: at every snapshot (training step) the generated points from one fixed
    batch of noise, D(x) on a grid, how many of the 8 modes the points cover and how many lie near the
    data; the losses as `fit` reported them, averaged between snapshots."""

    shape: str
    steps: int
    generator_learning_rate: float
    discriminator_learning_rate: float
    discriminator_steps: int
    real: np.ndarray  # (n, 2) real points drawn in the figures
    snapshot_steps: np.ndarray  # (k,) training steps of the snapshots, 0 first
    generated: np.ndarray  # (k, m, 2)
    grid_x: np.ndarray
    grid_y: np.ndarray
    decision: np.ndarray  # (k, ny, nx) D(x) = sigmoid of the discriminator's logit
    modes_covered: np.ndarray  # (k,) of 8
    near_data: np.ndarray  # (k,) share of generated points within 3 σ of the data
    spread: np.ndarray  # (k,) mean distance of the generated points from their centroid
    real_spread: float  # the same for the real points
    loss_steps: np.ndarray  # (k - 1,) the step at the end of each interval between snapshots
    d_loss: np.ndarray  # (k - 1,)
    g_loss: np.ndarray  # (k - 1,)
    page: dlviz.Page
