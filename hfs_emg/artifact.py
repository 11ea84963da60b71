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

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from . import _fastresp
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
_TAIL_BLOCK_FAST = 16384
_M_WAVE_START_S = 0.0025  # earliest facial M-wave onset (CMAP latency about 3-4.5 ms)


def _tail_models() -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    g = TAIL_TAU_GRID_MS.size
    i, j = np.triu_indices(g)  # i == j: one exponential; i < j: two
    return i, j


def _tail_design(
    tt: FloatArray, keep: npt.NDArray[np.bool_], w: int, penalty: float
) -> tuple[Any, ...]:
    """Precomputed least-squares operators of :func:`_tail_fit` for one fit grid (cached).

    For every model ``p`` (a pair of time constants) the normal-equation pseudo-inverse
    ``G_p^+`` (3 x 3) maps the right-hand side ``r_p = (<y, e_i>, <y, e_j>, sum y)`` to the
    coefficients; ``r_p`` is a selection ``sel[p]`` of ``z = (<y, e_1>, ..., <y, e_G>, sum y)``
    and the explained sum of squares ``r_p' G_p^+ r_p`` a quadratic form in ``z``, so the
    residual of every model of every row is one matrix product of the pairwise products of
    ``z`` with ``quad``. Returns the (smoothed) basis on the fitted samples, the
    pseudo-inverses, ``sel``, the BIC penalty per model, the number of fitted samples,
    ``quad`` and the pair indices.
    """
    key = (tt.tobytes(), keep.tobytes(), int(w), float(penalty))
    hit = _DESIGN_CACHE.get(key)
    if hit is not None:
        return hit
    basis = np.exp(-tt[:, None] / (TAIL_TAU_GRID_MS[None, :] * 1e-3))  # (F, G)
    bk = basis[keep]
    if w > 1:
        cb = np.vstack([np.zeros((1, bk.shape[1])), np.cumsum(bk, axis=0)])
        bk = (cb[w:] - cb[:-w]) / w
    n_f, g = bk.shape
    mi, mj = _tail_models()
    cols = np.stack([bk[:, mi], bk[:, mj], np.ones((n_f, mi.size))], axis=-1)  # (F, P, 3)
    ginv = np.linalg.pinv(np.einsum("fpk,fpl->pkl", cols, cols))  # (P, 3, 3)
    sel = np.stack([mi, mj, np.full(mi.size, g)], axis=-1)  # (P, 3) indices into z
    # explained sum of squares of model p: r_p' G_p^+ r_p = z' M_p z, a quadratic form in z;
    # all models at once from the products z_a z_b (a <= b): zz @ quad
    big = np.zeros((mi.size, g + 1, g + 1))
    for k in range(3):
        for m in range(3):
            np.add.at(big, (np.arange(mi.size), sel[:, k], sel[:, m]), ginv[:, k, m])
    iu, ju = np.triu_indices(g + 1)
    quad = (big[:, iu, ju] * np.where(iu == ju, 1.0, 2.0)[None, :]).T  # (pairs, P)
    n_par = np.where(mi == mj, 3.0, 5.0)
    pen = penalty * n_par * np.log(n_f)
    out = (np.ascontiguousarray(bk), ginv, sel, pen, n_f, np.ascontiguousarray(quad), iu, ju)
    if len(_DESIGN_CACHE) > 32:
        _DESIGN_CACHE.clear()
    _DESIGN_CACHE[key] = out
    return out


_DESIGN_CACHE: dict[tuple[Any, ...], tuple[Any, ...]] = {}


def _tail_fit(
    y: FloatArray,
    tt: FloatArray,
    keep: npt.NDArray[np.bool_],
    w: int,
    full_ext: FloatArray,
    penalty: float = 1.0,
) -> FloatArray:
    """Best one- or two-exponential model of each row of ``y`` (on times ``tt``).

    ``full_ext`` (G + 1, S) holds the G basis exponentials and, last, the taper of the constant
    on the output time grid.

    Only the samples where ``keep`` are fitted; with ``w > 1`` data and basis are first smoothed
    by the same ``w``-sample boxcar (valid part). Returns the model on the ``full`` time grid.
    All rows and all models at once: two matrix products (projections on the basis, then the
    coefficients of every model from the precomputed pseudo-inverses, :func:`_tail_design`),
    no loop over rows, models or samples.
    """
    bk, ginv, sel, pen, n_f, quad, iu, ju = _tail_design(tt, keep, w, penalty)
    yk = y if keep.all() else y[:, keep]
    if w > 1:
        cy = np.zeros((yk.shape[0], yk.shape[1] + 1))
        np.cumsum(yk, axis=1, out=cy[:, 1:])
        yk = (cy[:, w:] - cy[:, :-w]) / w
    n_r, g = y.shape[0], bk.shape[1]
    z = np.empty((n_r, g + 1))
    np.matmul(yk, bk, out=z[:, :g])
    z[:, g] = yk.sum(1)
    sse = np.einsum("nf,nf->n", yk, yk)[:, None] - (z[:, iu] * z[:, ju]) @ quad  # (N, P)
    bic = n_f * np.log(np.maximum(sse, 1e-12) / n_f) + pen[None, :]
    best = np.argmin(bic, axis=1)
    rows = np.arange(n_r)
    c_best = np.einsum("nkl,nl->nk", ginv[best], z[rows[:, None], sel[best]])  # (N, 3)
    mi, mj = sel[best, 0], sel[best, 1]
    # the model as a sparse combination of the G basis functions and the tapered constant:
    # the constant belongs to the fit (a slow exponential and a constant are nearly collinear),
    # so it is subtracted too, tapered to 0 after the fit window
    cf = np.zeros((n_r, g + 1))
    cf[rows, mi] = c_best[:, 0]
    cf[rows, mj] += c_best[:, 1]
    cf[:, g] = c_best[:, 2]
    return cf @ full_ext


def _tail_models_block(
    y: FloatArray,
    pre: FloatArray,
    dm: npt.NDArray[np.bool_] | None,
    tt: FloatArray,
    w: int,
    every: npt.NDArray[np.bool_],
    zone: npt.NDArray[np.bool_],
    gap: npt.NDArray[np.bool_],
    gap_fast: npt.NDArray[np.bool_],
    full_ext: FloatArray,
    fs: float,
    gap_start_s: float,
) -> FloatArray:
    """Tail model of every row of ``y``: pass 1, then pass 2 where it applies (:func:`_tail`)."""
    n_fit = y.shape[1]
    model = _tail_fit(y, tt, every, w, full_ext)
    sd_pre = pre.std(axis=1)
    res = y[:, zone] - model[:, :n_fit][:, zone]
    res -= res.mean(axis=1, keepdims=True)
    resp = np.sqrt((res**2).mean(axis=1)) > 3.0 * sd_pre
    if dm is not None:
        resp &= ~dm
    for rows, mask, is_direct in ((resp, ~gap, False), (dm, ~gap_fast, True)):
        # refit without the response zone, if at least 1 ms anchors the bridge before it
        if rows is None or not rows.any():
            continue
        anchor = int((mask & (tt < gap_start_s)).sum())
        if anchor < round(1e-3 * fs):
            if is_direct:  # direct M-wave, no anchor before it: leave it alone
                model[rows] = 0.0
            continue
        m2 = _tail_fit(y[rows], tt, mask, 1, full_ext)
        # a bridge that swings beyond the data is no better: keep pass 1 there
        span = np.abs(y[rows][:, ~mask]).max(axis=1)
        sane = np.abs(m2[:, :n_fit][:, ~mask]).max(axis=1) <= 2.0 * span
        upd = np.flatnonzero(rows)[sane]
        model[upd] = m2[sane]
    return model


def _tail_coefs_block(
    y: FloatArray,
    pre: FloatArray,
    dm: npt.NDArray[np.bool_] | None,
    tt: FloatArray,
    w: int,
    every: npt.NDArray[np.bool_],
    zone: npt.NDArray[np.bool_],
    gap: npt.NDArray[np.bool_],
    gap_fast: npt.NDArray[np.bool_],
    full_ext: FloatArray,
    fs: float,
    gap_start_s: float,
) -> tuple[npt.NDArray[np.int64], FloatArray]:
    """:func:`_tail_models_block` by the compiled kernels: the models as coefficients.

    The same two passes and tests; each model is kept as its two exponentials and three
    coefficients (:func:`hfs_emg._fastresp.tail_coefs`) and evaluated only where a test reads
    it, instead of as a dense (rows, samples) product.
    """
    m, c = _fastresp.tail_coefs(y, every, w, _tail_design(tt, every, w, 1.0)[:4])
    sd_pre = _fastresp.row_std(pre, 0, pre.shape[1])  # equals np.std bit for bit
    resp = _fastresp.tail_resid_rms(y, m, c, full_ext, zone) > 3.0 * sd_pre
    if dm is not None:
        resp &= ~dm
    for rows, mask, is_direct in ((resp, ~gap, False), (dm, ~gap_fast, True)):
        if rows is None or not rows.any():
            continue
        anchor = int((mask & (tt < gap_start_s)).sum())
        if anchor < round(1e-3 * fs):
            if is_direct:  # direct M-wave, no anchor before it: leave it alone
                c[rows] = 0.0
            continue
        yr = y[rows]
        m2, c2 = _fastresp.tail_coefs(yr, mask, 1, _tail_design(tt, mask, 1, 1.0)[:4])
        span = np.abs(yr[:, ~mask]).max(axis=1)
        m2_out = _fastresp.tail_eval(m2, c2, full_ext[:, : y.shape[1]][:, ~mask])
        sane = np.abs(m2_out).max(axis=1) <= 2.0 * span
        upd = np.flatnonzero(rows)[sane]
        m[upd], c[upd] = m2[sane], c2[sane]
    return m, c


def _tail_grid(
    b: int, fs: float, tail_s: float, tail_gap_s: tuple[float, float]
) -> tuple[int, int, FloatArray, npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Fit grid of :func:`_tail`: samples, boxcar width, times, response zone, M-wave zone."""
    n_fit = round(tail_s * fs)
    w = max(1, round(TAIL_SMOOTH_MS * 1e-3 * fs))
    tt = (np.arange(n_fit) + b) / fs  # time after the stimulus (s)
    # pass-2 bridge anchors: from 2.5 ms (after the spike) to the gap, and after it
    zone = (tt >= tail_gap_s[0]) & (tt < tail_gap_s[1])
    gap_fast = (tt >= _M_WAVE_START_S) & (tt < tail_gap_s[1])
    if n_fit - w < 8 or (~zone).sum() < 12:
        raise ParameterError(
            f"The tail fit window ({tail_s * 1e3:g} ms) is too short; lengthen tail_s."
        )
    return n_fit, w, tt, zone, gap_fast


def prepare_tail(
    fs: float,
    window_s: tuple[float, float],
    *,
    tail_s: float = 0.045,
    tail_gap_s: tuple[float, float] = (0.0055, 0.022),
) -> None:
    """Precompute the least-squares operators of ``method="tail"`` for this rate and window.

    They are cached on first use anyway; a live monitor calls this before the first sweep so
    that no sweep pays for them.
    """
    gap = (float(tail_gap_s[0]), float(tail_gap_s[1]))
    n_fit, w, tt, zone, gap_fast, _ = _tail_setup(round(window_s[1] * fs), float(fs), tail_s, gap)
    _tail_design(tt, np.ones(n_fit, bool), w, 1.0)
    _tail_design(tt, ~zone, 1, 1.0)
    _tail_design(tt, ~gap_fast, 1, 1.0)


@functools.lru_cache(maxsize=16)
def _tail_setup(
    b: int, fs: float, tail_s: float, tail_gap_s: tuple[float, float]
) -> tuple[int, int, FloatArray, Any, Any, FloatArray]:
    """The grid of :func:`_tail_grid` and the basis on the output samples (cached, read-only).

    ``full_ext`` (G + 1, 2 n_fit): the G exponentials from ``b`` and, last, the constant
    tapered to 0 over 10 ms after the fit window.
    """
    n_fit, w, tt, zone, gap_fast = _tail_grid(b, fs, tail_s, tail_gap_s)
    kk = np.arange(2 * n_fit)
    full = np.exp(-((kk + b) / fs)[:, None] / (TAIL_TAU_GRID_MS[None, :] * 1e-3))  # (S, G)
    n_tap = max(1, round(0.01 * fs))
    taper = np.clip(1.0 - (kk - n_fit) / n_tap, 0.0, 1.0)
    full_ext = np.ascontiguousarray(np.vstack([full.T, taper[None, :]]))  # (G + 1, S)
    for a in (tt, zone, gap_fast, full_ext):
        a.flags.writeable = False
    return n_fit, w, tt, zone, gap_fast, full_ext


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
    n_fit, w, tt, zone, gap_fast, full_ext = _tail_setup(
        int(b), float(fs), float(tail_s), (float(tail_gap_s[0]), float(tail_gap_s[1]))
    )
    k = np.arange(n_fit)
    gap = zone
    n_sub = 2 * n_fit
    kk = np.arange(n_sub)
    n_pre = max(4, round(0.01 * fs))
    ok = (stims + b + n_fit <= x.shape[1]) & (stims + a - n_pre >= 0)
    st_all = stims[ok]
    n_c = x.shape[0]
    every = np.ones(n_fit, bool)
    dmask = None if direct is None else np.asarray(direct, bool)[:, ok]
    # windows that do not overlap can be subtracted by plain indexing (no ufunc.at)
    disjoint = bool(np.all(np.diff(st_all) >= n_sub))
    fast = _fastresp.enabled()
    blk = _TAIL_BLOCK_FAST if fast else _TAIL_BLOCK  # the compiled path keeps no dense model
    step = max(1, blk // max(n_c, 1))
    for s0 in range(0, st_all.size, step):  # blocks of stimuli (memory), not single stimuli
        st = st_all[s0 : s0 + step]
        r_step = max(1, blk // st.size)
        for r0 in range(0, n_c, r_step):  # and blocks of rows (many epochs as rows)
            rows = slice(r0, min(n_c, r0 + r_step))
            xr = x[rows]
            one = st.size == 1  # one stimulus (epochs as rows): views, no gather or scatter
            if one:
                s1 = int(st[0])
                y = xr[:, s1 + b : s1 + b + n_fit]
                pre = xr[:, s1 + a - n_pre : s1 + a]
            else:
                y = xr[:, st[:, None] + b + k[None, :]].reshape(-1, n_fit)  # (C*E, F)
                pre = xr[:, st[:, None] + a - n_pre + np.arange(n_pre)[None, :]]
            dm = None if dmask is None else dmask[rows, s0 : s0 + step].reshape(-1)
            # the model only where it lands inside the array (>= n_fit samples, see ``ok``)
            n_out = int(min(n_sub, x.shape[1] - (st.min() + b)))
            block = (y, pre.reshape(-1, n_pre), dm, tt, w, every, zone, gap, gap_fast,
                     full_ext[:, :n_out], fs, tail_gap_s[0])  # fmt: skip
            if fast:
                m, c = _tail_coefs_block(*block)
                if one:  # in place, no (rows, samples) model
                    _fastresp.tail_subtract(xr[:, s1 + b : s1 + b + n_out], m, c, block[9])
                    continue
                model = _fastresp.tail_eval(m, c, block[9])
            else:
                model = _tail_models_block(*block)
            if one:  # the model lies inside the array (n_out above)
                xr[:, s1 + b : s1 + b + n_out] -= model
                continue
            model = model.reshape(xr.shape[0], st.size, n_out)
            idx = st[:, None] + b + kk[None, :n_out]
            inside = idx < x.shape[1]
            if inside.all() and disjoint:
                xr[:, idx] -= model
            elif inside.all():
                np.subtract.at(xr, (slice(None), idx), model)
            elif disjoint and st.size == 1:  # one stimulus: a slice
                n_in = int(inside.sum())
                xr[:, idx[0, 0] : idx[0, 0] + n_in] -= model[:, 0, :n_in]
            else:
                e_i, k_i = np.nonzero(inside)
                if disjoint:
                    xr[:, idx[e_i, k_i]] -= model[:, e_i, k_i]
                else:
                    np.subtract.at(xr, (slice(None), idx[e_i, k_i]), model[:, e_i, k_i])
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
