"""Ready-made experiments: the seed question, the hotel H2 replication, and activation sweeps."""

from __future__ import annotations

from collections.abc import Sequence

from .spec import (
    ACTIVATIONS,
    BacktestSpec,
    DataSpec,
    ExperimentSpec,
    LayerSpec,
    ModelSpec,
    SplitSpec,
    TrainingSpec,
    WindowSpec,
)

__all__ = [
    "DECISIVE_ORIGINS", "DECISIVE_SEEDS", "PLACEMENTS", "PRESETS", "PUBLISHED", "hotel_replication", "seed_question",
    "sweep_models",
]

HOTEL_H2 = "sample:hotel_h2_weekly_cancellations.csv"

# The page's defaults: 10 seeds × 5 backtest origins = 50 paired runs per model, enough to tell
# a 5% RMSE difference apart when the runs' differences spread by up to about 9% of the RMSE
# ((1.96 + 0.84)² × (9 / 5)² ≈ 25 pairs; the rest is margin), and about 30 s for the hotel
# replication on 2 cores with the batched engine (`bench/bench_engine.py`).
DECISIVE_SEEDS = 10
DECISIVE_ORIGINS = 5

# The single-run figures published with the well-known answer (hotel H2, LSTM(4), 5 lags as
# features), shown as reference markers beside this app's distribution over seeds.
PUBLISHED: dict[str, dict[str, float]] = {
    "tanh": {"rmse": 92.0, "mfe": 29.2, "mda": 0.8},
    "relu": {"rmse": 96.78, "mfe": 9.40, "mda": 0.8},
}

PLACEMENTS: dict[str, str] = {
    "inside": "inside the cell (LSTM activation=...)",
    "between": "between layers (tanh cells, Activation layer between)",
}


def seed_question(units: Sequence[int] = (32, 16), activation: str = "relu") -> tuple[ModelSpec, ...]:
    """tanh vs `activation` inside every cell vs `activation` between the layers (32→16 units by
    default: enough for the short bundled series, and the default experiment of 3 models × 5
    seeds × 3 origins on hotel H2 trains in about half a minute on 2 cores)."""
    tanh = tuple(LayerSpec(u) for u in units)
    return (
        ModelSpec("tanh", tanh),
        ModelSpec(f"{activation} inside", tuple(LayerSpec(u, activation) for u in units)),
        ModelSpec(f"{activation} between", tanh, between=activation),
    )


def hotel_replication(seeds: Sequence[int] = (0, 1, 2, 3, 4), epochs: int = 20, origins: int = 1) -> ExperimentSpec:
    """The well-known answer's recipe on hotel H2: LSTM(4), 5 lags as features, Dense(1),
    adam, mse, batch 1, first 100 windows 80/20 train/validation, last 10 weeks test; with
    `origins` > 1, that split at as many backtest origins (the page's preset uses
    `DECISIVE_SEEDS` × `DECISIVE_ORIGINS`)."""
    return ExperimentSpec(
        name="hotel H2 replication",
        data=DataSpec(HOTEL_H2, "Cancellations", "Date"),
        models=(ModelSpec("tanh", (LayerSpec(4),)), ModelSpec("relu", (LayerSpec(4, "relu"),))),
        window=WindowSpec(lookback=5, framing="features", scaling="minmax", future_steps=10),
        split=SplitSpec(10),
        training=TrainingSpec(epochs=epochs, batch_size=1, optimizer="adam", learning_rate=0.001, loss="mse",
                              validation_share=0.2, patience=0, seeds=tuple(seeds)),
        backtest=BacktestSpec(origins),
    )


def sweep_models(activations: Sequence[str], placements: Sequence[str] = ("inside", "between"),
                 unit_options: Sequence[Sequence[int]] = ((64, 32),)) -> tuple[ModelSpec, ...]:
    """activation × placement × units as models of one experiment. tanh appears once per units
    choice: tanh inside the cells and a tanh layer between tanh cells are near-identical, and the
    plain tanh stack is the reference."""
    unknown = [a for a in activations if a not in ACTIVATIONS]
    if unknown:
        raise ValueError(f"Received an invalid value for argument `activations`, expected names from the "
                         f"registry, got {unknown[0]!r}.")
    models: list[ModelSpec] = []
    seen: set[str] = set()
    for units in unit_options:
        size = "→".join(str(u) for u in units)
        for activation in activations:
            for placement in placements:
                if placement == "between" and len(units) < 2:
                    continue
                if activation == "tanh":
                    name, spec_layers, between = f"tanh {size}", tuple(LayerSpec(u) for u in units), None
                elif placement == "inside":
                    name = f"{activation} inside {size}"
                    spec_layers, between = tuple(LayerSpec(u, activation) for u in units), None
                else:
                    name = f"{activation} between {size}"
                    spec_layers, between = tuple(LayerSpec(u) for u in units), activation
                if name not in seen:
                    seen.add(name)
                    models.append(ModelSpec(name, spec_layers, between=between))
    return tuple(models)


PRESETS: dict[str, str] = {
    "tanh vs ReLU inside vs ReLU between": "the seed question: same network, ReLU moved inside or between",
    "hotel H2 replication": "the well-known answer's recipe on its own data, over 5 seeds",
}

