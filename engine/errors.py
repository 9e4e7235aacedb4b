"""What can go wrong in the engine. `web/errors.py` maps each class to an HTTP status, once."""
from __future__ import annotations


class DubanError(Exception):
    """Base of every error the engine raises on purpose."""

    code = "error"

    def __init__(self, message: str, details: list | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or []


class InvalidInput(DubanError):
    """Raised when a request's values are wrong: missing, mistyped, out of range (422)."""

    code = "invalid_input"


class FormInvalid(InvalidInput):
    """Raised when data submitted to a task does not satisfy its form; details name each field."""

    code = "form_invalid"


class DeploymentInvalid(InvalidInput):
    """Raised when a BPMN file or its forms cannot be deployed; details name the element."""

    code = "deployment_invalid"


class NotFound(DubanError):
    """Raised when a thing does not exist, or exists but the caller may not know it does (404)."""

    code = "not_found"


class AuthenticationFailed(DubanError):
    """Raised when credentials or a token are missing, wrong, expired, or the account is locked (401)."""

    code = "unauthenticated"


class Forbidden(DubanError):
    """Raised when the caller is known but their role or unit does not allow the action (403)."""

    code = "forbidden"


class Conflict(DubanError):
    """Raised when the action no longer fits the state: done already, claimed by another (409)."""

    code = "conflict"


class TaskAlreadyCompleted(Conflict):
    """Raised when a task is completed (or claimed) after it was completed or cancelled."""

    code = "task_completed"


class StaleInstance(Conflict):
    """Raised when another transaction changed the instance between our read and our write."""

    code = "stale_version"


class WriteConflict(StaleInstance):
    """Raised when an engine step's write lost the race to another writer (SQLite); the step reruns."""

    code = "write_conflict"


class ProcessError(DubanError):
    """Raised when a process cannot continue: an expression fails, a script is refused (an incident)."""

    code = "process_error"
