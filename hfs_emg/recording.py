"""The :class:`Recording`: continuous multichannel samples with units, channels, events and history.

Conventions
-----------
- ``data`` has shape ``(n_channels, n_samples)``. Voltage channels are stored in **microvolts**;
  channels whose unit is not a voltage (trigger codes, angles, counts) keep their own unit, given
  in ``channels["unit"]``.
- Times are seconds on the clock of the source file: ``tstart`` is the time of the first sample, so
  a window cut out of a long file keeps its event and burst times in file time.
- A Recording is immutable in spirit: its array is read-only and every transform returns a new
  object with a step appended to ``history``, so re-running a notebook cell never filters twice.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import html
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ._errors import ChannelError, DataError, HfsEmgWarning, ParameterError, UnitsError
from ._validate import check_option, check_sfreq, finite_rows
from ._version import __version__
from .anatomy import MUSCLES, infer_channel_info, is_ecg_lead
from .units import VOLTAGE_UNITS, normalize_unit, scale_to_uv

__all__ = [
    "CH_TYPES",
    "EVENT_COLUMNS",
    "Recording",
    "from_array",
    "make_events",
    "window_to_samples",
]

#: Channel types a Recording knows, and the MNE type each maps to.
CH_TYPES: dict[str, str] = {
    "emg": "emg",
    "stim": "stim",
    "misc": "misc",
    "eeg": "eeg",
    "eog": "eog",
    "ecg": "ecg",
    "resp": "resp",
}
#: Required columns of an events table.
EVENT_COLUMNS: tuple[str, ...] = ("onset_s", "duration_s", "label")
CHANNEL_COLUMNS: tuple[str, ...] = ("name", "type", "unit", "orig_unit", "muscle", "side", "branch")
_STIM_HINTS = ("stim", "trig", "status", "sti ", "trigger", "marker")


def make_events(
    onsets: Any = None,
    *,
    durations: Any = 0.0,
    labels: Any = "event",
    **extra: Any,
) -> pd.DataFrame:
    """Build a tidy events table (``onset_s``, ``duration_s``, ``label``), sorted by onset.

    Parameters
    ----------
    onsets : array-like of float or pandas.DataFrame or None
        Onsets in seconds (file time). A DataFrame must have ``onset_s`` and may have
        ``duration_s``, ``label`` and further columns, which are kept.
    durations : float or array-like
        Durations in seconds (0 for point events).
    labels : str or array-like of str
        Event labels.
    **extra
        Further columns (for example ``value`` for trigger codes).

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> make_events([2.0, 1.0], labels=["b", "a"])
       onset_s  duration_s label
    0      1.0         0.0     a
    1      2.0         0.0     b
    """
    if isinstance(onsets, pd.DataFrame):
        df = onsets.copy()
        if "onset_s" not in df.columns:
            raise ParameterError(
                f"An events DataFrame needs an 'onset_s' column; it has {list(df.columns)}."
            )
        if "duration_s" not in df.columns:
            df["duration_s"] = 0.0
        if "label" not in df.columns:
            df["label"] = "event"
    else:
        onset = np.atleast_1d(np.asarray([] if onsets is None else onsets, dtype=float))
        if onset.ndim != 1:
            raise ParameterError(f"Event onsets must be 1-D, got shape {onset.shape}.")
        df = pd.DataFrame({"onset_s": onset})
        df["duration_s"] = np.broadcast_to(np.asarray(durations, dtype=float), onset.shape)
        lab = np.asarray(labels, dtype=object)
        df["label"] = np.broadcast_to(lab, onset.shape) if lab.ndim == 0 else list(lab)
        for key, value in extra.items():
            df[key] = value
    df["onset_s"] = df["onset_s"].astype(float)
    df["duration_s"] = df["duration_s"].astype(float)
    df["label"] = df["label"].astype(str)
    bad = ~np.isfinite(df["onset_s"].to_numpy()) | ~np.isfinite(df["duration_s"].to_numpy())
    if bad.any():
        raise DataError(f"{int(bad.sum())} event(s) have a non-finite onset or duration.")
    if (df["duration_s"] < 0).any():
        raise DataError("Event durations must be >= 0 seconds.")
    cols = list(EVENT_COLUMNS) + [c for c in df.columns if c not in EVENT_COLUMNS]
    return df[cols].sort_values("onset_s", kind="stable").reset_index(drop=True)


def window_to_samples(
    tmin: float | None,
    tmax: float | None,
    *,
    tstart: float,
    sfreq: float,
    n_samples: int,
) -> tuple[int, int]:
    """Sample range ``start:stop`` of the window ``[tmin, tmax]`` seconds (inclusive, file clock).

    Samples exactly on an edge are included (times are rounded to 1e-6 samples first, so
    ``tmax=1.0`` at 1 kHz includes sample 1000 despite floating-point error).

    Examples
    --------
    >>> window_to_samples(1.0, 2.0, tstart=0.0, sfreq=1000.0, n_samples=5000)
    (1000, 2001)
    """
    for name, value in (("tmin", tmin), ("tmax", tmax)):
        if value is not None and not np.isfinite(value):
            raise ParameterError(
                f"{name}={value!r} is not a finite time in seconds; omit it (None) for the edge "
                "of the recording."
            )
    start = 0 if tmin is None else int(np.ceil(round((tmin - tstart) * sfreq, 6)))
    stop = n_samples if tmax is None else int(np.floor(round((tmax - tstart) * sfreq, 6))) + 1
    start, stop = max(start, 0), min(stop, n_samples)
    if stop <= start:
        raise ParameterError(
            f"The window tmin={tmin}, tmax={tmax} s holds no sample of a recording spanning "
            f"{tstart:.6g} to {tstart + n_samples / sfreq:.6g} s."
        )
    return start, stop


def _infer_type(name: str, unit: str | None) -> str:
    lowered = name.lower()
    if any(h.strip() in lowered for h in _STIM_HINTS):
        return "stim"
    if "emg" in lowered:
        return "emg"
    if is_ecg_lead(name) or lowered.startswith(("ecg", "ekg")):
        return "ecg"
    if unit is not None and normalize_unit(unit) is None:
        return "misc"
    return "emg"


def _as_list(value: Any, n: int, name: str) -> list[Any]:
    if value is None or isinstance(value, str):
        return [value] * n
    if isinstance(value, Mapping):
        raise TypeError(f"{name} must be a string or a sequence, not a mapping.")
    out = list(value)
    if len(out) != n:
        raise ChannelError(f"{name} has {len(out)} entries but there are {n} channels.")
    return out


def _as_types(value: Any, names: list[str]) -> list[Any]:
    """Channel types: one for all, one per channel, or a mapping {name: type} (as MNE's
    ``set_channel_types``) with the unlisted channels inferred."""
    if isinstance(value, Mapping):
        unknown = sorted(set(map(str, value)) - set(names))
        if unknown:
            raise ChannelError(f"ch_types names unknown channel(s) {unknown}; channels: {names}.")
        return [value.get(n) for n in names]
    return _as_list(value, len(names), "ch_types")


def _annotation_rows(source: Any) -> pd.DataFrame:
    """Annotation rows (onset_s, duration_s, label, channel) from a result or a table."""
    cols = ["onset_s", "duration_s", "label", "channel"]
    if isinstance(source, pd.DataFrame):
        missing = {"onset_s", "label"} - set(source.columns)
        if missing:
            raise ParameterError(f"annotations table lacks column(s) {sorted(missing)}.")
        table = source.assign(
            duration_s=source.get("duration_s", 0.0), channel=source.get("channel")
        )
        return table[cols]
    parts = []
    bursts = getattr(source, "bursts", None)
    if bursts is not None and len(bursts):
        parts.append(bursts.assign(label="burst")[["onset_s", "duration_s", "label", "channel"]])
    sync = getattr(source, "synchronous", None)
    if sync is not None and len(sync):
        parts.append(
            pd.DataFrame(
                {
                    "onset_s": sync["onset_s"],
                    "duration_s": sync["offset_s"] - sync["onset_s"],
                    "label": "synchronous",
                    "channel": None,
                }
            )
        )
    stims = getattr(source, "stim_events", None)
    if stims is not None and len(stims):
        parts.append(
            pd.DataFrame(
                {
                    "onset_s": stims["onset_s"],
                    "duration_s": 0.0,
                    "label": "stimulus",
                    "channel": None,
                }
            )
        )
    trend = getattr(source, "trend", None)
    if trend is not None and len(trend) and "disappearance_time_s" in trend:
        gone = trend[trend["disappearance_time_s"].notna() & (trend["channel"] != "overall")]
        label: Any = "LSR disappeared"
        if "montage" in gone and gone["montage"].dropna().nunique() > 1:
            # alternating montages: the verdict belongs to a (branch, muscle) pair (lsr_trend)
            label = "LSR disappeared (" + gone["montage"].astype(str) + " stimulation)"
        parts.append(
            pd.DataFrame(
                {
                    "onset_s": gone["disappearance_time_s"],
                    "duration_s": 0.0,
                    "label": label,
                    "channel": gone["channel"],
                }
            )
        )
    if not parts and not hasattr(source, "bursts"):
        raise TypeError(
            "annotations must be an AnalysisResult or a table with onset_s and label, got "
            f"{type(source).__name__}."
        )
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)


def _build_channels(
    ch_names: list[str],
    *,
    units: list[str | None],
    ch_types: list[str | None],
    muscles: list[str | None] | None,
    sides: list[str | None] | None,
    branches: list[str | None] | None,
) -> pd.DataFrame:
    inferred = infer_channel_info(ch_names)
    types = []
    for name, unit, kind in zip(ch_names, units, ch_types, strict=True):
        kind = _infer_type(name, unit) if kind is None else kind
        types.append(check_option(f"ch_types[{name!r}]", kind, CH_TYPES))
    table = pd.DataFrame(
        {
            "name": ch_names,
            "type": types,
            "unit": ["uV" if normalize_unit(u) else ("" if u is None else str(u)) for u in units],
            "orig_unit": ["" if u is None else str(u) for u in units],
            "muscle": inferred["muscle"] if muscles is None else muscles,
            "side": inferred["side"] if sides is None else sides,
            "branch": inferred["branch"] if branches is None else branches,
        }
    )
    if muscles is not None and branches is None:
        table["branch"] = [MUSCLES[m].branch if m in MUSCLES else None for m in table["muscle"]]
    # Only EMG channels carry a muscle; a stim channel named "Ergo-Left" is not a facial muscle.
    not_emg = table["type"] != "emg"
    table.loc[not_emg, ["muscle", "branch"]] = None
    return table.astype(object).where(table.notna(), None)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Recording:
    """Continuous multichannel recording in microvolts with channels, events and history.

    Create one with :func:`from_array` or :func:`hfs_emg.read_recording` rather than directly.

    Attributes
    ----------
    data : ndarray, shape (n_channels, n_samples)
        Samples (read-only). Voltage channels in microvolts; others in ``channels["unit"]``.
    sfreq : float
        Sampling rate in Hz.
    channels : pandas.DataFrame
        One row per channel: ``name``, ``type`` (emg / stim / misc / eeg / eog / ecg / resp),
        ``unit`` (unit of the stored values), ``orig_unit`` (as the file declared it), ``muscle``,
        ``side``, ``branch`` (facial-nerve branch).
    events : pandas.DataFrame
        ``onset_s``, ``duration_s``, ``label`` (+ optional columns), on the recording's clock.
    tstart : float
        Time of the first sample in seconds (0 for a whole file; > 0 for a window of one).
    meta : dict
        Subject, session, source file, format, measurement date and format-specific header fields.
    history : tuple of dict
        Processing steps, each ``{"step": name, "params": {...}, "version": ...}``.
    """

    data: npt.NDArray[np.floating]
    sfreq: float
    channels: pd.DataFrame
    events: pd.DataFrame
    tstart: float = 0.0
    meta: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    history: tuple[dict[str, Any], ...] = ()

    def __post_init__(self) -> None:
        data = self.data
        if data.ndim != 2:
            raise DataError(
                f"Recording data must be 2-D (n_channels, n_samples), got {data.shape}."
            )
        if not np.isfinite(self.tstart):
            raise ParameterError(f"tstart must be a finite time in seconds, got {self.tstart!r}.")
        if len(self.channels) != data.shape[0]:
            raise ChannelError(
                f"{len(self.channels)} channel descriptions for {data.shape[0]} data rows."
            )
        if data.flags.writeable:
            data = data.view()
            data.flags.writeable = False
            object.__setattr__(self, "data", data)

    # ------------------------------------------------------------------ basic properties
    @property
    def ch_names(self) -> list[str]:
        """Channel names, in data-row order."""
        return list(self.channels["name"])

    @property
    def ch_types(self) -> list[str]:
        """Channel types, in data-row order."""
        return list(self.channels["type"])

    @property
    def n_channels(self) -> int:
        """Number of channels."""
        return int(self.data.shape[0])

    @property
    def n_samples(self) -> int:
        """Number of samples per channel."""
        return int(self.data.shape[1])

    @property
    def duration_s(self) -> float:
        """Duration in seconds (``n_samples / sfreq``)."""
        return self.n_samples / self.sfreq

    @property
    def times(self) -> npt.NDArray[np.float64]:
        """Time of every sample in seconds, on the recording's clock (starts at ``tstart``)."""
        return self.tstart + np.arange(self.n_samples) / self.sfreq

    # ------------------------------------------------------------------ selection
    def _pick_indices(self, picks: Any) -> npt.NDArray[np.intp]:
        if picks is None:
            return np.arange(self.n_channels)
        items = [picks] if isinstance(picks, (str, int, np.integer)) else list(picks)
        names = self.ch_names
        out: list[int] = []
        for item in items:
            if isinstance(item, (int, np.integer)) and not isinstance(item, bool):
                if not -self.n_channels <= int(item) < self.n_channels:
                    raise ChannelError(
                        f"Channel index {item} is out of range for {self.n_channels} channels."
                    )
                out.append(int(item) % self.n_channels)
            elif isinstance(item, str) and item in names:
                out.append(names.index(item))
            elif isinstance(item, str) and item in CH_TYPES:
                out.extend(i for i, t in enumerate(self.ch_types) if t == item)
            else:
                raise ChannelError(
                    f"Unknown channel {item!r}. Channels: {names}; types: {sorted(CH_TYPES)}."
                )
        if not out:
            raise ChannelError(f"picks={picks!r} selected no channel (types: {self.ch_types}).")
        return np.asarray(list(dict.fromkeys(out)), dtype=np.intp)

    def pick(self, picks: Any) -> Recording:
        """Return a Recording with only the chosen channels.

        Parameters
        ----------
        picks : str, int or sequence of them
            Channel names, indices, or channel types (``"emg"``, ``"stim"``...).

        Examples
        --------
        >>> import numpy as np
        >>> rec = from_array(np.zeros((3, 100)), 1000.0, ["oculi_L", "oris_L", "trigger"])
        >>> rec.pick("emg").ch_names
        ['oculi_L', 'oris_L']
        """
        idx = self._pick_indices(picks)
        return self._derive(
            data=self.data[idx],
            channels=self.channels.iloc[idx].reset_index(drop=True),
            step="pick",
            params={"picks": [self.ch_names[i] for i in idx]},
        )

    def _sample_range(self, tmin: float | None, tmax: float | None) -> tuple[int, int]:
        return window_to_samples(
            tmin, tmax, tstart=self.tstart, sfreq=self.sfreq, n_samples=self.n_samples
        )

    def crop(self, tmin: float | None = None, tmax: float | None = None) -> Recording:
        """Return the part between ``tmin`` and ``tmax`` seconds (inclusive), in file time.

        Events outside the window are dropped; times stay on the file's clock.

        Examples
        --------
        >>> import numpy as np
        >>> rec = from_array(np.zeros((1, 1000)), 100.0, ["mentalis"])
        >>> part = rec.crop(2.0, 3.0)
        >>> part.tstart, part.n_samples
        (2.0, 101)
        """
        start, stop = self._sample_range(tmin, tmax)
        t0 = self.tstart + start / self.sfreq
        t1 = self.tstart + stop / self.sfreq
        ev = self.events
        keep = (ev["onset_s"] >= t0) & (ev["onset_s"] < t1)
        return self._derive(
            data=self.data[:, start:stop],
            events=ev.loc[keep].reset_index(drop=True),
            tstart=t0,
            step="crop",
            params={"tmin": tmin, "tmax": tmax},
        )

    def rename_channels(self, mapping: Mapping[str, str]) -> Recording:
        """Return a Recording with channels renamed (anatomy columns are kept, not re-inferred).

        Examples
        --------
        >>> import numpy as np
        >>> rec = from_array(np.zeros((1, 10)), 10.0, ["orbicularis_oculi_L"])
        >>> rec.rename_channels({"orbicularis_oculi_L": "OrbOculi_L"}).ch_names
        ['OrbOculi_L']
        """
        unknown = sorted(set(mapping) - set(self.ch_names))
        if unknown:
            raise ChannelError(f"Cannot rename unknown channel(s) {unknown}; have {self.ch_names}.")
        names = [str(mapping.get(n, n)) for n in self.ch_names]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ChannelError(f"Renaming would duplicate channel names {dupes}.")
        channels = self.channels.copy()
        channels["name"] = names
        return self._derive(channels=channels, step="rename_channels", params=dict(mapping))

    def copy(self) -> Recording:
        """Return a deep copy (the new object owns a writeable-free copy of the samples)."""
        return dataclasses.replace(
            self,
            data=self.data.copy(),
            channels=self.channels.copy(),
            events=self.events.copy(),
            meta=dict(self.meta),
            history=tuple(dict(h) for h in self.history),
        )

    def get_data(
        self,
        picks: Any = None,
        *,
        units: str = "uV",
        tmin: float | None = None,
        tmax: float | None = None,
    ) -> npt.NDArray[np.floating]:
        """Return samples as a new array, voltage channels scaled to ``units``.

        Parameters
        ----------
        picks : str, int or sequence, optional
            Channels (names, indices or types). All by default.
        units : {"uV", "mV", "V", "nV"}
            Unit for voltage channels; other channels are returned in their own unit.
        tmin, tmax : float, optional
            Window in seconds (file time, inclusive).

        Examples
        --------
        >>> import numpy as np
        >>> rec = from_array(np.full((1, 4), 1500.0), 1000.0, ["oris"])
        >>> rec.get_data(units="mV")
        array([[1.5, 1.5, 1.5, 1.5]])
        """
        key = normalize_unit(units)
        if key is None:
            raise UnitsError(f"units must be one of {sorted(VOLTAGE_UNITS)}, got {units!r}.")
        idx = self._pick_indices(picks)
        start, stop = self._sample_range(tmin, tmax)
        out = np.array(self.data[idx, start:stop])
        factor = 1.0 / VOLTAGE_UNITS[key]
        if factor != 1.0:
            volt = (self.channels["unit"].to_numpy()[idx] == "uV").nonzero()[0]
            out[volt] *= factor
        return out

    # ------------------------------------------------------------------ derivation
    def _derive(
        self,
        *,
        step: str,
        params: Mapping[str, Any] | None = None,
        **changes: Any,
    ) -> Recording:
        """New Recording with ``changes`` applied and ``step`` appended to the history."""
        entry = {"step": step, "params": dict(params or {}), "version": __version__}
        return dataclasses.replace(self, history=(*self.history, entry), **changes)

    def with_data(
        self,
        data: npt.NDArray[np.floating],
        *,
        step: str,
        params: Mapping[str, Any] | None = None,
    ) -> Recording:
        """New Recording with the same channels and events but new samples, history extended.

        This is the hook processing functions use; ``data`` must keep the shape.
        """
        data = np.asarray(data)
        if data.shape != self.data.shape:
            raise DataError(f"New data has shape {data.shape}, expected {self.data.shape}.")
        return self._derive(data=data, step=step, params=params)

    def with_events(self, events: Any) -> Recording:
        """New Recording with its events table replaced (see :func:`make_events`)."""
        return self._derive(events=make_events(events), step="set_events")

    def has_step(self, step: str) -> bool:
        """True if a processing step of that name is in the history."""
        return any(h.get("step") == step for h in self.history)

    # ------------------------------------------------------------------ MNE
    def to_mne(self, *, annotations: Any = None) -> Any:
        """Convert to :class:`mne.io.RawArray` (voltages in volts, events as annotations).

        Parameters
        ----------
        annotations : AnalysisResult or pandas.DataFrame, optional
            Also annotate what an analysis found, so MNE's browser (``raw.plot()``) scrolls a
            long recording with it: an :class:`~hfs_emg.AnalysisResult` adds its bursts
            (``burst``, on their channel), synchronous events (``synchronous``), stimuli
            (``stimulus``) and LSR disappearances (``LSR disappeared``); a table with
            ``onset_s``, ``duration_s`` and ``label`` (optional ``channel``) adds its rows.
            The recording's own events (e.g. phase markers) are always kept.

        Returns
        -------
        mne.io.RawArray

        Examples
        --------
        >>> import numpy as np
        >>> raw = from_array(np.zeros((2, 500)), 500.0, ["oculi", "mentalis"]).to_mne()
        >>> raw.get_channel_types()
        ['emg', 'emg']
        >>> import pandas as pd
        >>> marks = pd.DataFrame({"onset_s": [0.2], "duration_s": [0.1], "label": ["spasm"]})
        >>> rec = from_array(np.zeros((2, 500)), 500.0, ["oculi", "mentalis"])
        >>> list(rec.to_mne(annotations=marks).annotations.description)
        ['spasm']
        """
        import mne

        info = mne.create_info(
            self.ch_names, self.sfreq, [CH_TYPES[t] for t in self.ch_types], verbose=False
        )
        scale = np.where(self.channels["unit"].to_numpy() == "uV", 1e-6, 1.0)[:, None]
        first_samp = round(self.tstart * self.sfreq)
        raw = mne.io.RawArray(
            self.data * scale, info, first_samp=first_samp, copy="auto", verbose=False
        )
        meas_date = self.meta.get("meas_date")
        if isinstance(meas_date, _dt.datetime):
            if meas_date.tzinfo is None:
                meas_date = meas_date.replace(tzinfo=_dt.timezone.utc)
            raw.set_meas_date(meas_date)
        rows = [self.events.assign(channel=None)[["onset_s", "duration_s", "label", "channel"]]]
        if annotations is not None:
            rows.append(_annotation_rows(annotations))
        marks = (
            pd.concat([r for r in rows if len(r)], ignore_index=True)
            if any(len(r) for r in rows)
            else rows[0]
        )
        if len(marks):
            # With orig_time=None MNE adds raw.first_time to the onsets, which puts them on the
            # same clock as ours (sample index / sfreq, first sample at first_time).
            marks = marks.sort_values("onset_s", kind="stable")
            ch_names = [() if not isinstance(c, str) else (c,) for c in marks["channel"]]
            raw.set_annotations(
                mne.Annotations(
                    onset=marks["onset_s"].to_numpy(dtype=float) - raw.first_time,
                    duration=marks["duration_s"].to_numpy(dtype=float),
                    description=marks["label"].astype(str).to_numpy(),
                    ch_names=ch_names,
                ),
                verbose=False,
            )
        return raw

    @classmethod
    def from_mne(cls, raw: Any, *, meta: Mapping[str, Any] | None = None) -> Recording:
        """Build a Recording from an :class:`mne.io.Raw` (loads its samples).

        Voltage channels (MNE types whose unit is volts) are converted to microvolts; annotations
        become events; muscle, side and branch are inferred from the channel names.

        Examples
        --------
        >>> import numpy as np
        >>> rec = from_array(np.ones((1, 100)), 100.0, ["mentalis_R"])
        >>> Recording.from_mne(rec.to_mne()).get_data().max()
        np.float64(1.0)
        """
        import mne

        if not isinstance(raw, mne.io.BaseRaw):
            raise TypeError(f"raw must be an mne.io.BaseRaw, got {type(raw).__name__}.")
        types = raw.get_channel_types()
        known = {v: k for k, v in CH_TYPES.items()}
        ch_types = [known.get(t, "misc") for t in types]
        units = [
            "V" if ch["unit"] == mne.io.constants.FIFF.FIFF_UNIT_V else None
            for ch in raw.info["chs"]
        ]
        data = raw.get_data()
        ann = raw.annotations
        tstart = raw.first_time
        # MNE keeps annotation onsets on the clock where sample i is at i / sfreq (the first
        # sample at raw.first_time), which is the clock of our events.
        events = make_events(ann.onset, durations=ann.duration, labels=list(ann.description))
        m = {"meas_date": raw.info["meas_date"], "source": "mne"}
        m.update(meta or {})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", HfsEmgWarning)
            rec = from_array(
                data,
                raw.info["sfreq"],
                list(raw.ch_names),
                units=[u if u else "" for u in units],
                ch_types=ch_types,
                events=events,
                meta=m,
                tstart=tstart,
            )
        return rec

    # ------------------------------------------------------------------ display
    def _summary_rows(self) -> list[tuple[str, str]]:
        counts = self.channels["type"].value_counts()
        types = ", ".join(f"{n} {t}" for t, n in counts.items())
        muscles = [m for m in self.channels["muscle"] if m]
        labels = self.events["label"].value_counts()
        ev = ", ".join(f"{n}× {lab}" for lab, n in labels.head(6).items())
        if len(labels) > 6:
            ev += ", …"
        src = self.meta.get("source_file") or self.meta.get("source") or "array"
        return [
            ("source", str(src)),
            ("channels", f"{self.n_channels} ({types})"),
            ("muscles", ", ".join(dict.fromkeys(muscles)) or "none recognised"),
            ("sampling rate", f"{self.sfreq:g} Hz"),
            ("duration", f"{self.duration_s:.3f} s ({self.n_samples} samples)"),
            ("start", f"{self.tstart:.6g} s"),
            ("events", f"{len(self.events)}" + (f" ({ev})" if ev else "")),
            ("history", " → ".join(h["step"] for h in self.history) or "raw"),
        ]

    def __repr__(self) -> str:
        names = ", ".join(self.ch_names[:6]) + (", …" if self.n_channels > 6 else "")
        return (
            f"<Recording | {self.n_channels} ch ({names}), {self.sfreq:g} Hz, "
            f"{self.duration_s:.3f} s, {len(self.events)} events>"
        )

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td style='text-align:left'>{html.escape(v)}</td></tr>"
            for k, v in self._summary_rows()
        )
        table = self.channels.to_html(index=False, na_rep="", border=0)
        return (
            f"<div><strong>hfs_emg Recording</strong><table>{rows}</table>"
            f"<details><summary>channels</summary>{table}</details></div>"
        )


def _check_converted(out: np.ndarray, names: Sequence[str], tstart: float, sfreq: float) -> None:
    """Finite samples can overflow when scaled to microvolts or cast to float32 (1e308 mV)."""
    sums = out.sum(axis=1, dtype=np.float64)  # a row sum is finite iff the row is (for EMG)
    for i in np.flatnonzero(~np.isfinite(sums)):
        bad = ~np.isfinite(out[i])
        if bad.any():
            first = int(np.argmax(bad))
            raise DataError(
                f"{int(bad.sum())} sample(s) of channel {names[i]!r} overflow the {out.dtype} "
                f"range once converted to microvolts; first at t={tstart + first / sfreq:.6g} s. "
                "Check the channel's unit and scale."
            )


def from_array(
    data: npt.ArrayLike,
    sfreq: float,
    ch_names: Sequence[str] | None = None,
    *,
    units: str | Sequence[str | None] | None = "uV",
    ch_types: str | Sequence[str | None] | Mapping[str, str] | None = None,
    events: Any = None,
    muscles: Sequence[str | None] | None = None,
    sides: Sequence[str | None] | None = None,
    branches: Sequence[str | None] | None = None,
    meta: Mapping[str, Any] | None = None,
    tstart: float = 0.0,
    dtype: npt.DTypeLike | None = None,
    check_finite: bool = True,
) -> Recording:
    """Create a :class:`Recording` from an array.

    Parameters
    ----------
    data : array-like, shape (n_channels, n_samples) or (n_samples,)
        Samples in ``units``.
    sfreq : float
        Sampling rate in Hz (always explicit).
    ch_names : sequence of str, optional
        Channel names (default ``"ch0"``, ``"ch1"``...). Muscle, side and branch are inferred
        from them unless given.
    units : str or sequence of str, default "uV"
        Unit of ``data`` (one for all channels or one per channel). Voltages (``"V"``, ``"mV"``,
        ``"uV"``...) are converted to microvolts; anything else is kept as is with a warning for
        EMG channels.
    ch_types : str, sequence of str or mapping, optional
        ``"emg"``, ``"stim"``, ``"misc"``... for all channels, per channel, or as a mapping
        ``{name: type}`` for some channels (as MNE's ``set_channel_types``). Inferred from
        names and units where not given (``"trigger"``/``"stim"``/``"status"`` names are stim,
        non-voltage units are misc).
    events : pandas.DataFrame or array-like of float, optional
        Events; see :func:`make_events`.
    muscles, sides, branches : sequence, optional
        Per-channel anatomy overriding the inference (see :mod:`hfs_emg.anatomy`).
    meta : dict, optional
        Free metadata (subject, session, source_file...).
    tstart : float
        Time of the first sample in seconds.
    dtype : dtype, optional
        Storage dtype (``float64`` by default; ``float32`` halves memory for long recordings).
    check_finite : bool, default True
        Look for NaN and infinite samples (a pass over the data). False only for samples that
        are finite by construction, as the readers of integer-coded EDF/BDF files pass
        (:meth:`hfs_emg.io.BaseReader.read`); the unit conversion is checked either way.

    Returns
    -------
    Recording

    Raises
    ------
    DataError
        Wrong shape, NaN or infinite samples.
    ChannelError
        Duplicate names or a name/type/unit list of the wrong length.

    Examples
    --------
    >>> import numpy as np
    >>> rec = from_array(np.zeros((2, 2000)), 2000.0, ["oculi_L", "mentalis_L"], units="mV")
    >>> rec
    <Recording | 2 ch (oculi_L, mentalis_L), 2000 Hz, 1.000 s, 0 events>
    >>> rec.channels[["name", "muscle", "side", "branch"]].values.tolist()[1]
    ['mentalis_L', 'mentalis', 'left', 'marginal_mandibular']
    >>> from_array(np.zeros((2, 10)), 1e3, ["oris_L", "sync"], ch_types={"sync": "stim"}).ch_types
    ['emg', 'stim']
    """
    sfreq = check_sfreq(sfreq)
    try:
        finite = bool(np.isfinite(float(tstart)))
    except (TypeError, ValueError):
        finite = False
    if not finite:
        raise ParameterError(f"tstart must be a finite time in seconds, got {tstart!r}.")
    arr = np.asarray(data)
    if arr.dtype.kind not in "fiub":
        raise DataError(f"data must be numeric, got dtype {arr.dtype}.")
    if arr.ndim == 1:
        arr = arr[np.newaxis, :]
    if arr.ndim != 2:
        raise DataError(f"data must be 2-D (n_channels, n_samples), got shape {arr.shape}.")
    n_ch, n_samp = arr.shape
    if n_ch == 0 or n_samp == 0:
        raise DataError(f"data is empty (shape {arr.shape}).")
    if ch_names is None:
        ch_names = [f"ch{i}" for i in range(n_ch)]
    names = [str(n) for n in ch_names]
    if len(names) != n_ch:
        raise ChannelError(f"{len(names)} channel names for {n_ch} data rows.")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ChannelError(f"Duplicate channel names: {dupes}.")
    out_dtype = np.dtype(dtype) if dtype is not None else np.result_type(arr.dtype, np.float64)
    if out_dtype.kind != "f":
        raise ParameterError(f"dtype must be a floating type, got {out_dtype}.")

    unit_list = _as_list(units, n_ch, "units")
    type_list = _as_types(ch_types, names)
    factors = np.ones(n_ch)
    for i, (name, unit) in enumerate(zip(names, unit_list, strict=True)):
        factor = scale_to_uv(unit)
        if factor is not None:
            factors[i] = factor
        elif (type_list[i] or _infer_type(name, unit)) != "stim" and (
            not str(unit or "").strip() or type_list[i] == "emg" or "emg" in name.lower()
        ):
            # Trigger channels carry codes, not physical values: no unit is expected there.
            warnings.warn(
                f"Channel {name!r} declares unit {unit!r}, which is not a voltage: its values are "
                "kept as they are (not microvolts). Pass units='uV' (or 'mV', 'V') if you know the "
                "scale.",
                HfsEmgWarning,
                stacklevel=2,
            )
    # row sums in float64 (one read, no mask of the recording's size); exact check if needed
    ok = finite_rows(arr) if check_finite else np.ones(n_ch, bool)
    if not ok.all():
        bad_ch = [int(i) for i in np.nonzero(~ok)[0]]
        finite = np.isfinite(arr[bad_ch])
        first = int(np.argmax(~finite[0]))
        raise DataError(
            f"{int((~finite).sum())} NaN or infinite sample(s) in channel(s) "
            f"{[names[i] for i in bad_ch]}; first in {names[bad_ch[0]]!r} at "
            f"t={tstart + first / sfreq:.6g} s. Interpolate or crop them before analysis."
        )
    if np.all(factors == 1.0) and arr.dtype == out_dtype:
        out = arr
    else:
        out = arr.astype(out_dtype, copy=True)
        if not np.all(factors == 1.0):
            out *= factors.astype(out_dtype)[:, None]
        _check_converted(out, names, tstart, sfreq)
    channels = _build_channels(
        names,
        units=unit_list,
        ch_types=type_list,
        muscles=list(muscles) if muscles is not None else None,
        sides=list(sides) if sides is not None else None,
        branches=list(branches) if branches is not None else None,
    )
    return Recording(
        data=out,
        sfreq=sfreq,
        channels=channels,
        events=make_events(events),
        tstart=float(tstart),
        meta=dict(meta or {}),
        history=(),
    )
