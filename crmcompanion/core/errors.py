"""Domain errors: each carries one clear sentence for the user (CLI exit 1, UI message)."""

from __future__ import annotations


class DomainError(Exception):
    """A failure the user can understand and fix; never a programming error."""


class NotFoundError(DomainError):
    pass


class ValidationError(DomainError):
    """Invalid input; `field_errors` maps a form field name to its message."""

    def __init__(self, field_errors: dict[str, str]) -> None:
        self.field_errors = dict(field_errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.field_errors.items()))


class ConflictError(DomainError):
    """Someone else changed the record since it was read (optimistic locking)."""


class DatabaseProblem(DomainError):
    """The database cannot be used (unreadable, corrupt, newer schema): never touched."""
