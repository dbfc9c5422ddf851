"""The fused LSTM (`engine._gemm_lstm`, hand-written backward) equals Keras's LSTM: the same
weights give the same outputs and the same gradients, for several activations inside and
between the layers, both framings, unrolled and looped."""

from __future__ import annotations

import numpy as np
import pytest

from lstm_app import params
from lstm_app.spec import LayerSpec, ModelSpec

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

from lstm_app.engine import _gemm_lstm, batched  # noqa: E402
from lstm_app.engine.model import build_model  # noqa: E402

MODELS = [
    ModelSpec("tanh", (LayerSpec(4), LayerSpec(3))),
    ModelSpec("relu inside, tanh between", (LayerSpec(4, "relu"), LayerSpec(3, "relu")), between="tanh"),
    ModelSpec("elu, hard sigmoid gates, relu between", (LayerSpec(4, "elu", "hard_sigmoid"), LayerSpec(3, "softsign")),
              between="relu"),
    ModelSpec("softsign, selu between", (LayerSpec(4, "softsign"), LayerSpec(3, "gelu", "tanh")), between="selu"),
]


def _case(framing: str, seed: int) -> tuple[list[keras.Model], np.ndarray, np.ndarray]:
    shape = params.input_shape(1, 5, framing)
    nets = []
    for k, model in enumerate(MODELS):
        keras.utils.set_random_seed(seed + k)
        net = build_model(model, shape)
        # Non-zero biases, so that every bias gradient path is exercised.
        net.set_weights([w + 0.1 * np.random.default_rng(k).normal(size=w.shape).astype("float32")
                         for w in net.get_weights()])
        nets.append(net)
    rng = np.random.default_rng(seed)
    return nets, rng.normal(size=(6, *shape)).astype("float32"), rng.normal(size=(6, 1)).astype("float32")


def _keras(net: keras.Model, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    with tf.GradientTape() as tape:
        out = net(x, training=False)
        loss = tf.reduce_sum(tf.square(out - y))
    return out.numpy(), [g.numpy() for g in tape.gradient(loss, net.trainable_weights)]


def _engine(nets: list[keras.Model], x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    plan = batched.Plan.of(MODELS, x.shape[1:])
    weights = [tf.constant(w) for w in batched.stack([n.get_weights() for n in nets])]

    @tf.function  # as the engine trains: the custom gradient in graph mode
    def run() -> tuple[tf.Tensor, list[tf.Tensor]]:
        with tf.GradientTape() as tape:
            tape.watch(weights)
            out = batched.forward(plan, weights, x)
            loss = tf.reduce_sum(tf.square(out - y[None]))
        return out, tape.gradient(loss, weights)

    out, grads = run()
    return out.numpy(), [g.numpy() for g in grads]


@pytest.mark.parametrize(("framing", "unroll"), [("steps", 16), ("steps", 2), ("features", 16)])
def test_outputs_and_gradients_equal_keras(framing: str, unroll: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Five steps unrolled, five steps in a `tf.while_loop`, and one step (lags as features)."""
    monkeypatch.setattr(_gemm_lstm, "UNROLL_LIMIT", unroll)
    nets, x, y = _case(framing, 7)
    out, grads = _engine(nets, x, y)
    for r, net in enumerate(nets):
        theirs_out, theirs = _keras(net, x, y)
        np.testing.assert_allclose(out[r], theirs_out, atol=1e-5, rtol=1e-5)
        assert len(theirs) == len(grads)
        for k, g in enumerate(theirs):
            np.testing.assert_allclose(grads[k][r], g, atol=1e-5, rtol=1e-5, err_msg=f"run {r}, weight {k}")
