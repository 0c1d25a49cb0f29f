"""A SQLite record manager for LangChain's indexing API: it remembers which chunk hashes each
source produced, so re-ingesting adds nothing twice, re-embeds only what changed and removes what
a changed or deleted source no longer has."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from langchain_core.indexing import RecordManager


class SQLiteRecordManager(RecordManager):
    def __init__(self, namespace: str, path: Path) -> None:
        super().__init__(namespace=namespace)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        self._lock = threading.Lock()
        self.create_schema()

    def create_schema(self) -> None:
        with self._lock, self._db:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS records (key TEXT, namespace TEXT, group_id TEXT,"
                " updated_at REAL, PRIMARY KEY (key, namespace))"
            )
            self._db.execute("CREATE INDEX IF NOT EXISTS records_group ON records (namespace, group_id)")

    async def acreate_schema(self) -> None:
        self.create_schema()

    def get_time(self) -> float:
        return time.time()

    async def aget_time(self) -> float:
        return self.get_time()

    def update(
        self,
        keys: Sequence[str],
        *,
        group_ids: Sequence[str | None] | None = None,
        time_at_least: float | None = None,
    ) -> None:
        now = max(self.get_time(), time_at_least or 0.0)
        groups = list(group_ids) if group_ids is not None else [None] * len(keys)
        with self._lock, self._db:
            self._db.executemany(
                "INSERT INTO records (key, namespace, group_id, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (key, namespace) DO UPDATE SET group_id = excluded.group_id,"
                " updated_at = excluded.updated_at",
                [(k, self.namespace, g, now) for k, g in zip(keys, groups, strict=True)],
            )

    async def aupdate(self, keys, *, group_ids=None, time_at_least=None) -> None:
        self.update(keys, group_ids=group_ids, time_at_least=time_at_least)

    def exists(self, keys: Sequence[str]) -> list[bool]:
        with self._lock:
            found = set()
            for start in range(0, len(keys), 500):
                batch = list(keys[start : start + 500])
                marks = ",".join("?" * len(batch))
                rows = self._db.execute(
                    f"SELECT key FROM records WHERE namespace = ? AND key IN ({marks})", [self.namespace, *batch]
                )
                found.update(r[0] for r in rows)
        return [k in found for k in keys]

    async def aexists(self, keys: Sequence[str]) -> list[bool]:
        return self.exists(keys)

    def list_keys(
        self,
        *,
        before: float | None = None,
        after: float | None = None,
        group_ids: Sequence[str] | None = None,
        limit: int | None = None,
    ) -> list[str]:
        sql = "SELECT key FROM records WHERE namespace = ?"
        args: list = [self.namespace]
        if before is not None:
            sql += " AND updated_at < ?"
            args.append(before)
        if after is not None:
            sql += " AND updated_at > ?"
            args.append(after)
        if group_ids is not None:
            sql += f" AND group_id IN ({','.join('?' * len(group_ids))})"
            args += list(group_ids)
        if limit:
            sql += f" LIMIT {int(limit)}"
        with self._lock:
            return [r[0] for r in self._db.execute(sql, args)]

    async def alist_keys(self, *, before=None, after=None, group_ids=None, limit=None) -> list[str]:
        return self.list_keys(before=before, after=after, group_ids=group_ids, limit=limit)

    def delete_keys(self, keys: Sequence[str]) -> None:
        with self._lock, self._db:
            self._db.executemany(
                "DELETE FROM records WHERE namespace = ? AND key = ?", [(self.namespace, k) for k in keys]
            )

    async def adelete_keys(self, keys: Sequence[str]) -> None:
        self.delete_keys(keys)

    def groups(self) -> list[str]:
        """Every source this namespace holds chunks for."""
        with self._lock:
            rows = self._db.execute(
                "SELECT DISTINCT group_id FROM records WHERE namespace = ? AND group_id IS NOT NULL", [self.namespace]
            )
            return sorted(r[0] for r in rows)

    def count(self, group_id: str | None = None) -> int:
        sql = "SELECT COUNT(*) FROM records WHERE namespace = ?"
        args: list = [self.namespace]
        if group_id is not None:
            sql += " AND group_id = ?"
            args.append(group_id)
        with self._lock:
            return int(self._db.execute(sql, args).fetchone()[0])

    def clear(self) -> None:
        with self._lock, self._db:
            self._db.execute("DELETE FROM records WHERE namespace = ?", [self.namespace])
