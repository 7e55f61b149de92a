"""The plan study's error (kept apart so that the command line can name it without loading the study)."""


class PlanError(ValueError):
    """A plan study that cannot run; ``str(error)`` is the message for the user."""
