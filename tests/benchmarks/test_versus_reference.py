"""benchmarks/versus_reference.py reads both benchmarks' JSON and turns them into ratios
that say 'ours faster' above 1 for throughput and latency alike."""

import pytest


@pytest.fixture(scope="module")
def versus(load_benchmark):
    return load_benchmark("versus_reference")


def _ours(model, precision, images_per_s, ms):
    # A model_speed.py --json row (the keys it writes; values made up).
    return dict(model=model, size="reference", precision=precision, train_images_per_s=images_per_s,
                train_fraction_of_peak=0.7, infer_ms_batch1=ms, matmul_peak_gflops=400.0)


def _reference(model, fp32, bf16=None):
    # A ref_models.py --json-out object, trimmed to the fields the script reads.
    result = {"model": model, "train_fp32": {"img_per_s": fp32[0]}, "infer_b1_fp32": {"ms_per_img": fp32[1]}}
    if bf16:
        result.update(train_bf16={"img_per_s": bf16[0]}, infer_b1_bf16={"ms_per_img": bf16[1]})
    return {"bench": "ref_models", "results": [result]}


def test_both_reports_map_to_the_same_rows(versus):
    ours = versus.our_figures([_ours("dic", "float32", 0.5, 400.0), _ours("dic", "mixed_bfloat16", 0.7, 300.0),
                               dict(_ours("dic", "float32", 9.0, 9.0), size="small")])
    theirs = versus.reference_figures(_reference("DIC", (0.25, 800.0), (0.5, 600.0)),
                                      ["float32", "mixed_bfloat16"])
    assert set(ours) == set(theirs) == {("dic", "float32"), ("dic", "mixed_bfloat16")}
    assert ours[("dic", "float32")] == {"train_images_per_s": 0.5, "infer_ms_batch1": 400.0}
    assert theirs[("dic", "mixed_bfloat16")] == {"train_images_per_s": 0.5, "infer_ms_batch1": 600.0}


def test_a_reference_run_without_bf16_gives_no_bf16_row(versus):
    theirs = versus.reference_figures(_reference("JASRNet", (1.5, 200.0)), ["float32", "mixed_bfloat16"])
    assert set(theirs) == {("jasrnet", "float32")}


def test_ratios_are_above_one_when_ours_is_faster(versus):
    assert versus.ratio("train_images_per_s", 3.0, 2.0) == pytest.approx(1.5)   # more images/s
    assert versus.ratio("infer_ms_batch1", 100.0, 150.0) == pytest.approx(1.5)  # fewer ms
    assert versus.ratio("infer_ms_batch1", 150.0, 100.0) == pytest.approx(2 / 3)


def test_summary_takes_median_and_minimum_over_rounds(versus):
    def pair(ours_train, their_train, ours_ms, their_ms):
        return ({"train_images_per_s": ours_train, "infer_ms_batch1": ours_ms},
                {"train_images_per_s": their_train, "infer_ms_batch1": their_ms})

    rounds = [{("jasrnet", "float32"): pair(2.0, 1.0, 100.0, 130.0)},
              {("jasrnet", "float32"): pair(1.2, 1.0, 100.0, 90.0)},
              {("jasrnet", "float32"): pair(1.5, 1.0, 100.0, 150.0), ("dic", "float32"): pair(0.5, 0.4, 400.0, 800.0)}]
    summary = {(s["model"], s["row"]): s for s in versus.summarise(rounds)}
    train = summary[("jasrnet", "train_images_per_s")]
    assert train["ratios"] == pytest.approx([2.0, 1.2, 1.5])
    assert train["median_ratio"] == pytest.approx(1.5) and train["min_ratio"] == pytest.approx(1.2)
    assert train["ours_median"] == pytest.approx(1.5) and train["theirs_median"] == pytest.approx(1.0)
    serving = summary[("jasrnet", "infer_ms_batch1")]
    assert serving["ratios"] == pytest.approx([1.3, 0.9, 1.5]) and serving["min_ratio"] == pytest.approx(0.9)
    # DIC ran in the last round only; JASRNet's rows come first.
    assert summary[("dic", "infer_ms_batch1")]["ratios"][:2] == [None, None]
    assert summary[("dic", "infer_ms_batch1")]["median_ratio"] == pytest.approx(2.0)
    assert [s["model"] for s in versus.summarise(rounds)][:2] == ["jasrnet", "jasrnet"]
    table = versus.format_summary(versus.summarise(rounds))
    assert "| JASRNet training, float32, images/s | 2.00x | 1.20x | 1.50x | 1.50x | 1.20x | 1.500 | 1.000 |" in table
    assert "| DIC batch-1 serving, float32, ms/face | - | - | 2.00x | 2.00x | 2.00x | 400.0 | 800.0 |" in table
