"""Errors a service raises for a view to turn into a page or a form message."""


class ServiceError(Exception):
    """Something the user asked for cannot be done; the message says why, in plain English."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(ServiceError):
    """The input breaks a rule the form could not check by itself."""


class PermissionDenied(ServiceError):
    """The user may not do this."""

    def __init__(self, message: str = "You do not have permission to do that."):
        super().__init__(message)


class NotFound(ServiceError):
    """The thing asked for does not exist."""

    def __init__(self, message: str = "Page not found"):
        super().__init__(message)


class RateLimited(ServiceError):
    """Too many attempts in a short time."""
