# SPDX-License-Identifier: Apache-2.0
"""Objects, resourceVersion and watch history.

One counter (resourceVersion) for the whole store, as etcd's revision.
Committed objects are immutable snapshots (Entry): readers never copy
unless they change something, and an Entry caches its JSON bytes so that a
list of 10,000 objects is a join of cached bytes, not 10,000 json.dumps.

Every write appends an Event to a bounded history (default 1000 events);
a watch from a resourceVersion older than the history's start is expired
(410). Watchers get events through their own queue, filled under the
store lock, so that "list, then watch from the list's resourceVersion"
never misses or repeats an event. Listeners (the controllers) are called
under the lock too and must only enqueue.
"""

import collections
import json
import queue
import threading
import traceback


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class Entry:
    """A committed object version. Never mutate .obj; use copy()."""

    __slots__ = ("obj", "rv", "_raw")

    def __init__(self, obj, rv, raw=None):
        self.obj = obj
        self.rv = rv
        self._raw = raw

    @property
    def raw(self):
        r = self._raw
        if r is None:
            r = self._raw = dumps(self.obj)
        return r

    def copy(self):
        return json.loads(self.raw)


Event = collections.namedtuple("Event", "type rv storage key entry old")


class Conflict(Exception):
    pass


class Exists(Exception):
    pass


class Missing(Exception):
    pass


class Expired(Exception):
    def __init__(self, rv, oldest):
        Exception.__init__(self, "too old resource version: %d (%d)" % (rv, oldest))


class Watcher:
    """A queue of the events of one storage (optionally one namespace)."""

    def __init__(self, store, storage, namespace):
        self.store = store
        self.storage = storage
        self.namespace = namespace
        self.q = queue.SimpleQueue()
        self.closed = False

    def push(self, ev):
        if self.namespace is None or ev.key[0] == self.namespace:
            self.q.put(ev)

    def get(self, timeout):
        try:
            return self.q.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self):
        if not self.closed:
            self.closed = True
            self.store._unwatch(self)
            self.q.put(None)


class Store:
    def __init__(self, history=1000, first_rv=1000):
        self.lock = threading.RLock()
        self.rv = first_rv
        self.tables = collections.defaultdict(dict)   # storage -> {(ns, name): Entry}
        self._sorted = {}                              # storage -> sorted keys
        self.history = collections.deque()
        self.history_size = history
        self.compacted = 0                             # events <= this rv are gone
        self.watchers = collections.defaultdict(set)
        self.listeners = []

    # --- reads -------------------------------------------------------------

    def get(self, storage, ns, name):
        return self.tables[storage].get((ns or "", name))

    def keys(self, storage):
        with self.lock:
            ks = self._sorted.get(storage)
            if ks is None:
                ks = self._sorted[storage] = sorted(self.tables[storage])
            return ks

    def list(self, storage, ns=None):
        """Return ([Entry] sorted by (namespace, name), resourceVersion)."""
        with self.lock:
            table = self.tables[storage]
            keys = self.keys(storage)
            if ns is not None:
                keys = [k for k in keys if k[0] == ns]
            return [table[k] for k in keys], self.rv

    def list_at(self, storage, rv, ns=None):
        """Return [Entry] as they were at resourceVersion rv, sorted.

        Rolls the current table back through the event history, so that
        every page of a paged list is served from the snapshot of its
        first page, as etcd does. The caller has checked rv >= compacted.
        """
        with self.lock:
            table = dict(self.tables[storage])
            for ev in reversed(self.history):
                if ev.rv <= rv:
                    break
                if ev.storage != storage:
                    continue
                if ev.old is None:
                    table.pop(ev.key, None)
                else:
                    table[ev.key] = ev.old
        keys = sorted(k for k in table if ns is None or k[0] == ns)
        return [table[k] for k in keys]

    # --- writes ------------------------------------------------------------

    def _commit(self, typ, storage, key, entry, old):
        ev = Event(typ, entry.rv, storage, key, entry, old)
        self.history.append(ev)
        while len(self.history) > self.history_size:
            self.compacted = self.history.popleft().rv
        for w in self.watchers.get(storage, ()):
            w.push(ev)
        for fn in self.listeners:
            try:
                fn(ev)
            except Exception:  # a listener's bug must not break the write
                traceback.print_exc()
        return ev

    def create(self, storage, obj):
        """obj (a new dict, owned by the store from now on) gets its
        resourceVersion here. Raises Exists."""
        md = obj["metadata"]
        key = (md.get("namespace", ""), md["name"])
        with self.lock:
            table = self.tables[storage]
            if key in table:
                raise Exists()
            self.rv += 1
            md["resourceVersion"] = str(self.rv)
            e = Entry(obj, self.rv)
            table[key] = e
            self._sorted.pop(storage, None)
            self._commit("ADDED", storage, key, e, None)
            return e

    def update(self, storage, obj, expect_rv):
        """Replace the object if its current version is expect_rv (an int).
        Raises Missing or Conflict."""
        md = obj["metadata"]
        key = (md.get("namespace", ""), md["name"])
        with self.lock:
            table = self.tables[storage]
            old = table.get(key)
            if old is None:
                raise Missing()
            if expect_rv is not None and old.rv != expect_rv:
                raise Conflict()
            self.rv += 1
            md["resourceVersion"] = str(self.rv)
            e = Entry(obj, self.rv)
            table[key] = e
            self._commit("MODIFIED", storage, key, e, old)
            return e

    def delete(self, storage, ns, name, expect_rv=None):
        """Remove the object; the DELETED event carries its last state with
        the deletion's resourceVersion. Raises Missing or Conflict."""
        key = (ns or "", name)
        with self.lock:
            table = self.tables[storage]
            old = table.get(key)
            if old is None:
                raise Missing()
            if expect_rv is not None and old.rv != expect_rv:
                raise Conflict()
            self.rv += 1
            obj = old.copy()
            obj["metadata"]["resourceVersion"] = str(self.rv)
            e = Entry(obj, self.rv)
            del table[key]
            self._sorted.pop(storage, None)
            self._commit("DELETED", storage, key, e, old)
            return e

    # --- watch -------------------------------------------------------------

    def watch(self, storage, ns, from_rv):
        """Start a watcher. from_rv None: only future events, and the caller
        gets (watcher, current entries) to send as ADDED first. Otherwise
        (watcher, None) after queueing the history events newer than
        from_rv. Raises Expired."""
        with self.lock:
            w = Watcher(self, storage, ns)
            initial = None
            if from_rv is None:
                initial, _ = self.list(storage, ns)
            else:
                if from_rv < self.compacted:
                    raise Expired(from_rv, self.compacted)
                if from_rv < self.rv:
                    for ev in self.history:
                        if ev.rv > from_rv and ev.storage == storage:
                            w.push(ev)
            self.watchers[storage].add(w)
            return w, initial

    def _unwatch(self, w):
        with self.lock:
            self.watchers[w.storage].discard(w)

    def idle(self, w):
        """The current resourceVersion if w has nothing queued (a bookmark
        may then say so), else None."""
        with self.lock:
            return self.rv if w.q.empty() else None

    def compact(self, keep=0):
        """Drop all but the last `keep` history events."""
        with self.lock:
            while len(self.history) > keep:
                self.compacted = self.history.popleft().rv
            if not self.history:
                self.compacted = self.rv

    def set_history_size(self, n):
        with self.lock:
            self.history_size = max(1, int(n))
            self.compact(self.history_size)

    def close_watchers(self):
        with self.lock:
            ws = [w for s in self.watchers.values() for w in s]
        for w in ws:
            w.close()
