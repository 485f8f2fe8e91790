"""The training curves of a run, as a CSV beside TensorBoard's logs in the Trainer's run folder.

One row per (step, split, term): `split` is "train" (Keras' running mean of the term since the
start of the checkpoint interval, sampled about CURVE_POINTS times over the run) or
"validation" (the term on the eval batches at the end of each checkpoint interval). Plain CSV so
the run report (tinyface/reporting) draws the curves without reading TensorBoard event files; a
resumed run appends to the same file, so its curves go on where they stopped.
"""

import collections
import csv
import os

import keras

from tinyface.trainer.training.training_progress import numbers

CURVES_CSV = "training_curves.csv"
COLUMNS = ("step", "split", "term", "value")
TRAIN, VALIDATION = "train", "validation"
CURVE_POINTS = 200


class CurveWriter(keras.callbacks.Callback):
    """Appends the run's loss terms to `log_dir`/CURVES_CSV as fit() goes."""

    def __init__(self, log_dir, total_steps, points=CURVE_POINTS):
        super().__init__()
        self.path = os.path.join(log_dir, CURVES_CSV)
        self.every = max(1, total_steps // points)
        self.total_steps = total_steps
        self._epoch = 0
        self._step = 0

    def on_train_begin(self, logs=None):
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        if not os.path.exists(self.path):
            self._append([COLUMNS])

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        self._step = self._epoch * ((self.params or {}).get("steps") or 0) + batch + 1
        if self._step % self.every == 0 or self._step == self.total_steps:
            self._append((self._step, TRAIN, term, value) for term, value in numbers(logs).items())

    def on_epoch_end(self, epoch, logs=None):
        self._append((self._step, VALIDATION, term, value)
                     for term, value in numbers(logs, validation=True).items())

    def _append(self, rows):
        with open(self.path, "a", newline="") as f:
            csv.writer(f).writerows(rows)


def read_curves(path):
    """{split: {term: ([steps], [values])}} of a CURVES_CSV file, steps ascending; a step written
    twice (a resumed run redoing a checkpoint interval) keeps its last value."""
    points = collections.defaultdict(lambda: collections.defaultdict(dict))
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise ValueError(f"{path}:1: expected the columns {','.join(COLUMNS)}, got {reader.fieldnames}")
        for line, row in enumerate(reader, start=2):
            try:
                points[row["split"]][row["term"]][int(row["step"])] = float(row["value"])
            except (TypeError, ValueError) as error:
                raise ValueError(f"{path}:{line}: bad row {row}: {error}") from None
    return {split: {term: (sorted(values), [values[s] for s in sorted(values)]) for term, values in terms.items()}
            for split, terms in points.items()}
