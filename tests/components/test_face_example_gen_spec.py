import pytest
from tfx.utils import proto_utils

from tinyface.components.face_example_gen.spec import FaceIngestOptions


def test_options_travel_through_custom_config():
    options = FaceIngestOptions(data_format="wflw", dataset="wflw-eval", hr_size=96, margin=0.3, strict=True)
    as_json = proto_utils.proto_to_json(options.to_custom_config())
    assert FaceIngestOptions.from_custom_config_json(as_json) == options


def test_defaults_round_trip_without_dataset():
    options = FaceIngestOptions(hr_size=128)
    assert FaceIngestOptions.from_custom_config_json(proto_utils.proto_to_json(options.to_custom_config())) == options


@pytest.mark.parametrize("kwargs, message", [
    ({"data_format": "vgg"}, "unknown data format 'vgg'"),
    ({"hr_size": 8}, "hr_size must be at least 16"),
    ({"margin": -0.1}, "margin must be within"),
])
def test_bad_options_are_refused_when_the_pipeline_is_defined(kwargs, message):
    with pytest.raises(ValueError, match=message):
        FaceIngestOptions(**{"hr_size": 128, **kwargs})
