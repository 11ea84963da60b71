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
#   in nasalis; normal latency < 4.5 ms and amplitude > 2 mV (Guntinas-Lichius et al., *Eur
#   Arch ORL* 2020;277:1855), flagged in `latency_abnormal` / `p2p_abnormal`. The
#   affected/healthy `amplitude_ratio` and `decrement_pct` mean axonal loss in an acute facial
#   palsy (ENoG, Fisch 1984) but a reversible chemodenervation after botulinum toxin (about
#   -40 % at 38 days; Glocker 1995): `measure_cmap(..., context=)` states which.
# * **F-waves**: antidromic activation of facial motor neurons gives small late responses;
#   normal Fmin 8.97 ± 0.53 ms, chronodispersion 0.80 ± 0.31 ms. In HFS F-waves are larger and
#   more persistent on the spasm side (F/M 6.9 % vs 3.8 %) and last longer: F-wave duration
#   13.1 vs 9.5 ms, the best discriminator, while Fmin and chronodispersion do not differ
#   (Ishikawa et al., *Acta Neurochir* 1996;138:24).
# * **Blink reflex**: supraorbital stimulation evokes R1 (~10 ms, ipsilateral) and R2 (~29 ms,
#   bilateral) in orbicularis oculi (Kimura 1975). In HFS the R1/R2 also appear in orbicularis
#   oris and mentalis ("synkinetic" lateral spread of the blink reflex; Auger, *Neurology* 1979).
#   R2 is quantified by its rectified area and duration; the synkinesis ratio is the oris or
#   mentalis R2 area over the oculi R2 area. Paired stimuli give the R2 recovery cycle, enhanced
#   in blepharospasm (Eekhof et al., *Muscle Nerve* 1996;19:10).
#
# `measure_f_waves` and `measure_blink_reflex` return an `NcsResult` with `.summary` and
# `.trials` tables.

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
f_res = hfs_emg.measure_f_waves(epochs)
f_summary, f_trials = f_res.summary, f_res.trials
fig = plotting.plot_f_waves(epochs, f_trials)
f_summary[
    [
        "channel",
        "persistence_pct",
        "f_min_latency_ms",
        "chronodispersion_ms",
        "f_m_ratio_pct",
        "f_duration_mean_ms",
    ]
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
blink = hfs_emg.measure_blink_reflex(epochs).summary
fig = plotting.plot_blink_reflex(epochs, blink, stim_side="left")
blink[
    [
        "stim_side",
        "channel",
        "component",
        "relation",
        "synkinetic",
        "latency_ms",
        "area_uv_ms",
        "duration_ms",
        "synkinesis_ratio",
        "latency_abnormal",
    ]
]

# %% [markdown]
# ## R2 recovery cycle (paired stimuli)
#
# A simulated study: pairs of supraorbital stimuli at interstimulus intervals of 0.1-1.5 s. The
# R2 to the second (test) stimulus is suppressed at short intervals and recovers at long ones;
# the "enhanced" curve is the faster recovery of blepharospasm.

# %%
from hfs_emg.simulate import simulate_blink_recovery

curves = {}
for curve in ("normal", "enhanced"):
    sim = simulate_blink_recovery(curve=curve, sfreq=5000.0, seed=1)
    rc = hfs_emg.blink_recovery_cycle(sim.recording)
    ipsi = rc[rc["relation"] == "ipsilateral"]
    curves[curve] = ipsi.set_index("isi_ms")["recovery_pct"]
pd.DataFrame(curves).round(0)

# %% [markdown]
# ## Visits over time: a botulinum-toxin cycle
#
# Simulated CMAP studies of the injected orbicularis oculi at the injection and at follow-up
# visits. The decrement (about -40 % at 38 days; Glocker 1995) is a chemodenervation, not axonal
# loss, which `context="botulinum_toxin"` states. `patient_timeline` gives one row per visit.

# %%
from hfs_emg.simulate import simulate_toxin_course

course = simulate_toxin_course(days=(0, 14, 38, 90, 150), sfreq=5000.0, seed=2)
visits = [
    {
        "date": v.date,
        "kind": v.kind,
        "dose_units": v.dose_units,
        "site": v.site,
        "analyses": {
            "cmap": hfs_emg.measure_cmap(rec, affected_side="left", context="botulinum_toxin")
        },
    }
    for v, rec in zip(course.visits.itertuples(), course.recordings, strict=True)
]
timeline = hfs_emg.patient_timeline(visits, patient="P01")
fig = plotting.plot_visits(timeline)
timeline[["visit", "date", "kind", "days_since_injection", "cmap_decrement_pct"]]
