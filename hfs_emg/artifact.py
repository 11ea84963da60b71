"""Stimulus-artefact suppression around known stimulus times.

Three published families, chosen with ``method=`` (registry :data:`ARTIFACT_METHODS`):

- ``"interpolate"``: sample-and-interpolate - the samples of the artefact window are replaced by a
  straight line (``kind="linear"``) or a cubic through two samples on each side
  (``kind="cubic"``) (Heffer & Fallon 2008).
- ``"template"``: the artefact averaged over all stimuli (per channel) is scaled by least squares
  to each stimulus and subtracted (Wichmann 2000; Hashimoto et al. 2002). The window must end
  before the earliest evoked response, or the response leaks into the template.
- ``"decay"``: an exponential ``b exp(-t / tau) + c`` is fitted to the artefact tail of every
  stimulus and channel and subtracted, including beyond the window where the tail goes on; the
  saturated spike before the fit window is interpolated (Erez et al. 2010). The fit is linear
  least squares for every ``tau`` of a log-spaced grid, solved for all stimuli and channels at
  once, keeping the ``tau`` with the smallest residual (variable projection).

Everything is vectorised over stimuli (fancy indexing); the only loop is over the ``tau`` grid.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ._errors import ParameterError
from ._validate import check_option
from .recording import Recording

__all__ = ["ARTIFACT_METHODS", "blank_stimulus_artifact", "suppress_artifact"]

FloatArray = npt.NDArray[np.floating]
_TAU_GRID_MS = np.geomspace(0.05, 3.0, 32)


def _interpolate(
    x: FloatArray, stims: npt.NDArray[np.int64], a: int, b: int, fs: float, *, kind: str, **_: Any
) -> None:
    n_len = b - a
    lo = stims + a
    pos = np.arange(n_len)
    idx = lo[:, None] + pos[None, :]
    if kind == "linear":
        left = x[:, lo - 1]
        right = x[:, lo + n_len]
        w = (pos + 1.0) / (n_len + 1.0)
        x[:, idx] = left[..., None] * (1.0 - w) + right[..., None] * w
        return
    # cubic Lagrange through samples at -2, -1, n_len, n_len + 1 (positions relative to lo)
    nodes = np.array([-2.0, -1.0, n_len, n_len + 1.0])
    vals = np.stack([x[:, lo - 2], x[:, lo - 1], x[:, lo + n_len], x[:, lo + n_len + 1]], -1)
    basis = np.ones((n_len, 4))
    for j in range(4):  # 4 Lagrange basis polynomials
        for m in range(4):
            if m != j:
                basis[:, j] *= (pos - nodes[m]) / (nodes[j] - nodes[m])
    x[:, idx] = vals @ basis.T


def _template(
    x: FloatArray, stims: npt.NDArray[np.int64], a: int, b: int, fs: float, **_: Any
) -> None:
    idx = stims[:, None] + np.arange(a, b)[None, :]
    seg = x[:, idx]  # (C, E, L)
    tmpl = seg.mean(axis=1)  # (C, L)
    norm = np.einsum("cl,cl->c", tmpl, tmpl)
    gain = np.einsum("cel,cl->ce", seg, tmpl) / np.where(norm > 0, norm, 1.0)[:, None]
    x[:, idx] = seg - gain[..., None] * tmpl[:, None, :]


def _decay(
    x: FloatArray,
    stims: npt.NDArray[np.int64],
    a: int,
    b: int,
    fs: float,
    *,
    blank_s: float,
    **_: Any,
) -> None:
    f0 = max(1, round(blank_s * fs))
    if b - f0 < 4:
        raise ParameterError(
            f"The decay fit window ({blank_s * 1e3:g} ms to {b / fs * 1e3:g} ms) holds fewer than "
            "4 samples; lengthen window_s or shorten blank_s."
        )
    k = np.arange(f0, b)
    y = x[:, stims[:, None] + k[None, :]]  # (C, E, F)
    t = k / fs
    basis = np.exp(-t[:, None] / (_TAU_GRID_MS[None, :] * 1e-3))  # (F, G)
    n = float(k.size)
    s_ee = (basis**2).sum(0)
    s_e = basis.sum(0)
    det = s_ee * n - s_e**2
    s_y = y.sum(-1)[..., None]  # (C, E, 1)
    s_ye = y @ basis  # (C, E, G)
    bb = (n * s_ye - s_e * s_y) / det
    cc = (s_ee * s_y - s_e * s_ye) / det
    sse = (y**2).sum(-1)[..., None] - bb * s_ye - cc * s_y
    best = np.argmin(sse, axis=-1)  # (C, E)
    b_best = np.take_along_axis(bb, best[..., None], -1)[..., 0]
    tau = _TAU_GRID_MS[best] * 1e-3
    n_sub = b + int(np.ceil(8 * _TAU_GRID_MS[-1] * 1e-3 * fs))
    kk = np.arange(f0, n_sub)
    corr = b_best[..., None] * np.exp(-(kk / fs)[None, None, :] / tau[..., None])
    idx = stims[:, None] + kk[None, :]
    ok = idx < x.shape[1]
    if ok.all():
        np.subtract.at(x, (slice(None), idx), corr)
    else:
        e_i, k_i = np.nonzero(ok)
        np.subtract.at(x, (slice(None), idx[e_i, k_i]), corr[:, e_i, k_i])
    if f0 > a:
        _interpolate(x, stims, a, f0, fs, kind="linear")


#: Artefact-suppression methods (``method=``).
ARTIFACT_METHODS: dict[str, Callable[..., None]] = {
    "interpolate": _interpolate,
    "template": _template,
    "decay": _decay,
}


def suppress_artifact(
    x: npt.ArrayLike,
    fs: float,
    stim_samples: npt.ArrayLike,
    *,
    method: str = "interpolate",
    window_s: tuple[float, float] = (-0.0005, 0.003),
    kind: str = "linear",
    blank_s: float = 0.0002,
    axis: int = -1,
) -> FloatArray:
    """Array kernel of :func:`blank_stimulus_artifact` (returns a new float64 array).

    ``x`` has time on ``axis``; ``stim_samples`` are stimulus sample indices. Stimuli whose window
    (plus two samples each side) falls outside the array are left untouched.

    Examples
    --------
    >>> x = np.zeros((1, 100)); x[0, 50:55] = 1000.0
    >>> y = suppress_artifact(x, 1000.0, [50], window_s=(0.0, 0.005))
    >>> float(np.abs(y).max())
    0.0
    """
    check_option("method", method, ARTIFACT_METHODS)
    check_option("kind", kind, ("linear", "cubic"))
    t0, t1 = (float(v) for v in window_s)
    if not t1 > t0:
        raise ParameterError(f"window_s must be (start, stop) with stop > start, got {window_s}.")
    a, b = round(t0 * fs), round(t1 * fs)
    if b <= a:
        raise ParameterError(f"window_s={window_s} is shorter than one sample at {fs:g} Hz.")
    arr = np.moveaxis(np.array(x, dtype=np.float64), axis, -1)
    shape = arr.shape
    arr2 = arr.reshape(-1, shape[-1])
    stims = np.unique(np.asarray(stim_samples, dtype=np.int64))
    ok = (stims + a - 2 >= 0) & (stims + b + 2 < shape[-1])
    if method == "decay":
        ok &= stims + max(1, round(blank_s * fs)) > 0
    stims = stims[ok]
    if stims.size:
        ARTIFACT_METHODS[method](arr2, stims, a, b, fs, kind=kind, blank_s=blank_s)
    return np.moveaxis(arr2.reshape(shape), -1, axis)


def blank_stimulus_artifact(
    rec: Recording,
    events: pd.DataFrame | npt.ArrayLike,
    *,
    method: str = "interpolate",
    window_s: tuple[float, float] = (-0.0005, 0.003),
    kind: str = "linear",
    blank_s: float = 0.0002,
    picks: Any = "emg",
) -> Recording:
    """Suppress the stimulus artefact around every stimulus; return a new Recording.

    Parameters
    ----------
    rec : Recording
        The recording.
    events : pandas.DataFrame or array-like
        Stimulus times: a table with ``onset_s`` (see :func:`hfs_emg.find_stim_events`) or
        onsets in seconds (file clock).
    method : {"interpolate", "template", "decay"}
        See the module docstring: sample-and-interpolate (Heffer & Fallon 2008), template
        subtraction (Wichmann 2000; Hashimoto 2002) or exponential-decay fitting (Erez 2010).
    window_s : (float, float)
        Artefact window relative to each stimulus, seconds. ``"interpolate"`` replaces it,
        ``"template"`` subtracts the template over it, ``"decay"`` fits the exponential on
        ``(blank_s, window_s[1])`` and interpolates ``(window_s[0], blank_s)``.
    kind : {"linear", "cubic"}
        Interpolation for ``"interpolate"``.
    blank_s : float
        ``"decay"`` only: end of the saturated spike (s after the stimulus) that is interpolated
        rather than fitted.
    picks : str or list
        Channels to clean (EMG by default; trigger channels are left alone).

    Returns
    -------
    Recording
        New recording with the step ``blank_stimulus_artifact`` in its history.

    References
    ----------
    .. [1] Heffer LF, Fallon JB. A novel stimulus artifact removal technique for high-rate
       electrical stimulation. J Neurosci Methods 2008;170:277-284.
    .. [2] Wichmann T. A digital averaging method for removal of stimulus artifacts in
       neurophysiologic experiments. J Neurosci Methods 2000;98:57-62.
    .. [3] Hashimoto T, Elder CM, Vitek JL. A template subtraction method for stimulus artifact
       removal in high-frequency deep brain stimulation. J Neurosci Methods 2002;113:181-186.
    .. [4] Erez Y, Tischler H, Moran A, Bar-Gad I. Generalized framework for stimulus artifact
       removal. J Neurosci Methods 2010;191:45-59.

    Examples
    --------
    >>> from hfs_emg.simulate import simulate_lsr_session
    >>> rec = simulate_lsr_session(n_stimuli=3, sfreq=5000.0, disappearance_index=None).recording
    >>> clean = blank_stimulus_artifact(rec, rec.events, method="decay")
    >>> seg = lambda r: np.abs(r.get_data("mentalis_L", tmin=0.5, tmax=0.503)).max()
    >>> bool(seg(rec) > 1000), bool(seg(clean) < 50)
    (True, True)
    """
    check_option("method", method, ARTIFACT_METHODS)
    if isinstance(events, pd.DataFrame):
        onsets = events["onset_s"].to_numpy(float)
    else:
        onsets = np.atleast_1d(np.asarray(events, dtype=float))
    stims = np.round((onsets - rec.tstart) * rec.sfreq).astype(np.int64)
    idx = rec._pick_indices(picks)
    data = np.array(rec.data, dtype=np.float64)
    data[idx] = suppress_artifact(
        data[idx], rec.sfreq, stims, method=method, window_s=window_s, kind=kind, blank_s=blank_s
    )
    return rec.with_data(
        data.astype(rec.data.dtype, copy=False),
        step="blank_stimulus_artifact",
        params={
            "method": method,
            "window_s": list(window_s),
            "kind": kind,
            "blank_s": blank_s,
            "n_stimuli": int(stims.size),
            "picks": [rec.ch_names[i] for i in idx],
        },
    )
