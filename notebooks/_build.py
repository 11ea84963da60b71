"""Generate the tutorial notebooks (stored without outputs) from this reviewable script.

Run: ``python notebooks/_build.py`` (rewrites ``notebooks/0*.ipynb``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent


def setup(*, pyplot: bool = False, plots: bool = True) -> str:
    """The first code cell: imports and the example-data folder."""
    lines = ["from pathlib import Path", ""]
    if pyplot:
        lines.append("import matplotlib.pyplot as plt")
    lines += ["import pandas as pd", "", "import hfs_emg"]
    if plots:
        lines.append("from hfs_emg import plotting")
    lines += [
        "",
        "# example recordings shipped with the repository (EDF+/BDF+), with their ground truth",
        "DATA = next(",
        '    p for p in (Path.cwd() / "example_data", Path.cwd().parent / "example_data")',
        "    if p.is_dir()",
        ")",
        'TRUTH = DATA / "truth"',
        'pd.set_option("display.width", 140)',
        'pd.set_option("display.max_columns", 14)',
    ]
    return "\n".join(lines)


def md(text: str) -> nbformat.NotebookNode:
    return new_markdown_cell(text.strip())


def code(text: str) -> nbformat.NotebookNode:
    return new_code_cell(text.strip())


NOTEBOOKS: dict[str, list[nbformat.NotebookNode]] = {}

NOTEBOOKS["01_quickstart.ipynb"] = [
    md("""
# hfs_emg quickstart

**Hemifacial spasm (HFS)** is involuntary, unilateral, synchronous contraction of muscles
supplied by the facial nerve, usually caused by a blood vessel compressing the nerve root exit
zone. Its electrophysiological hallmarks are

* **spontaneous synchronous bursts** of high-frequency repetitive motor-unit potentials
  (150-400 Hz; Nielsen, *Neurology* 1984;34:418) in several ipsilateral muscles, and
* the **lateral spread response (LSR / AMR)**: stimulating one facial branch evokes a
  response at ~10 ms in a muscle of *another* branch (Isu et al., *Acta Neurochir*
  1996;138:19), absent in normal subjects and monitored during microvascular decompression.

This notebook reads a recording, looks at it, detects bursts and writes an HTML report.
"""),
    code(setup()),
    md("## Read a recording\nAny supported format (EDF/BDF, WFDB, ABF, Spike2, .npz...)."),
    code("""
rec = hfs_emg.read_recording(DATA / "spontaneous_hfs.edf")
print(rec)
rec.channels"""),
    md("""
Each channel carries its muscle, side and facial-nerve branch, inferred from its name. Muscles
are ordered from forehead to chin (frontalis -> orbicularis oculi -> ... -> mentalis)."""),
    code("""
filtered = hfs_emg.filter_emg(rec, 20.0, 1000.0)  # band-pass + automatic mains notch
bursts = hfs_emg.detect_bursts(rec)                 # filters internally
fig = plotting.plot_bursts(filtered, bursts, tmin=0, tmax=25)"""),
    code("""
sync = hfs_emg.detect_synchronous_bursts(bursts, channels_info=rec.channels)
summary = hfs_emg.summarize(bursts, sync, duration_s=rec.duration_s, channels=rec.channels)
summary.channels[["channel", "n_bursts", "bursts_per_min", "burden_pct", "sync_fraction"]]"""),
    md("## One HTML report per recording\nFigures, tables, parameters and the file's SHA-256."),
    code("""
import tempfile

from hfs_emg.reporting import report

out = Path(tempfile.mkdtemp()) / "spontaneous_hfs.html"
tables = report(rec, out=out)
print(out, f"{out.stat().st_size / 1e3:.0f} kB", sorted(tables))"""),
]

NOTEBOOKS["02_spontaneous_spasms.ipynb"] = [
    md("""
# Spontaneous spasms: bursts, synchrony and onset order

Surface polymyography of HFS shows three patterns: isolated discharges, grouped (clonic)
bursts of tens to hundreds of ms, and tonic spasms lasting seconds; `detect_bursts` reports
them as `pattern`. Within a burst motor units fire at 150-400 Hz in needle EMG (Nielsen 1984);
the burst table gives `discharge_hz` only where the summed signal is periodic (units firing
together) and per-unit rates need `hfs_emg.detect_units`. A spasm involves several muscles of
the same side almost simultaneously; `detect_synchronous_bursts` reports an `onset_order` and a
`lead_muscle` only where the lag is resolved, "simultaneous" otherwise. The clinical spread of
typical HFS (eye to mouth over months to years) is not a millisecond quantity and is not
inferred here.

Onsets are found by amplitude thresholds on an envelope: `method="hysteresis"` (double
threshold, in the spirit of Bonato et al., *IEEE TBME* 1998;45:287), `"tkeo"` (Teager-Kaiser
energy, Li et al. 2007; Solnik et al. 2008) and others listed in `hfs_emg.BURST_METHODS`.
"""),
    code(setup()),
    code("""
rec = hfs_emg.read_recording(DATA / "spontaneous_hfs.edf")
truth = pd.read_csv(TRUTH / "spontaneous_hfs_bursts.csv")
print(list(hfs_emg.BURST_METHODS))"""),
    md("## Compare burst detectors against the simulated ground truth"),
    code("""
from hfs_emg.simulate import score_bursts

rows = []
for method in hfs_emg.BURST_METHODS:
    found = hfs_emg.detect_bursts(rec, method=method)
    rows.append({"method": method, **score_bursts(truth, found)})
cols = ["method", "n_true", "n_detected", "f1", "onset_mae_ms", "discharge_mae_hz"]
pd.DataFrame(rows)[cols]"""),
    code("""
bursts = hfs_emg.detect_bursts(rec)
fig = plotting.plot_burst_metrics(bursts, channels_info=rec.channels)"""),
    md("""
## Synchronous events and spread order

Each line is one spasm: a marker per recruited muscle at its onset after the event onset.
Colour: blue when the onset order is resolved, grey when simultaneous within the onset
uncertainty. Passing the recording (`rec=`) estimates the lags from the envelopes."""),
    code("""
sync = hfs_emg.detect_synchronous_bursts(bursts, rec=rec)
fig = plotting.plot_synchrony_raster(bursts, sync, channels_info=rec.channels)
sync[["onset_s", "channels", "spread_ms", "lag_ci_low_ms", "lag_ci_high_ms", "onset_order"]]"""),
    code("""
true_sync = pd.read_csv(TRUTH / "spontaneous_hfs_synchronous.csv")
pd.DataFrame({"detected": sync["lead_muscle"].value_counts(),
              "truth": true_sync["lead_muscle"].value_counts()})"""),
    md("## Simulate your own recording\nEvery simulator parameter is a knob to test robustness."),
    code("""
from hfs_emg.simulate import simulate_spontaneous

sim = simulate_spontaneous(duration_s=30.0, sfreq=4000.0, snr_db=10.0, seed=7)
found = hfs_emg.detect_bursts(sim.recording)
score_bursts(sim.bursts, found)"""),
]

NOTEBOOKS["03_intraoperative_lsr.ipynb"] = [
    md("""
# Intraoperative lateral spread response (LSR)

During microvascular decompression one facial branch (here zygomatic) is stimulated at about
1 Hz and the other facial muscles are recorded. In HFS a response appears at ~10 ms in muscles
of the *other* branches (Møller & Jannetta, *J Neurosurg* 1987;66:681; Isu et al. 1996). The
muscle of the stimulated branch shows the ordinary direct M-response at ~3-4 ms. Disappearance
of the LSR after decompression is associated with cure (pooled OR 4.2, Sekula et al.,
*Neurosurg Focus* 2009;27:E10); persistence predicts residual spasm (Thirumala et al.,
*Neurosurgery* 2020 meta-analysis). No universal µV threshold exists, so the presence rule
and disappearance criterion are parameters of `measure_lsr` and `lsr_trend`.

Pipeline: `find_stim_events` -> `blank_stimulus_artifact` -> `make_epochs` -> `measure_lsr`
-> `lsr_trend`.
"""),
    code(setup(pyplot=True)),
    code("""
rec = hfs_emg.read_recording(DATA / "lsr_session.edf")
events = hfs_emg.find_stim_events(rec)
print(len(events), "stimuli; branch:", events["stim_branch"].iloc[0])
clean = hfs_emg.blank_stimulus_artifact(rec, events)
epochs = hfs_emg.make_epochs(clean, events, tmin=-0.005, tmax=0.04)
lsr = hfs_emg.measure_lsr(epochs)
lsr.head()"""),
    md("## Clinical display: superimposed and cascaded sweeps"),
    code("""
fig, axes = plt.subplots(1, 2, figsize=(12, 5), layout="constrained")
plotting.plot_evoked(epochs.select(list(range(40))), lsr, channel="Mentalis_L", ax=axes[0])
plotting.plot_evoked(epochs.select(list(range(55, 80))), lsr, channel="Mentalis_L",
                     style="cascade", ax=axes[1]);"""),
    md("## Trend and disappearance"),
    code("""
trend = hfs_emg.lsr_trend(lsr)
fig = plotting.plot_lsr_trend(lsr, trend)
trend[["channel", "status", "disappearance_stim_index", "reduction_pct"]]"""),
    code("""
truth = pd.read_csv(TRUTH / "lsr_session_trend.csv")
truth.merge(trend, on="channel", suffixes=("_truth", ""))[
    ["channel", "disappearance_stim_index_truth", "disappearance_stim_index"]]"""),
    code("""
resp_truth = pd.read_csv(TRUTH / "lsr_session_responses.csv")
print(resp_truth.columns.tolist())"""),
]

NOTEBOOKS["04_nerve_conduction_blink_reflex.ipynb"] = [
    md("""
# Facial nerve conduction, F-waves and the blink reflex

* **CMAP / ENoG**: stimulating the facial nerve at the stylomastoid foramen evokes an M-wave
  in nasalis; normal latency < 4.5 ms and amplitude > 2 mV (Guntinas-Lichius et al., *Eur
  Arch ORL* 2020;277:1855), flagged in `latency_abnormal` / `p2p_abnormal`. The
  affected/healthy `amplitude_ratio` and `decrement_pct` mean axonal loss in an acute facial
  palsy (ENoG, Fisch 1984) but a reversible chemodenervation after botulinum toxin (about
  -40 % at 38 days; Glocker 1995): `measure_cmap(..., context=)` states which.
* **F-waves**: antidromic activation of facial motor neurons gives small late responses;
  normal Fmin 8.97 ± 0.53 ms, chronodispersion 0.80 ± 0.31 ms. In HFS F-waves are larger and
  more persistent on the spasm side (F/M 6.9 % vs 3.8 %) and last longer: F-wave duration
  13.1 vs 9.5 ms, the best discriminator, while Fmin and chronodispersion do not differ
  (Ishikawa et al., *Acta Neurochir* 1996;138:24).
* **Blink reflex**: supraorbital stimulation evokes R1 (~10 ms, ipsilateral) and R2 (~29 ms,
  bilateral) in orbicularis oculi (Kimura 1975). In HFS the R1/R2 also appear in orbicularis
  oris and mentalis ("synkinetic" lateral spread of the blink reflex; Auger, *Neurology* 1979).
  R2 is quantified by its rectified area and duration; the synkinesis ratio is the oris or
  mentalis R2 area over the oculi R2 area. Paired stimuli give the R2 recovery cycle, enhanced
  in blepharospasm (Eekhof et al., *Muscle Nerve* 1996;19:10).

`measure_f_waves` and `measure_blink_reflex` return an `NcsResult` with `.summary` and
`.trials` tables.
"""),
    code(setup()),
    md("## CMAP"),
    code("""
rec = hfs_emg.read_recording(DATA / "ncs_cmap.bdf")
epochs = hfs_emg.make_epochs(rec, hfs_emg.find_stim_events(rec), tmin=-0.005, tmax=0.03)
cmap = hfs_emg.measure_cmap(epochs)
fig = plotting.plot_cmap(epochs, cmap)
pd.concat({"measured": cmap.set_index("channel")[["latency_ms", "p2p_uv"]],
           "truth": pd.read_csv(TRUTH / "ncs_cmap_truth.csv").set_index("channel")[
               ["latency_ms", "p2p_uv"]]}, axis=1)"""),
    md("## F-waves"),
    code("""
rec = hfs_emg.read_recording(DATA / "ncs_f_waves.bdf")
epochs = hfs_emg.make_epochs(rec, hfs_emg.find_stim_events(rec), tmin=-0.005, tmax=0.04)
f_res = hfs_emg.measure_f_waves(epochs)
f_summary, f_trials = f_res.summary, f_res.trials
fig = plotting.plot_f_waves(epochs, f_trials)
f_summary[["channel", "persistence_pct", "f_min_latency_ms", "chronodispersion_ms",
           "f_m_ratio_pct", "f_duration_mean_ms"]]"""),
    code("""
f_truth = pd.read_csv(TRUTH / "ncs_f_waves_truth.csv")
both = f_trials.merge(f_truth, on="stim_index", suffixes=("", "_truth"))
print("persistence detected / true:", both["present"].mean(), both["present_truth"].mean())
print("median |latency error| (ms):",
      (both["latency_ms"] - both["latency_ms_truth"]).abs().median())"""),
    md("## Blink reflex"),
    code("""
rec = hfs_emg.read_recording(DATA / "ncs_blink_reflex.bdf")
epochs = hfs_emg.make_epochs(rec, hfs_emg.find_stim_events(rec), tmin=-0.01, tmax=0.07)
blink = hfs_emg.measure_blink_reflex(epochs).summary
fig = plotting.plot_blink_reflex(epochs, blink, stim_side="left")
blink[["stim_side", "channel", "component", "relation", "synkinetic", "latency_ms",
       "area_uv_ms", "duration_ms", "synkinesis_ratio", "latency_abnormal"]]"""),
    md("""
## R2 recovery cycle (paired stimuli)

A simulated study: pairs of supraorbital stimuli at interstimulus intervals of 0.1-1.5 s. The
R2 to the second (test) stimulus is suppressed at short intervals and recovers at long ones;
the "enhanced" curve is the faster recovery of blepharospasm.
"""),
    code("""
from hfs_emg.simulate import simulate_blink_recovery

curves = {}
for curve in ("normal", "enhanced"):
    sim = simulate_blink_recovery(curve=curve, sfreq=5000.0, seed=1)
    rc = hfs_emg.blink_recovery_cycle(sim.recording)
    ipsi = rc[rc["relation"] == "ipsilateral"]
    curves[curve] = ipsi.set_index("isi_ms")["recovery_pct"]
pd.DataFrame(curves).round(0)"""),
    md("""
## Visits over time: a botulinum-toxin cycle

Simulated CMAP studies of the injected orbicularis oculi at the injection and at follow-up
visits. The decrement (about -40 % at 38 days; Glocker 1995) is a chemodenervation, not axonal
loss, which `context="botulinum_toxin"` states. `patient_timeline` gives one row per visit.
"""),
    code("""
from hfs_emg.simulate import simulate_toxin_course

course = simulate_toxin_course(days=(0, 14, 38, 90, 150), sfreq=5000.0, seed=2)
visits = [
    {"date": v.date, "kind": v.kind, "dose_units": v.dose_units, "site": v.site,
     "analyses": {"cmap": hfs_emg.measure_cmap(rec, affected_side="left",
                                               context="botulinum_toxin")}}
    for v, rec in zip(course.visits.itertuples(), course.recordings, strict=True)
]
timeline = hfs_emg.patient_timeline(visits, patient="P01")
fig = plotting.plot_visits(timeline)
timeline[["visit", "date", "kind", "days_since_injection", "cmap_decrement_pct"]]"""),
]

NOTEBOOKS["05_batch_cohort.ipynb"] = [
    md("""
# Batch analysis of a cohort

Clinical studies pool many recordings. The recipe: loop over files, run the analysis that
fits each, add a `file` column and concatenate the tidy tables (one row per burst, stimulus or
channel) so that pandas does the group statistics. A file that fails is logged and skipped,
not fatal.

Cohort questions this answers, e.g. whether LSR disappearance predicts cure, need the
outcome's positive class stated: meta-analyses framed it as *persistence predicting failure*
(specificity ~89 %, sensitivity ~40 %; Thirumala et al., *Neurosurgery* 2020) or as
*disappearance predicting cure* (sensitivity 0.91, specificity 0.34; *World Neurosurg*
2020;137:8-17).

References: Wickham H. Tidy data. *J Stat Softw* 2014;59(10).
"""),
    code(setup(plots=False)),
    code("""
import logging


def analyse(path):
    rec = hfs_emg.read_recording(path)
    out = {}
    bursts = hfs_emg.detect_bursts(rec)
    sync = hfs_emg.detect_synchronous_bursts(bursts, channels_info=rec.channels)
    out["summary"] = hfs_emg.summarize(bursts, sync, duration_s=rec.duration_s,
                                       channels=rec.channels).channels
    try:
        events = hfs_emg.find_stim_events(rec)
    except hfs_emg.NoStimulusError:
        return out
    if "stim_branch" in events and events["stim_branch"].notna().any():
        lsr = hfs_emg.measure_lsr(rec)
        out["lsr_trend"] = hfs_emg.lsr_trend(lsr)
    else:
        epochs = hfs_emg.make_epochs(rec, events, tmin=-0.01, tmax=0.07)
        out["responses"] = hfs_emg.measure_responses(epochs, window_ms=(2.5, 60.0))
    return out


tables = {}
for path in sorted(DATA.glob("*.[eb]df")):
    try:
        result = analyse(path)
    except hfs_emg.HfsEmgError as err:
        logging.getLogger("hfs_emg").warning("%s: %s", path.name, err)
        continue
    for name, table in result.items():
        tables.setdefault(name, []).append(table.assign(file=path.name))
cohort = {name: pd.concat(parts, ignore_index=True) for name, parts in tables.items()}
{name: t.shape for name, t in cohort.items()}"""),
    code("""
cohort["summary"].groupby("file")[["n_bursts", "burden_pct"]].sum()"""),
    code("""
cohort["responses"].groupby(["file", "channel"])["present"].mean().unstack("file").round(2)"""),
    code("""
cohort["lsr_trend"][["file", "channel", "status", "disappearance_stim_index"]]"""),
]


def main() -> None:
    for name, cells in NOTEBOOKS.items():
        nb = new_notebook(cells=cells)
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        nb.metadata["language_info"] = {"name": "python"}
        for i, cell in enumerate(nb.cells):
            cell["id"] = f"c{i:02d}"
        nbformat.validate(nb)
        nbformat.write(nb, HERE / name)
    # cells in ruff's format, so `ruff format --check notebooks` passes on the stored files
    written = [str(HERE / name) for name in NOTEBOOKS]
    subprocess.run([sys.executable, "-m", "ruff", "format", "-q", *written], check=False)


if __name__ == "__main__":
    main()
