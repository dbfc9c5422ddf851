"""The Compare page's figures and tables for one experiment's results, each built on first use.

`CompareView` holds what `runs.load_results` read (spec, actual series, outcomes, comparison);
every figure and table is a `cached_property`, so one view, cached by the caller for one results
stamp, builds each of them at most once for every rerun and session that shows it. A property
that is None is not shown (no forecast without the series, no horizon chart for one-step
forecasts, no per-origin table without a backtest, ...). The references' forecasts are fitted
here on first use (`references`; seconds for a split not seen before, then memoised), so the page
draws `forecast_plain` first when `references_ready` is False. No Streamlit here: the page draws
what the view returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import pandas as pd
import plotly.graph_objects as go
from pandas.io.formats.style import Styler

from ..num import finite_or_none
from ..outcome import RunOutcome, RunStatus
from ..params import LayerCount, count_layers
from ..presets import HOTEL_H2, PUBLISHED
from ..spec import ExperimentSpec, RunKey
from . import charts, forecasters, metrics
from ._charts_refs import ReferenceLine, by_origin, label_of, reference_forecasts
from .compare import Comparison, TableColumn
from .results import inside_table, styled_table

__all__ = ["CompareView", "origin_table"]

_FAMILY = {cls.key: cls.family for cls in forecasters.FORECASTERS}


def _when(label: object) -> str:
    text = str(label)
    return text.removesuffix("T00:00:00") if "T" in text else text


def _best(baselines: Mapping[str, float], family: str) -> tuple[str | None, float | None]:
    scored = [(v, k) for k, v in baselines.items() if _FAMILY.get(k) == family and finite_or_none(v) is not None]
    return (label_of(min(scored)[1]), min(scored)[0]) if scored else (None, None)


def origin_table(spec: ExperimentSpec, outcomes: Mapping[RunKey, RunOutcome | None], decimals: int = 3
                 ) -> pd.DataFrame:
    """One row per backtest origin with a finished run: its test period, each model's mean RMSE
    over its finished seeds there, and the best baseline's and best statistical reference's."""
    rows = []
    for origin, first in sorted(by_origin(outcomes).items()):
        assert first.test is not None
        row: dict[str, object] = {"Origin": origin + 1,
                                  "Test period": f"{_when(first.test.time[0])} – {_when(first.test.time[-1])}"}
        for i, model in enumerate(spec.models):
            values = [v for key, o in outcomes.items() if key[0] == i and key[2] == origin and o is not None
                      and o.status == RunStatus.DONE and o.metrics is not None
                      and (v := finite_or_none(o.metrics.rmse)) is not None]
            row[model.name] = round(sum(values) / len(values), decimals) if values else None
        baselines = first.metrics.baselines if first.metrics is not None else {}
        for family, title in (("baseline", "baseline"), ("reference", "reference")):
            name, value = _best(baselines, family)
            row[f"Best {title}"] = name
            row[f"{title.capitalize()} RMSE"] = None if value is None else round(value, decimals)
        rows.append(row)
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class CompareView:
    """One experiment's Compare view (see the module docstring)."""

    spec: ExperimentSpec
    actual: pd.Series | None
    outcomes: Mapping[RunKey, RunOutcome | None]
    comparison: Comparison

    @cached_property
    def latest(self) -> dict[tuple[int, int], RunOutcome | None]:
        """The outcomes of the latest backtest origin (the end of the series: the only one
        without a backtest) by (model index, seed): what the training charts show."""
        last = self.spec.backtest.origins - 1
        return {(key.model, key.seed): o for key, o in self.outcomes.items() if key.origin == last}

    @property
    def replication(self) -> bool:
        """Whether this is the hotel replication (the published models on the published data)."""
        return self.spec.data.source == HOTEL_H2 and set(PUBLISHED) <= {m.name for m in self.spec.models}

    # -- tables ----------------------------------------------------------------------------------

    @cached_property
    def table(self) -> Styler:
        """Mean ± std per model, the best cell of each column highlighted (`metric_columns` and
        `versus_columns` pick what each table on the page shows)."""
        return styled_table(self.comparison)

    @cached_property
    def columns(self) -> tuple[TableColumn, ...]:
        return self.comparison.columns()

    @property
    def metric_columns(self) -> list[str]:
        """The metrics table: run counts and forecast metrics (s/epoch and Params have their own
        table and chart, and the paired comparison its own table, so each fits 1280 px)."""
        return [c.label for c in self.columns if c.kind in ("count", "metric")]

    @property
    def versus_columns(self) -> list[str]:
        return [c.label for c in self.columns if c.kind == "versus"]

    @property
    def column_help(self) -> dict[str, str]:
        """Column label -> what a reader could not guess from it, in column order."""
        return {c.label: c.help for c in self.columns if c.help}

    @cached_property
    def versus_table(self) -> pd.DataFrame:
        """Every model against the reference (the naive and baseline rows left out)."""
        return self.comparison.table().loc[[m.name for m in self.comparison.models], self.versus_columns]

    @cached_property
    def per_seed(self) -> pd.DataFrame:
        return self.comparison.per_seed_table()

    @cached_property
    def inside(self) -> pd.DataFrame:
        """`inside_table` of the latest origin, with dead units in percent (as in the histogram
        titles: "dead 25%")."""
        table = inside_table(self.spec, self.latest)
        return table.assign(**{"Dead units": table["Dead units"] * 100})

    # -- figures ---------------------------------------------------------------------------------

    @cached_property
    def season(self) -> int | None:
        """The season the time axis implies (what the workers' forecasters used)."""
        return None if self.actual is None else metrics.season_for(self.actual.index)

    @cached_property
    def references(self) -> tuple[ReferenceLine, ...]:
        """Every forecaster's one-step test forecasts over the origins, best first (fitted here:
        runs store only their RMSE)."""
        if self.actual is None:
            return ()
        return reference_forecasts(self.actual, self.outcomes, self.season) or ()

    @property
    def references_ready(self) -> bool:
        """Whether `references` needs no fitting (the first fit of a split takes seconds, so the
        page then draws `forecast_plain` first and the full chart at its end)."""
        return ("references" in self.__dict__ or self.actual is None
                or reference_forecasts(self.actual, self.outcomes, self.season, fit=False) is not None)

    @cached_property
    def forecast(self) -> go.Figure | None:
        if self.actual is None:
            return None
        return charts.forecast_overlay(self.spec, self.actual, self.outcomes, self.references)

    @cached_property
    def forecast_plain(self) -> go.Figure | None:
        """The forecast chart without the references."""
        return None if self.actual is None else charts.forecast_overlay(self.spec, self.actual, self.outcomes)

    @property
    def no_multistep(self) -> str | None:
        """Why there is no horizon chart and no future forecast (extra input columns), or None."""
        features = self.spec.data.features
        if not features:
            return None
        return (f"No multi-step forecasts: the extra input column{'s' * (len(features) > 1)} "
                f"{', '.join(features)} {'have' if len(features) > 1 else 'has'} no known future values, "
                "so there is no RMSE-by-horizon chart and no future forecast.")

    @cached_property
    def origins(self) -> pd.DataFrame | None:
        """The per-origin table (None without a backtest)."""
        if self.spec.backtest.origins <= 1:
            return None
        return origin_table(self.spec, self.outcomes, self.comparison.decimals)

    @cached_property
    def params(self) -> go.Figure:
        spec = self.spec
        counts: dict[str, list[LayerCount]] = {
            m.name: count_layers(m, 1 + len(spec.data.features), spec.window.lookback, spec.window.framing)
            for m in spec.models}
        return charts.param_comparison(counts)

    @cached_property
    def horizon(self) -> go.Figure | None:
        if self.comparison.backtest.horizons <= 1:
            return None
        return charts.rmse_by_horizon(self.spec, self.comparison, self.season)

    @cached_property
    def overview(self) -> go.Figure | None:
        """The metric overview of three or more models (the replication chart's RMSE panel
        shows the same, and more)."""
        many = len(self.spec.models) >= 3
        return charts.metric_overview(self.comparison) if many and not self.replication else None

    @cached_property
    def sweep(self) -> go.Figure | None:
        return charts.sweep_parallel(self.spec, self.comparison) if len(self.spec.models) >= 3 else None

    @cached_property
    def replication_figure(self) -> go.Figure | None:
        return charts.replication_figure(self.comparison, PUBLISHED) if self.replication else None

    def loss(self, *, seeds: bool) -> go.Figure:
        """Loss curves: a min–max band per model, or one thin line per seed (2 traces per run)."""
        return self._loss_seeds if seeds else self._loss_band

    @cached_property
    def _loss_band(self) -> go.Figure:
        return charts.loss_curves(self.spec, self.latest, seeds=False)

    @cached_property
    def _loss_seeds(self) -> go.Figure:
        return charts.loss_curves(self.spec, self.latest, seeds=True)

    @cached_property
    def histograms(self) -> go.Figure:
        return charts.layer_histograms(self.spec, self.latest)

    @cached_property
    def gradients(self) -> go.Figure:
        return charts.gradient_norms(self.spec, self.latest)
