"""Errors a use case raises; the web and API layers turn each into one clear 4xx response."""
from __future__ import annotations


class ServiceError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, errors=None):
        super().__init__(message)
        self.message = message
        self.errors = errors


class Unauthorized(ServiceError):
    status, code = 401, "unauthorized"


class Forbidden(ServiceError):
    status, code = 403, "forbidden"


class NotFound(ServiceError):
    status, code = 404, "not_found"


class Conflict(ServiceError):
    status, code = 409, "conflict"


class Invalid(ServiceError):
    """422: ``errors`` maps each field (or BPMN element) to its messages."""
    status, code = 422, "invalid"
