"""The list of problems an import collects, with a cap so that it stays bounded."""

from __future__ import annotations

from maillage.errors import Problem

__all__ = ["ProblemLog"]


class ProblemLog:
    """Errors (refuse the import) and warnings (reported, import goes on), in order found.

    After ``max_problems`` errors, :attr:`full` turns true: readers stop and one last
    problem says how many were left unread. Warnings are capped at the same number, and
    repeated warnings of one kind in one file at 20 (then one summary line), so that a file
    with a control character in every cell does not bury the one error that matters.
    """

    _PER_KIND = 20

    def __init__(self, max_problems: int = 10_000):
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []
        self.max_problems = max_problems
        self._kinds: dict[tuple[str, str], int] = {}
        self._closed = False

    @property
    def full(self) -> bool:
        """Whether the error cap is reached (readers stop reading)."""
        return len(self.errors) >= self.max_problems

    def error(self, file: str, row: int | None, column: str | None, message: str) -> None:
        """Record an error, unless the cap is reached."""
        if self.full:
            if not self._closed:
                self._closed = True
                self.errors.append(Problem(file, None, None,
                                           f"stopped after {self.max_problems:,} problems; "
                                           "fix these and run again to see the rest"))
            return
        self.errors.append(Problem(file, row, column, message))

    def warn(self, file: str, row: int | None, column: str | None, message: str,
             kind: str | None = None) -> None:
        """Record a warning; ``kind`` groups repeated warnings of one file for the cap."""
        if len(self.warnings) >= self.max_problems:
            return
        if kind is not None:
            seen = self._kinds.get((file, kind), 0) + 1
            self._kinds[(file, kind)] = seen
            if seen > self._PER_KIND:
                return
        self.warnings.append(Problem(file, row, column, message))

    def finish(self) -> None:
        """Close the lists: say if reading stopped at the error cap, and add one line per
        capped kind of warning saying how many were not listed."""
        if self.full and not self._closed:
            self._closed = True
            self.errors.append(Problem(self.errors[-1].file, None, None,
                                       f"stopped after {self.max_problems:,} problems; fix "
                                       "these and run again to see the rest"))
        for (file, kind), seen in self._kinds.items():
            if seen > self._PER_KIND:
                self.warnings.append(Problem(
                    file, None, None,
                    f"... and {seen - self._PER_KIND:,} more warning(s) like the above ({kind})"))
        self._kinds.clear()
