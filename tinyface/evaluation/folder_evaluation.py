"""An exported model scored on an annotated folder, without a pipeline: what `tinyface evaluate` runs.

The folder becomes pair examples exactly as the pipeline makes them (tinyface.evaluation.folder_pairs),
the model answers them through the signature the Evaluator calls (serve_tf_examples), and
face_scores computes the Evaluator's metrics, floors and slices. Only the model call needs
TensorFlow; score_examples takes any batch predictor.
"""

import dataclasses
import json
import math
from typing import Dict, List, Tuple

from tinyface import signatures
from tinyface.data import example_codec
from tinyface.data.errors import BadInput
from tinyface.evaluation.folder_pairs import face_pairs
from tinyface.evaluation import face_scores
from tinyface.evaluation.summary import OVERALL, slice_name

# `--json` keys -> face_scores metric names, in the order they are written.
JSON_METRICS = (
    ("psnr_y", face_scores.PSNR_Y), ("bicubic_psnr_y", face_scores.BICUBIC_PSNR_Y),
    ("ssim_y", face_scores.SSIM_Y), ("bicubic_ssim_y", face_scores.BICUBIC_SSIM_Y),
    ("nme", face_scores.NME), ("mean_shape_nme", face_scores.MEAN_SHAPE_NME),
    ("failure_rate_0.08", face_scores.FAILURE_RATE_008),
)


@dataclasses.dataclass(frozen=True)
class FolderScores:
    faces: int                                   # faces scored (each has one pair per scale)
    skipped: List[BadInput]                      # bad records, not scored
    by_slice: Dict[Tuple, Dict[str, float]]      # slice key -> metric -> value


def example_predictor(loaded, saved_model_dir):
    """predict(serialized pair examples) -> one {sr_image, landmarks} dict per example, from the
    SavedModel's serve_tf_examples signature (the Evaluator's)."""
    import tensorflow as tf

    from tinyface.prediction import signature

    serve = signature(loaded, signatures.TF_EXAMPLE_SIGNATURE, saved_model_dir)

    def predict(serialized):
        try:
            outputs = serve(**{signatures.EXAMPLES_INPUT: tf.constant(list(serialized))})
        except tf.errors.InvalidArgumentError as error:
            # E.g. pairs at a scale the model was not built for: its input check names the sizes.
            lines = str(error).splitlines()
            reason = next((line.strip() for line in lines if "assertion failed" in line), lines[0] if lines else "")
            raise BadInput(saved_model_dir, f"the model rejected the pair examples: {reason}") from None
        sr = outputs[signatures.SR_IMAGE_OUTPUT].numpy()
        points = outputs[signatures.LANDMARKS_OUTPUT].numpy()
        return [{signatures.SR_IMAGE_OUTPUT: s, signatures.LANDMARKS_OUTPUT: p} for s, p in zip(sr, points)]

    return predict


def score_examples(serialized_examples, predict, slice_features, batch_size=32):
    """{slice key: {metric: value}} of the model behind `predict` on serialized pair examples."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")

    def scored():
        batch = []
        for example in serialized_examples:
            batch.append(example)
            if len(batch) == batch_size:
                yield from _answered(batch, predict)
                batch = []
        if batch:
            yield from _answered(batch, predict)

    return face_scores.score_by_slice(scored(), slice_features)


def _answered(batch, predict):
    return zip((example_codec.from_example(example) for example in batch), predict(batch))


def evaluate_folder(predict, root, slice_features, data_format=None, dataset=None, hr_size=128, margin=0.25,
                    pair_config=None, batch_size=32):
    """FolderScores of the model behind `predict` on the annotated folder `root`.

    BadInput naming the folder when no face could be read (with the first problem)."""
    from tinyface.data.degradation.pairs import PairConfig

    counts = {"faces": 0}
    skipped = []

    def examples():
        for item in face_pairs(root, data_format, dataset, hr_size, margin, pair_config or PairConfig()):
            if isinstance(item, BadInput):
                skipped.append(item)
                continue
            counts["faces"] += 1
            yield from item

    by_slice = score_examples(examples(), predict, slice_features, batch_size)
    if not counts["faces"]:
        detail = f"; first problem: {skipped[0]}" if skipped else ""
        raise BadInput(root, f"no faces could be read ({len(skipped)} bad records){detail}")
    return FolderScores(faces=counts["faces"], skipped=skipped, by_slice=by_slice)


def scores_json(scores):
    """The `--json` document: {"faces": N, "overall": M, "slices": {name: M}}, M the JSON_METRICS.

    NaN (a slice without landmark faces) and infinity (an SR image equal to its HR) have no
    JSON spelling; they are written as null."""
    def metrics(values):
        return {name: _json_number(values[metric]) for name, metric in JSON_METRICS}

    slices = {slice_name(key): metrics(values) for key, values in sorted(
        scores.by_slice.items(), key=lambda item: slice_name(item[0])) if key}
    return json.dumps({"faces": scores.faces, OVERALL: metrics(scores.by_slice[()]), "slices": slices},
                      indent=2, allow_nan=False)


def _json_number(value):
    return float(value) if math.isfinite(value) else None
