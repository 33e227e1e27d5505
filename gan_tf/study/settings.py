"""The optimiser settings a study knows by name: Adam's learning rate (G and D alike) and beta_1.

The grid crosses them with variants and seeds (`grid`); a run folder's record names its
setting after them where it matches one (`records`).
"""

from __future__ import annotations

import dataclasses

from gan_tf.config import Config


@dataclasses.dataclass(frozen=True)
class Setting:
    """An optimiser setting: Adam's learning rate (G and D alike) and beta_1."""

    name: str
    lr: float
    beta1: float = Config.beta1

    @property
    def slug(self) -> str:
        """For run folder names: "lr0.001", or "lr0.0002_b0.5" where beta_1 is not the
        tutorial's."""
        # The beta_1 suffix only where it differs from the tutorial's, so run folders
        # of earlier studies (lr only) keep their names.
        suffix = "" if self.beta1 == Config.beta1 else f"_b{self.beta1:g}"
        return f"lr{self.lr:g}{suffix}"


# The tutorial's setting, a stressed one (10x the learning rate), and the DCGAN paper's.
SETTINGS = {
    "tutorial": Setting("tutorial", Config.gen_lr, Config.beta1),
    "stressed": Setting("stressed", 1e-3, Config.beta1),
    "paper": Setting("paper", 2e-4, 0.5),
}
DEFAULT_SETTINGS = ("tutorial", "stressed")


def lr_setting(lr: float, beta1: float = Config.beta1) -> Setting:
    """A setting given by its learning rate and beta_1, named after a known one.

    Args:
        lr: Adam's learning rate, of G and D alike.
        beta1: Adam's beta_1.

    Returns:
        The known setting with these values, else one named "lr LR".
    """
    for setting in SETTINGS.values():
        if (setting.lr, setting.beta1) == (lr, beta1):
            return setting
    return Setting(f"lr {lr:g}", lr, beta1)
