"""The package's errors: one base class, so that a caller (a Snakemake script, a test, a user's own
code) can tell a problem the package diagnosed from a bug, and print it without a traceback.

Each stage raises its own subclass (``InvalidExportsError`` in the data stage, ``FitFailed`` in the
engine, ...); configuration problems are ``ConfigError``s, which name the file and the key.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any


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


class Keyed(Mapping[str, Any]):
    """A parsed YAML mapping that knows its dotted key, so that a parser's ``spec["scale_min"]`` on a
    missing key raises ``error(…, key="wai.versions.S.scale_min")`` instead of a bare KeyError.

    Nested mappings come back wrapped too; everything else is returned as it is.
    """

    def __init__(self, data: Mapping[str, Any], key: str = "", error: type[ConfigError] = ConfigError) -> None:
        self.data, self.key, self.error = data, key, error

    def _child(self, name: object) -> str:
        return f"{self.key}.{name}" if self.key else str(name)

    def __getitem__(self, name: str) -> Any:
        if name not in self.data:
            raise self.error("missing key", key=self._child(name))
        value = self.data[name]
        return Keyed(value, self._child(name), self.error) if isinstance(value, Mapping) else value

    def get(self, name: str, default: Any = None) -> Any:
        return self[name] if name in self.data else default

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)
