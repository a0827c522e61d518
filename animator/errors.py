"""The one exception type that carries a message meant for the user.

Anything raised as `InputError` is shown as is (gr.Error in the app, exit code 2 in the
CLI): its text says what was wrong and the one thing to do about it. Any other exception
is a bug.
"""


class InputError(ValueError):
    """Bad or unusable input; the message names the fix."""


class Cancelled(Exception):
    """The user stopped the job; its message is shown as is."""
