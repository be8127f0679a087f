"""Live workflows kept between commands, so the next command on an instance can skip
restoring it from its stored state (the largest single cost of a command after the save).

Safe with any number of processes and threads because a live workflow is only ever used
when the instance's stored state, as read under the command's row lock, is exactly the state
that was serialized from that very object at its last save:

- an entry is added by the command's unit of work once its transaction has committed
  (engine.uow; a test's savepoint-joined session reports the release of its savepoint as a
  commit, so there an entry can arrive before the outer transaction commits); a rollback,
  of the transaction or a savepoint, drops the entries of the transaction, and an entry whose
  save was rolled back names a state that was never stored, so it would never match anyway;
- another process that moved the instance on has stored a different state: no match;
- a command takes its entry out of the cache, so no two commands share one object, and a
  command that fails half-way cannot leave a changed object behind.

A live object and one restored from JSON could differ in Python types JSON does not keep (a
tuple a script left in task data comes back as a list, an int dict key as a string), and a
condition could then branch differently depending on which process served the command. Task
data holds only JSON's types: forms arrive as JSON, the engine's own additions are JSON-shaped,
and the script sandbox converts what scripts and expressions produce as it enters task data
(engine.workflow.script_values: JSON types, or refused naming the variable).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from sqlalchemy.orm import Session

from engine.uow import UnitOfWork

# A live care pathway and its state take about 80 KB (measured with tracemalloc): 256 entries
# bound a worker's extra memory near 20 MB and keep every instance being worked on right now.
MAX_ENTRIES = 256


class LiveWorkflows:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: OrderedDict[int, tuple[str, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.configure(max_entries)

    def configure(self, max_entries: int) -> None:
        """Keep up to `max_entries` workflows; 0 turns the cache off (every command restores)."""
        if max_entries < 0:
            raise ValueError("max_entries must be 0 or more")
        with self._lock:
            self.max_entries = max_entries
            self.enabled = max_entries > 0
            while len(self._entries) > max_entries:
                self._entries.popitem(last=False)

    def take(self, instance_id: int, state: str) -> Any | None:
        """The live workflow whose serialization is `state`, removed from the cache; None
        when there is none (never saved by this process, moved on elsewhere, evicted)."""
        if not self.enabled:
            return None
        with self._lock:
            entry = self._entries.pop(instance_id, None)
            # `==` on equal strings first compares lengths, then memory: microseconds.
            if entry is not None and entry[0] == state:
                self.hits += 1
                return entry[1]
            self.misses += 1
            return None

    def remember(self, session: Session, instance_id: int, state: str, wf: Any) -> None:
        """Keep `wf` (serialized as `state`) once this session's transaction commits."""
        if self.enabled:
            entry = {instance_id: (state, wf)}
            UnitOfWork.of(session).after_commit(lambda: self._commit(entry))

    def _commit(self, entries: dict[int, tuple[str, Any]]) -> None:
        with self._lock:
            for instance_id, entry in entries.items():
                self._entries[instance_id] = entry
                self._entries.move_to_end(instance_id)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


LIVE = LiveWorkflows()
