"""TrainingConfig: switching model brings that model's paper settings, keeps the rest."""

import pytest

from trainer.training_config import PAPER_SETTINGS, paper_config


def test_with_model_brings_the_new_models_paper_settings_and_keeps_the_rest():
    jasrnet = paper_config("jasrnet", batch_size=16, checkpoint_every=50, learning_rate=1e-3)
    dicgan = jasrnet.with_model("dicgan")
    assert dicgan.model == "dicgan"
    for name, value in PAPER_SETTINGS["dicgan"].items():
        assert getattr(dicgan, name) == value
    assert (dicgan.batch_size, dicgan.checkpoint_every) == (16, 50)
    assert jasrnet.with_model("jasrnet") is jasrnet        # same model: nothing changes
    with pytest.raises(ValueError, match="unknown model 'srgan'"):
        jasrnet.with_model("srgan")
