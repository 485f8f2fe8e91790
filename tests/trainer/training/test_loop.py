"""Each model trains a few steps on real pairs (loss falls), exports, and the SavedModel
answers like the Keras model; a wrong input is a clean INVALID_ARGUMENT."""

import os

import numpy as np
import pytest
import tensorflow as tf

from tinyface import console, signatures
from tinyface.trainer.training import input_pipeline, precision, task
from tinyface.trainer.models import outputs as model_outputs, registry
from tinyface.trainer.models.landmark_decoding import decode_landmarks
from tinyface.trainer.training.training_config import paper_config

# Learning rates above the papers' so a 15-step run shows the loss falling.
FAST = {"jasrnet": 5e-4, "dic": 1e-3}


@pytest.fixture(scope="module", params=["jasrnet", "dic"])
def trained(request, pair_records, tmp_path_factory):
    model = request.param
    out = tmp_path_factory.mktemp(f"trained-{model}")
    config = paper_config(model, batch_size=4, checkpoint_every=5, eval_steps=2,
                          learning_rate=FAST[model], lr_milestones=())
    pattern = os.path.join(pair_records, "Split-train", "*")

    def make_dataset(training, batch_size, contract):
        return input_pipeline.dataset_from_files(pattern, batch_size, contract, training, seed=1)

    said = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(console, "say", said.append)
        network, history = task.train_and_export(config, make_dataset, 15, str(out / "export"),
                                                 str(out / "logs"), str(out / "backup"))
    eval_batch = next(iter(make_dataset(False, 4, registry.model_contract(model))))
    return model, network, history, str(out / "export"), eval_batch, said


def test_the_user_is_told_which_precision_the_hardware_got(trained):
    *_, said = trained
    expected = precision.decide_for_this_machine("auto")
    assert f"Trainer: computing in {expected}" in said, said
    assert said.index(f"Trainer: computing in {expected}") < min(
        i for i, line in enumerate(said) if line.startswith("Trainer: training"))


def test_loss_falls(trained):
    model, _, history, _, _, _ = trained
    # Validation runs on the same batches after every 5 steps, so it is comparable across
    # epochs (the training loss is over different random batches each time).
    losses = history.history["val_loss"]
    assert len(losses) == 3 and all(np.isfinite(history.history["loss"]))
    assert losses[-1] < losses[0], (model, history.history)
    assert "pixel" in history.history and "heatmap" in history.history


def test_savedmodel_answers_like_the_keras_model(trained):
    _, network, _, export_dir, (lr, _), _ = trained
    loaded = tf.saved_model.load(export_dir)
    lr_uint8 = tf.cast(tf.round(lr * 255.0), tf.uint8)
    served = loaded.signatures[signatures.SERVING_DEFAULT](**{signatures.LR_IMAGES_INPUT: lr_uint8})
    outputs = network(tf.cast(lr_uint8, tf.float32) / 255.0, training=False)
    # The default precision computes in bfloat16 where the CPU runs it natively (8-bit mantissa):
    # eager Keras and the saved graph may round a value differently by one bf16 step (2^-7 near
    # 1), nothing more. In float32 the two agree closer still.
    expected_sr = np.round(np.clip(outputs[model_outputs.SR_STEPS][:, -1].numpy(), 0, 1) * 255)
    sr_difference = np.abs(served[signatures.SR_IMAGE_OUTPUT].numpy().astype(int) - expected_sr)
    assert sr_difference.max() <= 3 and sr_difference.mean() < 0.5
    heatmaps = outputs[model_outputs.HEATMAP_STEPS][:, -1]
    np.testing.assert_allclose(served[signatures.HEATMAPS_OUTPUT].numpy(), heatmaps.numpy(), atol=2 ** -6)
    # Landmarks are the served heatmaps decoded (an untrained net's heatmaps are nearly flat, so
    # their argmax is not comparable across bf16 roundings; the heatmaps themselves are above).
    np.testing.assert_allclose(served[signatures.LANDMARKS_OUTPUT].numpy(),
                               decode_landmarks(served[signatures.HEATMAPS_OUTPUT], 128).numpy(), atol=1e-3)
    assert served[signatures.LANDMARKS_OUTPUT].shape == (4, 68, 2)


def test_tf_example_signature_gives_the_same_answer(trained, pair_records):
    _, _, _, export_dir, _, _ = trained
    loaded = tf.saved_model.load(export_dir)
    records = [r.numpy() for r in tf.data.TFRecordDataset(
        tf.io.gfile.glob(os.path.join(pair_records, "Split-train", "*")), compression_type="GZIP").take(3)]
    by_example = loaded.signatures[signatures.TF_EXAMPLE_SIGNATURE](
        **{signatures.EXAMPLES_INPUT: tf.constant(records)})
    parsed = tf.io.parse_example(tf.constant(records), input_pipeline.feature_spec())
    lr_uint8 = tf.stack([tf.io.decode_png(p[0], channels=3) for p in parsed["lr_image"]])
    by_images = loaded.signatures[signatures.SERVING_DEFAULT](**{signatures.LR_IMAGES_INPUT: lr_uint8})
    for key in (signatures.SR_IMAGE_OUTPUT, signatures.LANDMARKS_OUTPUT):
        np.testing.assert_allclose(by_example[key].numpy(), by_images[key].numpy(), atol=1e-4)


@pytest.mark.parametrize("shape", [(1, 32, 32, 3), (1, 16, 16, 1), (16, 16, 3)])
def test_wrong_input_is_invalid_argument(trained, shape):
    _, _, _, export_dir, _, _ = trained
    serve = tf.saved_model.load(export_dir).signatures[signatures.SERVING_DEFAULT]
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"must be uint8 images of shape \(N, 16, 16, 3\)"):
        serve(**{signatures.LR_IMAGES_INPUT: tf.zeros(shape, tf.uint8)})


def test_saved_model_cli_lists_both_signatures(trained):
    import subprocess
    import sys

    _, _, _, export_dir, _, _ = trained
    cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    shown = subprocess.run([cli, "show", "--all", "--dir", export_dir], capture_output=True, text=True,
                           check=True).stdout
    for name in (signatures.SERVING_DEFAULT, signatures.TF_EXAMPLE_SIGNATURE):
        assert f"signature_def['{name}']" in shown
    assert f"inputs['{signatures.LR_IMAGES_INPUT}']" in shown and "DT_UINT8" in shown


def test_training_computes_kernel_gradients_as_gemms_where_onednn_runs_without_avx512_or_in_float32(
        monkeypatch):
    import keras
    from tinyface.trainer.models import avx2_conv
    from tinyface.trainer.training import loop

    cases = [  # oneDNN runs, oneDNN has AVX-512, policy -> rewrite
        (True, False, "float32", "gemm"), (True, False, "mixed_bfloat16", "gemm"),
        (True, True, "float32", "gemm"), (True, True, "mixed_bfloat16", None),
        (False, False, "float32", None), (False, True, "float32", None)]
    try:
        for onednn, has_avx512, policy, expected in cases:
            monkeypatch.setattr(loop.cpu_isa, "this_process_runs_onednn", lambda: onednn)
            monkeypatch.setattr(loop.cpu_isa, "this_machine_onednn_runs_avx512", lambda: has_avx512)
            keras.mixed_precision.set_global_policy(policy)
            with loop.conv_kernels_for_this_cpu():
                assert avx2_conv.rewrite.value == expected, (onednn, has_avx512, policy)
            assert avx2_conv.rewrite.value is None
    finally:
        keras.mixed_precision.set_global_policy("float32")
