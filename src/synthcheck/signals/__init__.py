"""Signals: one small module per kind of evidence, each registered by name."""

from synthcheck.signals.base import Signal
from synthcheck.signals.registry import (
    create_signal,
    get_signal_class,
    list_signals,
    register_signal,
)

__all__ = ["Signal", "create_signal", "get_signal_class", "list_signals", "register_signal"]
