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
    "NotRegularFileError",
    "OutputError",
    "OutputLockedError",
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


class NotRegularFileError(HfsEmgError, OSError):
    """An input is not a regular file (a folder, a named pipe, a device or a dangling link).

    Symbolic links are followed only to regular files; a link to anything else, or to nothing,
    is refused too.
    """


class OutputError(HfsEmgError, OSError):
    """An output folder cannot be created or written (not a folder, read-only, no space)."""


class OutputLockedError(OutputError):
    """Another batch is writing the same output folder: its lock file names a live process."""


class HfsEmgWarning(UserWarning):
    """Warning category of hfs_emg.

    Silence with ``warnings.simplefilter("ignore", HfsEmgWarning)``.
    """
