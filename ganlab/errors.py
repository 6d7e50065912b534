"""The one exception type ganlab raises for problems a user can fix."""


class GanlabError(Exception):
    """A user-facing problem: the message is one line that names the problem and the fix."""
