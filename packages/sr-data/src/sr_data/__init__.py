"""sr_data: image I/O, MATLAB-compatible bicubic resize and super-resolution datasets."""

from sr_data.atomic import atomic_write, check_output_folder, naming_the_file, write_text_atomic
from sr_data.benchmark import BENCHMARK_FOLDERS, Benchmark
from sr_data.cache import DecodeCache
from sr_data.div2k import DIV2K
from sr_data.image_io import (
    IMAGE_EXTENSIONS,
    DecodedImage,
    ImagePolicyWarning,
    ImageReadError,
    decode_image,
    decode_image_with_alpha,
    image_bits,
    image_size,
    read_image,
    write_image,
    write_image_with_alpha,
)
from sr_data.ops import modcrop, quantize, to_tensor
from sr_data.paired_folder import PairedFolder
from sr_data.pairs import ImagePair, PairedImages
from sr_data.patches import RandomPatches
from sr_data.paths import find_datasets_root, find_weights_root, list_images
from sr_data.resize import imresize
from sr_data.samples import SampleImages
from sr_data.sources import open_test_sets, open_training_images, open_validation, split_holdout
from sr_data.torch_files import is_torch_file, load_weights_only
from sr_data.upsampler import BicubicUpsampler
from sr_data.version import __version__

__all__ = [
    "BicubicUpsampler",
    "atomic_write",
    "check_output_folder",
    "naming_the_file",
    "write_text_atomic",
    "is_torch_file",
    "load_weights_only",
    "BENCHMARK_FOLDERS",
    "DIV2K",
    "DecodedImage",
    "Benchmark",
    "DecodeCache",
    "ImagePair",
    "PairedFolder",
    "PairedImages",
    "RandomPatches",
    "SampleImages",
    "IMAGE_EXTENSIONS",
    "ImagePolicyWarning",
    "ImageReadError",
    "__version__",
    "decode_image",
    "decode_image_with_alpha",
    "find_datasets_root",
    "find_weights_root",
    "image_bits",
    "image_size",
    "imresize",
    "list_images",
    "modcrop",
    "open_test_sets",
    "open_training_images",
    "open_validation",
    "split_holdout",
    "quantize",
    "read_image",
    "to_tensor",
    "write_image",
    "write_image_with_alpha",
]
