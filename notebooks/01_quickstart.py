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
# # hfs_emg quickstart
#
# **Hemifacial spasm (HFS)** is involuntary, unilateral, synchronous contraction of muscles
# supplied by the facial nerve, usually caused by a blood vessel compressing the nerve root exit
# zone. Its electrophysiological hallmarks are
#
# * **spontaneous synchronous bursts** of high-frequency repetitive motor-unit potentials
#   (150-400 Hz; Nielsen, *Neurology* 1984;34:418) in several ipsilateral muscles, and
# * the **lateral spread response (LSR / AMR)**: stimulating one facial branch evokes a
#   response at ~10 ms in a muscle of *another* branch (Isu et al., *Acta Neurochir*
#   1996;138:19), absent in normal subjects and monitored during microvascular decompression.
#
# This notebook reads a recording, looks at it, detects bursts and writes an HTML report.

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
# ## Read a recording
# Any supported format (EDF/BDF, WFDB, ABF, Spike2, .npz...).

# %%
rec = hfs_emg.read_recording(DATA / "spontaneous_hfs.edf")
print(rec)
rec.channels

# %% [markdown]
# Each channel carries its muscle, side and facial-nerve branch, inferred from its name. Muscles
# are ordered from forehead to chin (frontalis -> orbicularis oculi -> ... -> mentalis).

# %%
filtered = hfs_emg.filter_emg(rec, 20.0, 1000.0)  # band-pass + automatic mains notch
bursts = hfs_emg.detect_bursts(rec)  # filters internally
fig = plotting.plot_bursts(filtered, bursts, tmin=0, tmax=25)

# %%
sync = hfs_emg.detect_synchronous_bursts(bursts, channels=rec.channels)
summary = hfs_emg.summarize(bursts, sync, duration_s=rec.duration_s, channels=rec.channels)
summary.channels[["channel", "n_bursts", "bursts_per_min", "burden_pct", "sync_fraction"]]

# %% [markdown]
# ## One HTML report per recording
# Figures, tables, parameters and the file's SHA-256.

# %%
import tempfile

result = hfs_emg.analyze(rec)  # the protocol (here "spontaneous") is decided from the markers
out = Path(tempfile.mkdtemp()) / "spontaneous_hfs.html"
tables = hfs_emg.report(result, rec, out=out)  # renders the result; runs no analysis
print(out, f"{out.stat().st_size / 1e3:.0f} kB", list(tables))
