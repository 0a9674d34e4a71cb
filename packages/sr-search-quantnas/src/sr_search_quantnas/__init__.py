"""sr_search_quantnas: QuantNAS (quantisation-aware differentiable architecture search) on Brevitas.

Quantised conv layers, the operation registry, the mixed-precision supernet with ADM residuals,
genotypes (safe parser, derivation), the derived Brevitas network and its BitOps count; the search
loop (`search`) and training of a found genotype (`train_genotype`). PTQ/QAT/int8 ONNX moved to
`sr_deploy.quant` (the deprecated alias `sr_search_quantnas.quant` warns and goes in the next release).
"""

import warnings

# Brevitas warns on import that an optional CUDA kernel package is missing; it changes nothing here.
warnings.filterwarnings("ignore", message="fast_hadamard_transform package not found")

from sr_search_quantnas.adm import AdaptiveResidual
from sr_search_quantnas.architecture import BLOCK_TYPES, DEFAULT_PRIMITIVES
from sr_search_quantnas.bitops import BitOpsReport, LayerBitOps, bitops
from sr_search_quantnas.genotype import (
    Genotype_SR,
    GenotypeParseError,
    derive_genotype,
    layer_bits,
    parse_genotype,
)
from sr_search_quantnas.layers import QuantReLUConv
from sr_search_quantnas.network import QuantNASNet, build_network
from sr_search_quantnas.ops import REFERENCE_OPS, UnknownOperationError, op_spec
from sr_search_quantnas.quantizers import SUPPORTED_BITS
from sr_search_quantnas.supernet import Supernet
from sr_search_quantnas.version import __version__

__all__ = [
    "BLOCK_TYPES",
    "DEFAULT_PRIMITIVES",
    "REFERENCE_OPS",
    "SUPPORTED_BITS",
    "AdaptiveResidual",
    "BitOpsReport",
    "GenotypeParseError",
    "Genotype_SR",
    "LayerBitOps",
    "QuantNASNet",
    "QuantReLUConv",
    "Supernet",
    "UnknownOperationError",
    "__version__",
    "bitops",
    "build_network",
    "derive_genotype",
    "layer_bits",
    "op_spec",
    "parse_genotype",
]
