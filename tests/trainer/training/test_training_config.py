"""TrainingConfig: switching model brings that model's paper settings, keeps the rest."""

import dataclasses

import pytest

from tinyface.trainer.training.training_config import PAPER_SETTINGS, paper_config


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


def test_settings_in_use_leave_out_what_the_model_does_not_read():
    jasrnet = paper_config("jasrnet")
    used = jasrnet.settings_in_use(adversarial=False)
    assert not set(used) & {"gan_loss", "adversarial_weight", "d_learning_rate", "gp_weight", "init_weights"}
    assert used["learning_rate"] == 5e-5 and used["lr_gamma"] == 0.5
    dicgan = dataclasses.replace(paper_config("dicgan"), discriminator_norm="group", lr_milestones=())
    used = dicgan.settings_in_use(adversarial=True)
    assert used["gan_loss"] == "vanilla" and used["discriminator_norm"] == "group"
    assert "gp_weight" not in used and "lr_gamma" not in used and "discriminator_width" not in used
    assert "gp_weight" in dataclasses.replace(dicgan, gan_loss="wgan_gp").settings_in_use(adversarial=True)
