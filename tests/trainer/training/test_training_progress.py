"""The Trainer's progress lines and training curves, on a tiny Keras model and by the clock."""

import re
import time

import keras
import numpy as np
import pytest

from tinyface.trainer.training import training_curves, training_progress


def test_progress_line_reads_as_the_user_needs_it():
    line = training_progress.progress_line("Trainer", 1200, 3000, 86.4, {"loss": 0.08312, "pixel": 0.0512,
                                                                         "heatmap": 0.0319}, 205)
    assert line == ("Trainer: step 1200/3000 (40%), 86 img/s, loss 0.0831 (pixel 0.0512, heatmap 0.0319), "
                    "ETA 3 min 25 s")
    assert training_progress.progress_line("Trainer", 0, 3000, doing="building the training graph (41 s)") == (
        "Trainer: step 0/3000 (0%), building the training graph (41 s)")


def test_a_line_comes_on_time_even_while_no_step_ends():
    lines = []
    progress = training_progress.TrainingProgress(10, batch_size=4, every_seconds=0.05, write=lines.append)
    progress.set_params({"steps": 5, "epochs": 2})
    progress.on_train_begin()
    time.sleep(0.18)                     # the first step is still building its graph
    assert lines[0] == "Trainer: training 10 steps of 4 images"
    assert len(lines) >= 3 and all("step 0/10" in line and "building the training graph" in line
                                   for line in lines[1:])
    progress.on_epoch_begin(1)
    progress.on_train_batch_end(2, {"loss": np.float32(0.5), "pixel": 0.25, "heatmap": 0.25})
    time.sleep(0.08)
    progress.on_epoch_end(1, {"loss": 0.5, "val_loss": 0.75, "val_pixel": 0.5, "val_heatmap": 0.25})
    progress.on_train_end()
    assert any(re.fullmatch(r"Trainer: step 8/10 \(80%\), loss 0\.5000 \(pixel 0\.2500, heatmap 0\.2500\)", line)
               for line in lines), lines
    assert "Trainer: step 8/10 validation: loss 0.7500 (pixel 0.5000, heatmap 0.2500)" in lines
    count = len(lines)
    time.sleep(0.12)
    assert len(lines) == count           # the timer stopped with the training


@pytest.fixture
def tiny_fit(tmp_path):
    def fit(callbacks, steps_per_epoch=3, epochs=2):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
        x, y = np.random.rand(12, 2).astype("float32"), np.random.rand(12, 1).astype("float32")
        return model.fit(x, y, batch_size=4, epochs=epochs, steps_per_epoch=steps_per_epoch,
                         validation_data=(x, y), callbacks=callbacks, verbose=0)
    return fit


def test_progress_in_a_real_fit_counts_global_steps_and_reports_validation(tiny_fit):
    lines = []
    tiny_fit([training_progress.TrainingProgress(6, batch_size=4, every_seconds=0.001, write=lines.append)])
    assert "Trainer: step 3/6 validation: loss" in "\n".join(lines)
    assert "Trainer: step 6/6 validation: loss" in "\n".join(lines)
    assert re.fullmatch(r"Trainer: trained to step 6/6, \d+ img/s, loss \d\.\d{4}", lines[-1]), lines[-1]


def test_curves_hold_train_and_validation_points_by_global_step(tiny_fit, tmp_path):
    tiny_fit([training_curves.CurveWriter(str(tmp_path), total_steps=6, points=3)])
    curves = training_curves.read_curves(tmp_path / training_curves.CURVES_CSV)
    assert curves[training_curves.TRAIN]["loss"][0] == [2, 4, 6]
    assert curves[training_curves.VALIDATION]["loss"][0] == [3, 6]
    # A resumed run appends: its points join the same curves.
    tiny_fit([training_curves.CurveWriter(str(tmp_path), total_steps=6, points=6)], epochs=1)
    curves = training_curves.read_curves(tmp_path / training_curves.CURVES_CSV)
    assert curves[training_curves.TRAIN]["loss"][0] == [1, 2, 3, 4, 6]


def test_a_bad_curves_file_is_named_with_its_line(tmp_path):
    path = tmp_path / training_curves.CURVES_CSV
    path.write_text("step,split,term,value\n5,train,loss,oops\n")
    with pytest.raises(ValueError, match=rf"{re.escape(str(path))}:2: bad row"):
        training_curves.read_curves(path)
