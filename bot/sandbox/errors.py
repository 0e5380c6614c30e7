"""The error a Bot API method answers with, carried as an exception through the handlers."""

from typing import Any


class ApiError(Exception):
    """An error response: HTTP-like ``error_code`` plus the exact ``description`` text."""

    def __init__(self, error_code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        # ResponseParameters, e.g. {"retry_after": 3} on a 429.
        self.parameters = parameters


def bad_request(reason: str) -> ApiError:
    """400 with the "Bad Request: " prefix the real API puts on every client error."""
    return ApiError(400, f"Bad Request: {reason}")


def forbidden(reason: str) -> ApiError:
    return ApiError(403, f"Forbidden: {reason}")


def too_many_requests(retry_after: int) -> ApiError:
    """429 "Too Many Requests: retry after N" with parameters.retry_after = N (whole seconds)."""
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})


NOT_FOUND = ApiError(404, "Not Found")
UNAUTHORIZED = ApiError(401, "Unauthorized")
