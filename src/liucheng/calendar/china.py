"""China's official working days, from the ``chinesecalendar`` package (``chinese_calendar``).

Every year the State Council publishes which days are public holidays and which weekend days
become working days to make up for them (调休).  The package ships that table for the years it
knows; this module is the only place that reads it, so a future change of data source touches one
file.

The table is read once per year into a set of day numbers (``date.toordinal()``), so a calendar
asks "is this a working day?" with a set lookup instead of a call into the package per day.
"""

from __future__ import annotations

import functools
from datetime import date

import chinese_calendar

__all__ = ["KNOWN_YEARS", "working_days"]


def _known_years() -> range:
    # The package refuses any date outside the years of its holiday table; read that range from
    # the table itself so that upgrading the package extends it with no change here.
    years = {day.year for day in chinese_calendar.holidays}
    return range(min(years), max(years) + 1)


#: The years the installed package has holiday data for (both ends included in the data).
KNOWN_YEARS = _known_years()


@functools.cache
def working_days(year: int) -> frozenset[int]:
    """The ordinals of the working days of ``year`` in China; ``year`` must be in KNOWN_YEARS.

    Cached for the life of the process: the table only changes when the package is upgraded,
    which needs a restart anyway.
    """
    if year not in KNOWN_YEARS:
        raise ValueError(f"no Chinese holiday data for {year}")
    first = date(year, 1, 1).toordinal()
    last = date(year, 12, 31).toordinal()
    return frozenset(
        n for n in range(first, last + 1) if chinese_calendar.is_workday(date.fromordinal(n))
    )
