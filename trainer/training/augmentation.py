"""Augmentation that keeps images and landmarks consistent.

A horizontal flip mirrors x and also permutes the 68 indices (left eye <-> right eye, ...),
which the DIC reference code forgets; without the permutation a flipped face teaches the
model to put the left eye's landmarks on the right eye.

Geometric jitter (rotation, scale, shift about the crop's centre) warps the HR face and moves
its landmarks by the same transform, then makes the LR input again from the warped HR with the
pairs' own degradation, an antialiased bicubic downscale (MATLAB imresize semantics, as PIL's
BICUBIC in tinyface/data/degradation/degrade.py), quantised to 8 bits as a stored LR image is. Warping
the 16x16 LR itself would blur it beyond anything the evaluation shows the model. Pairs made
with extra blur, noise or JPEG lose those on jittered examples: use geometric jitter with the
papers' bicubic-only pairs.

Colour jitter (brightness, contrast, saturation) is an affine map of the pixel values with the
same coefficients for LR and HR, so it commutes with the (linear) downscale: the jittered LR is
still the degradation of the jittered HR, up to 8-bit rounding and clipping.
"""

import dataclasses
import math

import tensorflow as tf

from tinyface.data.landmarks import FLIP_PERMUTATION_68

# ITU-R BT.601 luma, the Y of the PSNR-Y/SSIM-Y metrics: grey of the saturation jitter.
_LUMA = (0.299, 0.587, 0.114)


@dataclasses.dataclass(frozen=True)
class AugmentationConfig:
    """What a training batch gets; each range is sampled uniformly per example. Zeros: off."""

    flip: bool = True
    max_rotation_deg: float = 0.0   # angle in [-max, max] degrees
    max_scale: float = 0.0          # zoom factor in [1 - max, 1 + max]
    max_shift: float = 0.0          # shift in [-max, max] x the crop's side, x and y apart
    max_brightness: float = 0.0     # added value in [-max, max] (pixels in [0, 1])
    max_contrast: float = 0.0       # factor about the face's mean in [1 - max, 1 + max]
    max_saturation: float = 0.0     # factor about the grey value in [1 - max, 1 + max]

    def __post_init__(self):
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.name != "flip" and not 0.0 <= value < (90.0 if "rotation" in field.name else 1.0):
                raise ValueError(f"{field.name} must lie in [0, {90 if 'rotation' in field.name else 1}), "
                                 f"got {value!r}")

    @property
    def geometric(self):
        return bool(self.max_rotation_deg or self.max_scale or self.max_shift)

    @property
    def colour(self):
        return bool(self.max_brightness or self.max_contrast or self.max_saturation)


FLIP_ONLY = AugmentationConfig()


def flip_landmarks_68(landmarks, width):
    """(B, 68, 2) landmarks of images `width` px wide -> those of the mirrored images."""
    mirrored = tf.stack([tf.cast(width, landmarks.dtype) - 1.0 - landmarks[..., 0], landmarks[..., 1]], axis=-1)
    return tf.gather(mirrored, FLIP_PERMUTATION_68, axis=1)


def random_horizontal_flip(lr, hr, landmarks, seed=None):
    """Flips each example of the batch with probability 1/2: LR, HR and landmarks together.

    lr (B, l, l, 3), hr (B, h, h, 3), landmarks (B, 68, 2) in HR pixels.
    """
    batch = tf.shape(lr)[0]
    flip = tf.random.uniform([batch], seed=seed) < 0.5
    lr = tf.where(flip[:, None, None, None], tf.reverse(lr, axis=[2]), lr)
    hr = tf.where(flip[:, None, None, None], tf.reverse(hr, axis=[2]), hr)
    landmarks = tf.where(flip[:, None, None], flip_landmarks_68(landmarks, tf.shape(hr)[2]), landmarks)
    return lr, hr, landmarks


def bicubic_downscale(images, size):
    """(B, H, W, 3) float images in [0, 1] -> (B, size, size, 3): the pairs' antialiased bicubic
    downscale, quantised to 8 bits like a stored LR image."""
    small = tf.image.resize(images, [size, size], method="bicubic", antialias=True)
    return tf.round(tf.clip_by_value(small, 0.0, 1.0) * 255.0) / 255.0


def similarity_transforms(angles, zooms, shifts, size):
    """Per-example similarity transforms about the centre of a `size`-pixel crop.

    angles (B,) radians, zooms (B,), shifts (B, 2) pixels. Returns (forward, inverse): forward
    (B, 2, 3) maps a point of the original image to the warped one (for landmarks); inverse
    (B, 8) maps an output pixel back to where it is sampled from, in
    tf.raw_ops.ImageProjectiveTransformV3's layout. Pixel centres sit at integer coordinates,
    the convention of the landmarks (and of flip_landmarks_68).
    """
    centre = (tf.cast(size, tf.float32) - 1.0) / 2.0
    cos, sin = tf.cos(angles), tf.sin(angles)
    zero = tf.zeros_like(angles)
    shift_x, shift_y = shifts[:, 0], shifts[:, 1]
    # forward: p' = c + zoom * R(angle) (p - c) + shift
    a, b, c, d = zooms * cos, -zooms * sin, zooms * sin, zooms * cos
    forward = tf.stack([
        tf.stack([a, b, centre - a * centre - b * centre + shift_x], axis=-1),
        tf.stack([c, d, centre - c * centre - d * centre + shift_y], axis=-1)], axis=1)
    # inverse: p = c + R(-angle) (p' - c - shift) / zoom
    ia, ib, ic, id_ = cos / zooms, sin / zooms, -sin / zooms, cos / zooms
    origin_x, origin_y = centre + shift_x, centre + shift_y
    inverse = tf.stack([ia, ib, centre - ia * origin_x - ib * origin_y,
                        ic, id_, centre - ic * origin_x - id_ * origin_y, zero, zero], axis=-1)
    return forward, inverse


def _warp(images, inverse):
    size = tf.shape(images)[1:3]
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images, transforms=inverse, output_shape=size, fill_value=0.0,
        interpolation="BILINEAR", fill_mode="REFLECT")


def random_geometric_jitter(hr, landmarks, lr_size, config: AugmentationConfig, seed=None):
    """Rotates, zooms and shifts each HR face (its landmarks with it) and degrades it again to
    the LR input. Returns (lr, hr, landmarks)."""
    batch, size = tf.shape(hr)[0], tf.shape(hr)[1]
    uniform = lambda shape, limit, salt: tf.random.uniform(  # noqa: E731
        shape, -limit, limit, seed=None if seed is None else seed + salt)
    angles = uniform([batch], math.radians(config.max_rotation_deg), 11)
    zooms = 1.0 + uniform([batch], config.max_scale, 12)
    shifts = uniform([batch, 2], config.max_shift, 13) * tf.cast(size, tf.float32)
    forward, inverse = similarity_transforms(angles, zooms, shifts, size)
    hr = _warp(hr, inverse)
    landmarks = tf.einsum("bij,bnj->bni", forward[:, :, :2], landmarks) + forward[:, None, :, 2]
    return bicubic_downscale(hr, lr_size), hr, landmarks


def colour_coefficients(hr, config: AugmentationConfig, seed=None):
    """Per-example (brightness, contrast, saturation, mean) of a colour jitter; the mean is the
    HR face's mean luma, the pivot of the contrast change for both of its images."""
    batch = tf.shape(hr)[0]
    uniform = lambda limit, salt: tf.random.uniform(  # noqa: E731
        [batch], -limit, limit, seed=None if seed is None else seed + salt)
    mean = tf.reduce_mean(tf.tensordot(hr, tf.constant(_LUMA), axes=[[3], [0]]), axis=[1, 2])
    return uniform(config.max_brightness, 21), 1.0 + uniform(config.max_contrast, 22), \
        1.0 + uniform(config.max_saturation, 23), mean


def apply_colour(images, brightness, contrast, saturation, mean):
    """The colour jitter with given per-example coefficients (B,): an affine map of the pixels."""
    per_example = lambda v: v[:, None, None, None]  # noqa: E731
    grey = tf.tensordot(images, tf.constant(_LUMA), axes=[[3], [0]])[..., None]
    images = grey + per_example(saturation) * (images - grey)
    images = per_example(mean) + per_example(contrast) * (images - per_example(mean)) + per_example(brightness)
    return tf.clip_by_value(images, 0.0, 1.0)


def augment(lr, hr, landmarks, config: AugmentationConfig, seed=None):
    """A training batch's augmentation: geometric jitter, colour jitter, then the flip.

    lr (B, l, l, 3), hr (B, h, h, 3) float in [0, 1]; landmarks (B, 68, 2) in HR pixels.
    """
    if config.geometric:
        lr, hr, landmarks = random_geometric_jitter(hr, landmarks, tf.shape(lr)[1], config, seed)
    if config.colour:
        coefficients = colour_coefficients(hr, config, seed)
        hr = apply_colour(hr, *coefficients)
        lr = tf.round(apply_colour(lr, *coefficients) * 255.0) / 255.0
    if config.flip:
        lr, hr, landmarks = random_horizontal_flip(lr, hr, landmarks, seed=seed)
    return lr, hr, landmarks
