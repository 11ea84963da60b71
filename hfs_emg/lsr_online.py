"""Causal, incremental LSR measurement: :class:`LsrStream`, the one implementation of measure_lsr.

Every decision of :func:`hfs_emg.measure_lsr` depends on the sweep itself and on earlier sweeps
only (issues 11 and 15): the noise level of a sweep is compared with the causal running level of
its channel, the calibrated threshold comes from the control windows of the last
``calibration_n`` sweeps (:class:`hfs_emg.calibration.CausalGumbel`), the artefact residual with
the causal RMS of a pre-stimulus null, the clipping test with the extremes of the sweeps so far
(:class:`hfs_emg.epochs.RunningExtremes`), and the matched template is built from the first
``template_n`` earlier detections. :class:`LsrStream` holds exactly that state and measures new
sweeps as they come; :func:`hfs_emg.measure_lsr` is one :meth:`LsrStream.push` of all sweeps.
Running sums are carried as one cumulative sum (:class:`hfs_emg.calibration.TrailingSums`), so
pushing the sweeps one by one or all at once gives the same rows (equal decisions; floats
equal to the last bits of the BLAS products in the artefact fit, well within 1e-9).

The state is bounded: per channel a few running sums over ``calibration_n`` sweeps, the rows of
at most ``template_n`` template detections and, until a template is complete, the control
windows of the last ``calibration_n`` sweeps of its montage (a few kB).

References
----------
.. [1] Møller AR, Jannetta PJ. Microvascular decompression in hemifacial spasm: intraoperative
   electrophysiological observations. Neurosurgery 1985;16:612-618 (the LSR).
.. [2] Gumbel EJ. Statistics of Extremes. Columbia University Press, 1958 (the calibration).
"""

from __future__ import annotations

import functools
import warnings
from collections import deque
from typing import Any

import numpy as np
import pandas as pd

from . import _fastresp
from ._errors import HfsEmgWarning, ParameterError
from ._frames import frame_from_columns
from ._validate import check_option
from .anatomy import BRANCHES, infer_branch
from .artifact import ARTIFACT_METHODS, prepare_tail, suppress_artifact
from .calibration import CausalGumbel, CausalMean, gumbel_exceedance, gumbel_threshold
from .crosstalk import CrosstalkPool, crosstalk_gain
from .epochs import Epochs, RunningExtremes, _finish_epochs, make_epochs
from .recording import Recording
from .responses import RESPONSE_COLUMNS, measure_response_array

__all__ = ["LsrStream"]

_NO_EVENTS = pd.DataFrame({"onset_s": np.zeros(0)})
_NO_DROPS = pd.DataFrame({"onset_s": np.zeros(0), "reason": np.zeros(0, dtype=object)})
_MATCH_DUR_MS = 6.0
_MATCH_LAG_MS = 1.0


_EVENT_COLUMNS = ("onset_s", "stim_index", "stim_branch", "label", "intensity_ma")
#: The array type pandas infers for a column of Python strings (its default string dtype).
_STR_DTYPE = pd.Series(["x"], dtype=None).dtype


def _all_str(values: np.ndarray) -> bool:
    return all(isinstance(v, str) for v in values.tolist())


def _str_array(values: np.ndarray) -> Any:
    """``values`` (all str) as the array pandas would infer for them, built once."""
    return pd.array(values, dtype=_STR_DTYPE)


@functools.lru_cache(maxsize=256)
def _str_levels(levels: tuple[str, ...]) -> Any:
    """:func:`_str_array` of a few distinct values (cached: the same handful every sweep)."""
    return _str_array(np.array(levels, dtype=object))


_KINDS = _str_array(np.array(["direct", "lsr"], dtype=object))


@functools.lru_cache(maxsize=512)
def _small_str_column(values: tuple[Any, ...]) -> Any:
    """:func:`_str_array` of a short column seen before (None unless all str): one sweep's."""
    if not all(isinstance(v, str) for v in values):
        return None
    return _str_array(np.array(values, dtype=object))


@functools.lru_cache(maxsize=64)
def _const_str_column(value: str, n: int) -> Any:
    """A column of ``n`` times ``value`` (as pandas infers a str scalar inserted in a table)."""
    return _str_array(np.full(n, value, dtype=object))


@functools.lru_cache(maxsize=256)
def _kind_column(direct: tuple[bool, ...]) -> Any:
    """The ``kind`` column of one sweep's rows ("direct" where ``direct``, else "lsr")."""
    return _KINDS.take(np.where(np.array(direct, dtype=bool), 0, 1))


def _str_column(values: np.ndarray) -> Any:
    """A column of strings from a few distinct values: each distinct value converted once.

    The same column as pandas infers from the object array (its string dtype); anything else
    than all-str values is returned as it is (pandas infers it as before). A short column (one
    sweep's rows) is looked up whole in a cache: the same few columns come every sweep.
    """
    if values.size <= 64:
        try:
            col = _small_str_column(tuple(values.tolist()))
        except TypeError:  # an unhashable value: the general route
            pass
        else:
            return values if col is None else col
    codes, uniq = pd.factorize(values)
    levels = tuple(np.asarray(uniq, dtype=object).tolist())
    if (codes < 0).any() or not all(isinstance(v, str) for v in levels):
        return values
    return _str_levels(levels).take(codes)


def _event_columns(events: pd.DataFrame) -> dict[str, np.ndarray]:
    """The event columns the measurement reads, as arrays."""
    return {c: events[c].to_numpy() for c in _EVENT_COLUMNS if c in events.columns}


def _event_branches(
    ev: dict[str, np.ndarray], n_e: int, stim_branch: str | None, meta_branch: str | None
) -> np.ndarray:
    """Stimulated branch of every epoch: the argument, else the event's own, else the meta's."""
    if stim_branch is not None:
        check_option("stim_branch", stim_branch, BRANCHES)
        return np.full(n_e, stim_branch, dtype=object)
    out = np.full(n_e, None, dtype=object)
    if "stim_branch" in ev:
        col = ev["stim_branch"]
        out = np.array([v if isinstance(v, str) and v else None for v in col], dtype=object)
    if "label" in ev:
        miss = np.array([v is None for v in out], dtype=bool)
        if miss.any():
            labels = np.array([str(v) for v in ev["label"]], dtype=object)
            out[miss] = [infer_branch(x) for x in labels[miss]]
    if meta_branch is not None:
        out[np.array([v is None for v in out], dtype=bool)] = meta_branch
    for b in set(out) - {None}:
        check_option("stim_branch", b, BRANCHES)
    return out


def _region(
    data: np.ndarray, rows: np.ndarray, c: int, a: int, b: int, clean: dict[str, np.ndarray]
) -> np.ndarray:
    """``data[rows, c, a:b]`` with the crosstalk of the rows that have it subtracted."""
    seg = data[rows, c, a:b]
    g = clean["gain"][rows, c]
    fix = clean["sig"][rows, c]
    if fix.any():
        seg = seg.copy()
        seg[fix] -= g[fix, None] * data[rows[fix], clean["ref"][rows[fix]], a:b]
    return seg


def _projections(region: np.ndarray, unit: np.ndarray, n_lag: int) -> np.ndarray:
    """Best projection of each row of ``region`` on ``unit`` over ``2 n_lag + 1`` lags."""
    return _lag_scan(region, unit, n_lag).max(axis=1)


def _best_lag(proj: np.ndarray, n_lag: int) -> np.ndarray:
    """Lag (samples, sub-sample) of the largest projection: parabola through its neighbours.

    NaN where the peak is on the edge of the search (no interior maximum: the trial does not
    match the template within the lag range).
    """
    k = np.argmax(proj, axis=1)
    rows = np.arange(proj.shape[0])
    inner = (k > 0) & (k < proj.shape[1] - 1)
    kc = np.clip(k, 1, proj.shape[1] - 2)
    y0, y1, y2 = proj[rows, kc - 1], proj[rows, kc], proj[rows, kc + 1]
    den = y0 - 2.0 * y1 + y2
    frac = np.where(den < 0, 0.5 * (y0 - y2) / np.where(den < 0, den, -1.0), 0.0)
    return np.where(inner, kc + np.clip(frac, -0.5, 0.5) - n_lag, np.nan)


def _woody_latency(
    ref_ms: float | np.ndarray, scan: np.ndarray, n_lag: int, fs: float
) -> np.ndarray:
    """Onset latency (ms) of each trial: the template's onset plus the trial's best lag.

    Woody's (1967) adaptive-filter latency: the lag that maximises the trial's projection on
    the template (interpolated between samples by a parabola through the peak and its
    neighbours), added to the template's onset. The template's onset ``ref_ms`` is the median
    of the single-trial onsets of the sweeps averaged into it; each of those is the last sample
    inside the baseline band, so the response departs between it and the next sample, and the
    midpoint (half a sample later) is taken. Unlike the single-trial walk-back to the baseline
    band, which under 20-150 Hz background EMG lands 2-3 ms early in about one trial in ten
    (the background holds the trace outside the band before the response), the lag uses the
    whole waveform. NaN where the best lag is at the edge of the search (no match within it).

    References
    ----------
    .. [1] Woody CD. Characterization of an adaptive filter for the analysis of variable
       latency neuroelectric signals. Med Biol Eng 1967;5:539-553.
    """
    return ref_ms + (0.5 + _best_lag(scan, n_lag)) * 1e3 / fs


def _lag_scan(region: np.ndarray, unit: np.ndarray, n_lag: int) -> np.ndarray:
    """Projections (rows, ``2 n_lag + 1`` lags) of each row of ``region`` on ``unit``."""
    r = np.ascontiguousarray(region)
    s0, s1 = r.strides
    # (rows, lags, taps) views of the region: the array as_strided makes, without its cost
    # (the constructor checks that the views stay inside the region)
    win = np.ndarray((r.shape[0], 2 * n_lag + 1, unit.size), r.dtype, r, 0, (s0, s1, s1))
    win.flags.writeable = False
    # einsum, not BLAS: each product is summed in the same order whatever the number of rows,
    # so one sweep at a time and all sweeps at once give bitwise the same projections
    return np.einsum("nlk,k->nl", win, unit)


class _Series:
    """Matched-detector state of one (montage, LSR channel) series."""

    def __init__(self, window: int) -> None:
        self.det_lat: list[float] = []  # onset latencies of the template detections (ms)
        self.det_row: list[np.ndarray] = []  # their (crosstalk-cleaned) sweeps
        self.unit: np.ndarray | None = None  # current unit template
        self.norm = 0.0
        self.start = 0
        self.ref_ms = np.nan  # onset of the current template (median of its detections)
        self.gumbel: CausalGumbel | None = None  # calibration of the current template stage
        # control windows of the last sweeps (cleaned), their noise and rejection: a new
        # template stage recalibrates on them; dropped once the template is complete
        self.ring: deque[tuple[np.ndarray, float, bool]] | None = deque(maxlen=max(1, window - 1))


class LsrStream:
    """Measure LSR sweeps causally as they come: the state behind :func:`hfs_emg.measure_lsr`.

    Create it with the options of :func:`hfs_emg.measure_lsr` (the same names and defaults),
    then :meth:`push_recording` (a recording holding the new sweeps' windows and their events)
    or :meth:`push` (epochs) the new sweeps: the returned rows are those
    :func:`hfs_emg.measure_lsr` gives for them on the whole recording, because every quantity
    that depends on other sweeps depends on earlier ones only and is carried here.

    Parameters
    ----------
    channels : pandas.DataFrame
        Channel table of the epochs (``name``, ``muscle``, ``branch``).
    sfreq : float
        Sampling rate (Hz).
    times : ndarray
        Epoch times (s), as :func:`hfs_emg.make_epochs` gives them for ``tmin``/``tmax``.
    from_recording : bool
        The epochs are raw (artefact not yet suppressed; crosstalk subtracted before the
        artefact fit), as :func:`hfs_emg.measure_lsr` cuts them from a recording.
    stim_branch, meta_branch : str, optional
        Stimulated branch of every stimulus (overrides the events), and the recording's
        ``meta["stim_branch"]`` (used where an event has none).
    **options
        The measurement options of :func:`hfs_emg.measure_lsr` (``window_ms``,
        ``artifact_method``, ``template_n``, ``false_alarm_rate``, ``calibration_n``...) and
        the keywords of :func:`hfs_emg.measure_responses` it passes on.

    Examples
    --------
    >>> from hfs_emg import measure_lsr
    >>> from hfs_emg.simulate import simulate_lsr_session
    >>> rec = simulate_lsr_session(n_stimuli=6, sfreq=5000.0, disappearance_index=3,
    ...                            fade_stimuli=0).recording
    >>> stream = LsrStream.for_recording(rec)
    >>> rows = pd.concat([stream.push_recording(rec, rec.events.iloc[i : i + 1])
    ...                   for i in range(6)], ignore_index=True)
    >>> offline = measure_lsr(rec)
    >>> bool((rows["present"] == offline["present"]).all())
    True
    """

    def __init__(
        self,
        channels: pd.DataFrame,
        sfreq: float,
        times: np.ndarray,
        *,
        from_recording: bool,
        stim_branch: str | None = None,
        meta_branch: str | None = None,
        window_ms: tuple[float, float] = (6.0, 20.0),
        direct_window_ms: tuple[float, float] = (2.5, 15.0),
        artifact_method: str | None = "tail",
        artifact_window_s: tuple[float, float] = (-0.0005, 0.001),
        tmin: float = -0.05,
        tmax: float = 0.05,
        template_n: int = 20,
        match_k: float = 5.0,
        false_alarm_rate: float = 0.002,
        calibration_n: int = 200,
        crosstalk_t: float = 2.0,
        max_noise_ratio: float = 4.0,
        max_artifact_residual: float = 6.0,
        detect_highpass_ms: float = 3.0,
        **measure_kw: Any,
    ) -> None:
        if artifact_method is not None:
            check_option("artifact_method", artifact_method, ARTIFACT_METHODS)
        if not 0 < float(false_alarm_rate) < 1:
            raise ParameterError(f"false_alarm_rate must be in (0, 1), got {false_alarm_rate}.")
        if stim_branch is not None:
            check_option("stim_branch", stim_branch, BRANCHES)
        self.channels = channels.reset_index(drop=True)
        self.sfreq = fs = float(sfreq)
        self.times = np.asarray(times, dtype=float)
        self.from_recording = bool(from_recording)
        self.stim_branch, self.meta_branch = stim_branch, meta_branch
        self.window_ms, self.direct_window_ms = window_ms, direct_window_ms
        self.artifact_method, self.artifact_window_s = artifact_method, artifact_window_s
        self.tmin, self.tmax = float(tmin), float(tmax)
        self.template_n, self.match_k = int(template_n), float(match_k)
        self.false_alarm_rate = float(false_alarm_rate)
        self.calibration_n = w = int(calibration_n)
        self.crosstalk_t = float(crosstalk_t)
        self.max_noise_ratio = float(max_noise_ratio)
        self.max_artifact_residual = float(max_artifact_residual)
        self.detect_highpass_ms = float(detect_highpass_ms)
        kw = dict(measure_kw)
        self.k_floor = kw.pop("k_noise", 3.0)
        base_user = kw.pop("baseline_ms", None)
        self.kw = kw
        lsr_base = (-20.0, -1.0) if base_user is None else tuple(float(v) for v in base_user)
        # the control window ends 1 ms before the stimulus, plus the reach of the filters
        # (detection high-pass half-width, 1 ms for the envelope and amplitude smoothing)
        self.shift_ms = float(window_ms[1]) + 2.0 + 0.5 * self.detect_highpass_ms
        t_first = float(self.times[0]) * 1e3
        self.calibrate = lsr_base[0] - self.shift_ms >= t_first - 0.5e3 / fs
        self._need_ms = lsr_base[0] - self.shift_ms
        self.lsr_base = lsr_base if self.calibrate else base_user
        t_ms = self.times * 1e3
        self._b = (
            (np.searchsorted(t_ms, lsr_base[0]), np.searchsorted(t_ms, lsr_base[1], "right"))
            if self.lsr_base is not None
            else (0, np.searchsorted(t_ms, -1.0, "right"))
        )
        r0, r1 = np.searchsorted(t_ms, 2.5), np.searchsorted(t_ms, 6.0, "right")
        q1 = np.searchsorted(t_ms, -6.5, "right")
        self._resid = (int(r0), int(r1), int(max(0, q1 - (r1 - r0))), int(q1))
        n_c = len(self.channels)
        self.t0 = int(np.argmin(np.abs(self.times)))
        self._ref_sd = CausalMean(n_c, window=w)
        self._gumbel = CausalGumbel(n_c, window=w)
        self._null = CausalMean(n_c, window=w)
        self._okn = CausalMean(n_c, window=w)
        self._pooled = CausalMean(1, window=w)
        self._xt_pool = CrosstalkPool(n_c)  # last per-sweep crosstalk gains per reference
        self._series: dict[tuple[str, int], _Series] = {}
        self.extremes = RunningExtremes()  # the causal clipping reference (push_recording)
        if self.from_recording and artifact_method == "tail":
            prepare_tail(fs, artifact_window_s)  # no sweep pays for the fit's operators
        self.n_sweeps = 0
        self._warned = False
        # the constant string columns of the table, converted once (pandas' own string arrays)
        self._ch_branch = self.channels["branch"].to_numpy(object)
        self._direct: dict[Any, tuple[bool, ...]] = {}  # branch -> direct channels
        self._names = _str_array(self.channels["name"].to_numpy(object))
        muscles = self.channels["muscle"].to_numpy(object)
        self._muscles = _str_array(muscles) if _all_str(muscles) else None

    def _direct_row(self, branch: Any) -> tuple[bool, ...]:
        """Which channels are direct (M-wave) channels for a stimulus of ``branch`` (cached)."""
        row = self._direct.get(branch)
        if row is None:
            row = tuple(
                bool(branch is not None and cb is not None and cb == branch)
                for cb in self._ch_branch
            )
            if len(self._direct) < 64:  # a handful of branches
                self._direct[branch] = row
        return row

    @property
    def nbytes(self) -> int:
        """Bytes of the state carried between sweeps (bounded: it does not grow with them)."""
        acc = [self._ref_sd, self._gumbel, self._null, self._okn, self._pooled]
        n = sum(a._sums.nbytes for a in acc)
        n += sum(g.nbytes + s.nbytes for g, s in self._xt_pool._hist.values())
        for s in self._series.values():
            n += sum(r.nbytes for r in s.det_row)
            n += 0 if s.unit is None else s.unit.nbytes
            n += 0 if s.gumbel is None else s.gumbel._sums.nbytes
            n += 0 if s.ring is None else sum(r[0].nbytes + 16 for r in s.ring)
        return int(n)

    @classmethod
    def for_recording(
        cls, rec: Recording, *, stim_branch: str | None = None, **options: Any
    ) -> LsrStream:
        """A stream for sweeps cut from ``rec`` (or recordings like it: same channels and rate)."""
        tmin = float(options.get("tmin", -0.05))
        tmax = float(options.get("tmax", 0.05))
        picks = rec._pick_indices("emg")
        sf = rec.sfreq
        times = np.arange(round(tmin * sf), round(tmax * sf) + 1) / sf
        opts = {k: v for k, v in options.items() if k not in ("source", "label", "events")}
        return cls(
            rec.channels.iloc[picks].reset_index(drop=True),
            sf,
            times,
            from_recording=True,
            stim_branch=stim_branch,
            meta_branch=rec.meta.get("stim_branch"),
            **opts,
        )

    def cut(self, rec: Recording, events: pd.DataFrame) -> Epochs:
        """Raw epochs of the new sweeps of ``rec``, clipping tested causally (state carried)."""
        base_end = min(self.artifact_window_s[0], -0.0005)
        return make_epochs(
            rec,
            events,
            tmin=self.tmin,
            tmax=self.tmax,
            baseline=(self.tmin, base_end),
            extremes=self.extremes,
        )

    def push_recording(self, rec: Recording, events: pd.DataFrame) -> pd.DataFrame:
        """Measure the sweeps of ``events`` in ``rec`` (the next ones of the session)."""
        return self.push_cut(rec, self.cut(rec, events))

    def push_cut(self, rec: Recording, epochs: Epochs) -> pd.DataFrame:
        """:meth:`push` of epochs that :meth:`cut` just cut from ``rec`` and nothing else reads.

        The same rows as :meth:`push`, with less memory: the artefact is suppressed in the
        epochs' own array (no second (sweeps, channels, samples) array), and the few raw
        sweeps the crosstalk removal needs again are cut once more from ``rec`` (bitwise the
        samples :meth:`cut` gave: every epoch is cut and baseline-corrected on its own).
        """
        if epochs.data.shape[1:] != (len(self.channels), self.times.size):
            raise ParameterError(
                f"Epochs of shape {epochs.data.shape[1:]} (channels, samples) do not match the "
                f"stream's ({len(self.channels)}, {self.times.size})."
            )
        onsets = epochs.events["onset_s"].to_numpy(float)
        base_end = min(self.artifact_window_s[0], -0.0005)

        def recut(idx: np.ndarray) -> np.ndarray:
            ev = pd.DataFrame({"onset_s": onsets[idx]})
            kw = {"tmin": self.tmin, "tmax": self.tmax, "baseline": (self.tmin, base_end)}
            return make_epochs(rec, ev, **kw, reject_clipped=False).data

        return self._push(epochs, _event_columns(epochs.events), recut=recut)

    def push_window(
        self,
        samples: np.ndarray,
        event: dict[str, Any],
        *,
        extra_columns: dict[str, str] | None = None,
    ) -> pd.DataFrame:
        """Measure the next sweep from its raw samples (the live path, no Recording).

        Parameters
        ----------
        samples : ndarray, shape (n_channels, n_times)
            The stream's channels (µV) from ``tmin`` to ``tmax`` around the stimulus, exactly
            the samples :func:`hfs_emg.make_epochs` cuts (``times``).
        event : dict
            The stimulus event (``onset_s``, optionally ``stim_index``, ``stim_branch``,
            ``label``, ``intensity_ma``).
        extra_columns : dict of str to str, optional
            Constant string columns put after ``stim_time_s`` (the live monitor's ``part``):
            the table of ``rows.insert(2, name, value)`` for each, built in one go.

        Returns
        -------
        pandas.DataFrame
            The sweep's rows, as :meth:`push_recording` (and :func:`hfs_emg.measure_lsr`).
        """
        x = np.asarray(samples)
        if x.shape != (len(self.channels), self.times.size):
            raise ParameterError(
                f"A sweep of shape {x.shape} does not match the stream's "
                f"({len(self.channels)} channels, {self.times.size} samples)."
            )
        seg = x[None].astype(np.float64)  # a copy: the caller's samples stay untouched
        bad, base = _finish_epochs(
            seg,
            self.times,
            self.sfreq,
            (self.tmin, self.tmax),
            (self.tmin, min(self.artifact_window_s[0], -0.0005)),
            reject_clipped=True,
            clip_min_run=3,
            extremes=self.extremes,
        )
        ev = {c: np.array([event[c]]) for c in _EVENT_COLUMNS if c in event}
        epochs = Epochs(
            data=seg,
            times=self.times,
            sfreq=self.sfreq,
            channels=self.channels,
            events=_NO_EVENTS,  # internal: the measurement reads the columns ``ev``
            bad=bad,
            bad_reason=np.where(bad, "clipped", ""),
            drop_log=_NO_DROPS,
            baseline=base,
        )
        out, extra = self._measure(epochs, ev)
        cols = self._columns(epochs, ev, out, extra)
        if extra_columns:
            if set(extra_columns) & set(cols):
                raise ParameterError(
                    f"extra_columns {sorted(set(extra_columns) & set(cols))} are columns of "
                    "the table already."
                )
            items = list(cols.items())
            n = len(items[0][1])
            more = [(k, _const_str_column(str(v), n)) for k, v in extra_columns.items()]
            cols = dict(items[:2] + more + items[2:])
        return frame_from_columns(cols)

    # ------------------------------------------------------------------ the measurement
    def push(self, epochs: Epochs) -> pd.DataFrame:
        """Measure the next sweeps (epochs in session order); return their rows.

        Raw epochs (artefact not suppressed) when the stream is ``from_recording``.
        """
        if epochs.data.shape[1:] != (len(self.channels), self.times.size):
            raise ParameterError(
                f"Epochs of shape {epochs.data.shape[1:]} (channels, samples) do not match the "
                f"stream's ({len(self.channels)}, {self.times.size})."
            )
        return self._push(epochs, _event_columns(epochs.events))

    def _push(
        self, epochs: Epochs, ev: dict[str, np.ndarray], *, recut: Any = None
    ) -> pd.DataFrame:
        out, extra = self._measure(epochs, ev, recut=recut)
        return self._frame(epochs, ev, out, extra)

    def _measure(
        self, epochs: Epochs, ev: dict[str, np.ndarray], *, recut: Any = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """The measurement of new sweeps; ``recut(epoch indices)``, when given, returns their
        raw epochs again (:meth:`push_cut`): the artefact is then suppressed in place."""
        fs = self.sfreq
        n_e, n_c, _ = epochs.data.shape
        g0 = self.n_sweeps
        ev_branch = _event_branches(ev, n_e, self.stim_branch, self.meta_branch)
        unknown = np.array([b is None for b in ev_branch], dtype=bool)
        if unknown.any():
            warnings.warn(
                f"The stimulated branch of {int(unknown.sum())} of {unknown.size} stimuli is "
                "unknown (pass stim_branch= or label the events 'stim <branch>'): every channel "
                "is measured as an LSR channel for them.",
                HfsEmgWarning,
                stacklevel=4,
            )
        if n_e and not self.calibrate and not self._warned:
            self._warned = True
            warnings.warn(
                f"The epochs start at {float(self.times[0]) * 1e3:g} ms; the calibrated LSR test "
                f"needs them from {self._need_ms:g} ms (tmin <= {self._need_ms / 1e3:g} s): the "
                f"fixed threshold k_noise={self.k_floor:g} is used and false_alarm_rate is NaN.",
                HfsEmgWarning,
                stacklevel=4,
            )
        direct = np.array([self._direct_row(b) for b in ev_branch], dtype=bool).reshape(n_e, n_c)
        kw, k_floor, lsr_base = self.kw, self.k_floor, self.lsr_base
        keys = np.array([str(b) for b in ev_branch], dtype=object)
        groups_lsr, groups_dir = [], []
        for key in dict.fromkeys(keys):
            rows = np.flatnonzero(keys == key)
            groups_lsr.append((key, rows, np.flatnonzero(~direct[rows[0]])))
            groups_dir.append((key, rows, np.flatnonzero(direct[rows[0]])))
        # noise of every sweep and the electrocautery (noisy baseline) rejection
        b_lo, b_hi = self._b
        sd = _fastresp.row_std(epochs.data, b_lo, b_hi)  # compiled: equals np.std bit for bit
        log_sd = np.log(np.maximum(sd, 1e-9))
        ref_sd = np.exp(self._ref_sd.push(log_sd, ~epochs.bad))
        noisy = sd > self.max_noise_ratio * ref_sd
        # calibration of the single-trial test on pre-stimulus control windows
        fa = np.full((n_e, n_c), np.nan)
        cal_n = np.zeros((n_e, n_c))
        k_used: Any = k_floor
        if self.calibrate:
            ctrl = measure_response_array(
                epochs.data,
                epochs.times + self.shift_ms * 1e-3,
                fs,
                window_ms=self.window_ms,
                baseline_ms=lsr_base,
                stat_only=True,
                detect_highpass_ms=self.detect_highpass_ms,
                **{k: v for k, v in kw.items() if k in ("smooth_ms", "min_duration_ms")},
            )
            valid = ~epochs.bad & ~noisy
            mu, beta, cal_n = self._gumbel.push(ctrl["det_stat"], valid)
            thr = gumbel_threshold(mu, beta, self.false_alarm_rate)
            k_used = np.where(np.isnan(thr), k_floor, np.maximum(k_floor, thr))
            fa = np.where(np.isnan(thr), np.nan, gumbel_exceedance(k_used, mu, beta))
        # crosstalk of the stimulated branch's M-wave
        method = self.artifact_method if self.from_recording else None
        raw = epochs.data
        if method is not None and n_e:

            def suppress(rows: np.ndarray, dmask: np.ndarray) -> np.ndarray:
                return suppress_artifact(
                    rows,
                    fs,
                    [self.t0],
                    method=method,
                    window_s=self.artifact_window_s,
                    direct=dmask,
                    overwrite=overwrite,
                )

            overwrite = recut is not None  # in place: the raw sweeps needed later are re-cut
            data = suppress(raw.reshape(n_e * n_c, -1), direct.reshape(-1, 1)).reshape(raw.shape)
            overwrite = False  # the crosstalk rows below are new arrays, suppressed as before
            epochs = epochs.with_data(data)
        xt = crosstalk_gain(epochs.data, epochs.times, direct, sd, pool=self._xt_pool)
        sig = ~direct & (xt["ref"] >= 0)[:, None] & (xt["t"] > self.crosstalk_t)
        e_i, c_i = np.nonzero(sig)
        g_i = xt["gain"][e_i, c_i, None]
        if self.from_recording and e_i.size:
            # the scaled direct channel (its artefact with it) is subtracted from the raw
            # channel, then the artefact tail of what is left is fitted again
            if method is None:
                epochs.data[e_i, c_i] -= g_i * epochs.data[e_i, xt["ref"][e_i]]
            else:
                if recut is None:
                    rows = raw[e_i, c_i] - g_i * raw[e_i, xt["ref"][e_i]]
                else:  # the raw sweeps were overwritten: the few needed, cut again
                    uniq, inv = np.unique(e_i, return_inverse=True)
                    r = recut(uniq)
                    rows = r[inv, c_i] - g_i * r[inv, xt["ref"][e_i]]
                epochs.data[e_i, c_i] = suppress(rows, np.zeros((e_i.size, 1), bool))
        clean = {"gain": xt["gain"], "ref": xt["ref"], "sig": sig & (not self.from_recording)}
        out: dict[str, np.ndarray] = {}
        self._measure_rows(
            epochs, groups_dir, out, window_ms=self.direct_window_ms, k_noise=k_floor, **kw
        )
        self._measure_rows(
            epochs,
            groups_lsr,
            out,
            window_ms=self.window_ms,
            baseline_ms=lsr_base,
            k_noise=k_used,
            detect_highpass_ms=self.detect_highpass_ms,
            **kw,
        )
        for key in (*RESPONSE_COLUMNS, "det_stat"):  # no epoch (or no channel) measured
            if key not in out:
                out[key] = np.zeros((n_e, n_c), dtype=bool if key == "present" else float)
        crosstalk = np.zeros((n_e, n_c), bool)
        cleaned = None
        if e_i.size:
            k_rows = k_used if np.ndim(k_used) == 0 else np.asarray(k_used)[e_i, c_i]
            ref_rows = epochs.data[e_i, xt["ref"][e_i]]
            if self.from_recording:  # data are clean: put the crosstalk back to see what it did
                other = epochs.data[e_i, c_i] + g_i * ref_rows
            else:
                other = cleaned = epochs.data[e_i, c_i] - g_i * ref_rows
            part = measure_response_array(
                other,
                epochs.times,
                fs,
                window_ms=self.window_ms,
                baseline_ms=lsr_base,
                k_noise=k_rows,
                detect_highpass_ms=self.detect_highpass_ms,
                **kw,
            )
            if self.from_recording:
                crosstalk[e_i, c_i] = part["present"] & ~out["present"][e_i, c_i]
            else:
                crosstalk[e_i, c_i] = out["present"][e_i, c_i] & ~part["present"]
                for key, val in part.items():
                    out[key][e_i, c_i] = val
        # artefact residual just before the LSR window (after suppression and crosstalk removal)
        r0, r1, q0, q1 = self._resid
        resid = np.abs(epochs.data[:, :, r0:r1].mean(axis=-1))
        null = (
            epochs.data[:, :, q0:q1].mean(axis=-1) if q1 > q0 else np.full((n_e, n_c), np.nan)
        )  # NaN (no residual test) when the epochs start too late for the null window
        if cleaned is not None:
            resid[e_i, c_i] = np.abs(cleaned[:, r0:r1].mean(axis=-1))
        okn = ~epochs.bad & ~noisy
        null_rms = np.sqrt(self._null.push(null**2, okn))
        w = self.calibration_n
        n_null = (
            self._okn.push(okn.astype(float), None)
            * np.minimum(np.arange(g0 + 1, g0 + n_e + 1), w)[:, None]
        )
        pooled = np.sqrt(self._pooled.push((null**2).mean(1), okn.all(1)))
        null_rms = np.where(n_null >= 10, null_rms, pooled)
        # a residual below the lowest detection threshold cannot make a detection by itself
        limit = np.maximum(self.max_artifact_residual * null_rms, float(k_floor) * sd)
        first = (g0 + np.arange(n_e))[:, None] * n_c >= 10
        bad_resid = ~direct & (resid > limit) & first
        rejected = epochs.bad | noisy | bad_resid
        reason = np.where(
            epochs.bad,
            epochs.bad_reason,
            np.where(noisy, "noisy baseline", np.where(bad_resid, "artifact residual", "")),
        ).astype(object)
        out["present"] = out["present"] & ~rejected
        out["_rejected"] = rejected
        out["false_alarm_rate"] = np.where(direct, np.nan, fa)
        out.update(self._match_scores(epochs, out, groups_lsr, clean))
        out["match_present"] = out["match_present"] & ~rejected & ~direct
        # latency of the present LSR trials: Woody's template lag once a template exists
        woody = out.pop("_woody_ms")
        out["latency_ms"] = np.where(
            out["present"] & ~direct & np.isfinite(woody), woody, out["latency_ms"]
        )
        self.n_sweeps += n_e
        extra = {
            "rejected": rejected,
            "reason": reason,
            "direct": direct,
            "ev_branch": ev_branch,
            "cal_n": cal_n,
            "resid": resid,
            "crosstalk": crosstalk,
            "xt": xt,
            "epochs": epochs,
        }
        return out, extra

    @staticmethod
    def _measure_rows(
        epochs: Epochs,
        groups: list[tuple[str, np.ndarray, np.ndarray]],
        out: dict[str, np.ndarray],
        **kw: Any,
    ) -> None:
        """Measure each (rows, channels) group into ``out`` (full (E, C) arrays)."""
        n_e, n_c = epochs.data.shape[:2]
        k_full = kw.pop("k_noise")
        for _, rows, chans in groups:  # a handful of montage groups
            if not chans.size or not rows.size:
                continue
            data = epochs.data if rows.size == n_e else epochs.data[rows]
            k = k_full if np.ndim(k_full) == 0 else np.asarray(k_full)[rows][:, chans]
            part = measure_response_array(
                data, epochs.times, epochs.sfreq, channels=chans, k_noise=k, **kw
            )
            at = (slice(None), chans) if rows.size == n_e else np.ix_(rows, chans)
            for key, val in part.items():
                if key not in out:
                    out[key] = np.zeros((n_e, n_c), dtype=val.dtype)
                out[key][at] = val

    def _match_scores(
        self,
        epochs: Epochs,
        out: dict[str, np.ndarray],
        groups: list[tuple[str, np.ndarray, np.ndarray]],
        clean: dict[str, np.ndarray],
    ) -> dict[str, np.ndarray]:
        """Causal matched-template score of every new sweep on the LSR channels of each montage.

        Per montage and channel the template is the mean of the sweeps that passed the
        calibrated single-trial test **before** the sweep scored (at most the first
        ``template_n``, aligned on their onsets), so a sweep never helps to score itself or an
        earlier one. Every sweep is projected on the unit template at lags within 1 ms; the best
        projection over its noise SD is ``match_z`` and over the template norm ``match_ratio``.
        The same projection on a pre-stimulus control region of the same sweep gives the null,
        calibrated causally (:class:`hfs_emg.calibration.CausalGumbel`) over the control values
        of the last ``calibration_n`` sweeps of the montage on the current template (a new
        template recalibrates on the stored control windows of the earlier sweeps).
        """
        n_e, n_c, n_t = epochs.data.shape
        fs = self.sfreq
        z = np.full((n_e, n_c), np.nan)
        ratio = np.full((n_e, n_c), np.nan)
        zthr = np.full((n_e, n_c), np.nan)
        fa = np.full((n_e, n_c), np.nan)
        woody = np.full((n_e, n_c), np.nan)
        pre = max(1, round(0.5e-3 * fs))
        n_len = round(_MATCH_DUR_MS * 1e-3 * fs) + pre
        n_lag = round(_MATCH_LAG_MS * 1e-3 * fs)
        c_end = self.t0 - round(1e-3 * fs)
        c_start = c_end - (2 * n_lag + n_len)
        has_ctrl = self.calibrate and c_start >= 0
        usable = out["present"] & ~out["_rejected"]
        tn, w = self.template_n, self.calibration_n
        lagged: list[tuple[np.ndarray, int, float, np.ndarray]] = []  # (rows, channel, ...)
        for key, rows, chans in groups:  # montages x LSR channels (a handful)
            for c in chans:
                st = self._series.setdefault((key, int(c)), _Series(w))
                ctrl = _region(epochs.data, rows, c, c_start, c_end, clean) if has_ctrl else None
                noise = out["noise_uv"][rows, c]
                rej = out["_rejected"][rows, c]
                use = usable[rows, c]
                i = 0
                while i < rows.size:  # segments between template changes (<= template_n)
                    end = rows.size
                    if len(st.det_lat) < tn:
                        nxt = np.flatnonzero(use[i:])
                        end = i + int(nxt[0]) + 1 if nxt.size else rows.size
                    seg = slice(i, end)
                    sel = rows[seg]
                    if st.unit is not None:
                        scan = _lag_scan(
                            _region(
                                epochs.data,
                                sel,
                                c,
                                st.start - n_lag,
                                st.start + n_lag + n_len,
                                clean,
                            ),
                            st.unit,
                            n_lag,
                        )
                        best = scan.max(axis=1)
                        lagged.append((sel, c, st.ref_ms, scan))  # Woody latency: below
                        z[sel, c] = best / noise[seg]
                        ratio[sel, c] = best / st.norm
                        if st.gumbel is not None:
                            cz = _projections(ctrl[seg], st.unit, n_lag) / noise[seg]
                            mu, beta, _ = st.gumbel.push(cz, ~rej[seg])
                            thr_c = gumbel_threshold(mu[:, 0], beta[:, 0], self.false_alarm_rate)
                            used = np.where(
                                np.isnan(thr_c), self.match_k, np.maximum(self.match_k, thr_c)
                            )
                            zthr[sel, c] = used
                            fa[sel, c] = gumbel_exceedance(used, mu[:, 0], beta[:, 0])
                    if st.ring is not None and ctrl is not None:
                        st.ring.extend(
                            zip(ctrl[seg], noise[seg].tolist(), rej[seg].tolist(), strict=True)
                        )
                    if len(st.det_lat) < tn and use[end - 1]:
                        # a new template detection: the template of the next sweeps changes
                        k = end - 1
                        st.det_lat.append(float(out["latency_ms"][rows[k], c]))
                        st.det_row.append(
                            _region(epochs.data, rows[k : k + 1], c, 0, n_t, clean)[0].copy()
                        )
                        self._new_template(st, n_t, pre, n_len, n_lag, has_ctrl)
                    i = end
        if lagged:  # elementwise per row: one pass over every scan gives the same latencies
            ref = np.concatenate([np.full(sel.size, ref_ms) for sel, _, ref_ms, _ in lagged])
            lat = _woody_latency(ref, np.concatenate([p[3] for p in lagged]), n_lag, fs)
            at = 0
            for sel, c, _, _ in lagged:
                woody[sel, c] = lat[at : at + sel.size]
                at += sel.size
        zthr = np.where(np.isnan(zthr), self.match_k, zthr)
        present = (z > zthr) & (ratio > 0.1)
        # no template yet (fewer than 3 earlier detections): the single-trial decision
        present = np.where(np.isnan(z), out["present"], present)
        fa = np.where(np.isnan(z), out["false_alarm_rate"], fa)
        return {
            "match_z": z,
            "match_ratio": ratio,
            "match_present": present,
            "match_false_alarm_rate": fa,
            "_woody_ms": woody,
        }

    def _new_template(
        self, st: _Series, n_t: int, pre: int, n_len: int, n_lag: int, has_ctrl: bool
    ) -> None:
        """Template of the detections so far (from the third); recalibrate its null."""
        fs = self.sfreq
        j = len(st.det_lat)
        st.unit, st.gumbel = None, None
        if j >= self.template_n:
            ring, st.ring = st.ring, None  # complete: no later recalibration
        else:
            ring = st.ring
        if j < 3:
            return
        on = np.asarray(st.det_lat)
        ref = float(np.median(on))
        start = self.t0 + round(ref * 1e-3 * fs) - pre
        shift = np.round((on - ref) * 1e-3 * fs).astype(np.int64)
        span = int(np.abs(shift).max())
        if start - n_lag - span < 0 or start + n_lag + n_len + span >= n_t:
            return
        tw = np.stack(
            [
                row[start + sh : start + sh + n_len]
                for row, sh in zip(st.det_row, shift, strict=True)
            ]
        )
        tmpl = tw.mean(axis=0)
        norm = float(np.sqrt(tmpl @ tmpl))
        if norm <= 0:
            return
        st.unit, st.norm, st.start, st.ref_ms = tmpl / norm, norm, start, ref
        if has_ctrl and ring:
            # the null of the new template on the control windows of the last sweeps (up to
            # and including this detection), as if the template had been scored on them
            st.gumbel = CausalGumbel(1, window=self.calibration_n, min_n=10)
            hist = list(ring)[-(self.calibration_n - 1) :] if self.calibration_n > 1 else []
            if hist:
                regs = np.stack([h[0] for h in hist])
                noise = np.array([h[1] for h in hist])
                ok = ~np.array([h[2] for h in hist], dtype=bool)
                st.gumbel.push(_projections(regs, st.unit, n_lag) / noise, ok)
        elif has_ctrl:
            st.gumbel = CausalGumbel(1, window=self.calibration_n, min_n=10)

    # ------------------------------------------------------------------ the table
    def _frame(
        self,
        epochs: Epochs,
        ev: dict[str, np.ndarray],
        out: dict[str, np.ndarray],
        ex: dict[str, Any],
    ) -> pd.DataFrame:
        return frame_from_columns(self._columns(epochs, ev, out, ex))

    def _columns(
        self,
        epochs: Epochs,
        ev: dict[str, np.ndarray],
        out: dict[str, np.ndarray],
        ex: dict[str, Any],
    ) -> dict[str, Any]:
        """The columns of the new sweeps' rows, in the table's order (arrays)."""
        n_e, n_c = epochs.data.shape[:2]
        g0 = self.n_sweeps - n_e
        rep = np.repeat(np.arange(n_e), n_c)
        direct = ex["direct"]
        one = n_e == 1  # the live path: the constant columns as they are (the table copies)
        chan = np.tile(np.arange(n_c), n_e)
        cols: dict[str, Any] = {
            "stim_index": (ev["stim_index"][rep] if "stim_index" in ev else rep + g0),
            "stim_time_s": ev["onset_s"].astype(float)[rep],
            "channel": self._names if one else self._names.take(chan),
            "muscle": None,
            "kind": (
                _kind_column(tuple(direct.reshape(-1).tolist()))
                if one
                else _KINDS.take(np.where(direct, 0, 1).reshape(-1))
            ),
        }
        if self._muscles is not None:
            cols["muscle"] = self._muscles if one else self._muscles.take(chan)
        else:
            cols["muscle"] = np.tile(self.channels["muscle"].to_numpy(object), n_e)
        for key in RESPONSE_COLUMNS:
            cols[key] = out[key].reshape(-1)
        cols["present"] = out["present"].reshape(-1)
        cols["rejected"] = ex["rejected"].reshape(-1)
        cols["reject_reason"] = _str_column(ex["reason"].reshape(-1))
        cols["montage"] = _str_column(ex["ev_branch"][rep])
        if "intensity_ma" not in ev:
            intens = np.full(n_e, np.nan)
        elif ev["intensity_ma"].dtype.kind in "iuf":  # numbers already: what to_numeric gives
            intens = ev["intensity_ma"].astype(float)
        else:
            intens = pd.to_numeric(pd.Series(ev["intensity_ma"]), errors="coerce").to_numpy(float)
        cols["intensity_ma"] = intens[rep]
        cols["false_alarm_rate"] = out["false_alarm_rate"].reshape(-1)
        cols["calibration_n"] = np.where(direct, 0, ex["cal_n"]).astype(np.int64).reshape(-1)
        cols["artifact_residual_uv"] = ex["resid"].reshape(-1)
        cols["crosstalk"] = ex["crosstalk"].reshape(-1)
        cols["crosstalk_gain"] = ex["xt"]["gain"].reshape(-1)
        cols["crosstalk_r"] = ex["xt"]["r"].reshape(-1)
        for key in ("match_z", "match_ratio", "match_present", "match_false_alarm_rate"):
            cols[key] = out[key].reshape(-1)
        return cols
