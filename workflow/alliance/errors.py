"""The package's errors: one base class, so that a caller (a Snakemake script, a test, a user's own
code) can tell a problem the package diagnosed from a bug, and print it without a traceback.

Each stage raises its own subclass (``InvalidExportsError`` in the data stage, ``FitFailed`` in the
engine, ...); configuration problems are ``ConfigError``s, which name the file and the key.
"""

from __future__ import annotations


class AllianceError(Exception):
    """A problem the package found and can explain: bad input, bad configuration, an impossible fit."""


class ConfigError(AllianceError, ValueError):
    """A configuration file is missing, unreadable or inconsistent.

    ``file`` is the file's path and ``key`` the dotted key that is wrong (empty for the file as a whole),
    so that the message points at the line to edit.
    """

    def __init__(self, message: str, file: str = "", key: str = "") -> None:
        self.file = str(file)
        self.key = key
        self.message = message
        super().__init__(self._text())

    def _text(self) -> str:
        where = ", ".join(part for part in (self.file, f"key '{self.key}'" if self.key else "") if part)
        return f"{where}: {self.message}" if where else self.message

    def located(self, file: str) -> ConfigError:
        """The same error, naming ``file`` (when the parser that raised it did not know the path)."""
        return type(self)(self.message, file=self.file or file, key=self.key)
