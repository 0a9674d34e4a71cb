"""Official pretrained checkpoints into sr_blocks' models, recognised from the file.

``create_model(name, scale, weights=PATH)`` and `load_weights(model, PATH)` read, always with
``torch.load(..., weights_only=True)``: the IMDN repository's IMDN / IMDN_AS / IMDN_RTC files, RFDN's,
EDSR-PyTorch's EDSR and RDN, BasicSR's (``params`` / ``params_ema``) EDSR and ECBSR, the official
ECBSR repository's, and the toolkit's own checkpoints and state dicts. Tensors are mapped by name and
structure (`sr_blocks.official.layouts`); every tensor of the file must land in exactly one of the
model's with the same shape and every one of the model's must be filled, otherwise a one-line error
names the file, the first tensor that does not fit and what the file seems to hold.
"""

from sr_blocks.official.files import WeightsFile, read_weights
from sr_blocks.official.layouts import LAYOUTS, Conversion, Placement, convert
from sr_blocks.official.loading import fitted_state, identify_weights, load_weights

__all__ = [
    "LAYOUTS",
    "Conversion",
    "Placement",
    "WeightsFile",
    "convert",
    "fitted_state",
    "identify_weights",
    "load_weights",
    "read_weights",
]
