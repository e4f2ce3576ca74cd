import pytest

from tracker.dates import parse
from tracker.views.wording import expected_phrase


@pytest.mark.parametrize(
    ("expression", "phrase"),
    [
        ("first week of October 2023", "expected in the first week of October 2023"),
        ("2027-W10", "expected in week 2027-W10"),
        ("end of September 2021", "expected at the end of September 2021"),
        ("Q3 2027", "expected in Q3 2027"),
    ],
)
def test_an_imprecise_date_reads_as_a_person_would_say_it(expression: str, phrase: str) -> None:
    assert expected_phrase(parse(expression)) == phrase
