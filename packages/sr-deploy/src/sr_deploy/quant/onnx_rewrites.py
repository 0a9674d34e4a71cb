"""Exact rewrites of an exported ONNX graph into the forms onnxruntime's CPU kernels run fast.

Each rewrite computes the same function (bit-exact for the integer ones, to float rounding for
PReLU) and returns how many places it changed:

- `fold_constant_clips`: Brevitas writes each weight as int8 constant -> Clip (narrow range) ->
  DequantizeLinear; folding the Clip leaves the int8 initialiser feeding DequantizeLinear directly,
  the pattern onnxruntime's QLinearConv fusion (and TensorRT) look for.
- `activations_as_uint8`: signed int8 activations become uint8 with the zero point moved by 128.
  onnxruntime on x86 converts int8 activation Q/DQ pairs to uint8 itself, but only where a
  QuantizeLinear has a single consumer; where a conv's output feeds both the next conv and a
  residual add, its output stays int8 while its input became uint8, and the mixed types stop the
  QLinearConv fusion (SESR's first conv, EDSR's first two). uint8 everywhere fuses every conv.
- `spatial_mean_as_global_average_pool`: ReduceMean over the two spatial axes of an NCHW tensor
  (keepdims) is GlobalAveragePool. In an int8 graph onnxruntime runs its convs as NHWC QLinearConv
  and moves the layout transposes through the ops between them; a ReduceMean then reduces over
  non-contiguous axes, many times slower than in the float graph (IMDN's contrast attention), while
  GlobalAveragePool runs in either layout.
- `requantise_split_outputs`: a Split of a dequantised tensor yields values on its quantisation
  grid; QuantizeLinear -> DequantizeLinear with the same scale and zero point on each output whose
  consumers are not such a QuantizeLinear already is the identity on them, and it lets onnxruntime
  run the Split on the integers and fuse the float ops behind it (IMDN's distilled channels go
  into a Concat, which then becomes QLinearConcat).
- `prelu_as_min_mul_add`: onnxruntime's PRelu kernel broadcasts its per-channel slope element by
  element (about 25 ms for 16x640x360 floats on one core, 30x a Relu); x + (slope - 1) * min(x, 0)
  is the same function in three vectorised kernels (about 2.5 ms).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

UINT8_SHIFT = 128  # int8 value v is uint8 value v + 128


def fold_constant_clips(model: onnx.ModelProto) -> int:
    """Replace every Clip whose inputs are all initialisers by a clipped initialiser."""
    graph = model.graph
    constants = {init.name: init for init in graph.initializer}
    folded = {
        index: node
        for index, node in enumerate(graph.node)
        if node.op_type == "Clip" and all(name in constants for name in node.input if name)
    }
    for node in folded.values():
        names = [*node.input, "", ""][:3]  # min and max are optional inputs
        value, low, high = (numpy_helper.to_array(constants[name]) if name else None for name in names)
        clipped = np.clip(value, low, high).astype(value.dtype)
        graph.initializer.append(numpy_helper.from_array(clipped, name=node.output[0]))
    _replace_nodes(graph, {index: [] for index in folded})
    return len(folded)


def activations_as_uint8(model: onnx.ModelProto) -> int:
    """Turn every int8 QuantizeLinear of a computed tensor (and its Clip / DequantizeLinear
    consumers) into uint8 with zero point + 128; weights (int8 initialisers) stay int8."""
    graph = model.graph
    constants = {init.name: init for init in graph.initializer}
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    shifted: dict[str, str] = {}

    def as_uint8(name: str) -> str:
        if name not in shifted:
            value = numpy_helper.to_array(constants[name]).astype(np.int16) + UINT8_SHIFT
            shifted[name] = f"{name}_uint8"
            graph.initializer.append(numpy_helper.from_array(value.astype(np.uint8), shifted[name]))
        return shifted[name]

    quantizers = [
        node
        for node in graph.node
        if node.op_type == "QuantizeLinear"
        and node.input[0] not in constants
        and len(node.input) == 3
        and constants.get(node.input[2], TensorProto()).data_type == TensorProto.INT8
    ]
    for quantizer in quantizers:
        quantizer.input[2] = as_uint8(quantizer.input[2])
        pending = [quantizer.output[0]]
        while pending:
            for node in consumers.get(pending.pop(), []):
                if node.op_type == "DequantizeLinear":
                    node.input[2] = as_uint8(node.input[2])
                elif node.op_type == "Clip":  # below 8 bits: integer bounds between Q and DQ
                    node.input[1], node.input[2] = as_uint8(node.input[1]), as_uint8(node.input[2])
                    pending.append(node.output[0])
                else:
                    raise ValueError(f"int8 tensor of {quantizer.name} feeds {node.op_type} {node.name}")
    _drop_unused_initializers(graph)
    return len(quantizers)


def spatial_mean_as_global_average_pool(model: onnx.ModelProto) -> int:
    """Replace each ReduceMean over axes (2, 3) with keepdims (opset < 18: axes as an attribute) by
    GlobalAveragePool (the same mean; the models here are NCHW, 4-D)."""
    graph = model.graph
    replacements: dict[int, list[onnx.NodeProto]] = {}
    for index, node in enumerate(graph.node):
        if node.op_type != "ReduceMean" or len(node.input) != 1:
            continue
        attributes = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if sorted(attributes.get("axes", [])) != [2, 3] or attributes.get("keepdims", 1) != 1:
            continue
        name = f"{node.name or node.output[0]}/GlobalAveragePool"
        replacements[index] = [
            helper.make_node("GlobalAveragePool", [node.input[0]], [node.output[0]], name=name)
        ]
    if replacements:
        _replace_nodes(graph, replacements)
    return len(replacements)


def requantise_split_outputs(model: onnx.ModelProto) -> int:
    """Put QuantizeLinear -> DequantizeLinear (the input's scale and zero point) on each output of a
    Split fed by a per-tensor DequantizeLinear, in front of the consumers that are not already a
    QuantizeLinear with those parameters; returns the number of pairs added."""
    graph = model.graph
    constants = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    producers = {name: node for node in graph.node for name in node.output}
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    outputs = {output.name for output in graph.output}
    replacements: dict[int, list[onnx.NodeProto]] = {}
    for index, node in enumerate(graph.node):
        source = producers.get(node.input[0]) if node.op_type == "Split" else None
        if source is None or source.op_type != "DequantizeLinear" or len(source.input) != 3:
            continue
        grid = source.input[1:3]
        if constants.get(grid[0], np.zeros(2)).size != 1:
            continue  # per-channel: not a single grid
        added = [node]
        for name in node.output:
            others = [user for user in consumers.get(name, []) if not _quantises_to(user, grid, constants)]
            if not others or name in outputs:
                continue
            quantised, restored = f"{name}/requantised", f"{name}/dequantised"
            added.append(helper.make_node("QuantizeLinear", [name, *grid], [quantised], name=quantised))
            added.append(helper.make_node("DequantizeLinear", [quantised, *grid], [restored], name=restored))
            for user in others:
                user.input[:] = [restored if value == name else value for value in user.input]
        if len(added) > 1:
            replacements[index] = added
    if replacements:
        _replace_nodes(graph, replacements)
    return sum(len(nodes) - 1 for nodes in replacements.values()) // 2


def _quantises_to(node: onnx.NodeProto, grid: Sequence[str], constants: dict[str, np.ndarray]) -> bool:
    """Whether `node` is a QuantizeLinear with the scale and zero point (values) named by `grid`."""
    if node.op_type != "QuantizeLinear" or len(node.input) != 3:
        return False
    pairs = zip(node.input[1:3], grid, strict=True)
    return all(
        a in constants
        and b in constants
        and constants[a].dtype == constants[b].dtype
        and np.array_equal(constants[a], constants[b])
        for a, b in pairs
    )


def prelu_as_min_mul_add(model: onnx.ModelProto) -> int:
    """Rewrite each PRelu with a constant slope as x + (slope - 1) * min(x, 0)."""
    graph = model.graph
    constants = {init.name: init for init in graph.initializer}
    aliases = {n.output[0]: n.input[0] for n in graph.node if n.op_type == "Identity"}
    zero = "prelu_rewrite_zero"
    replacements: dict[int, list[onnx.NodeProto]] = {}
    for index, node in enumerate(graph.node):
        slope_name = node.input[1] if node.op_type == "PRelu" else None
        while slope_name in aliases and slope_name not in constants:
            slope_name = aliases[slope_name]
        if slope_name not in constants:
            continue
        slope = numpy_helper.to_array(constants[slope_name]).astype(np.float32)
        factor = f"{node.name or node.output[0]}/slope_minus_one"
        graph.initializer.append(numpy_helper.from_array(slope - 1, factor))
        x, y = node.input[0], node.output[0]
        replacements[index] = [
            helper.make_node("Min", [x, zero], [f"{y}/negative"], name=f"{node.name}/Min"),
            helper.make_node("Mul", [f"{y}/negative", factor], [f"{y}/scaled"], name=f"{node.name}/Mul"),
            helper.make_node("Add", [x, f"{y}/scaled"], [y], name=f"{node.name}/Add"),
        ]
    if replacements:
        graph.initializer.append(numpy_helper.from_array(np.zeros((), np.float32), zero))
        _replace_nodes(graph, replacements)
    return len(replacements)


def _replace_nodes(graph: onnx.GraphProto, replacements: dict[int, list[onnx.NodeProto]]) -> None:
    """Swap the nodes at the indices that are keys for their replacement lists, keeping the order."""
    nodes = [new for index, node in enumerate(graph.node) for new in replacements.get(index, [node])]
    del graph.node[:]
    graph.node.extend(nodes)
    _drop_unused_initializers(graph)


def _drop_unused_initializers(graph: onnx.GraphProto) -> None:
    used = {name for node in graph.node for name in node.input} | {o.name for o in graph.output}
    for init in [init for init in graph.initializer if init.name not in used]:
        graph.initializer.remove(init)
