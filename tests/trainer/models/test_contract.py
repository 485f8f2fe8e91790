"""Each model preset's contract: its sizes and heatmaps are the network's, and its codec
decodes what it encodes."""

import dataclasses

import numpy as np
import pytest

from tinyface.data.heatmaps import DIC_HEATMAPS, JASRNET_HEATMAPS, HeatmapSpec
from tinyface.trainer.models import registry
from tinyface.trainer.models.contract import ModelContract
from tinyface.trainer.models.outputs import HEATMAP_STEPS, SR_STEPS

# What each preset states: 128 px faces at x8, and its paper's heatmaps (JASRNet SMALL's demo
# sigma 1.5, trainer/jasrnet.py).
EXPECTED_HEATMAPS = {
    ("jasrnet", "small"): HeatmapSpec(16, 1.5, True),
    ("jasrnet", "reference"): JASRNET_HEATMAPS,
    **{(model, size): DIC_HEATMAPS for model in ("dic", "dicgan", "proguigan") for size in registry.SIZES},
}


@pytest.mark.parametrize("model, size", sorted(EXPECTED_HEATMAPS))
def test_each_preset_states_its_sizes_and_heatmaps_once(model, size):
    contract = registry.model_contract(model, size)
    assert (contract.hr_size, contract.scale, contract.lr_size, contract.num_landmarks) == (128, 8, 16, 68)
    assert contract.heatmaps == EXPECTED_HEATMAPS[model, size]
    config = registry.model_config(model, size)
    assert contract.heatmaps == registry.architecture(model).heatmap_spec(config)


def test_the_contract_follows_overridden_preset_fields():
    contract = registry.model_contract("jasrnet", "small", hr_size=64, heatmap_sigma=2.0)
    assert (contract.hr_size, contract.lr_size, contract.heatmaps) == (64, 8, HeatmapSpec(8, 2.0, True))


@pytest.mark.parametrize("model", sorted(registry.MODELS))
def test_the_built_network_takes_and_gives_what_its_contract_says(model):
    built = registry.build_model(model, "small")
    contract = built.contract
    assert contract == registry.model_contract(model, "small")
    lr = np.random.default_rng(0).uniform(0, 1, (1, contract.lr_size, contract.lr_size, 3)).astype(np.float32)
    outputs = built.network(lr, training=False)
    assert outputs[SR_STEPS].shape[2:] == (contract.hr_size, contract.hr_size, 3)
    size = contract.heatmaps.size
    assert outputs[HEATMAP_STEPS].shape[2:] == (size, size, contract.heatmaps.num_channels(contract.num_landmarks))


@pytest.mark.parametrize("model, size", sorted(EXPECTED_HEATMAPS))
def test_decode_inverts_encode(model, size):
    contract = registry.model_contract(model, size)
    rng = np.random.default_rng(1)
    landmarks = rng.uniform(0, contract.hr_size - 1, (3, contract.num_landmarks, 2))
    heatmaps = contract.encode(landmarks)
    size_cells = contract.heatmaps.size
    assert heatmaps.shape == (3, size_cells, size_cells, contract.heatmaps.num_channels(contract.num_landmarks))
    np.testing.assert_allclose(contract.decode(heatmaps).numpy(), landmarks, atol=0.01)


def test_a_contract_whose_scale_does_not_divide_the_hr_size_is_refused():
    with pytest.raises(ValueError, match="hr_size 128 is not a multiple of scale 3"):
        ModelContract(hr_size=128, scale=3, heatmaps=DIC_HEATMAPS)
    with pytest.raises(ValueError, match="scale must be a positive integer"):
        dataclasses.replace(registry.model_contract("dic"), scale=0)
