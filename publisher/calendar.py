"""The publishing calendar: publications laid on a week or a month of days.

Each publication sits on the day of its channel's local time (a 19:00 Madrid post is a
Madrid 19:00 whatever the viewer's time zone), so the grid is built per channel zone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlmodel import Session

from publisher.views import PublicationRow, publication_rows


@dataclass
class Day:
    day: date
    in_range: bool
    rows: list[PublicationRow] = field(default_factory=list)


@dataclass
class Calendar:
    view: str
    start: date
    end: date  # exclusive
    days: list[Day]

    @property
    def previous(self) -> date:
        return self.start - (timedelta(days=7) if self.view == "week" else timedelta(days=1))

    @property
    def next(self) -> date:
        return self.end if self.view == "week" else self.end + timedelta(days=1)

    @property
    def weeks(self) -> list[list[Day]]:
        return [self.days[i : i + 7] for i in range(0, len(self.days), 7)]

    @classmethod
    def build(cls, session: Session, *, view: str, anchor: date) -> Calendar:
        if view == "week":
            start = anchor - timedelta(days=anchor.weekday())
            first, last = start, start + timedelta(days=7)
        else:
            start = anchor.replace(day=1)
            following = (start + timedelta(days=32)).replace(day=1)
            first = start - timedelta(days=start.weekday())
            last = following + timedelta(days=(7 - following.weekday()) % 7)
            last = max(last, following)
        end = last if view == "week" else following
        days = [
            Day(
                first + timedelta(days=n),
                first + timedelta(days=n) >= start and first + timedelta(days=n) < end,
            )
            for n in range((last - first).days)
        ]
        by_day = {d.day: d for d in days}
        # A day or so of slack each side: local days differ from UTC days by up to 14 hours.
        since = datetime.combine(first - timedelta(days=1), time(0), UTC)
        until = datetime.combine(last + timedelta(days=1), time(0), UTC)
        for row in publication_rows(session, since=since, until=until):
            cell = by_day.get(row.local.date())
            if cell is not None:
                cell.rows.append(row)
        return cls(view, start, end, days)
