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
# # Facial nerve conduction, F-waves and the blink reflex
#
# * **CMAP / ENoG**: stimulating the facial nerve at the stylomastoid foramen evokes an M-wave
#   in nasalis; normal latency < 4.5 ms and amplitude > 2 mV; the affected/healthy amplitude
#   ratio estimates axonal loss (Guntinas-Lichius et al., *Eur Arch ORL* 2020;277:1855).
# * **F-waves**: antidromic activation of facial motor neurons gives small late responses;
#   normal Fmin 8.97 ± 0.53 ms, chronodispersion 0.80 ± 0.31 ms. In HFS F-waves are larger and
#   more persistent on the spasm side (F/M 6.9 % vs 3.8 %).
# * **Blink reflex**: supraorbital stimulation evokes R1 (~10 ms, ipsilateral) and R2 (~29 ms,
#   bilateral) in orbicularis oculi (Kimura 1975). In HFS the R1/R2 also appear in orbicularis
#   oris and mentalis ("synkinetic" lateral spread of the blink reflex; Auger, *Neurology* 1979).

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

# %% [markdown]
# ## CMAP

# %%
rec = hfs_emg.read_recording(DATA / "ncs_cmap.bdf")
epochs = hfs_emg.make_epochs(rec, hfs_emg.find_stim_events(rec), tmin=-0.005, tmax=0.03)
cmap = hfs_emg.measure_cmap(epochs)
fig = plotting.plot_cmap(epochs, cmap)
pd.concat(
    {
        "measured": cmap.set_index("channel")[["latency_ms", "p2p_uv"]],
        "truth": pd.read_csv(TRUTH / "ncs_cmap_truth.csv").set_index("channel")[
            ["latency_ms", "p2p_uv"]
        ],
    },
    axis=1,
)

# %% [markdown]
# ## F-waves

# %%
rec = hfs_emg.read_recording(DATA / "ncs_f_waves.bdf")
epochs = hfs_emg.make_epochs(rec, hfs_emg.find_stim_events(rec), tmin=-0.005, tmax=0.04)
f_summary, f_trials = hfs_emg.measure_f_waves(epochs, return_trials=True)
fig = plotting.plot_f_waves(epochs, f_trials)
f_summary[
    ["channel", "persistence_pct", "f_min_latency_ms", "chronodispersion_ms", "f_m_ratio_pct"]
]

# %%
f_truth = pd.read_csv(TRUTH / "ncs_f_waves_truth.csv")
both = f_trials.merge(f_truth, on="stim_index", suffixes=("", "_truth"))
print("persistence detected / true:", both["present"].mean(), both["present_truth"].mean())
print(
    "median |latency error| (ms):", (both["latency_ms"] - both["latency_ms_truth"]).abs().median()
)

# %% [markdown]
# ## Blink reflex

# %%
rec = hfs_emg.read_recording(DATA / "ncs_blink_reflex.bdf")
epochs = hfs_emg.make_epochs(rec, hfs_emg.find_stim_events(rec), tmin=-0.01, tmax=0.07)
blink = hfs_emg.measure_blink_reflex(epochs)
fig = plotting.plot_blink_reflex(epochs, blink, stim_side="left")
blink[["stim_side", "channel", "component", "relation", "synkinetic", "latency_ms"]]
