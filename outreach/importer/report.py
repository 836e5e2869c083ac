"""What an import did: per-file counts and every rejected row with its place in the file."""

from __future__ import annotations

from dataclasses import dataclass, field

FILES = ("customers.csv", "vehicles.csv", "visits.csv", "deferred_work.csv")


@dataclass(frozen=True)
class RowError:
    """A rejected row (or a file-level problem): ``file:line:column: reason``."""

    file: str
    line: int  # physical line in the file; the header is line 1
    column: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.reason}"


@dataclass
class FileCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0


@dataclass
class ImportReport:
    """Counts per file (absent files are not in ``files``) and the rejected rows in file order."""

    files: dict[str, FileCounts] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    advisors_created: int = 0

    @property
    def rejected(self) -> int:
        return len(self.errors)

    def sort_errors(self) -> None:
        self.errors.sort(key=lambda e: (FILES.index(e.file), e.line))


class ImportAborted(Exception):
    """A file cannot be read as a whole (missing column, not UTF-8 …): nothing is imported."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors
