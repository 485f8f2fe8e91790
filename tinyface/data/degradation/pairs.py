"""PairGen's core: one face example in, one (LR, HR) training pair per scale out.

Input is a face as example_codec.from_example reads a FaceExampleGen output; every input
feature is passed through unchanged (so slicing/drift attributes reach the pairs), and the
pair adds the LR image, its scale, the seed and the degradation parameters actually applied,
optionally the rendered heatmaps and the raw HR pixels (TFMA labels).
"""

import dataclasses
import hashlib
import io
from typing import Optional

import numpy as np
from PIL import Image

from tinyface import features
from tinyface.data.degradation import degrade
from tinyface.data import example_codec, heatmaps
from tinyface.data.degradation.degrade import DegradationConfig

NUM_LANDMARKS_68 = 68


@dataclasses.dataclass(frozen=True)
class PairConfig:
    degradation: DegradationConfig = DegradationConfig()
    seed: int = 0                                        # global seed of the run
    materialize_heatmaps: bool = False                   # write HEATMAPS (else the trainer renders them)
    # The heatmaps written: the trained model's (its ModelContract). None until the run's config
    # fills it in from the model (pipeline/run_config.py), which refuses any other spec.
    heatmap_spec: Optional[heatmaps.HeatmapSpec] = None
    hr_pixels_label: bool = False                        # write HR_PIXELS for TFMA label access


def pair_seed(face_id, scale, global_seed):
    """The DEGRADATION_SEED of the pair (face_id, scale): derived from example_seed.

    degrade.degrade(hr, scale, config, np.random.default_rng(seed), landmarks68) redoes
    that pair's degradation exactly (same numpy version).
    """
    base = degrade.example_seed(face_id, global_seed)
    digest = hashlib.sha256(f"{base}\x00x{int(scale)}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def encode_png(image):
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def decode_png_rgb(data):
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def _landmarks68(face, face_id):
    if example_codec.scalar(face, features.HAS_LANDMARKS_68, 0) != 1:
        return None
    values = face.get(features.LANDMARKS_68) or []
    if len(values) != 2 * NUM_LANDMARKS_68:
        raise ValueError(
            f"face {face_id!r}: {features.LANDMARKS_68} has {len(values)} values, "
            f"expected {2 * NUM_LANDMARKS_68} since {features.HAS_LANDMARKS_68} is 1")
    return np.asarray(values, dtype=np.float64).reshape(NUM_LANDMARKS_68, 2)


def make_pairs(face, config):
    """Returns one pair dict per scale of config.degradation.scales for the face dict `face`."""
    face_id = example_codec.text(face, features.FACE_ID)
    if face_id is None:
        raise ValueError(f"face has no {features.FACE_ID} feature")
    png = example_codec.scalar(face, features.HR_IMAGE)
    if png is None:
        raise ValueError(f"face {face_id!r} has no {features.HR_IMAGE} feature")
    hr = decode_png_rgb(png)
    height, width = hr.shape[:2]
    if height != width:
        raise ValueError(f"face {face_id!r}: HR image is {width}x{height}, expected a square")
    for scale in config.degradation.scales:
        if height % scale:
            raise ValueError(f"face {face_id!r}: HR size {height} is not divisible by scale {scale}")
    landmarks68 = _landmarks68(face, face_id)

    # The same for every scale: computed once per face.
    extra = {}
    if config.materialize_heatmaps and landmarks68 is not None:
        if config.heatmap_spec is None:
            raise ValueError("materialize_heatmaps needs a heatmap_spec: the trained model's heatmaps")
        rendered = heatmaps.render_heatmaps(landmarks68, height, config.heatmap_spec)
        extra[features.HEATMAPS] = rendered.numpy().astype(np.float32).ravel()
    if config.hr_pixels_label:
        extra[features.HR_PIXELS] = hr.ravel()
    if landmarks68 is None:
        # Pairs are training-ready: every pair parses to the same dense tensors. Faces without
        # 68-point landmarks (five-point datasets) carry zeros, masked by HAS_LANDMARKS_68 = 0.
        extra[features.LANDMARKS_68] = np.zeros(2 * NUM_LANDMARKS_68, np.float32)

    pairs = []
    for scale in config.degradation.scales:
        seed = pair_seed(face_id, scale, config.seed)
        lr, params = degrade.degrade(hr, scale, config.degradation, np.random.default_rng(seed), landmarks68)
        pair = {key: list(values) for key, values in face.items()}
        pair.update(extra)
        pair.update(params)
        pair[features.LR_IMAGE] = encode_png(lr)
        pair[features.SCALE] = int(scale)
        pair[features.DEGRADATION_SEED] = seed
        pairs.append(pair)
    return pairs
