"""Score detected bursts and synchronous events against simulator ground truth.

Matching is one-to-one: a detection matches a true burst of the same channel whose onset is
within ``tolerance_s``; candidate pairs are taken closest first and each truth and each
detection is used at most once. F1 = 2 TP / (2 TP + FP + FN).

References
----------
.. [1] Bonato P, D'Alessio T, Knaflitz M. IEEE Trans Biomed Eng 1998;45:287-299 (onset bias and
       erroneous-pattern rate as detector quality measures).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._validate import check_positive

__all__ = ["match_onsets", "score_bursts", "score_events"]


def match_onsets(
    truth: pd.DataFrame,
    detected: pd.DataFrame,
    *,
    tolerance_s: float = 0.02,
    by: str | None = "channel",
) -> pd.DataFrame:
    """One-to-one matching of detected to true onsets within ``tolerance_s``.

    Parameters
    ----------
    truth, detected : pandas.DataFrame
        Tables with ``onset_s`` (and the ``by`` column).
    tolerance_s : float
        Largest onset difference of a match, seconds.
    by : str or None
        Column that must agree (``"channel"`` for bursts, None for events).

    Returns
    -------
    pandas.DataFrame
        One row per match: ``truth_index``, ``detected_index`` (index labels of the inputs) and
        ``onset_error_s`` (detected minus true).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"channel": ["a", "a"], "onset_s": [1.0, 2.0]})
    >>> d = pd.DataFrame({"channel": ["a", "b"], "onset_s": [1.005, 2.0]})
    >>> match_onsets(t, d).round(3).values.tolist()
    [[0.0, 0.0, 0.005]]
    """
    tol = check_positive(tolerance_s, "tolerance_s")
    key_t = truth[by].astype(str).to_numpy(object) if by else np.full(len(truth), "")
    key_d = detected[by].astype(str).to_numpy(object) if by else np.full(len(detected), "")
    t = pd.DataFrame(
        {
            "key": pd.array(key_t, dtype="string"),
            "t_on": truth["onset_s"].to_numpy(float),
            "ti": truth.index,
        }
    )
    d = pd.DataFrame(
        {
            "key": pd.array(key_d, dtype="string"),
            "d_on": detected["onset_s"].to_numpy(float),
            "di": detected.index,
        }
    )
    t = t.sort_values("t_on")
    d = d.sort_values("d_on")
    # nearest candidates in both directions (merge_asof per key), then closest-first greedy
    a = pd.merge_asof(
        d, t, left_on="d_on", right_on="t_on", by="key", direction="nearest", tolerance=tol
    )
    b = pd.merge_asof(
        t, d, left_on="t_on", right_on="d_on", by="key", direction="nearest", tolerance=tol
    )
    pairs = pd.concat([a, b], ignore_index=True).dropna(subset=["ti", "di"])
    pairs["err"] = pairs["d_on"] - pairs["t_on"]
    pairs = pairs.assign(abs_err=pairs["err"].abs()).sort_values("abs_err", kind="stable")
    pairs = pairs.drop_duplicates(["ti", "di"]).drop_duplicates("ti").drop_duplicates("di")
    out = pd.DataFrame(
        {
            "truth_index": pairs["ti"].to_numpy(),
            "detected_index": pairs["di"].to_numpy(),
            "onset_error_s": pairs["err"].to_numpy(),
        }
    )
    return out.sort_values("truth_index", ignore_index=True)


def _nanmedian(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(np.median(x)) if x.size else float("nan")


def _f1(tp: int, n_true: int, n_det: int) -> float:
    denom = n_true + n_det
    return 2.0 * tp / denom if denom else 1.0


def score_bursts(
    truth: pd.DataFrame, detected: pd.DataFrame, *, tolerance_s: float = 0.02
) -> dict[str, float]:
    """F1, onset/offset error and discharge-rate error of detected bursts.

    Returns
    -------
    dict
        ``n_true``, ``n_detected``, ``tp``, ``precision``, ``recall``, ``f1``,
        ``onset_mae_ms`` / ``offset_mae_ms`` (median absolute error of matches),
        ``onset_bias_ms`` (median signed error), ``discharge_mae_hz`` (median absolute error)
        and ``discharge_mape_pct`` (median absolute error in percent of the truth).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"channel": ["a"], "onset_s": [1.0], "offset_s": [1.1],
    ...                   "discharge_hz": [200.0]})
    >>> d = t.assign(onset_s=1.004, discharge_hz=210.0)
    >>> s = score_bursts(t, d)
    >>> s["f1"], round(s["onset_mae_ms"], 1), s["discharge_mae_hz"]
    (1.0, 4.0, 10.0)
    """
    m = match_onsets(truth, detected, tolerance_s=tolerance_s, by="channel")
    tp = len(m)
    tr = truth.loc[m["truth_index"]]
    de = detected.loc[m["detected_index"]]
    off_err = de["offset_s"].to_numpy() - tr["offset_s"].to_numpy()
    f_true = tr["discharge_hz"].to_numpy(float)
    f_err = np.abs(de["discharge_hz"].to_numpy(float) - f_true)
    nan = float("nan")
    return {
        "n_true": len(truth),
        "n_detected": len(detected),
        "tp": tp,
        "precision": tp / len(detected) if len(detected) else nan,
        "recall": tp / len(truth) if len(truth) else nan,
        "f1": _f1(tp, len(truth), len(detected)),
        "onset_mae_ms": float(np.median(np.abs(m["onset_error_s"]))) * 1e3 if tp else nan,
        "onset_bias_ms": float(np.median(m["onset_error_s"])) * 1e3 if tp else nan,
        "offset_mae_ms": float(np.median(np.abs(off_err))) * 1e3 if tp else nan,
        "discharge_mae_hz": _nanmedian(f_err),
        "discharge_mape_pct": _nanmedian(f_err / f_true) * 100,
    }


def score_events(
    truth: pd.DataFrame, detected: pd.DataFrame, *, tolerance_s: float = 0.02
) -> dict[str, float]:
    """F1 of synchronous events (onset within ``tolerance_s``) and onset-order agreement.

    Returns
    -------
    dict
        ``n_true``, ``n_detected``, ``tp``, ``f1``, ``onset_mae_ms``, ``lead_accuracy`` (share of
        matched events with the true earliest channel), ``n_channels_accuracy``,
        ``ordered_given_simultaneous`` (share of the matched truly simultaneous events that were
        given an onset order: the false-order rate), ``ordered_given_sequential`` (share of the
        matched events with distinct true onsets that were given an order),
        ``order_lead_accuracy`` (share of the ordered matches whose ``lead_muscle`` is the true
        one, ties excluded) and ``n_simultaneous`` / ``n_sequential`` (matched counts).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"onset_s": [1.0, 5.0], "onset_order": ["a<b", "simultaneous"],
    ...                   "lead_channel": ["a", "b"], "lead_muscle": ["a", "simultaneous"],
    ...                   "n_channels": [2, 3]})
    >>> s = score_events(t, t.iloc[:1])
    >>> round(s["f1"], 3), s["lead_accuracy"], s["ordered_given_sequential"]
    (0.667, 1.0, 1.0)
    """
    m = match_onsets(truth, detected, tolerance_s=tolerance_s, by=None)
    tp = len(m)
    tr = truth.loc[m["truth_index"]]
    de = detected.loc[m["detected_index"]]
    nan = float("nan")

    def same(col: str) -> float:
        if not tp or col not in tr.columns or col not in de.columns:
            return nan
        return float(np.mean(tr[col].to_numpy() == de[col].to_numpy()))

    out = {
        "n_true": len(truth),
        "n_detected": len(detected),
        "tp": tp,
        "f1": _f1(tp, len(truth), len(detected)),
        "onset_mae_ms": float(np.median(np.abs(m["onset_error_s"]))) * 1e3 if tp else nan,
        "lead_accuracy": same("lead_channel"),
        "n_channels_accuracy": same("n_channels"),
        "ordered_given_simultaneous": nan,
        "ordered_given_sequential": nan,
        "order_lead_accuracy": nan,
        "n_simultaneous": 0,
        "n_sequential": 0,
    }
    if tp and "onset_order" in tr.columns and "onset_order" in de.columns:
        t_sim = tr["onset_order"].to_numpy() == "simultaneous"
        ordered = ~np.isin(de["onset_order"].to_numpy(), ["simultaneous", "undetermined"])
        out["n_simultaneous"] = int(t_sim.sum())
        out["n_sequential"] = int((~t_sim).sum())
        if t_sim.any():
            out["ordered_given_simultaneous"] = float(ordered[t_sim].mean())
        if (~t_sim).any():
            out["ordered_given_sequential"] = float(ordered[~t_sim].mean())
        if "lead_muscle" in tr.columns and "lead_muscle" in de.columns:
            d_lead = de["lead_muscle"].to_numpy()
            judged = ordered & ~t_sim & (d_lead != "tied")
            if judged.any():
                out["order_lead_accuracy"] = float(
                    np.mean(d_lead[judged] == tr["lead_muscle"].to_numpy()[judged])
                )
    return out
