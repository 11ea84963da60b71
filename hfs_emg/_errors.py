"""Exceptions and warnings of hfs_emg.

Every error the package raises on bad input is a subclass of :class:`HfsEmgError`, so a batch
script can catch them all with one ``except`` clause. Most also subclass the built-in exception a
Python user would expect (``ValueError``, ``OSError``), so generic handlers keep working.
"""

from __future__ import annotations

__all__ = [
    "ChannelError",
    "CorruptFileError",
    "DataError",
    "HfsEmgError",
    "HfsEmgWarning",
    "NoStimulusError",
    "ParameterError",
    "SamplingRateError",
    "UnitsError",
    "UnsupportedFormatError",
]


class HfsEmgError(Exception):
    """Base class of every error raised by hfs_emg on bad input."""


class ParameterError(HfsEmgError, ValueError):
    """A parameter has a value outside what the function accepts."""


class UnsupportedFormatError(HfsEmgError, ValueError):
    """The file's format (usually its extension) is not one hfs_emg can read or write."""


class CorruptFileError(HfsEmgError, OSError):
    """A file is empty, truncated, or its header contradicts its content."""


class UnitsError(HfsEmgError, ValueError):
    """A physical unit is unknown, missing or inconsistent."""


class SamplingRateError(HfsEmgError, ValueError):
    """Sampling rates are invalid, or differ between channels that must share one."""


class ChannelError(HfsEmgError, ValueError):
    """A channel name, index or type is unknown, duplicated or inconsistent."""


class DataError(HfsEmgError, ValueError):
    """Sample values are unusable: NaN or infinite samples, wrong shape, mismatched lengths."""


class NoStimulusError(HfsEmgError, ValueError):
    """No stimulus could be found where one was required."""


class HfsEmgWarning(UserWarning):
    """Warning category of hfs_emg.

    Silence with ``warnings.simplefilter("ignore", HfsEmgWarning)``.
    """
