"""`Evaluator`: what every evaluator shares (context manager, `close`, `abort`)."""

from __future__ import annotations

from typing import Any


class Evaluator:
    """Base of the evaluators: subclasses define `imap_unordered(candidates)`.

    Used as a context manager, a normal exit `close()`s it and an exit by an exception (an
    environment fault, Ctrl-C) `abort()`s it, which does not wait for evaluations still running.
    """

    def close(self) -> None:
        """Release workers (nothing to release by default)."""

    def abort(self) -> None:
        """Stop at once: drop queued and running evaluations (by default, the same as `close`)."""
        self.close()

    def __enter__(self) -> Any:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
