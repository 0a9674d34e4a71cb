"""`sr_search_quantnas.quant` is a deprecated alias of `sr_deploy.quant` for one release; the search
builds its layers with sr-deploy's one conv builder and one bit-width check."""

from __future__ import annotations

import importlib
import sys

import pytest

import sr_deploy.quant
from sr_search_quantnas.layers import QuantReLUConv
from sr_search_quantnas.ops import ConvSpec


def test_the_old_import_path_warns_and_gives_the_new_objects():
    for name in [n for n in sys.modules if n.startswith("sr_search_quantnas.quant")]:
        del sys.modules[name]
    with pytest.warns(DeprecationWarning, match="sr_deploy.quant"):
        old = importlib.import_module("sr_search_quantnas.quant")
    assert old.ptq is sr_deploy.quant.ptq and old.export_onnx_int8 is sr_deploy.quant.export_onnx_int8
    from sr_search_quantnas.quant.calibration import as_batches

    assert as_batches is sr_deploy.quant.as_batches


def test_one_bit_width_check_names_where_and_what_is_supported():
    with pytest.raises(ValueError, match=r"bits: unsupported bit width 5; supported: 1, 2, 3, 4, 8, 16, 32"):
        QuantReLUConv(ConvSpec(6, 6, (3, 3)), 5)
    with pytest.raises(ValueError, match=r"act_bits: unsupported bit width 16; supported: 2 to 8"):
        sr_deploy.quant.check_bits(16, "act_bits")
