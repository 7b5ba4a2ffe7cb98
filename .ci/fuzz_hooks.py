"""Schemathesis hooks for .ci/fuzz-api: the error-format rule of
docs/decisions.md ("Every error is application/problem+json ...") as a check.
"""

import json

import schemathesis


@schemathesis.check
def problem_json_errors(ctx, response, case):
    """Every 4xx/5xx answers application/problem+json with a problem body."""
    if response.status_code < 400:
        return None
    content_type = response.headers.get("content-type", [""])
    if isinstance(content_type, list):
        content_type = content_type[0] if content_type else ""
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type != "application/problem+json":
        raise AssertionError(
            f"{response.status_code} answered {content_type or 'no content type'!r}, "
            "not application/problem+json"
        )
    try:
        problem = json.loads(response.content)
    except ValueError as error:
        raise AssertionError(f"{response.status_code} problem body is not JSON: {error}")
    if not isinstance(problem, dict):
        raise AssertionError(f"{response.status_code} problem body is not an object")
    missing = [key for key in ("type", "code", "title", "status") if key not in problem]
    if missing:
        raise AssertionError(f"{response.status_code} problem body lacks {', '.join(missing)}")
    if problem["status"] != response.status_code:
        raise AssertionError(
            f"problem status {problem['status']!r} differs from the response's {response.status_code}"
        )
    return None
