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
# # Batch analysis of a cohort
#
# Clinical studies pool many recordings. `hfs_emg.run_batch` runs the one analysis of
# `hfs_emg.analyze` on every file (in parallel processes or on a Dask cluster), decides each
# file's protocol from its stimulus markers, adds a `file` column and concatenates the tidy
# tables (one row per burst, stimulus or channel) so that pandas does the group statistics. A
# file that fails becomes a row of the `errors` table, not a crash; with `out=` the tables are
# written as Parquet and CSV and a re-run skips the files already analysed.
#
# Cohort questions this answers, e.g. whether LSR disappearance predicts cure, need the
# outcome's positive class stated: meta-analyses framed it as *persistence predicting failure*
# (specificity ~89 %, sensitivity ~40 %; Thirumala et al., *Neurosurgery* 2020) or as
# *disappearance predicting cure* (sensitivity 0.91, specificity 0.34; *World Neurosurg*
# 2020;137:8-17).
#
# References: Wickham H. Tidy data. *J Stat Softw* 2014;59(10).

# %%
from pathlib import Path

import pandas as pd

import hfs_emg

# example recordings shipped with the repository (EDF+/BDF+), with their ground truth
DATA = next(
    p for p in (Path.cwd() / "example_data", Path.cwd().parent / "example_data") if p.is_dir()
)
TRUTH = DATA / "truth"
pd.set_option("display.width", 140)
pd.set_option("display.max_columns", 14)

# %%
from hfs_emg.datasets import example_files

files = example_files()
batch = hfs_emg.run_batch(files, workers=1, progress=False)
print(batch)
batch["recording_summary"][["file", "protocol", "n_stimuli", "n_bursts", "affected_side"]]

# %% [markdown]
# Each file's protocol and why it was chosen are in the per-file results too: `analyze` returns
# the same tables for one file (`tests/test_parity.py` checks every route gives the same).

# %%
result = hfs_emg.analyze(files[0])
print(result.protocol, "-", result.provenance["protocol"]["reason"])

# %%
batch["summary"].groupby("file")[["n_bursts", "burden_pct"]].sum()

# %%
batch["trend"][["file", "channel", "status", "disappearance_stim_index"]]

# %%
batch["cmap"][["file", "channel", "latency_ms", "p2p_uv", "amplitude_ratio"]]

# %%
batch["errors"]
