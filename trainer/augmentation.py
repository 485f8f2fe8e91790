"""Augmentation that keeps images and landmarks consistent.

A horizontal flip mirrors x and also permutes the 68 indices (left eye <-> right eye, ...),
which the DIC reference code forgets; without the permutation a flipped face teaches the
model to put the left eye's landmarks on the right eye.
"""

import tensorflow as tf

from tinyface.data.landmarks import FLIP_PERMUTATION_68


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
