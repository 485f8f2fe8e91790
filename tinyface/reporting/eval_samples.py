"""Eval faces for the report: pairs read from the eval split, their bicubic floor, and the served
model's SR image and landmarks for them, each with its PSNR-Y and NME.

The model is called through tinyface.prediction (the serving_default signature, uint8 LR images
in), the way TF Serving and `tinyface predict` call it. The bicubic image is the one
FaceSRMetrics scores as the floor: bicubic_resize of the LR input to the HR size. The per-face
numbers come from tinyface.metrics with FaceSRMetrics' settings (PSNR on Y, `scale` pixels
shaved; NME by the outer eye corners), so a face's caption is one term of the slice means.
"""

import dataclasses
from typing import Tuple

import numpy as np

from tinyface import features, metrics, prediction
from tinyface.data import example_codec
from tinyface.data import landmarks as landmark_schemes
from tinyface.data.degradation.degrade import bicubic_resize
from tinyface.data.degradation.pairs import decode_png_rgb

_NUM_POINTS = landmark_schemes.NUM_POINTS[landmark_schemes.IBUG68]


@dataclasses.dataclass(frozen=True)
class EvalSamples:
    """N eval pairs and what the model made of them; row i of every array is pair i."""

    pairs: Tuple[dict, ...]          # the pairs' features, as example_codec.from_example reads them
    scales: np.ndarray               # int (N,): each pair's upscaling factor (the pixels shaved)
    lr: np.ndarray                   # uint8 (N, h, w, 3): the model's input
    hr: np.ndarray                   # uint8 (N, H, W, 3): the target
    bicubic: np.ndarray              # uint8 (N, H, W, 3): the LR input upsampled, the SR floor
    sr: np.ndarray                   # uint8 (N, H, W, 3): the model's SR image
    predicted_landmarks: np.ndarray  # float32 (N, 68, 2), HR pixels
    true_landmarks: np.ndarray       # float64 (N, 68, 2), HR pixels; NaN for a face without them


@dataclasses.dataclass(frozen=True)
class SampleScores:
    """Per-face figures, each (N,) float64."""

    bicubic_psnr_y: np.ndarray
    sr_psnr_y: np.ndarray
    nme: np.ndarray                  # NaN for a face without true 68-point landmarks


def read_pairs(paths, count, scale=None):
    """The first `count` pair examples (decoded with example_codec.from_example) of the GZIP
    TFRecord files `paths`, in file order, keeping only pairs of upscaling factor `scale`
    when it is given (a model serves one scale; PairGen may have made several)."""
    import tensorflow as tf

    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    pairs = []
    for record in tf.data.TFRecordDataset(list(paths), compression_type="GZIP"):
        pair = example_codec.from_example(record.numpy())
        pair_scale = example_codec.scalar(pair, features.SCALE)
        if pair_scale is None:
            raise ValueError(f"example {example_codec.text(pair, features.FACE_ID)!r} has no "
                             f"{features.SCALE!r} feature: not a PairGen pair")
        if scale is None or pair_scale == scale:
            pairs.append(pair)
            if len(pairs) == count:
                break
    return pairs


def eval_samples(model, pairs, batch_size=32):
    """EvalSamples of `pairs` (from read_pairs) with `model` (a prediction.Model)."""
    if not pairs:
        raise ValueError("no pairs to run the model on")
    lr = np.stack([decode_png_rgb(example_codec.scalar(pair, features.LR_IMAGE)) for pair in pairs])
    hr = np.stack([decode_png_rgb(example_codec.scalar(pair, features.HR_IMAGE)) for pair in pairs])
    # Exactly FaceSRMetrics' floor: the LR input resized to the HR image's (width, height).
    bicubic = np.stack([bicubic_resize(low, (high.shape[1], high.shape[0])) for low, high in zip(lr, hr)])
    predicted = prediction.predict(model, lr, batch_size=batch_size)
    return EvalSamples(
        pairs=tuple(pairs),
        scales=np.array([int(example_codec.scalar(pair, features.SCALE)) for pair in pairs]),
        lr=lr, hr=hr, bicubic=bicubic, sr=predicted.sr_images,
        predicted_landmarks=predicted.landmarks,
        true_landmarks=np.stack([_true_landmarks(pair) for pair in pairs]))


def sample_scores(samples):
    """PSNR-Y of the bicubic floor and of the SR image, and the landmarks' NME, per face."""
    def psnr_y(images):
        return np.array([metrics.psnr(image, hr, shave=scale, y_channel=True)
                         for image, hr, scale in zip(images, samples.hr, samples.scales)])

    nmes = np.array([metrics.nme(points, truth) if np.isfinite(truth).all() else np.nan
                     for points, truth in zip(samples.predicted_landmarks, samples.true_landmarks)])
    return SampleScores(bicubic_psnr_y=psnr_y(samples.bicubic), sr_psnr_y=psnr_y(samples.sr), nme=nmes)


def _true_landmarks(pair):
    # PairGen writes zeros for faces without 68-point landmarks, masked by HAS_LANDMARKS_68 = 0:
    # NaN keeps those zeros out of the NME and off the picture.
    if example_codec.scalar(pair, features.HAS_LANDMARKS_68, 0) != 1:
        return np.full((_NUM_POINTS, 2), np.nan)
    return np.asarray(pair[features.LANDMARKS_68], dtype=np.float64).reshape(_NUM_POINTS, 2)


def slice_value(pair, feature):
    """A pair's value of a slicing feature as text, the way TFMA's slice keys print it."""
    value = example_codec.scalar(pair, feature)
    return value.decode("utf-8") if isinstance(value, bytes) else (None if value is None else str(value))


def worst_and_best(pairs, quality, slice_keys, slice_name):
    """[(label, face index)] choosing, for each slice, its worst and its best face by
    `quality` (per face, higher is better; NaN faces are never chosen).

    slice_keys: TFMA slice keys, () for overall, else ((feature, value), ...). A slice holding
    every face that overall holds shows nothing overall does not (a dataset or scale slice of a
    one-dataset, one-scale run) and is left out; a slice of one face shows it once.
    slice_name(key) names a slice in the labels.
    """
    quality = np.asarray(quality, dtype=np.float64)
    scored = [i for i in range(len(pairs)) if np.isfinite(quality[i])]
    chosen = []
    for key in slice_keys:
        members = [i for i in scored
                   if all(slice_value(pairs[i], feature) == str(value) for feature, value in key)]
        if not members or (key and len(members) == len(scored)):
            continue
        worst = min(members, key=lambda i: quality[i])
        best = max(members, key=lambda i: quality[i])
        name = slice_name(key)
        if worst == best:
            chosen.append((f"only face of {name}", worst))
        else:
            chosen.extend([(f"worst of {name}", worst), (f"best of {name}", best)])
    return chosen


def select(samples, indices):
    """The EvalSamples of the faces at `indices` (repeats allowed), in that order."""
    indices = list(indices)
    return EvalSamples(
        pairs=tuple(samples.pairs[i] for i in indices),
        **{field.name: getattr(samples, field.name)[indices]
           for field in dataclasses.fields(EvalSamples) if field.name != "pairs"})
