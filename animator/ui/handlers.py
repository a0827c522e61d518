"""What every handler of the page needs: failures turned into messages the page (and
gradio_client) shows, and the running generations tracked per browser session, so that
Stop, a cancelled API job or a closed page stops the work at its next denoising step.

The API raises its messages (gradio_client gets them as exceptions); the page's buttons
show them in the notes instead (`on_page`): Gradio's toast fades and leaves a bare red
"Error" badge in every output."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import logging
import threading
from collections.abc import Callable
from typing import TypeVar

import gradio as gr

from animator.errors import Cancelled, InputError

log = logging.getLogger("animator.app")
T = TypeVar("T")


def user_errors(fn):
    """Turn failures into messages the page (and gradio_client) shows; keep serving. A user's
    mistake is one log line; only real failures log a traceback."""

    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (InputError, Cancelled) as e:
            log.info("%s: %s", fn.__name__, e)
            raise gr.Error(str(e), print_exception=False) from None
        except gr.Error:
            raise
        except Exception as e:
            log.exception("unexpected failure in %s", fn.__name__)
            raise gr.Error(
                f"Something went wrong on our side ({type(e).__name__}: {e}). The server is "
                "still running: try again, and report the problem if it repeats.",
                print_exception=False,
            ) from None

    return wrapped


def on_page(fn, outputs: int, notes_at: int):
    """`fn` (an endpoint) as a page button runs it: a refusal or failure becomes the notes
    output (Markdown, rendered where the user looks), the other outputs are emptied."""

    def failed(error: gr.Error) -> tuple:
        shown: list = [None] * outputs
        shown[notes_at] = f"**Not done.** {error.message}"
        return tuple(shown)

    if inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def wrapped_async(*args, **kwargs):
            try:
                return await fn(*args, **kwargs)
            except gr.Error as error:
                return failed(error)

        return wrapped_async

    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error as error:
            return failed(error)

    return wrapped


def notes(lines: list[str]) -> str:
    """Notes as a Markdown list, each said once."""
    return "\n".join(f"- {line}" for line in dict.fromkeys(lines)) if lines else ""


class Jobs:
    """The generations running for each browser session (or API client)."""

    def __init__(self):
        self.running: dict[str, set[threading.Event]] = {}  # session -> its jobs' cancel flags

    async def run(self, work: Callable[[threading.Event], T], request: gr.Request | None) -> T:
        """`work(cancel)` in a worker thread. When the job is cancelled (Stop button, a
        client's job.cancel()) this task is; when the client goes away, `client_left`
        fires. Either sets the flag, which stops the thread at its next denoising step
        instead of letting it run on unseen."""
        cancel = threading.Event()
        session = self.running.setdefault(getattr(request, "session_hash", None) or "", set())
        session.add(cancel)
        context = contextvars.copy_context()
        try:
            return await asyncio.get_running_loop().run_in_executor(
                None, context.run, functools.partial(work, cancel))
        except asyncio.CancelledError:
            cancel.set()
            raise
        finally:
            session.discard(cancel)

    def client_left(self, request: gr.Request):
        """The page was closed or the API client went away: stop its jobs."""
        for cancel in self.running.pop(request.session_hash, ()):
            cancel.set()
