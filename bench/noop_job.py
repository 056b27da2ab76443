"""The no-op job the pipeline benchmark runs beside the phases: nothing to import, nothing made."""


def noop() -> None:
    """The baseline job: does nothing, through the same queue and worker class as the phases."""
