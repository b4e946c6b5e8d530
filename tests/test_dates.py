"""Partial dates are one type (statetech.graph.dates): the model, query parameters, map filters and views agree."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from statetech.graph.catalog import Param
from statetech.graph.errors import QueryError
from statetech.graph.dates import check_partial_date, first_day, is_partial_date, last_day
from statetech.graph.model import Agency
from statetech.graph.selection import Filters, SelectionError
from statetech.graph.views import ViewError, _date

GOOD = ["2025", "2025-07", "2025-07-14", "2024-02-29"]
BAD = ["2025-13", "2025-00", "2025-07-32", "2023-02-29", "2023-02-31", "25", "2025-7", "2025/07/14", "July 2025",
       "2025-07-14T00:00", ""]


@pytest.mark.parametrize("value", GOOD)
def test_every_reader_accepts_a_partial_date(value):
    assert check_partial_date(value) == value and is_partial_date(value)
    agency = Agency(id="agency:x", name="X", sources=["source:x"], confidence="reported", start_date=value)
    assert agency.start_date == value
    assert Filters.parse(since=value).since == value
    assert _date(value, "since", "view") == value
    assert Param("since", type="date").coerce(value) == value


@pytest.mark.parametrize("value", BAD)
def test_every_reader_refuses_what_is_not_one(value):
    assert not is_partial_date(value)
    with pytest.raises(ValueError):
        check_partial_date(value)
    with pytest.raises(ValidationError):
        Agency(id="agency:x", name="X", sources=["source:x"], confidence="reported", start_date=value)
    if value:  # an empty filter or view date means "no date"
        with pytest.raises(SelectionError, match="is not a date; write YYYY-MM-DD, YYYY-MM or YYYY"):
            Filters.parse(since=value)
        with pytest.raises(ViewError, match="is not a date"):
            _date(value, "since", "view")
    with pytest.raises(QueryError, match=r"^parameter 'since' expects a date YYYY-MM-DD \(or YYYY-MM, YYYY\), got"):
        Param("since", type="date").coerce(value)


def test_messages_say_how_to_write_a_date():
    with pytest.raises(ValueError, match=r"^'2025/07' is not a date; write YYYY-MM-DD \(or YYYY-MM / YYYY when the "
                                         r"source gives no day\)$"):
        check_partial_date("2025/07")
    with pytest.raises(ValueError, match=r"^'2025-13' has month 13; months run 01-12$"):
        check_partial_date("2025-13")
    with pytest.raises(ValueError, match=r"^'2023-02-29' is not a day of that month$"):
        check_partial_date("2023-02-29")


def test_bounds_of_a_partial_date():
    assert (first_day("2024"), last_day("2024")) == ("2024-01-01", "2024-12-31")
    assert (first_day("2024-02"), last_day("2024-02")) == ("2024-02-01", "2024-02-31")
    assert (first_day("2024-02-10"), last_day("2024-02-10")) == ("2024-02-10", "2024-02-10")
