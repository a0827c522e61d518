"""What every handler shares: readable errors, notes, and jobs stopped with their client."""

from __future__ import annotations

import asyncio
import threading
import types

import gradio as gr
import pytest

from animator.errors import InputError
from animator.ui.handlers import Jobs, notes, on_page, user_errors


def test_user_mistakes_and_failures_become_messages():
    @user_errors
    def mistake():
        raise InputError("Upload a portrait first.")

    @user_errors
    def bug():
        raise KeyError("steps")

    with pytest.raises(gr.Error, match="Upload a portrait first"):
        mistake()
    with pytest.raises(gr.Error, match="Something went wrong on our side .KeyError"):
        bug()
    assert notes(["a", "b", "a"]) == "- a\n- b" and notes([]) == ""


def test_a_client_that_leaves_stops_its_jobs():
    jobs = Jobs()
    started, seen = threading.Event(), []

    def work(cancel):
        started.set()
        seen.append(cancel.wait(timeout=30))
        return "stopped" if cancel.is_set() else "done"

    async def run_and_leave():
        client = types.SimpleNamespace(session_hash="abc")
        task = asyncio.ensure_future(jobs.run(work, client))
        await asyncio.get_running_loop().run_in_executor(None, started.wait)
        jobs.client_left(client)
        return await task

    assert asyncio.run(run_and_leave()) == "stopped" and seen == [True]
    assert jobs.running == {}  # the session is forgotten with its jobs


def test_on_the_page_a_refusal_is_the_notes_and_the_other_outputs_are_emptied():
    @user_errors
    def refused(portrait):
        raise InputError("Run `python -m animator download` first.")

    async def refused_later(portrait):
        refused(portrait)

    expected = (None, None, "**Not done.** Run `python -m animator download` first.")
    assert on_page(refused, 3, 2)("p.jpg") == expected
    assert asyncio.run(on_page(refused_later, 3, 2)("p.jpg")) == expected
    assert on_page(lambda portrait: ("v", "s", "n"), 3, 2)("p.jpg") == ("v", "s", "n")
