import pytest

from airollout.core.resource.durations import DurationError, parse_duration

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30.0),
        ("2m", 120.0),
        ("1h", 3600.0),
        ("1h30m", 5400.0),
        ("1h2m3s", 3723.0),
        ("500ms", 0.5),
        ("1m500ms", 60.5),
        ("0s", 0.0),
        ("90m", 5400.0),
    ],
)
def test_durations_read_as_seconds(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "30", "2 m", "m", "1.5m", "30s1h", "2min", "-5s", "1d", "5M"])
def test_non_durations_are_rejected_with_an_example_of_the_form(text: str) -> None:
    with pytest.raises(DurationError, match=r"must be a duration such as 30s, 2m or 1h30m"):
        parse_duration(text)
