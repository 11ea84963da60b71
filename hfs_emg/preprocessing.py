"""Recording-level preprocessing: filters, mains notch, rectification, envelopes, noise.

Each function takes a :class:`~hfs_emg.Recording` first and returns a NEW Recording (the input
is never modified) with a step appended to its history. Only the picked channels change
(``picks="emg"`` by default), so stimulus/trigger channels are never filtered. Channels are
processed one at a time, on several threads for long recordings (``n_jobs``; SciPy's filters
and the optional numba kernels of :mod:`hfs_emg._fastfilt` release the GIL), so the temporary
memory is one channel's worth. For recordings that do not
fit in memory, run these functions window by window with
:func:`hfs_emg._chunking.process_chunked`.

Default filter bands
--------------------
- :func:`bandpass_filter` / :func:`filter_emg` default to 20-1000 Hz. The 20 Hz high-pass is
  the upper end of SENIAM's 10-20 Hz for surface EMG (Hermens et al. 2000; ISEK asks for 5 Hz
  and for the filter type, order and corners to be reported, Merletti 1999): it removes
  movement artefact and electrode drift. The upper corner is raised from the surface-EMG
  ~500 Hz to 1000 Hz because facial needle/subdermal recordings carry motor-unit energy well
  above 500 Hz: facial electroneurography is recorded at 30 Hz-3 kHz (Guntinas-Lichius et al.,
  Eur Arch Otorhinolaryngol 2020;277:1855) and 10/30 Hz-3 kHz is the usual LSR setting (not
  found in a citable source). Use ``l_freq=30, h_freq=3000`` for needle recordings sampled at
  >= 10 kHz.
- The notch is optional: it is discouraged for needle EMG (it removes real signal; also not
  found in a citable source), so prefer fixing the recording and use it when hum is visible
  (``freq="auto"`` detects 50 or 60 Hz and does nothing when neither stands out).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from . import _fastfilt
from . import signal as _sig
from ._chunking import map_channels, run_tasks
from ._errors import HfsEmgWarning, ParameterError
from ._validate import check_option, check_positive, validate_type
from .recording import Recording

__all__ = [
    "DEFAULT_BAND",
    "ENVELOPE_METHODS",
    "NOISE_METHODS",
    "EmgFilter",
    "bandpass_filter",
    "emg_filter_margin_s",
    "envelope",
    "estimate_noise",
    "filter_emg",
    "highpass_filter",
    "lowpass_filter",
    "notch_filter",
    "rectify",
]

logger = logging.getLogger("hfs_emg")

Kernel = Callable[[npt.NDArray[np.floating]], npt.NDArray[np.floating]]

#: The default EMG band (Hz) of :func:`filter_emg` and :class:`EmgFilter` (module notes).
DEFAULT_BAND: tuple[float, float] = (20.0, 1000.0)


def _declares_margin(margin: Callable[..., float]) -> Callable[[Any], Any]:
    """Attach ``margin_s(**params)`` to a transform: the signal it needs on each side of a
    chunk (SpikeInterface's pattern: the filter knows its margin, the chunk executor asks)."""

    def wrap(func: Any) -> Any:
        func.margin_s = margin
        return func

    return wrap


def _notch_margin(freq: Any, q: float) -> float:
    if freq is None:
        return 0.0
    # "auto" may pick 50 Hz, whose margin is the longer of 50 and 60
    return _sig.notch_margin_s(50.0 if isinstance(freq, str) else float(freq), q)


def _check_rec(rec: Any) -> Recording:
    return validate_type(rec, Recording, "rec")


def _apply(
    rec: Recording,
    kernel: Kernel,
    *,
    picks: Any,
    step: str,
    params: dict[str, Any],
    n_jobs: int | None,
    writes_out: bool = False,
) -> Recording:
    """New Recording with ``kernel`` applied to every picked channel (others copied)."""
    idx = rec._pick_indices(picks)
    out = np.empty_like(rec.data)
    others = np.setdiff1d(np.arange(rec.n_channels), idx)
    out[others] = rec.data[others]
    map_channels(kernel, rec.data, idx, out=out, n_jobs=n_jobs, writes_out=writes_out)
    names = [rec.ch_names[i] for i in idx]
    return rec.with_data(out, step=step, params={**params, "picks": names})


# --------------------------------------------------------------------------- filters
@_declares_margin(lambda l_freq=20.0, **_: _sig.highpass_margin_s(l_freq))
def bandpass_filter(
    rec: Recording,
    l_freq: float = 20.0,
    h_freq: float = 1000.0,
    *,
    order: int = 4,
    picks: Any = "emg",
    n_jobs: int | None = None,
) -> Recording:
    """Zero-phase Butterworth band-pass of the picked channels.

    Parameters
    ----------
    rec : Recording
        The recording.
    l_freq, h_freq : float
        Corners in Hz (default 20-1000 Hz; see the module notes for their sources). ``h_freq``
        must be below Nyquist (``rec.sfreq / 2``).
    order : int
        Butterworth order per edge; filtered forward and backward (zero phase, order doubled).
    picks : str, int or sequence
        Channels to filter (default all EMG channels; stim channels are never touched unless
        picked explicitly).
    n_jobs : int or None
        Threads over channels (None: both cores for recordings long enough to benefit).

    Returns
    -------
    Recording
        New recording; history step ``"bandpass_filter"``.

    References
    ----------
    .. [1] H. J. Hermens, B. Freriks, C. Disselhorst-Klug, G. Rau, "Development of
       recommendations for SEMG sensors and sensor placement procedures", J. Electromyogr.
       Kinesiol. 10(5), 361-374 (2000) (SENIAM).
    .. [2] R. Merletti, "Standards for reporting EMG data", J. Electromyogr. Kinesiol. 9(1),
       III-IV (1999) (ISEK).

    Examples
    --------
    >>> from hfs_emg import from_array
    >>> rng = np.random.default_rng(0)
    >>> rec = from_array(rng.normal(size=(2, 4000)), 4000.0, ["oculi_L", "trigger"])
    >>> out = bandpass_filter(rec, 20.0, 1000.0)
    >>> out.history[-1]["step"], out.history[-1]["params"]["picks"]
    ('bandpass_filter', ['oculi_L'])
    >>> bool(np.array_equal(out.data[1], rec.data[1]))  # the trigger channel is untouched
    True
    """
    rec = _check_rec(rec)
    sos = _sig.sos_bandpass(rec.sfreq, l_freq, h_freq, order=order)
    return _apply(
        rec,
        _sig.sosfiltfilt_kernel(sos, rec.data.dtype),
        picks=picks,
        step="bandpass_filter",
        params={"l_freq": float(l_freq), "h_freq": float(h_freq), "order": order},
        n_jobs=n_jobs,
        writes_out=True,
    )


@_declares_margin(lambda l_freq=20.0, **_: _sig.highpass_margin_s(l_freq))
def highpass_filter(
    rec: Recording,
    l_freq: float = 20.0,
    *,
    order: int = 4,
    picks: Any = "emg",
    n_jobs: int | None = None,
) -> Recording:
    """Zero-phase Butterworth high-pass of the picked channels (see :func:`bandpass_filter`).

    References
    ----------
    .. [1] H. J. Hermens et al., J. Electromyogr. Kinesiol. 10(5), 361-374 (2000) (SENIAM:
       high-pass 10-20 Hz for surface EMG).

    Examples
    --------
    >>> from hfs_emg import from_array
    >>> rec = from_array(np.full((1, 2000), 100.0), 1000.0, ["mentalis"])
    >>> float(np.abs(highpass_filter(rec, 10.0).data).max()) < 1e-6
    True
    """
    rec = _check_rec(rec)
    sos = _sig.sos_highpass(rec.sfreq, l_freq, order=order)
    return _apply(
        rec,
        _sig.sosfiltfilt_kernel(sos, rec.data.dtype),
        picks=picks,
        step="highpass_filter",
        params={"l_freq": float(l_freq), "order": order},
        n_jobs=n_jobs,
        writes_out=True,
    )


@_declares_margin(lambda **_: 0.0)  # its transient is a few samples of the high corner
def lowpass_filter(
    rec: Recording,
    h_freq: float = 1000.0,
    *,
    order: int = 4,
    picks: Any = "emg",
    n_jobs: int | None = None,
) -> Recording:
    """Zero-phase Butterworth low-pass of the picked channels (see :func:`bandpass_filter`).

    References
    ----------
    .. [1] R. Merletti, J. Electromyogr. Kinesiol. 9(1), III-IV (1999) (ISEK: report filter
       type, order and corners).

    Examples
    --------
    >>> from hfs_emg import from_array
    >>> rec = from_array(np.ones((1, 2000)), 1000.0, ["mentalis"])
    >>> bool(np.allclose(lowpass_filter(rec, 100.0).data, 1.0))
    True
    """
    rec = _check_rec(rec)
    sos = _sig.sos_lowpass(rec.sfreq, h_freq, order=order)
    return _apply(
        rec,
        _sig.sosfiltfilt_kernel(sos, rec.data.dtype),
        picks=picks,
        step="lowpass_filter",
        params={"h_freq": float(h_freq), "order": order},
        n_jobs=n_jobs,
        writes_out=True,
    )


def _lowpass_corner(rec: Recording) -> float | None:
    """The upper corner of the last band-/low-pass step in the history, if any."""
    for entry in reversed(rec.history):
        if entry.get("step") in ("bandpass_filter", "lowpass_filter"):
            return entry.get("params", {}).get("h_freq")
    return None


@_declares_margin(lambda freq="auto", q=30.0, **_: _notch_margin(freq, q))
def notch_filter(
    rec: Recording,
    freq: float | Literal["auto"] = "auto",
    *,
    harmonics: bool = True,
    q: float = 30.0,
    method: str = "auto",
    picks: Any = "emg",
    n_jobs: int | None = None,
) -> Recording:
    """Remove mains hum (50 or 60 Hz and harmonics) from the picked channels.

    Parameters
    ----------
    rec : Recording
        The recording.
    freq : float or "auto"
        Mains frequency in Hz. ``"auto"`` detects 50 or 60 Hz from the spectrum of the picked
        channels (:func:`hfs_emg.signal.detect_mains`); when neither stands out the recording is
        returned unchanged (with a warning and a history entry saying so).
    harmonics : bool
        Also remove the harmonics.
    q : float
        Quality factor: each notch is ``freq / q`` Hz wide.
    method : {"auto", "iir", "comb"}
        See :func:`hfs_emg.signal.notch`. With ``"iir"`` the harmonics stop at the upper corner
        of an earlier band-/low-pass step (they are already filtered out above it).
    picks : str, int or sequence
        Channels to filter (default EMG).
    n_jobs : int or None
        Threads over channels.

    Returns
    -------
    Recording
        New recording; history step ``"notch_filter"`` with the frequency used.

    References
    ----------
    .. [1] S. J. Orfanidis, *Introduction to Signal Processing*, Prentice Hall (1996), sec. 11.3.

    Examples
    --------
    >>> from hfs_emg import from_array
    >>> rng = np.random.default_rng(0)
    >>> t = np.arange(20_000) / 2000.0
    >>> rec = from_array(rng.normal(size=20_000) + 5 * np.sin(2 * np.pi * 60 * t), 2000.0)
    >>> out = notch_filter(rec)
    >>> out.history[-1]["params"]["freq"], round(float(out.data[0, 4000:-4000].std()), 1)
    (60.0, 1.0)
    """
    rec = _check_rec(rec)
    q = check_positive(q, "q")
    detected = freq == "auto"
    if detected:
        idx = rec._pick_indices(picks)
        found = _sig.detect_mains(rec.data[idx], rec.sfreq)
        if found is None:
            warnings.warn(
                "notch_filter(freq='auto'): no 50 or 60 Hz mains peak found in "
                f"{[rec.ch_names[i] for i in idx]}; the data are returned unfiltered.",
                HfsEmgWarning,
                stacklevel=2,
            )
            return rec.with_data(
                rec.data, step="notch_filter", params={"freq": None, "detected": True}
            )
        freq = found
        logger.info("notch_filter: detected %g Hz mains", freq)
    freq = check_positive(freq, "freq")
    max_freq = _lowpass_corner(rec)
    fs, dtype = rec.sfreq, rec.data.dtype
    _sig.notch_sos(fs, freq, harmonics=harmonics, q=q)  # validate before threading
    method = check_option("method", method, ["auto", *_sig.NOTCH_METHODS])
    integer_period = abs(fs / freq - round(fs / freq)) < 1e-9
    used = ("comb" if harmonics and integer_period else "iir") if method == "auto" else method
    if used == "comb" and not (harmonics and integer_period):
        raise ParameterError(
            f"method='comb' removes every harmonic and needs an integer number of samples per "
            f"mains period (fs / freq = {fs:g} / {freq:g} = {fs / freq:.6g}, harmonics="
            f"{harmonics}). Use method='iir'."
        )
    if used == "comb":
        kernel = _sig.notch_kernel(fs, freq, dtype, q=q)
    else:
        sos = _sig.notch_sos(fs, freq, harmonics=harmonics, q=q, max_freq=max_freq)
        kernel = _sig.sosfiltfilt_kernel(sos, dtype)
    return _apply(
        rec,
        kernel,
        picks=picks,
        step="notch_filter",
        params={
            "freq": float(freq),
            "detected": detected,
            "harmonics": harmonics,
            "q": q,
            "method": used,
        },
        n_jobs=n_jobs,
        writes_out=True,
    )


def emg_filter_margin_s(
    l_freq: float = DEFAULT_BAND[0],
    notch: Any = "lines",
    q: float = 30.0,
    mains: float | None = None,
    **_: Any,
) -> float:
    """Signal (s) the EMG filter needs on each side of a chunk (the one margin rule).

    Six periods of the high-pass corner (:func:`hfs_emg.signal.highpass_margin_s`) or twelve
    time constants of the notch (:func:`hfs_emg.signal.notch_margin_s`), whichever is longer:
    both transients decay together from the chunk's edge. A hum-line notch at ``f`` has the
    width of a comb tooth, ``mains / q`` (quality ``q f / mains``), so every line needs the
    margin of the mains notch. Before the mains is known (``"lines"``/``"auto"``), 50 Hz, the
    longer of 50 and 60 Hz, is assumed.

    Examples
    --------
    >>> round(emg_filter_margin_s(20.0, "lines"), 4), emg_filter_margin_s(20.0, None)
    (2.2918, 0.3)
    """
    hp = _sig.highpass_margin_s(l_freq)
    if notch is None:
        return hp
    f0 = (float(mains) if mains else 50.0) if isinstance(notch, str) else float(notch)
    return max(hp, _sig.notch_margin_s(f0, q))


#: Notch choices of :func:`filter_emg` and :class:`EmgFilter`.
NOTCH_CHOICES: tuple[str, ...] = ("lines", "auto")


@dataclass(frozen=True)
class EmgFilter:
    """The default EMG filter, designed once for a recording and applied channel by channel.

    A zero-phase Butterworth band-pass (``l_freq``-``h_freq``, ``order`` per edge, forward and
    backward) followed by the mains notch chosen by ``notch``:

    - ``"lines"`` (default): narrow IIR notches (width ``mains / q`` Hz, like the teeth of a
      comb) at the harmonics that carry hum (:func:`hfs_emg.hum.estimate_hum`), with both ends
      of the band-passed row continued by whole mains periods so the notches leave no edge
      transient. HFS discharges run at 150-400 Hz, where the 3rd-8th harmonics lie: a comb
      notch at every harmonic would remove a near-periodic burst's fundamental and ring around
      it, so only the harmonics that carry hum are notched;
    - ``"comb"``: the zero-phase comb notch at every harmonic of ``mains``
      (:func:`hfs_emg.signal.notch_kernel`);
    - None: band-pass only.

    This one filter is what :func:`filter_emg` applies, what :func:`hfs_emg.detect_bursts` applies
    to an unfiltered recording and what the streamed analysis applies to every chunk, so every
    route filters alike. Build it with :meth:`design` (mains and hum lines estimated once, from
    a bounded sample of the whole recording or file).

    Attributes
    ----------
    sfreq : float
        Sampling rate in Hz.
    l_freq, h_freq : float
        Band-pass corners in Hz.
    order : int
        Butterworth order per edge.
    notch : {"lines", "comb"} or None
        The notch applied (None when no hum was found or none was asked for).
    mains : float or None
        Mains frequency of the notch (Hz).
    lines : tuple of float
        The notched harmonics (``"lines"``), Hz.
    q : float
        Quality of the notch (width ``mains / q`` Hz).
    detected : bool
        Whether the mains was estimated from the data (False when given).

    References
    ----------
    .. [1] H. J. Hermens et al., J. Electromyogr. Kinesiol. 10(5), 361-374 (2000) (SENIAM).
    .. [2] S. J. Orfanidis, *Introduction to Signal Processing*, Prentice Hall (1996), sec.
       11.3 (notch and comb filters).

    Examples
    --------
    >>> fs = 4000.0
    >>> t = np.arange(20_000) / fs
    >>> x = np.random.default_rng(0).normal(size=(1, t.size)) + 5 * np.sin(2 * np.pi * 50 * t)
    >>> filt = EmgFilter.design(x, fs)
    >>> filt.notch, filt.mains, filt.lines
    ('lines', 50.0, (50.0,))
    >>> y = filt.apply(x[0])
    >>> bool(np.std(y) < 1.1)
    True
    """

    sfreq: float
    l_freq: float = DEFAULT_BAND[0]
    h_freq: float = DEFAULT_BAND[1]
    order: int = 4
    notch: str | None = None
    mains: float | None = None
    lines: tuple[float, ...] = ()
    q: float = 30.0
    detected: bool = True
    _kernels: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def design(
        cls,
        x_or_read: npt.ArrayLike | Callable[[int, int], npt.NDArray[np.floating]],
        sfreq: float,
        *,
        n_samples: int | None = None,
        l_freq: float = DEFAULT_BAND[0],
        h_freq: float = DEFAULT_BAND[1],
        notch: float | str | None = "lines",
        order: int = 4,
        q: float = 30.0,
    ) -> EmgFilter:
        """The filter for a recording: its hum estimated once from a bounded sample.

        Parameters
        ----------
        x_or_read : array-like, shape (n_channels, n_samples), or callable
            The channels to filter, or ``read(start, stop)`` returning their samples
            ``start:stop`` (a file: only the sample windows of
            :func:`hfs_emg.hum.estimate_hum` are read).
        sfreq : float
            Sampling rate in Hz.
        n_samples : int, optional
            Length of the recording (needed with a callable).
        l_freq, h_freq : float
            Band-pass corners in Hz.
        notch : "lines", "auto", float or None
            ``"lines"``: notches at the hum lines; ``"auto"``: comb at every harmonic of the
            detected mains; a frequency: comb at that mains; None: no notch.
        order : int
            Butterworth order per edge.
        q : float
            Notch quality (width ``mains / q`` Hz).

        Returns
        -------
        EmgFilter
        """
        from .hum import estimate_hum

        fs = float(sfreq)
        _sig.sos_bandpass(fs, l_freq, h_freq, order=order)  # validates the corners
        q = check_positive(q, "q")
        base = {"sfreq": fs, "l_freq": float(l_freq), "h_freq": float(h_freq), "order": order}
        base["q"] = q
        if isinstance(notch, str):
            check_option("notch", notch, NOTCH_CHOICES)
            hum = estimate_hum(
                x_or_read, fs, n_samples=n_samples, band=(l_freq, h_freq), max_freq=h_freq
            )
            if hum.mains is None:
                logger.info("EmgFilter: no 50/60 Hz mains peak found; no notch")
                return cls(**base)
            if notch == "lines":
                if not hum.lines:
                    return cls(**base, mains=hum.mains)
                return cls(**base, notch="lines", mains=hum.mains, lines=hum.lines)
            return cls(**base, notch="comb", mains=hum.mains)
        if notch is None:
            return cls(**base)
        freq = check_positive(notch, "notch")
        _sig.notch_sos(fs, freq, q=q)  # validate now, not in a worker thread
        return cls(**base, notch="comb", mains=freq, detected=False)

    @property
    def margin_s(self) -> float:
        """Signal needed on each side of a chunk (:func:`emg_filter_margin_s`), seconds."""
        return emg_filter_margin_s(self.l_freq, self.notch, self.q, self.mains)

    def steps(self) -> list[tuple[str, dict[str, Any]]]:
        """The history steps ``(step, params)`` this filter stands for."""
        out: list[tuple[str, dict[str, Any]]] = [
            (
                "bandpass_filter",
                {"l_freq": self.l_freq, "h_freq": self.h_freq, "order": self.order},
            )
        ]
        if self.notch == "lines":
            out.append(
                (
                    "notch_filter",
                    {
                        "freq": list(self.lines),
                        "mains": self.mains,
                        "detected": True,
                        "harmonics": False,
                        "q": self.q,
                        "method": "iir",
                    },
                )
            )
        elif self.notch == "comb":
            fs, freq = self.sfreq, float(self.mains)  # type: ignore[arg-type]
            used = "comb" if abs(fs / freq - round(fs / freq)) < 1e-9 else "iir"
            out.append(
                (
                    "notch_filter",
                    {"freq": freq, "detected": self.detected, "harmonics": True, "q": self.q,
                     "method": used},
                )
            )  # fmt: skip
        return out

    def kernel(self, dtype: npt.DTypeLike) -> Callable[..., npt.NDArray[np.floating]]:
        """``kernel(raw) -> filtered`` of one row in ``dtype`` (built once per dtype).

        ``kernel(raw, out)`` writes the result into ``out`` instead (same length).
        """
        dt = np.dtype(dtype)
        got = self._kernels.get(dt)
        if got is None:
            got = self._build(dt)
            self._kernels[dt] = got
        return got

    def apply(
        self, row: npt.ArrayLike, out: npt.NDArray[np.floating] | None = None
    ) -> npt.NDArray[np.floating]:
        """The filtered row (float rows keep their dtype, others become float64)."""
        raw = np.asarray(row)
        dt = raw.dtype if raw.dtype.kind == "f" else np.dtype(np.float64)
        return self.kernel(dt)(raw, out)

    def apply_rows(
        self,
        data: npt.NDArray[np.floating],
        rows: npt.ArrayLike | None = None,
        *,
        n_jobs: int | None = None,
    ) -> None:
        """Filter rows ``rows`` (default all) of the 2-D float array ``data`` in place.

        The same samples as :meth:`apply` of each row. With the compiled kernels and hum-line
        notches, the band-pass runs row by row on threads, then each notch runs over
        :data:`hfs_emg._fastfilt.ROWS` rows at once (their recursions interleaved: a
        one-section notch is latency-bound, so four rows cost about what one does).
        """
        if data.ndim != 2 or data.dtype.kind != "f":
            raise ParameterError(
                f"apply_rows needs a 2-D float array, got {data.dtype} {data.shape}."
            )
        picks = np.arange(data.shape[0]) if rows is None else np.asarray(rows, dtype=np.int64)
        picks = picks.astype(np.int64)
        kernel = self.kernel(data.dtype)
        n = data.shape[1]
        fused = self._kernels.get(("rows", data.dtype))
        if fused is None or 2 * fused[1] >= n or len(picks) < 2:
            run_tasks(lambda r: kernel(data[r], data[r]), picks, n_jobs=n_jobs, n_samples=n)
            return
        band, pad, parts = fused
        run_tasks(lambda r: band(data[r], data[r]), picks, n_jobs=n_jobs, n_samples=n)
        k = _fastfilt.ROWS
        groups = [picks[j : j + k] for j in range(0, len(picks), k)]
        # the rows' continuations (whole mains periods of the band-passed rows), as kernel()
        heads = [data[g, pad : 2 * pad] for g in groups]  # copies (fancy indexing)
        tails = [data[g, n - 2 * pad : n - pad] for g in groups]

        def group(j: int) -> None:
            for notch in parts:  # in place: every notch over the rows and their continuations
                notch.rows(heads[j], data, groups[j], tails[j])

        run_tasks(group, range(len(groups)), n_jobs=n_jobs, n_samples=n * k)

    def _build(self, dt: np.dtype) -> Callable[..., npt.NDArray[np.floating]]:
        fs = self.sfreq
        band = _sig.sosfiltfilt_kernel(
            _sig.sos_bandpass(fs, self.l_freq, self.h_freq, order=self.order), dt
        )
        if self.notch == "comb":
            comb = _sig.notch_kernel(fs, float(self.mains), dt, q=self.q, max_freq=self.h_freq)  # type: ignore[arg-type]

            def comb_kernel(raw: Any, out: Any = None) -> npt.NDArray[np.floating]:
                raw = np.asarray(raw, dtype=dt)
                out = np.empty(raw.shape, dtype=dt) if out is None else out
                band(raw, out)
                comb(out, out)  # in place: the comb reads each block before writing it
                return out

            return comb_kernel
        mains = self.mains
        period = max(round(fs / mains), 1) if mains else 1
        pad = int(np.ceil(0.6 * fs / period)) * period
        # one zero-phase pass per hum line, each over the whole padded buffer (a cascade in one
        # pass would differ in the edge transients: the tables would not be those of before)
        sos_lines = [
            _sig.notch_sos(fs, f, harmonics=False, q=self.q * f / float(mains))  # type: ignore[arg-type]
            for f in (self.lines if self.notch == "lines" else ())
        ]
        notches = [_sig.sosfiltfilt_kernel(sos, dt) for sos in sos_lines]
        parts = [_parts_filter(sos, dt) for sos in sos_lines] if _fastfilt.enabled() else None
        if notches and parts is not None:
            self._kernels[("rows", dt)] = (band, pad, parts)

        def kernel(raw: Any, out: Any = None) -> npt.NDArray[np.floating]:
            raw = np.asarray(raw, dtype=dt)
            n = raw.shape[-1]
            if notches and parts is not None and 2 * pad < n:
                # compiled: the notches run in place over (head, row, tail), the row's two
                # continuations, exactly as over one padded copy of the row (not allocated)
                res = np.empty(raw.shape, dtype=dt) if out is None else out
                band(raw, res)
                head = res[pad : 2 * pad].copy()
                tail = res[n - 2 * pad : n - pad].copy()
                for notch in parts:
                    notch(head, res, tail)
                return res
            if not notches or 2 * pad >= n:
                res = np.empty(raw.shape, dtype=dt) if out is None else out
                band(raw, res)
                for notch in notches:
                    notch(res, res)
                return res
            ext = np.empty(n + 2 * pad, dtype=dt)
            band(raw, ext[pad : pad + n])
            # both ends continued by whole mains periods of the band-passed data
            ext[:pad] = ext[2 * pad : 3 * pad]
            ext[pad + n :] = ext[n - pad : n]
            for notch in notches:  # in place: the kernels may write over their input
                notch(ext, ext)
            if out is None:
                return ext[pad : pad + n]
            out[:] = ext[pad : pad + n]
            return out

        return kernel

    def filter(self, rec: Recording, *, picks: Any = "emg", n_jobs: int | None = None) -> Recording:
        """New Recording with the picked channels filtered (history: the filter's steps)."""
        rec = _check_rec(rec)
        kernel = self.kernel(rec.data.dtype if rec.data.dtype.kind == "f" else np.float64)
        steps = self.steps()
        step0, params0 = steps[0]
        out = _apply(
            rec, kernel, picks=picks, step=step0, params=params0, n_jobs=n_jobs, writes_out=True
        )
        names = out.history[-1]["params"]["picks"]
        for step, params in steps[1:]:
            out = out.with_data(out.data, step=step, params={**params, "picks": names})
        return out


def _parts_filter(sos: npt.ArrayLike, dt: np.dtype) -> Callable[..., None]:
    """``f(head, x, tail)``: zero-phase ``sos`` of the concatenation, in place in the parts.

    The coefficients, initial conditions and odd-extension length of
    :func:`hfs_emg.signal.sosfiltfilt_kernel` (so the result is bitwise that of the kernel
    over one array holding the three parts); compiled (:func:`hfs_emg._fastfilt.sosfiltfilt_parts`).
    """
    from scipy.signal import sosfilt_zi

    coeffs = np.array(sos, dtype=dt)
    ntaps = 2 * len(coeffs) + 1 - min((coeffs[:, 2] == 0).sum(), (coeffs[:, 5] == 0).sum())
    padlen = 3 * int(ntaps)
    zi0 = sosfilt_zi(coeffs).astype(dt)

    def run(head: Any, x: Any, tail: Any) -> None:
        if min(head.shape[0], tail.shape[0]) <= padlen:  # internal: pad >> padlen
            raise ParameterError(f"continuations shorter than the {padlen}-sample odd extension")
        _fastfilt.sosfiltfilt_parts(coeffs, zi0, head, x, tail, padlen)

    def rows(heads: Any, a: Any, picks: Any, tails: Any) -> None:
        # ROWS channels at a time (a one-section notch), the remainder one by one
        k = _fastfilt.ROWS
        if len(coeffs) != 1 or len(picks) < k:
            for j, r in enumerate(picks):
                run(heads[j], a[r], tails[j])
            return
        for j0 in range(0, len(picks) - k + 1, k):
            sl = slice(j0, j0 + k)
            h, t = np.ascontiguousarray(heads[sl]), np.ascontiguousarray(tails[sl])
            if min(h.shape[1], t.shape[1]) <= padlen:  # internal: pad >> padlen
                raise ParameterError(f"continuations shorter than the {padlen}-sample extension")
            _fastfilt.sosfiltfilt_parts_rows(coeffs, zi0, h, a, picks[sl], t, padlen)
            heads[sl], tails[sl] = h, t
        for j in range(len(picks) - len(picks) % k, len(picks)):
            run(heads[j], a[picks[j]], tails[j])

    run.rows = rows  # type: ignore[attr-defined]
    return run


@_declares_margin(emg_filter_margin_s)
def filter_emg(
    rec: Recording,
    l_freq: float = DEFAULT_BAND[0],
    h_freq: float = DEFAULT_BAND[1],
    *,
    notch: float | Literal["lines", "auto"] | None = "lines",
    order: int = 4,
    q: float = 30.0,
    picks: Any = "emg",
    n_jobs: int | None = None,
) -> Recording:
    """Band-pass and mains notch in one pass per channel: the default EMG filter.

    Applies :class:`EmgFilter` (the one filter :func:`hfs_emg.detect_bursts` and the streamed
    analysis also apply): each channel goes through the band-pass and the notch while it is in
    cache, and only one output array is allocated.

    Parameters
    ----------
    rec : Recording
        The recording.
    l_freq, h_freq : float
        Band-pass corners in Hz (see :func:`bandpass_filter`).
    notch : "lines", "auto", float or None
        ``"lines"`` (default): narrow notches at the mains harmonics that carry hum, estimated
        from a bounded sample of the picked channels (:func:`hfs_emg.hum.estimate_hum`);
        ``"auto"``: comb notch at every harmonic of the detected 50 or 60 Hz (as
        :func:`notch_filter`); a frequency: comb at that mains; None never notches. No notch
        when no hum stands out.
    order : int
        Butterworth order.
    q : float
        Notch quality factor (width ``mains / q`` Hz).
    picks : str, int or sequence
        Channels (default EMG).
    n_jobs : int or None
        Threads over channels.

    Returns
    -------
    Recording
        New recording whose history holds a ``"bandpass_filter"`` and (when a notch was
        applied) a ``"notch_filter"`` step, as the two separate calls would.

    References
    ----------
    .. [1] H. J. Hermens et al., J. Electromyogr. Kinesiol. 10(5), 361-374 (2000) (SENIAM).
    .. [2] S. J. Orfanidis, *Introduction to Signal Processing*, Prentice Hall (1996), sec.
       11.3.

    Examples
    --------
    >>> from hfs_emg import from_array
    >>> rng = np.random.default_rng(0)
    >>> t = np.arange(20_000) / 4000.0
    >>> rec = from_array(rng.normal(size=20_000) + 5 * np.sin(2 * np.pi * 50 * t), 4000.0)
    >>> out = filter_emg(rec)
    >>> [(h["step"], h["params"].get("freq")) for h in out.history]
    [('bandpass_filter', None), ('notch_filter', [50.0])]
    >>> comb = filter_emg(rec, notch="auto")  # every harmonic, as notch_filter
    >>> bool(np.allclose(comb.data, notch_filter(bandpass_filter(rec), 50.0).data))
    True
    """
    rec = _check_rec(rec)
    idx = rec._pick_indices(picks)
    data = rec.data

    def read(start: int, stop: int) -> npt.NDArray[np.floating]:
        return np.asarray(data[idx, start:stop])

    filt = EmgFilter.design(
        read,
        rec.sfreq,
        n_samples=rec.n_samples,
        l_freq=l_freq,
        h_freq=h_freq,
        notch=notch,
        order=order,
        q=q,
    )
    return filt.filter(rec, picks=picks, n_jobs=n_jobs)


# --------------------------------------------------------------------------- envelopes
@_declares_margin(lambda **_: 0.0)
def rectify(rec: Recording, *, picks: Any = "emg") -> Recording:
    """Full-wave rectification ``|x|`` of the picked channels.

    References
    ----------
    .. [1] R. Merletti, "Standards for reporting EMG data", J. Electromyogr. Kinesiol. 9(1),
       III-IV (1999) (rectified and averaged EMG).

    Examples
    --------
    >>> from hfs_emg import from_array
    >>> rectify(from_array(np.array([[-2.0, 1.0]]), 100.0)).data
    array([[2., 1.]])
    """
    rec = _check_rec(rec)
    return _apply(rec, _sig.rectify, picks=picks, step="rectify", params={}, n_jobs=1)


def _env_rms(x: npt.NDArray[np.floating], fs: float, window_s: float) -> npt.NDArray[np.floating]:
    return _sig.moving_rms(x, fs, window_s)


def _env_tkeo(x: npt.NDArray[np.floating], fs: float, window_s: float) -> npt.NDArray[np.floating]:
    # sqrt of the moving mean of |psi|: back in microvolts, weighted by frequency.
    smooth = _sig.moving_average(np.abs(_sig.tkeo(x)), fs, window_s)
    return np.sqrt(smooth, out=smooth)


def _env_hilbert(
    x: npt.NDArray[np.floating], fs: float, window_s: float
) -> npt.NDArray[np.floating]:
    return _sig.moving_average(_sig.hilbert_envelope(x), fs, window_s)


#: Envelope methods of :func:`envelope` (``method=``).
ENVELOPE_METHODS: dict[str, Callable[..., npt.NDArray[np.floating]]] = {
    "rms": _env_rms,
    "tkeo": _env_tkeo,
    "hilbert": _env_hilbert,
}


@_declares_margin(lambda window_s=0.025, **_: float(window_s))
def envelope(
    rec: Recording,
    *,
    method: str = "rms",
    window_s: float = 0.025,
    picks: Any = "emg",
    n_jobs: int | None = None,
) -> Recording:
    """Amplitude envelope of the picked channels (in microvolts).

    Parameters
    ----------
    rec : Recording
        Band-passed recording.
    method : {"rms", "tkeo", "hilbert"}
        ``"rms"``: centred moving RMS over ``window_s`` (:func:`hfs_emg.signal.moving_rms`).
        ``"tkeo"``: square root of the moving mean of ``|TKEO|`` (Li et al. 2007), which
        emphasises the high-frequency motor-unit spikes over low-frequency artefact.
        ``"hilbert"``: moving mean of the analytic-signal magnitude.
    window_s : float
        Smoothing window in seconds (default 25 ms, within the 20-100 ms range Hodges & Bui
        compared).
    picks : str, int or sequence
        Channels (default EMG).
    n_jobs : int or None
        Threads over channels. ``None`` means 1 here: two threads gained nothing for the
        running window (0.7-1.2x, ``benchmarks/threads.py``).

    Returns
    -------
    Recording
        New recording; history step ``"envelope"``.

    References
    ----------
    .. [1] P. W. Hodges, B. H. Bui, Electroenceph. Clin. Neurophysiol. 101(6), 511-519 (1996).
    .. [2] X. Li, P. Zhou, A. S. Aruin, Ann. Biomed. Eng. 35(9), 1532-1538 (2007).

    Examples
    --------
    >>> from hfs_emg import from_array
    >>> t = np.arange(4000) / 2000.0
    >>> rec = from_array(10.0 * np.sin(2 * np.pi * 100 * t), 2000.0, ["oris"])
    >>> round(float(envelope(rec, window_s=0.05).data[0, 2000]), 1)  # 10 / sqrt(2)
    7.0
    """
    rec = _check_rec(rec)
    method = check_option("method", method, ENVELOPE_METHODS)
    window_s = check_positive(window_s, "window_s")
    func = ENVELOPE_METHODS[method]
    fs = rec.sfreq
    if method == "rms":  # written straight into the output: no per-channel temporary
        return _apply(
            rec,
            _sig.moving_rms_kernel(fs, window_s),
            picks=picks,
            step="envelope",
            params={"method": method, "window_s": window_s},
            n_jobs=1 if n_jobs is None else n_jobs,
            writes_out=True,
        )
    return _apply(
        rec,
        lambda x: func(x, fs, window_s),
        picks=picks,
        step="envelope",
        params={"method": method, "window_s": window_s},
        n_jobs=1 if n_jobs is None else n_jobs,
    )


# --------------------------------------------------------------------------- noise
def _noise_quiet(x: npt.NDArray[np.floating], fs: float, **kw: Any) -> npt.NDArray[np.floating]:
    return _sig.quiet_noise(x, fs, **kw)


def _noise_mad(x: npt.NDArray[np.floating], fs: float, **kw: Any) -> npt.NDArray[np.floating]:
    return _sig.mad_noise(x)


#: Noise estimators of :func:`estimate_noise` (``method=``).
NOISE_METHODS: dict[str, Callable[..., npt.NDArray[np.floating]]] = {
    "quiet": _noise_quiet,
    "mad": _noise_mad,
}


def estimate_noise(
    rec: Recording,
    *,
    method: str = "quiet",
    window_s: float = 0.05,
    quantile: float = 0.2,
    picks: Any = "emg",
) -> pd.DataFrame:
    """Baseline noise level of every picked channel, robust to spasms.

    Parameters
    ----------
    rec : Recording
        Band- or high-passed recording (a DC offset would count as noise; a warning says so
        when the history shows no such filter).
    method : {"quiet", "mad"}
        ``"quiet"``: RMS of the quietest ``quantile`` of ``window_s`` windows, corrected for
        the selection bias (:func:`hfs_emg.signal.quiet_noise`); stays near the noise level
        when spasms fill most of the recording. ``"mad"``: 1.4826 x median absolute deviation
        (:func:`hfs_emg.signal.mad_noise`); unbiased only while bursts fill well under half of
        the samples.
    window_s, quantile : float
        Window and fraction of quietest windows for ``"quiet"``.
    picks : str, int or sequence
        Channels (default EMG).

    Returns
    -------
    pandas.DataFrame
        One row per channel: ``channel``, ``noise_uv`` (standard deviation of the noise in
        microvolts), ``method``.

    References
    ----------
    .. [1] P. W. Hodges, B. H. Bui, Electroenceph. Clin. Neurophysiol. 101(6), 511-519 (1996).
    .. [2] F. R. Hampel, J. Am. Stat. Assoc. 69(346), 383-393 (1974) (MAD).

    Examples
    --------
    >>> from hfs_emg import from_array
    >>> rng = np.random.default_rng(0)
    >>> rec = highpass_filter(from_array(rng.normal(scale=4.0, size=(1, 20_000)), 2000.0), 5.0)
    >>> estimate_noise(rec).round(1)
      channel  noise_uv method
    0     ch0       4.0  quiet
    """
    rec = _check_rec(rec)
    method = check_option("method", method, NOISE_METHODS)
    if not any(rec.has_step(s) for s in ("bandpass_filter", "highpass_filter")):
        warnings.warn(
            "estimate_noise on a recording that was not high-passed: offsets and drift count "
            "as noise. Run bandpass_filter first.",
            HfsEmgWarning,
            stacklevel=2,
        )
    idx = rec._pick_indices(picks)
    data = rec.data[idx]
    values = NOISE_METHODS[method](data, rec.sfreq, window_s=window_s, quantile=quantile)
    return pd.DataFrame(
        {
            "channel": [rec.ch_names[i] for i in idx],
            "noise_uv": np.asarray(values, dtype=float),
            "method": method,
        }
    )
