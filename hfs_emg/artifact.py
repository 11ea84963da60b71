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

- ``"tail"``: the end of the spike and the capacitive recovery that follows it,
  ``b1 exp(-t / tau1) + b2 exp(-t / tau2)`` with ``tau`` from 0.5 to 30 ms and coefficients of
  either sign (one or two exponentials, monophasic or biphasic), fitted per stimulus and channel
  over ``tail_s`` (45 ms) after the blanking window (on boxcar-smoothed data, and again without
  5.5-22 ms where a response is found there) and subtracted (variable projection, Golub &
  Pereyra 1973; exponential artefact models, Erez et al. 2010; model choice by the Schwarz
  criterion). This is what :func:`hfs_emg.measure_lsr` uses by default.

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

__all__ = [
    "ARTIFACT_METHODS",
    "TAIL_SMOOTH_MS",
    "TAIL_TAU_GRID_MS",
    "blank_stimulus_artifact",
    "suppress_artifact",
]

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
    tau_grid_ms: npt.NDArray[np.floating] = _TAU_GRID_MS,
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
    basis = np.exp(-t[:, None] / (tau_grid_ms[None, :] * 1e-3))  # (F, G)
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
    tau = tau_grid_ms[best] * 1e-3
    n_sub = b + int(np.ceil(8 * tau_grid_ms[-1] * 1e-3 * fs))
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


#: Time constants (ms) of the two-exponential tail model of ``"tail"``.
TAIL_TAU_GRID_MS = np.r_[0.5, 0.7, np.geomspace(1.0, 30.0, 10)]
#: Width (ms) of the boxcar applied to data and model in the first ``"tail"`` pass: it nulls 250
#: and 500 Hz and attenuates the 300-600 Hz LSR and M-wave by 85-100 %, so the smooth capacitive
#: recovery drives the fit, not the evoked responses riding on it.
TAIL_SMOOTH_MS = 4.0
_TAIL_BLOCK = 4096
_M_WAVE_START_S = 0.0025  # earliest facial M-wave onset (CMAP latency about 3-4.5 ms)


def _tail_models() -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    g = TAIL_TAU_GRID_MS.size
    i, j = np.triu_indices(g)  # i == j: one exponential; i < j: two
    return i, j


def _tail_fit(
    y: FloatArray,
    tt: FloatArray,
    keep: npt.NDArray[np.bool_],
    w: int,
    full: FloatArray,
    taper: FloatArray,
    penalty: float = 1.0,
) -> FloatArray:
    """Best one- or two-exponential model of each row of ``y`` (on times ``tt``), on ``full``.

    Only the samples where ``keep`` are fitted; with ``w > 1`` data and basis are first smoothed
    by the same ``w``-sample boxcar (valid part). Returns the model on the ``full`` time grid.
    """
    basis = np.exp(-tt[:, None] / (TAIL_TAU_GRID_MS[None, :] * 1e-3))  # (F, G)
    yk, bk = y[:, keep], basis[keep]
    if w > 1:
        cy = np.zeros((yk.shape[0], yk.shape[1] + 1))
        np.cumsum(yk, axis=1, out=cy[:, 1:])
        yk = (cy[:, w:] - cy[:, :-w]) / w
        cb = np.vstack([np.zeros((1, bk.shape[1])), np.cumsum(bk, axis=0)])
        bk = (cb[w:] - cb[:-w]) / w
    n_f = bk.shape[0]
    mi, mj = _tail_models()
    cols = np.stack([bk[:, mi], bk[:, mj], np.ones((n_f, mi.size))], axis=-1)  # (F, P, 3)
    ginv = np.linalg.pinv(np.einsum("fpk,fpl->pkl", cols, cols))  # (P, 3, 3)
    proj = yk @ bk  # (N, G)
    rhs = np.stack([proj[:, mi], proj[:, mj], np.repeat(yk.sum(1)[:, None], mi.size, 1)], -1)
    coef = np.einsum("pkl,npl->npk", ginv, rhs)  # (N, P, 3)
    sse = (yk * yk).sum(1)[:, None] - np.einsum("npk,npk->np", coef, rhs)
    n_par = np.where(mi == mj, 3.0, 5.0)
    bic = n_f * np.log(np.maximum(sse, 1e-12) / n_f) + penalty * n_par[None, :] * np.log(n_f)
    best = np.argmin(bic, axis=1)
    c_best = coef[np.arange(y.shape[0]), best]  # (N, 3)
    model = c_best[:, :1] * full[:, mi[best]].T + c_best[:, 1:2] * full[:, mj[best]].T
    # the constant belongs to the fit (a slow exponential and a constant are nearly collinear):
    # subtract it too, tapered to 0 after the fit window
    model += c_best[:, 2:3] * taper[None, :]
    return model


def _tail(
    x: FloatArray,
    stims: npt.NDArray[np.int64],
    a: int,
    b: int,
    fs: float,
    *,
    tail_s: float = 0.045,
    tail_gap_s: tuple[float, float] = (0.0055, 0.022),
    direct: npt.NDArray[np.bool_] | None = None,
    **_: Any,
) -> None:
    """Subtract a fitted one- or two-exponential recovery after the blanking window ``(a, b)``.

    Model ``c + b1 exp(-t / tau1) + b2 exp(-t / tau2)`` (``tau`` on :data:`TAIL_TAU_GRID_MS`,
    ``b1`` and ``b2`` of either sign, so biphasic recoveries fit) fitted by linear least squares
    for every pair of time constants (variable projection; Golub & Pereyra 1973), the model
    chosen by the Schwarz (1978) criterion. Pass 1 fits ``(b, b + tail_s)`` after a boxcar of
    :data:`TAIL_SMOOTH_MS` on data and model (it suppresses the 200-600 Hz responses riding on
    the tail). Where the pass-1 residual in ``tail_gap_s`` holds a response (RMS above 3 times
    the pre-stimulus SD), the non-zero mean of that response would bias the fit, so pass 2
    refits without ``tail_gap_s`` and lets the model bridge it (crosstalk of the M-wave must be
    removed before, as :func:`hfs_emg.measure_lsr` does). On the channels of the stimulated branch
    (``direct``, shape (n_channels, n_stimuli)), whose M-wave starts from 2.5 ms, the refit
    leaves out 2.5 ms to the end of the gap (and with less than 1 ms before 2.5 ms to anchor
    it, the direct channel is left as it is: a mV M-wave outweighs the tail). The model is
    subtracted from ``b`` to ``b + 2 * tail_s`` (the constant tapered to 0 over 10 ms after the
    fit window); the blanking window is interpolated linearly.
    """
    n_fit = round(tail_s * fs)
    w = max(1, round(TAIL_SMOOTH_MS * 1e-3 * fs))
    k = np.arange(n_fit)
    tt = (k + b) / fs  # time after the stimulus (s)
    # pass-2 bridge anchors: from 2.5 ms (after the spike) to the gap, and after it
    zone = (tt >= tail_gap_s[0]) & (tt < tail_gap_s[1])
    gap = zone
    gap_fast = (tt >= _M_WAVE_START_S) & (tt < tail_gap_s[1])
    if n_fit - w < 8 or (~gap).sum() < 12:
        raise ParameterError(
            f"The tail fit window ({tail_s * 1e3:g} ms) is too short; lengthen tail_s."
        )
    n_sub = 2 * n_fit
    kk = np.arange(n_sub)
    full = np.exp(-((kk + b) / fs)[:, None] / (TAIL_TAU_GRID_MS[None, :] * 1e-3))  # (S, G)
    n_tap = max(1, round(0.01 * fs))
    taper = np.clip(1.0 - (kk - n_fit) / n_tap, 0.0, 1.0)
    n_pre = max(4, round(0.01 * fs))
    ok = (stims + b + n_fit <= x.shape[1]) & (stims + a - n_pre >= 0)
    st_all = stims[ok]
    n_c = x.shape[0]
    every = np.ones(n_fit, bool)
    step = max(1, _TAIL_BLOCK // max(n_c, 1))
    for s0 in range(0, st_all.size, step):  # blocks of stimuli (memory), not single stimuli
        st = st_all[s0 : s0 + step]
        y = x[:, st[:, None] + b + k[None, :]].reshape(-1, n_fit)  # (C*E, F)
        pre = x[:, st[:, None] + a - n_pre + np.arange(n_pre)[None, :]].reshape(-1, n_pre)
        model = _tail_fit(y, tt, every, w, full, taper)
        sd_pre = pre.std(axis=1)
        res = y[:, zone] - model[:, :n_fit][:, zone]
        res -= res.mean(axis=1, keepdims=True)
        resp = np.sqrt((res**2).mean(axis=1)) > 3.0 * sd_pre
        if direct is not None:
            dm = np.asarray(direct)[:, ok][:, s0 : s0 + step].reshape(-1)
            resp &= ~dm
        for rows, mask in ((resp, ~gap), (dm if direct is not None else None, ~gap_fast)):
            # refit without the response zone, if at least 1 ms anchors the bridge before it
            if rows is None or not rows.any():
                continue
            anchor = int((mask & (tt < tail_gap_s[0])).sum())
            if anchor < round(1e-3 * fs):
                if mask is not gap:  # direct M-wave, no anchor before it: leave it alone
                    model[rows] = 0.0
                continue
            m2 = _tail_fit(y[rows], tt, mask, 1, full, taper)
            # a bridge that swings beyond the data is no better: keep pass 1 there
            span = np.abs(y[rows][:, ~mask]).max(axis=1)
            sane = np.abs(m2[:, :n_fit][:, ~mask]).max(axis=1) <= 2.0 * span
            upd = np.flatnonzero(rows)[sane]
            model[upd] = m2[sane]
        model = model.reshape(n_c, st.size, n_sub)
        idx = st[:, None] + b + kk[None, :]
        inside = idx < x.shape[1]
        if inside.all():
            np.subtract.at(x, (slice(None), idx), model)
        else:
            e_i, k_i = np.nonzero(inside)
            np.subtract.at(x, (slice(None), idx[e_i, k_i]), model[:, e_i, k_i])
    if b > a:
        _interpolate(x, stims, a, b, fs, kind="linear")


#: Artefact-suppression methods (``method=``).
ARTIFACT_METHODS: dict[str, Callable[..., None]] = {
    "interpolate": _interpolate,
    "template": _template,
    "decay": _decay,
    "tail": _tail,
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
    tail_s: float = 0.045,
    direct: npt.ArrayLike | None = None,
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
    stims, first = np.unique(np.asarray(stim_samples, dtype=np.int64), return_index=True)
    dmask = None
    if direct is not None:  # (n_channels, n_stimuli) in the order of stim_samples
        dmask = np.asarray(direct, bool).reshape(arr2.shape[0], -1)[:, first]
    ok = (stims + a - 2 >= 0) & (stims + b + 2 < shape[-1])
    if method == "decay":
        ok &= stims + max(1, round(blank_s * fs)) > 0
    stims = stims[ok]
    if stims.size:
        extra = {} if dmask is None or method != "tail" else {"direct": dmask[:, ok]}
        ARTIFACT_METHODS[method](
            arr2, stims, a, b, fs, kind=kind, blank_s=blank_s, tail_s=tail_s, **extra
        )
    return np.moveaxis(arr2.reshape(shape), -1, axis)


def blank_stimulus_artifact(
    rec: Recording,
    events: pd.DataFrame | npt.ArrayLike,
    *,
    method: str = "tail",
    window_s: tuple[float, float] = (-0.0005, 0.003),
    kind: str = "linear",
    blank_s: float = 0.0002,
    tail_s: float = 0.045,
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
    method : {"interpolate", "template", "decay", "tail"}
        See the module docstring: sample-and-interpolate (Heffer & Fallon 2008), template
        subtraction (Wichmann 2000; Hashimoto 2002), exponential-decay fitting (Erez 2010) or
        the two-exponential recovery that follows the tail (``"tail"``).
    window_s : (float, float)
        Artefact window relative to each stimulus, seconds. ``"interpolate"`` replaces it,
        ``"template"`` subtracts the template over it, ``"decay"`` fits the exponential on
        ``(blank_s, window_s[1])`` and interpolates ``(window_s[0], blank_s)``, ``"tail"``
        interpolates it (the blanking window) and fits the recovery on
        ``(window_s[1], window_s[1] + tail_s)``.
    kind : {"linear", "cubic"}
        Interpolation for ``"interpolate"``.
    blank_s : float
        ``"decay"`` only: end of the saturated spike (s after the stimulus) that is interpolated
        rather than fitted.
    tail_s : float
        ``"tail"`` only: length of the recovery fitted after the blanking window (s).
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
    .. [5] Golub GH, Pereyra V. The differentiation of pseudo-inverses and nonlinear least squares
       problems whose variables separate. SIAM J Numer Anal 1973;10:413-432.

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
    direct = None
    if method == "tail":
        ch_branch = rec.channels["branch"].to_numpy(object)[idx]
        meta_b = rec.meta.get("stim_branch")
        col = (
            events["stim_branch"].to_numpy(object)
            if isinstance(events, pd.DataFrame) and "stim_branch" in events.columns
            else np.full(stims.size, None, dtype=object)
        )
        ev_branch = [v if isinstance(v, str) else meta_b for v in col]
        direct = np.array(
            [[isinstance(e, str) and e == c for e in ev_branch] for c in ch_branch], dtype=bool
        ).reshape(len(idx), len(ev_branch))
    data = np.array(rec.data, dtype=np.float64)
    data[idx] = suppress_artifact(
        data[idx],
        rec.sfreq,
        stims,
        method=method,
        window_s=window_s,
        kind=kind,
        blank_s=blank_s,
        tail_s=tail_s,
        direct=direct,
    )
    return rec.with_data(
        data.astype(rec.data.dtype, copy=False),
        step="blank_stimulus_artifact",
        params={
            "method": method,
            "window_s": list(window_s),
            "kind": kind,
            "blank_s": blank_s,
            "tail_s": tail_s,
            "n_stimuli": int(stims.size),
            "picks": [rec.ch_names[i] for i in idx],
        },
    )
