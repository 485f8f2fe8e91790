from tinyface.components.pair_gen.spec import pair_config_from_json, pair_config_to_json
from tinyface.data.degradation.degrade import DegradationConfig
from tinyface.data.heatmaps import JASRNET_HEATMAPS
from tinyface.data.degradation.pairs import PairConfig


def test_pair_config_survives_the_execution_parameter():
    config = PairConfig(
        degradation=DegradationConfig(scales=(4, 8), blur_sigma=(0.5, 1.5), noise_sigma=(0.0, 5.0),
                                      jpeg_quality=(60, 95), occlusion_probability=0.3,
                                      occluders=("hand", "sunglasses")),
        seed=11, materialize_heatmaps=True, heatmap_spec=JASRNET_HEATMAPS, hr_pixels_label=True)
    assert pair_config_from_json(pair_config_to_json(config)) == config


def test_a_pair_config_left_to_the_models_heatmaps_survives_too():
    config = PairConfig(degradation=DegradationConfig(scales=(8,)), seed=3)
    assert config.heatmap_spec is None
    assert pair_config_from_json(pair_config_to_json(config)) == config
