"""Rewrite dynamically quantized ONNX graphs to compute in float.

``onnxruntime.quantization.quantize_dynamic`` turns every ``MatMul(x, W)`` into::

    x --DynamicQuantizeLinear--> (x_q uint8, x_scale, x_zp)
    MatMulInteger(x_q, W_q int8, x_zp, W_zp) --Cast--> Mul(scale) -> y
    where scale = Mul(x_scale, W_scale)

``x_scale`` is computed from the min and max of the *whole input tensor*, i.e. over every image in
the batch, so one image's result depends on its batch companions, and 8-bit activations lose
precision. :func:`dequantize_dynamic_matmuls` replaces each chain by::

    MatMul(x, DequantizeLinear(W_q, W_scale, W_zp, axis=1)) -> y

keeping the INT8 weights as stored initializers (same file size) but computing in float32, so each
image is processed exactly as if it were alone. Per-tensor and per-output-channel weight scales
are both handled.

With ``keep_activation_quantization=True`` the activations still go through
``DynamicQuantizeLinear`` and are dequantized before the float ``MatMul``: the source graph's
arithmetic in float. It exists to verify the rewrite's wiring (its outputs must match the source
graph's to float rounding), not for use.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from synthcheck.errors import BackboneError

__all__ = ["RewriteReport", "dequantize_dynamic_matmuls", "prune_unused"]


@dataclass
class RewriteReport:
    """What :func:`dequantize_dynamic_matmuls` changed."""

    rewritten: int = 0
    per_channel: int = 0
    per_tensor: int = 0
    removed_nodes: int = 0
    notes: list[str] = field(default_factory=list)


def _single_consumer(consumers: dict[str, list[Any]], tensor: str, op_type: str) -> Any:
    nodes = consumers.get(tensor, [])
    if len(nodes) != 1 or nodes[0].op_type != op_type:
        found = [n.op_type for n in nodes]
        raise BackboneError(
            f"unexpected quantized pattern: {tensor!r} feeds {found}, not {op_type}"
        )
    return nodes[0]


def dequantize_dynamic_matmuls(
    model: Any, *, keep_activation_quantization: bool = False
) -> RewriteReport:
    """Rewrite ``model`` (an ``onnx.ModelProto``) in place; see the module docstring.

    Raises :class:`BackboneError` when a ``MatMulInteger`` is not in the expected chain, rather
    than producing a graph with different semantics.
    """
    from onnx import helper, numpy_helper

    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    producer = {o: n for n in graph.node for o in n.output}
    consumers: dict[str, list[Any]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)

    report = RewriteReport()
    dequantizers: list[Any] = []  # depend on initializers only: placed first
    # id(final Mul node) -> the float MatMul taking its place, and the activation dequantizer
    # it needs first (keep_activation_quantization only)
    replace_at: dict[int, tuple[Any, Any]] = {}
    dropped: set[int] = set()
    for node in list(graph.node):
        if node.op_type != "MatMulInteger":
            continue
        a_q, w_q, a_zp, w_zp = [*node.input, "", "", "", ""][:4]
        dql = producer.get(a_q)
        if dql is None or dql.op_type != "DynamicQuantizeLinear" or a_zp != dql.output[2]:
            raise BackboneError(f"{node.name}: activation is not from DynamicQuantizeLinear")
        if w_q not in inits:
            raise BackboneError(f"{node.name}: weight {w_q!r} is not an initializer")
        weight = numpy_helper.to_array(inits[w_q])
        if weight.ndim != 2 or weight.dtype not in (np.int8, np.uint8):
            raise BackboneError(f"{node.name}: weight {w_q!r} is not a 2-D 8-bit matrix")
        cast = _single_consumer(consumers, node.output[0], "Cast")
        mul = _single_consumer(consumers, cast.output[0], "Mul")
        scale_name = mul.input[1] if mul.input[0] == cast.output[0] else mul.input[0]
        scale_mul = producer.get(scale_name)
        if scale_mul is None or scale_mul.op_type != "Mul":
            raise BackboneError(f"{node.name}: output scale is not Mul(x_scale, w_scale)")
        others = [s for s in scale_mul.input if s != dql.output[1]]
        if len(others) != 1 or others[0] not in inits:
            raise BackboneError(f"{node.name}: weight scale is not an initializer")
        w_scale = others[0]
        scale = numpy_helper.to_array(inits[w_scale])
        n_out = weight.shape[1]
        if scale.size == 1:
            report.per_tensor += 1
            axis_attr: dict[str, Any] = {}
        elif scale.shape == (n_out,):
            report.per_channel += 1
            axis_attr = {"axis": 1}
        else:
            raise BackboneError(
                f"{node.name}: weight scale shape {scale.shape} fits neither per-tensor nor "
                f"per-output-channel quantization of a {weight.shape} weight"
            )
        dq_inputs = [w_q, w_scale]
        if w_zp:
            zp = numpy_helper.to_array(inits[w_zp]) if w_zp in inits else None
            if zp is None or zp.shape != scale.shape:
                raise BackboneError(f"{node.name}: weight zero point does not match its scale")
            dq_inputs.append(w_zp)
        w_float = f"{w_q}_dequantized"
        if w_float not in producer:
            dq = helper.make_node(
                "DequantizeLinear",
                dq_inputs,
                [w_float],
                name=f"{node.name}/dequantize_weight",
                **axis_attr,
            )
            producer[w_float] = dq
            dequantizers.append(dq)
        activation, act_dq = dql.input[0], None
        if keep_activation_quantization:
            activation = f"{dql.output[0]}_dequantized"
            act_dq = helper.make_node(
                "DequantizeLinear", list(dql.output), [activation], name=f"{dql.name}/dequantize"
            )
        matmul = helper.make_node(
            "MatMul", [activation, w_float], [mul.output[0]], name=f"{node.name}/float"
        )
        replace_at[id(mul)] = (matmul, act_dq)
        dropped.update({id(node), id(cast)})
        report.rewritten += 1

    new_nodes: list[Any] = list(dequantizers)
    emitted: set[str] = set()
    for node in graph.node:
        if id(node) in replace_at:
            matmul, act_dq = replace_at[id(node)]
            if act_dq is not None and act_dq.output[0] not in emitted:
                emitted.add(act_dq.output[0])
                new_nodes.append(act_dq)
            new_nodes.append(matmul)
        elif id(node) not in dropped:
            new_nodes.append(node)
    before = len(graph.node)
    del graph.node[:]
    graph.node.extend(new_nodes)
    prune_unused(model)
    report.removed_nodes = before - len(graph.node)
    banned = (
        {"MatMulInteger"}
        if keep_activation_quantization
        else {"MatMulInteger", "DynamicQuantizeLinear"}
    )
    leftover = [n.op_type for n in graph.node if n.op_type in banned]
    if leftover:
        raise BackboneError(f"quantized nodes left after the rewrite: {sorted(set(leftover))}")
    return report


def prune_unused(model: Any, keep: Iterable[str] = ()) -> None:
    """Drop nodes, initializers and value infos that no graph output (or ``keep``) depends on."""
    graph = model.graph
    needed = {o.name for o in graph.output} | set(keep)
    live: list[Any] = []
    for node in reversed(list(graph.node)):
        if any(o in needed for o in node.output):
            live.append(node)
            needed.update(i for i in node.input if i)
            for attr in node.attribute:  # subgraphs are not used by these models; be safe
                if attr.g.node:
                    needed.update(i for n in attr.g.node for i in n.input)
    live.reverse()
    del graph.node[:]
    graph.node.extend(live)
    kept_inits = [t for t in graph.initializer if t.name in needed]
    del graph.initializer[:]
    graph.initializer.extend(kept_inits)
    kept_vi = [v for v in graph.value_info if v.name in needed]
    del graph.value_info[:]
    graph.value_info.extend(kept_vi)
