# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Spontaneous spasms: bursts, synchrony and onset order
#
# Surface polymyography of HFS shows three patterns: isolated discharges, grouped (clonic)
# bursts of tens to hundreds of ms, and tonic spasms lasting seconds; `detect_bursts` reports
# them as `pattern`. Within a burst motor units fire at 150-400 Hz in needle EMG (Nielsen 1984);
# the burst table gives `discharge_hz` only where the summed signal is periodic (units firing
# together) and per-unit rates need `hfs_emg.detect_units`. A spasm involves several muscles of
# the same side almost simultaneously; `detect_synchronous_bursts` reports an `onset_order` and a
# `lead_muscle` only where the lag is resolved, "simultaneous" otherwise. The clinical spread of
# typical HFS (eye to mouth over months to years) is not a millisecond quantity and is not
# inferred here.
#
# Onsets are found by amplitude thresholds on an envelope: `method="hysteresis"` (double
# threshold, in the spirit of Bonato et al., *IEEE TBME* 1998;45:287), `"tkeo"` (Teager-Kaiser
# energy, Li et al. 2007; Solnik et al. 2008) and others listed in `hfs_emg.BURST_METHODS`.

# %%
from pathlib import Path

import pandas as pd

import hfs_emg
from hfs_emg import plotting

# example recordings shipped with the repository (EDF+/BDF+), with their ground truth
DATA = next(
    p for p in (Path.cwd() / "example_data", Path.cwd().parent / "example_data") if p.is_dir()
)
TRUTH = DATA / "truth"
pd.set_option("display.width", 140)
pd.set_option("display.max_columns", 14)

# %%
rec = hfs_emg.read_recording(DATA / "spontaneous_hfs.edf")
truth = pd.read_csv(TRUTH / "spontaneous_hfs_bursts.csv")
print(list(hfs_emg.BURST_METHODS))

# %% [markdown]
# ## Compare burst detectors against the simulated ground truth

# %%
from hfs_emg.simulate import score_bursts

rows = []
for method in hfs_emg.BURST_METHODS:
    found = hfs_emg.detect_bursts(rec, method=method)
    rows.append({"method": method, **score_bursts(truth, found)})
cols = ["method", "n_true", "n_detected", "f1", "onset_mae_ms", "discharge_mae_hz"]
pd.DataFrame(rows)[cols]

# %%
bursts = hfs_emg.detect_bursts(rec)
fig = plotting.plot_burst_metrics(bursts, channels=rec.channels)

# %% [markdown]
# ## Synchronous events and spread order
#
# Each line is one spasm: a marker per recruited muscle at its onset after the event onset.
# Colour: blue when the onset order is resolved, grey when simultaneous within the onset
# uncertainty. Passing the recording (`rec=`) estimates the lags from the envelopes.

# %%
sync = hfs_emg.detect_synchronous_bursts(bursts, rec=rec)
fig = plotting.plot_synchrony_raster(bursts, sync, channels=rec.channels)
sync[["onset_s", "channels", "spread_ms", "lag_ci_low_ms", "lag_ci_high_ms", "onset_order"]]

# %%
true_sync = pd.read_csv(TRUTH / "spontaneous_hfs_synchronous.csv")
pd.DataFrame(
    {
        "detected": sync["lead_muscle"].value_counts(),
        "truth": true_sync["lead_muscle"].value_counts(),
    }
)

# %% [markdown]
# ## Simulate your own recording
# Every simulator parameter is a knob to test robustness.

# %%
from hfs_emg.simulate import simulate_spontaneous

sim = simulate_spontaneous(duration_s=30.0, sfreq=4000.0, snr_db=10.0, seed=7)
found = hfs_emg.detect_bursts(sim.recording)
score_bursts(sim.bursts, found)
