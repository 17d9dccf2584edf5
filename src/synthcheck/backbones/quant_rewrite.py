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


@dataclass
class _GraphIndex:
    """Lookups over a graph: initializers by name, the node producing each tensor, the nodes
    consuming each tensor."""

    inits: dict[str, Any]
    producer: dict[str, Any]
    consumers: dict[str, list[Any]]

    @classmethod
    def of(cls, graph: Any) -> _GraphIndex:
        consumers: dict[str, list[Any]] = {}
        for node in graph.node:
            for name in node.input:
                consumers.setdefault(name, []).append(node)
        return cls(
            inits={t.name: t for t in graph.initializer},
            producer={o: n for n in graph.node for o in n.output},
            consumers=consumers,
        )


@dataclass
class _Chain:
    """One quantized MatMul: ``DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul(scale)``."""

    matmul_integer: Any
    quantize: Any  # the DynamicQuantizeLinear of the activation
    cast: Any
    mul: Any  # the final Mul, whose output the float MatMul takes over
    w_q: str
    w_scale: str
    w_zp: str
    weight: Any  # the int8/uint8 weight matrix
    scale: Any


def _match_chain(node: Any, index: _GraphIndex) -> _Chain:
    """The chain around the ``MatMulInteger`` ``node``, or :class:`BackboneError` naming the
    first part that is not where the pattern needs it."""
    from onnx import numpy_helper

    a_q, w_q, a_zp, w_zp = [*node.input, "", "", "", ""][:4]
    dql = index.producer.get(a_q)
    if dql is None or dql.op_type != "DynamicQuantizeLinear" or a_zp != dql.output[2]:
        raise BackboneError(f"{node.name}: activation is not from DynamicQuantizeLinear")
    if w_q not in index.inits:
        raise BackboneError(f"{node.name}: weight {w_q!r} is not an initializer")
    weight = numpy_helper.to_array(index.inits[w_q])
    if weight.ndim != 2 or weight.dtype not in (np.int8, np.uint8):
        raise BackboneError(f"{node.name}: weight {w_q!r} is not a 2-D 8-bit matrix")
    cast = _single_consumer(index.consumers, node.output[0], "Cast")
    mul = _single_consumer(index.consumers, cast.output[0], "Mul")
    scale_name = mul.input[1] if mul.input[0] == cast.output[0] else mul.input[0]
    scale_mul = index.producer.get(scale_name)
    if scale_mul is None or scale_mul.op_type != "Mul":
        raise BackboneError(f"{node.name}: output scale is not Mul(x_scale, w_scale)")
    others = [s for s in scale_mul.input if s != dql.output[1]]
    if len(others) != 1 or others[0] not in index.inits:
        raise BackboneError(f"{node.name}: weight scale is not an initializer")
    w_scale = others[0]
    scale = numpy_helper.to_array(index.inits[w_scale])
    return _Chain(node, dql, cast, mul, w_q, w_scale, w_zp, weight, scale)


def _weight_axis(chain: _Chain, report: RewriteReport) -> dict[str, Any]:
    """The ``DequantizeLinear`` attributes of the chain's weight scale: per-tensor (none) or
    per-output-channel (``axis=1``), counted in ``report``."""
    n_out = chain.weight.shape[1]
    if chain.scale.size == 1:
        report.per_tensor += 1
        return {}
    if chain.scale.shape == (n_out,):
        report.per_channel += 1
        return {"axis": 1}
    raise BackboneError(
        f"{chain.matmul_integer.name}: weight scale shape {chain.scale.shape} fits neither "
        f"per-tensor nor per-output-channel quantization of a {chain.weight.shape} weight"
    )


def _dequantize_weight(
    chain: _Chain, index: _GraphIndex, axis_attr: dict[str, Any], dequantizers: list[Any]
) -> str:
    """The float weight tensor of the chain, adding its ``DequantizeLinear`` to
    ``dequantizers`` the first time a weight is seen (weights can be shared)."""
    from onnx import helper, numpy_helper

    dq_inputs = [chain.w_q, chain.w_scale]
    if chain.w_zp:
        w_zp = chain.w_zp
        zp = numpy_helper.to_array(index.inits[w_zp]) if w_zp in index.inits else None
        if zp is None or zp.shape != chain.scale.shape:
            raise BackboneError(
                f"{chain.matmul_integer.name}: weight zero point does not match its scale"
            )
        dq_inputs.append(w_zp)
    w_float = f"{chain.w_q}_dequantized"
    if w_float not in index.producer:
        dq = helper.make_node(
            "DequantizeLinear",
            dq_inputs,
            [w_float],
            name=f"{chain.matmul_integer.name}/dequantize_weight",
            **axis_attr,
        )
        index.producer[w_float] = dq
        dequantizers.append(dq)
    return w_float


def _float_matmul(
    chain: _Chain, w_float: str, keep_activation_quantization: bool
) -> tuple[Any, Any]:
    """The float ``MatMul`` that replaces the chain, and the activation dequantizer it needs
    first (``keep_activation_quantization`` only, else None)."""
    from onnx import helper

    dql = chain.quantize
    activation, act_dq = dql.input[0], None
    if keep_activation_quantization:
        activation = f"{dql.output[0]}_dequantized"
        act_dq = helper.make_node(
            "DequantizeLinear", list(dql.output), [activation], name=f"{dql.name}/dequantize"
        )
    matmul = helper.make_node(
        "MatMul",
        [activation, w_float],
        [chain.mul.output[0]],
        name=f"{chain.matmul_integer.name}/float",
    )
    return matmul, act_dq


def _splice(
    graph: Any,
    dequantizers: list[Any],
    replace_at: dict[int, tuple[Any, Any]],
    dropped: set[int],
) -> None:
    """Rebuild the node list: weight dequantizers first (they depend on initializers only),
    each final ``Mul`` replaced by its float ``MatMul``, the chains' other nodes left out."""
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
    del graph.node[:]
    graph.node.extend(new_nodes)


def _check_no_quantized_nodes(graph: Any, keep_activation_quantization: bool) -> None:
    banned = (
        {"MatMulInteger"}
        if keep_activation_quantization
        else {"MatMulInteger", "DynamicQuantizeLinear"}
    )
    leftover = [n.op_type for n in graph.node if n.op_type in banned]
    if leftover:
        raise BackboneError(f"quantized nodes left after the rewrite: {sorted(set(leftover))}")


def dequantize_dynamic_matmuls(
    model: Any, *, keep_activation_quantization: bool = False
) -> RewriteReport:
    """Rewrite ``model`` (an ``onnx.ModelProto``) in place; see the module docstring.

    Raises :class:`BackboneError` when a ``MatMulInteger`` is not in the expected chain, rather
    than producing a graph with different semantics.
    """
    graph = model.graph
    index = _GraphIndex.of(graph)
    report = RewriteReport()
    dequantizers: list[Any] = []  # depend on initializers only: placed first
    # id(final Mul node) -> the float MatMul taking its place, and the activation dequantizer
    # it needs first (keep_activation_quantization only)
    replace_at: dict[int, tuple[Any, Any]] = {}
    dropped: set[int] = set()
    for node in list(graph.node):
        if node.op_type != "MatMulInteger":
            continue
        chain = _match_chain(node, index)
        axis_attr = _weight_axis(chain, report)
        w_float = _dequantize_weight(chain, index, axis_attr, dequantizers)
        replace_at[id(chain.mul)] = _float_matmul(chain, w_float, keep_activation_quantization)
        dropped.update({id(node), id(chain.cast)})
        report.rewritten += 1
    before = len(graph.node)
    _splice(graph, dequantizers, replace_at, dropped)
    prune_unused(model)
    report.removed_nodes = before - len(graph.node)
    _check_no_quantized_nodes(graph, keep_activation_quantization)
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
