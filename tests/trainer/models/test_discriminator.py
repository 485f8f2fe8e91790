"""The configurable discriminator: heads, depth, widths, norms, float32 logits, config checks."""

import dataclasses

import keras
import numpy as np
import pytest

from tinyface.trainer.models import discriminator
from tinyface.trainer.models.discriminator import FEATURES, LOGITS


@pytest.mark.parametrize("head, logits_shape", [("global", (2, 1)), ("patch", (2, 8, 8, 1))])
def test_heads_give_one_logit_per_image_or_per_patch(head, logits_shape, random_images):
    config = dataclasses.replace(discriminator.SMALL, head=head)
    out = discriminator.build(config, 64)(random_images(size=64))
    assert tuple(out[LOGITS].shape) == logits_shape
    # The stem and one map per level, each level halving the resolution.
    assert [tuple(f.shape[1:3]) for f in out[FEATURES]] == [(64, 64), (32, 32), (16, 16), (8, 8)]
    assert [f.shape[-1] for f in out[FEATURES]] == [8, 8, 16, 16]   # doubling, capped at max_width


def test_reference_is_the_srgan_esrgan_geometry():
    config = discriminator.REFERENCE
    assert [config.level_width(i) for i in range(config.depth)] == [64, 128, 256, 512, 512]
    model = discriminator.build(config, 128)
    assert model.get_layer("flatten").output.shape[-1] == 4 * 4 * 512
    assert 14e6 < model.count_params() < 15e6


@pytest.mark.parametrize("norm, groups", [("group", 8), ("layer", 1), ("none", None)])
def test_norms(norm, groups):
    model = discriminator.build(dataclasses.replace(discriminator.SMALL, norm=norm), 64)
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.GroupNormalization)]
    if groups is None:
        assert norms == []
    else:
        assert norms and norms[0].groups == groups
        assert all(not layer.name.startswith("stem") for layer in norms)   # the stem stays raw


def test_each_image_is_judged_alone(random_images):
    # No batch statistics anywhere: an image's logit does not depend on its batch mates, which
    # the per-sample gradient penalty relies on.
    model = discriminator.build(dataclasses.replace(discriminator.SMALL, norm="layer"), 64)
    images = random_images(batch=3, size=64)
    together = np.asarray(model(images)[LOGITS])
    alone = np.asarray(model(images[:1])[LOGITS])
    np.testing.assert_allclose(together[:1], alone, rtol=1e-5, atol=1e-6)


def test_logits_are_float32_under_mixed_precision(mixed_bfloat16, random_images):
    model = discriminator.build(discriminator.SMALL, 64)
    out = model(random_images(size=64))
    assert out[LOGITS].dtype == "float32"
    assert out[FEATURES][-1].dtype == "bfloat16"


@pytest.mark.parametrize("bad", [dict(norm="batch"), dict(head="dense"), dict(width=0),
                                 dict(max_width=4), dict(depth=1.5)])
def test_config_rejects_bad_values(bad):
    with pytest.raises(ValueError):
        dataclasses.replace(discriminator.SMALL, **bad)


def test_image_must_survive_the_downsampling():
    with pytest.raises(ValueError, match="cannot be halved"):
        discriminator.build(discriminator.REFERENCE, 48)
