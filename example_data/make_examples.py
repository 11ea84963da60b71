"""Regenerate the bundled example recordings and their ground truth, byte for byte.

Run ``python example_data/make_examples.py`` (or ``make examples``). Every file comes from the
seeded simulators in :mod:`hfs_emg.simulate`, is written in a real clinical format (EDF+ or BDF+,
events as annotations) and has its ground truth as CSV in ``truth/``. The test suite regenerates the
files into a temporary folder and checks that they are identical to the committed ones.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import re
from pathlib import Path

import pandas as pd

import hfs_emg
from hfs_emg.simulate import (
    simulate_lsr_session,
    simulate_nerve_conduction,
    simulate_spontaneous,
)

HERE = Path(__file__).resolve().parent
#: A fixed recording date, so the EDF headers (and hence the bytes) never change.
MEAS_DATE = _dt.datetime(2026, 1, 15, 9, 30, 0)

#: EDF labels hold 16 characters: short, still recognisable muscle names.
SHORT_NAMES = {
    "frontalis": "Frontalis",
    "orbicularis_oculi": "OrbOculi",
    "orbicularis_oris": "OrbOris",
    "mentalis": "Mentalis",
    "nasalis": "Nasalis",
}


def _short(name: str) -> str:
    muscle, _, side = name.rpartition("_")
    return f"{SHORT_NAMES.get(muscle, muscle)}_{side}" if muscle else name


def _finish(
    rec: hfs_emg.Recording, subject: str, test: str | None = None
) -> tuple[hfs_emg.Recording, dict[str, str]]:
    mapping = {n: _short(n) for n in rec.ch_names if _short(n) != n}
    rec = rec.rename_channels(mapping)
    # EDF+ annotations keep only text: write the test, the stimulated side and the branch into
    # the marker text, as clinical systems do ("CMAP stim left", "stim zygomatic"); the
    # measures and hfs_emg.analyze(protocol="auto") read it back.
    events = rec.events.copy()
    if test is not None:
        events["label"] = test + " " + events["label"]
    if "side" in events.columns:
        events["label"] = events["label"] + " " + events["side"].astype(str)
    elif "stim_branch" in rec.meta:
        events["label"] = events["label"] + " " + str(rec.meta["stim_branch"])
    rec = rec.with_events(events)
    meta = {**rec.meta, "meas_date": MEAS_DATE, "subject": subject}
    return hfs_emg.Recording(
        data=rec.data,
        sfreq=rec.sfreq,
        channels=rec.channels,
        events=rec.events,
        tstart=rec.tstart,
        meta=meta,
        history=(),
    ), mapping


def _write_truth(table: pd.DataFrame, path: Path, mapping: dict[str, str]) -> None:
    table = table.copy()
    for col in ("channel", "lead_channel"):
        if col in table.columns:
            table[col] = table[col].map(lambda n: mapping.get(n, n))
    if "channels" in table.columns:
        table["channels"] = table["channels"].map(
            lambda chs: ",".join(
                mapping.get(c, c) for c in (chs.split(",") if isinstance(chs, str) else chs)
            )
        )
    if "onset_order" in table.columns:
        table["onset_order"] = table["onset_order"].map(
            lambda text: re.sub(r"[^<=]+", lambda m: mapping.get(m.group(0), m.group(0)), text)
        )
    table.to_csv(path, index=False, float_format="%.6g", lineterminator="\n")


def make_all(out: Path = HERE) -> list[Path]:
    """Write every example file into ``out``; return the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def save(rec: hfs_emg.Recording, name: str) -> None:
        path = out / name
        hfs_emg.write_recording(rec, path, overwrite=True)
        written.append(path)

    def truth(table: pd.DataFrame, name: str, mapping: dict[str, str]) -> None:
        (out / "truth").mkdir(exist_ok=True)
        path = out / "truth" / name
        _write_truth(table, path, mapping)
        written.append(path)

    # 1. Spontaneous HFS EMG, both sides (left affected), 60 s at 5 kHz, EDF+.
    sim = simulate_spontaneous(
        duration_s=60.0, sfreq=5000.0, contralateral=True, snr_db=15.0, seed=7
    )
    rec, mapping = _finish(sim.recording, "sim-spontaneous")
    save(rec, "spontaneous_hfs.edf")
    truth(sim.bursts, "spontaneous_hfs_bursts.csv", mapping)
    truth(sim.synchronous, "spontaneous_hfs_synchronous.csv", mapping)

    # 2. Intraoperative LSR session: zygomatic stimulation at 1 Hz, LSR disappears at stim 70.
    lsr = simulate_lsr_session(n_stimuli=100, sfreq=5000.0, disappearance_index=70, seed=11)
    rec, mapping = _finish(lsr.recording, "sim-lsr")
    save(rec, "lsr_session.edf")
    truth(lsr.responses, "lsr_session_responses.csv", mapping)
    truth(lsr.trend, "lsr_session_trend.csv", mapping)

    # 3. Nerve conduction studies (CMAP both sides, F-waves, blink reflex), 10 kHz, BDF+.
    ncs = simulate_nerve_conduction(sfreq=10000.0, seed=5)
    for rec0, table, stem, test in (
        (ncs.cmap, ncs.cmap_truth, "ncs_cmap", "CMAP"),
        (ncs.f_waves, ncs.f_wave_truth, "ncs_f_waves", "F-wave"),
        (ncs.blink, ncs.blink_truth, "ncs_blink_reflex", "Blink"),
    ):
        rec, mapping = _finish(rec0, f"sim-{stem}", test)
        save(rec, f"{stem}.bdf")
        truth(table, f"{stem}_truth.csv", mapping)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="output folder")
    args = parser.parse_args()
    for path in make_all(args.out):
        print(f"{path.stat().st_size / 1e6:8.2f} MB  {path.name}")


if __name__ == "__main__":
    main()
