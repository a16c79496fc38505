"""Reading the statistics: a count table over contact records, by one or two dimensions, over a
range of ISO weeks, with small counts suppressed (domain/statistics/tables.py)."""

from __future__ import annotations

from dataclasses import dataclass

from server.domain import permissions
from server.domain.permissions import Action, Ownership
from server.domain.staff import StaffUser
from server.domain.statistics import tables, weeks
from server.services.ports.unit_of_work import Transactions


@dataclass(frozen=True)
class StatisticsPolicy:
    min_cell: int = 5
    max_weeks: int = 260


@dataclass(frozen=True)
class StatisticsService:
    uow: Transactions
    policy: StatisticsPolicy

    async def table_for(self, reader: StaffUser, first: str, last: str, by: str) -> tables.Table:
        permissions.require(reader.role, Action.STATISTICS_READ, Ownership.NONE)
        return await self.table(first, last, by)

    async def table(self, first: str, last: str, by: str) -> tables.Table:
        """The table for ``kinline report`` (whoever runs it on the server) and for table_for."""
        start, end = weeks.parse_week(first, "from"), weeks.parse_week(last, "to")
        weeks.check_range(start, end, self.policy.max_weeks)
        dimensions = tables.parse_dimensions(by)
        columns = tuple(tables.DIMENSIONS[name] for name in dimensions)
        async with self.uow.read() as repos:
            counts = await repos.records.counts(columns, str(start), str(end))
        return tables.build_table(counts, dimensions, self.policy.min_cell)
