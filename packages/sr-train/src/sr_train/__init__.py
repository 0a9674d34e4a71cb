"""sr_train: one training loop for every super-resolution pipeline of the toolkit.

`Trainer(model, train_data, val_data, config).fit()` trains with L1/Charbonnier/MSE, Adam(W),
multi-step or cosine schedules with warm-up, AMP, EMA, gradient clipping, DDP, validation on the
Y channel, atomic checkpoints and exact resume. `train_and_validate` is the searches' fitness call.
"""

from sr_train.api import registered_trainer, train_and_validate
from sr_train.checkpoint import (
    CHECKPOINT_FORMAT,
    deployed_checkpoint,
    load_checkpoint,
    model_checkpoint,
    save_checkpoint,
)
from sr_train.config import TrainConfig
from sr_train.data import PatchTensors, stack_patches
from sr_train.dataset_section import DatasetSection
from sr_train.distributed import resolve_device
from sr_train.luma import LumaView
from sr_train.run_folder import RunFolder, SettingsChanged, path_setting, settings_differences
from sr_train.run_settings import record_run_settings
from sr_train.strict_config import (
    ConfigError,
    check_keys,
    check_types,
    config_dirs,
    find_config,
    load_section,
    merge,
    parse_assignment,
    read_yaml,
    section_from_dict,
    section_to_dict,
    shipped_configs,
    with_assignments,
)
from sr_train.trainer import NonFiniteLossError, Trainer, TrainResult
from sr_train.trainer_section import TrainerSection
from sr_train.version import __version__

__all__ = [
    "CHECKPOINT_FORMAT",
    "ConfigError",
    "DatasetSection",
    "LumaView",
    "NonFiniteLossError",
    "PatchTensors",
    "RunFolder",
    "SettingsChanged",
    "TrainConfig",
    "TrainResult",
    "TrainerSection",
    "Trainer",
    "__version__",
    "check_keys",
    "check_types",
    "config_dirs",
    "deployed_checkpoint",
    "find_config",
    "merge",
    "model_checkpoint",
    "parse_assignment",
    "load_checkpoint",
    "load_section",
    "path_setting",
    "read_yaml",
    "record_run_settings",
    "registered_trainer",
    "resolve_device",
    "save_checkpoint",
    "section_from_dict",
    "section_to_dict",
    "settings_differences",
    "shipped_configs",
    "stack_patches",
    "train_and_validate",
    "with_assignments",
]
