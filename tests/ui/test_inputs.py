"""The inputs section's reading of a call: what drives, which span, which people."""

from __future__ import annotations

import pytest

from animator.errors import InputError
from animator.ui.inputs import NO_MOTION, driving, people, portrait_path, span


def test_what_drives_the_motion():
    assert driving("clip.mp4", {"motion": NO_MOTION}) == ("clip.mp4", [])
    motion, notes = driving("clip.mp4", {"motion": "wave"})
    assert motion == "wave" and "animated 'wave'" in notes[0]
    with pytest.raises(InputError, match="driving video or pick a built-in motion"):
        driving(None, {})
    with pytest.raises(InputError, match="Upload a portrait"):
        portrait_path(None)


def test_span_and_people():
    assert span({"start": 1, "end": 0}) == {"start": 1.0, "end": None}
    assert people({"person": 1.0, "driving_person": None}) == {"person": 1, "driving_person": 0}
    with pytest.raises(InputError, match="driving_person must be a whole number"):
        people({"driving_person": 1.5})
