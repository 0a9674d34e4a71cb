"""sr_train: one training loop for every super-resolution pipeline of the toolkit.

`Trainer(model, train_data, val_data, config).fit()` trains with L1/Charbonnier/MSE, Adam(W),
multi-step or cosine schedules with warm-up, AMP, EMA, gradient clipping, DDP, validation on the
Y channel, atomic checkpoints and exact resume. `train_and_validate` is the searches' fitness call.
"""

from sr_train.api import train_and_validate
from sr_train.checkpoint import CHECKPOINT_FORMAT, load_checkpoint, save_checkpoint
from sr_train.config import ConfigError, TrainConfig
from sr_train.data import PatchTensors, stack_patches
from sr_train.trainer import NonFiniteLossError, Trainer, TrainResult
from sr_train.version import __version__

__all__ = [
    "CHECKPOINT_FORMAT",
    "ConfigError",
    "NonFiniteLossError",
    "PatchTensors",
    "TrainConfig",
    "TrainResult",
    "Trainer",
    "__version__",
    "load_checkpoint",
    "save_checkpoint",
    "stack_patches",
    "train_and_validate",
]
