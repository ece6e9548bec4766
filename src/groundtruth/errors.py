"""The one exception hierarchy. Every error also inherits the builtin it resembles."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .issues import Issue, Location


class GroundtruthError(Exception):
    """Base of every error groundtruth raises on purpose.

    `hint` says what to do about it; `location` says where, when it is about a place in a file.
    """

    def __init__(
        self, message: str, *, hint: str | None = None, location: Location | None = None
    ) -> None:
        from ._voice import api

        super().__init__(message)
        self.message = message
        self.hint = api(hint) if hint else hint  # the CLI shows it with its flags (`_voice`)
        self.location = location

    def __reduce__(self) -> tuple[object, ...]:
        # Keep hint and location when an error crosses a process boundary (engine workers).
        return (_rebuild, (type(self), self.message, self.__dict__.copy()))

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location is not None and str(self.location) else ""
        text = f"{where}{self.message}"
        return f"{text}\n  hint: {self.hint}" if self.hint else text


class DatasetNotFoundError(GroundtruthError, FileNotFoundError):
    """No dataset (or file) at the given location."""


class DataFormatError(GroundtruthError, ValueError):
    """A file cannot be read as what it claims to be (bad JSON, bad UTF-8, torn write...)."""


class UnsupportedVersionError(GroundtruthError, ValueError):
    """A dataset declares a spec version this SDK does not know."""


class BackendNotInstalledError(GroundtruthError, ImportError):
    """A URL needs an fsspec backend (s3fs, gcsfs, adlfs...) that is not installed."""


class UnknownFormatError(GroundtruthError, LookupError):
    """No converter has the requested name, or auto-detection could not decide."""


class UnknownOptionError(GroundtruthError, TypeError):
    """A reading or writing option the format does not take (e.g. a mistyped `-o key=value`)."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(
            message,
            hint=hint or "check the option's spelling; each format's options are listed in "
            "its converters/<format>/MAPPING.md and docs/",
        )


class ConversionError(GroundtruthError, ValueError):
    """A foreign file cannot be converted at all (as opposed to record-level issues)."""


class DatasetExistsError(GroundtruthError, FileExistsError):
    """The destination already holds data and overwriting was not asked for."""


class AccessError(GroundtruthError, OSError):
    """A location cannot be reached or read: permission denied, a folder where a file is
    expected, no storage credentials, an endpoint or host that does not answer."""


class OutOfMemoryError(GroundtruthError, MemoryError):
    """Reading ran out of memory; the hint names the streaming path."""


class DataLossError(GroundtruthError, ValueError):
    """A conversion or export dropped data beyond what the target format cannot carry
    (records the reader could not read, every annotation of a type, every row).

    Raised by `ConversionReport.raise_for_loss()`; carries the report's `dropped` issues.
    """

    def __init__(self, issues: list[Issue]) -> None:
        first = issues[0]
        more = f" (and {len(issues) - 1} more)" if len(issues) > 1 else ""
        super().__init__(f"[{first.code}] {first.message}{more}", hint=first.hint,
                         location=first.location)
        self.issues = issues


class IntegrityError(GroundtruthError, ValueError):
    """A data part does not match the manifest (missing, truncated, or hash mismatch)."""


class DatasetValidationError(GroundtruthError, ValueError):
    """Raised by `ValidationReport.raise_for_errors()`; carries the whole list of issues."""

    def __init__(self, issues: list[Issue]) -> None:
        errors = [i for i in issues if i.severity == "error"]
        first = errors[0] if errors else issues[0]
        rest = len(errors) - 1
        more = f" (and {rest} more error{'s' if rest != 1 else ''})" if rest > 0 else ""
        super().__init__(
            f"[{first.code}] {first.message}{more}", hint=first.hint, location=first.location
        )
        self.issues = issues


class DecisionLogError(GroundtruthError, ValueError):
    """A decisions log cannot be applied: a line is not a decision, or names what is not there.

    Carries every problem found (`issues`), each located by file, line and field.
    """

    def __init__(self, issues: list[Issue]) -> None:
        first = issues[0]
        rest = len(issues) - 1
        more = f" (and {rest} more problem{'s' if rest != 1 else ''})" if rest > 0 else ""
        super().__init__(
            f"[{first.code}] {first.message}{more}", hint=first.hint, location=first.location
        )
        self.issues = issues


def _rebuild(cls: type[GroundtruthError], message: str, state: dict[str, object]) -> GroundtruthError:
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    err.__dict__.update(state)
    return err
