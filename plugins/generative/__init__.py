"""The `generative` lesson: a VAE on the bundled digits and a GAN on 2-D points, trained by Keras, with the
latent space, the reparameterisation trick, the adversarial game over training and mode collapse."""

from plugins.generative.plugin import Generative

__all__ = ["Generative"]
