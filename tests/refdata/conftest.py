from tests.pipeline.conftest import later_phases  # noqa: F401 - the pipeline's phase placeholders, as a fixture
