"""Small validators shared by the package (MNE-style messages, never ``assert``)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from ._errors import ParameterError, SamplingRateError


def check_option(name: str, value: Any, allowed: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``allowed``, else raise naming the parameter.

    Examples
    --------
    >>> check_option("method", "rms", ["rms", "tkeo"])
    'rms'
    """
    allowed = list(allowed)
    if value not in allowed:
        options = ", ".join(repr(a) for a in allowed)
        raise ParameterError(
            f"Invalid value for the {name!r} parameter: {value!r}. Allowed: {options}."
        )
    return value


def validate_type(value: Any, types: type | tuple[type, ...], name: str) -> Any:
    """Return ``value`` if it is an instance of ``types``, else raise ``TypeError``."""
    if not isinstance(value, types):
        if isinstance(types, tuple):
            expected = " or ".join(t.__name__ for t in types)
        else:
            expected = types.__name__
        raise TypeError(f"{name} must be an instance of {expected}, got {type(value).__name__}.")
    return value


def check_sfreq(sfreq: Any, *, name: str = "sfreq") -> float:
    """Return the sampling rate as a positive finite float, or raise :class:`SamplingRateError`."""
    if isinstance(sfreq, bool) or (
        not isinstance(sfreq, (int, float)) and not hasattr(sfreq, "__float__")
    ):
        raise TypeError(f"{name} must be a number in Hz, got {type(sfreq).__name__}.")
    value = float(sfreq)
    if not math.isfinite(value) or value <= 0:
        raise SamplingRateError(f"{name} must be a positive finite number of Hz, got {sfreq!r}.")
    return value


def check_positive(value: Any, name: str, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a finite float > 0 (or >= 0), else raise :class:`ParameterError`."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise TypeError(f"{name} must be a number, got {type(value).__name__}.") from None
    value = float(value)
    ok = math.isfinite(value) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        bound = ">= 0" if allow_zero else "> 0"
        raise ParameterError(f"{name} must be a finite number {bound}, got {value!r}.")
    return value


def renamed_kwarg(old: str, new: str) -> Any:
    """Decorator: accept the keyword ``old`` for ``new`` with a :class:`DeprecationWarning`.

    Examples
    --------
    >>> import warnings
    >>> @renamed_kwarg("channels_info", "channels")
    ... def f(*, channels=None):
    ...     return channels
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     f(channels_info=1), w[0].category.__name__
    (1, 'DeprecationWarning')
    """
    import functools
    import warnings

    def wrap(func: Any) -> Any:
        @functools.wraps(func)
        def inner(*args: Any, **kwargs: Any) -> Any:
            if old in kwargs:
                if new in kwargs:
                    raise ParameterError(
                        f"{func.__name__}: pass {new}= only ({old}= is its old name)."
                    )
                warnings.warn(
                    f"{func.__name__}({old}=...) is deprecated; use {new}=.",
                    DeprecationWarning,
                    stacklevel=2,
                )
                kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)

        return inner

    return wrap
