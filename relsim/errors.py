"""Errors a user can fix by changing their input.

The command line prints ``str(error)`` as one line and exits with status 2; nothing else is
shown, because the message already names the file, the field and what was expected.
"""

from __future__ import annotations


class RelsimError(Exception):
    """An error caused by input the user can correct (a file, a flag, a value)."""


class ScenarioError(RelsimError):
    """A scenario or experiment file (or an override of it) is not valid.

    Attributes:
        source: The file (or ``--set``) the bad value came from.
        field: Dotted path of the offending field, e.g. ``trusts[2].readiness``; empty when the
            problem concerns the whole file (a syntax error, an empty file).
        message: What was expected, and what was found.
    """

    def __init__(self, source: str, field: str, message: str) -> None:
        self.source = source
        self.field = field
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        return ": ".join(part for part in (self.source, self.field, self.message) if part)
