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
        return out, tape.gradient(loss, weights, unconnected_gradients=tf.UnconnectedGradients.ZERO)

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


def _trained(monkeypatch: pytest.MonkeyPatch, xla: bool) -> tuple[bool, list[np.ndarray], np.ndarray]:
    import pandas as pd

    from lstm_app.engine import _batched_loop
    from lstm_app.spec import SplitSpec, TrainingSpec, WindowSpec
    from lstm_app.windows import prepare

    monkeypatch.setattr(_batched_loop, "XLA_WORK", 0 if xla else 10**12)
    t = np.arange(60, dtype=float)
    frame = pd.DataFrame({"y": np.sin(t / 4) + 0.1 * t}, index=pd.date_range("2020-01-01", periods=60, freq="D"))
    training = TrainingSpec(epochs=2, batch_size=8, learning_rate=0.01, seeds=(0, 1), patience=0)
    data = prepare(frame, WindowSpec(6), SplitSpec(8), training)
    dropout = ModelSpec("dropout", (LayerSpec(4, "relu", dropout=0.3), LayerSpec(3)), between="tanh")
    trainer = batched.GroupTrainer(batched.Plan.of([MODELS[2], dropout], data.input_shape), training, data, [0, 1])
    losses = np.array([trainer.run_epoch(e, np.ones(2, dtype=bool)).loss for e in range(2)])
    return trainer.jit, trainer.get_weights(), losses


def test_an_xla_compiled_epoch_trains_what_the_graph_executor_trains(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same losses and weights, input dropout included (its masks come from stateless streams)."""
    xla, xla_weights, xla_losses = _trained(monkeypatch, True)
    graph, graph_weights, graph_losses = _trained(monkeypatch, False)
    assert xla and not graph
    np.testing.assert_allclose(xla_losses, graph_losses, rtol=1e-5)
    for mine, theirs in zip(xla_weights, graph_weights, strict=True):
        np.testing.assert_allclose(mine, theirs, atol=1e-5)


def test_xla_is_chosen_for_long_overhead_bound_training_only() -> None:
    from lstm_app.engine._batched_loop import compiles
    from lstm_app.spec import TrainingSpec

    long_window = batched.Plan.of([ModelSpec("w", (LayerSpec(100), LayerSpec(50)))], (20, 1))
    assert compiles(long_window, TrainingSpec(epochs=50, batch_size=32), 2000)
    assert not compiles(long_window, TrainingSpec(epochs=2, batch_size=32), 2000)  # too short to repay
    many = batched.Plan.of([ModelSpec("w", (LayerSpec(100), LayerSpec(50)))] * 8, (20, 1))
    assert not compiles(many, TrainingSpec(epochs=50, batch_size=32), 2000)  # the matmuls dominate
    hotel = batched.Plan.of([ModelSpec("h", (LayerSpec(4),))] * 20, (1, 5))
    assert not compiles(hotel, TrainingSpec(epochs=20, batch_size=1), 80)
