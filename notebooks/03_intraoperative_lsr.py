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
# # Intraoperative lateral spread response (LSR)
#
# During microvascular decompression one facial branch (here zygomatic) is stimulated at about
# 1 Hz and the other facial muscles are recorded. In HFS a response appears at ~10 ms in muscles
# of the *other* branches (Møller & Jannetta, *J Neurosurg* 1987;66:681; Isu et al. 1996). The
# muscle of the stimulated branch shows the ordinary direct M-response at ~3-4 ms. Disappearance
# of the LSR after decompression is associated with cure (pooled OR 4.2, Sekula et al.,
# *Neurosurg Focus* 2009;27:E10); persistence predicts residual spasm (Thirumala et al.,
# *Neurosurgery* 2020 meta-analysis). No universal µV threshold exists, so the presence rule
# and disappearance criterion are parameters of `measure_lsr` and `lsr_trend`.
#
# Pipeline: `find_stim_events` -> `blank_stimulus_artifact` -> `make_epochs` -> `measure_lsr`
# -> `lsr_trend`.

# %%
from pathlib import Path

import matplotlib.pyplot as plt
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
rec = hfs_emg.read_recording(DATA / "lsr_session.edf")
events = hfs_emg.find_stim_events(rec)
print(len(events), "stimuli; branch:", events["stim_branch"].iloc[0])
clean = hfs_emg.blank_stimulus_artifact(rec, events)
epochs = hfs_emg.make_epochs(clean, events, tmin=-0.005, tmax=0.04)
lsr = hfs_emg.measure_lsr(epochs)
lsr.head()

# %% [markdown]
# ## Clinical display: superimposed and cascaded sweeps

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 5), layout="constrained")
plotting.plot_evoked(epochs.select(list(range(40))), lsr, channel="Mentalis_L", ax=axes[0])
plotting.plot_evoked(
    epochs.select(list(range(55, 80))), lsr, channel="Mentalis_L", style="cascade", ax=axes[1]
)

# %% [markdown]
# ## Trend and disappearance

# %%
trend = hfs_emg.lsr_trend(lsr)
fig = plotting.plot_lsr_trend(lsr, trend)
trend[["channel", "status", "disappearance_stim_index", "reduction_pct"]]

# %%
truth = pd.read_csv(TRUTH / "lsr_session_trend.csv")
truth.merge(trend, on="channel", suffixes=("_truth", ""))[
    ["channel", "disappearance_stim_index_truth", "disappearance_stim_index"]
]

# %%
resp_truth = pd.read_csv(TRUTH / "lsr_session_responses.csv")
print(resp_truth.columns.tolist())
