"""DICGAN (Ma et al., CVPR 2020): DIC trained adversarially, for sharper faces.

The generator is exactly DIC (trainer/models/dic.py, same config, same layer names), so it serves
like DIC and starts from a trained DIC's weights (TrainingConfig.init_weights, written by every
run beside its export: trainer/models/network_weights.py), as the paper trains DICGAN from a DIC
checkpoint. Training (trainer/training/gan_loop.py) adds, on the last step's SR image only, as the
reference (code/solvers/SRLandmarkGANSolver.py):
  * a feature-matching (perceptual) loss, weight 0.1: the reference compares LightCNN features
    of a face-recognition network pre-trained on faces, which we do not have and never
    download. With a local VGG19 file (TrainingConfig.perceptual_weights) the term is
    tinyface.trainer.losses.joint.PerceptualLoss; without one it matches the discriminator's own features
    (tinyface.trainer.losses.adversarial.FeatureMatchingLoss, Salimans et al. 2016);
  * an adversarial loss, weight 0.005, from a discriminator (trainer/models/discriminator.py). The
    reference uses a LightCNN-9 discriminator with the vanilla GAN loss; ours is the
    configurable VGG-style discriminator (REFERENCE: SRGAN/ESRGAN's 128-px geometry), and the
    GAN loss is vanilla (paper), LSGAN or WGAN-GP (TrainingConfig.gan_loss).
Pixel (1, all steps) and heatmap (0.1, all steps) losses are DIC's.
"""

import dataclasses

from tinyface.trainer.models import dic, discriminator

# The model whose trained weights initialise this generator (the paper's DIC checkpoint).
GENERATOR_PRETRAINED_AS = "dic"


@dataclasses.dataclass(frozen=True)
class DicganConfig:
    generator: dic.DicConfig
    discriminator: discriminator.DiscriminatorConfig

    # What the trainer, export and benchmarks read of every model config.
    @property
    def hr_size(self):
        return self.generator.hr_size

    @property
    def scale(self):
        return self.generator.scale

    @property
    def lr_size(self):
        return self.generator.lr_size

    @property
    def num_landmarks(self):
        return self.generator.num_landmarks


REFERENCE = DicganConfig(generator=dic.REFERENCE, discriminator=discriminator.REFERENCE)
SMALL = DicganConfig(generator=dic.SMALL, discriminator=discriminator.SMALL)


def heatmap_spec(config):
    return dic.heatmap_spec(config.generator)


def build(config, name="dicgan"):
    """The generator: DIC as tinyface.trainer.models.dic.build makes it, so DIC weights load into it."""
    return dic.build(config.generator, name=name)


def build_discriminator(config, name="dicgan_discriminator"):
    return discriminator.build(config.discriminator, config.hr_size, name=name)
