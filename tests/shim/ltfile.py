"""Minimal independent reader of the locktrace format (include/locktrace/format.h),
used by the shim's smoke tests to check what liblocktrace.so wrote without
depending on the decoder."""
import os
import shutil
import struct

MAGIC = 0x45434152544B434C
EV_NAMES = ["NONE", "ATTEMPT", "ACQUIRED", "FAILED", "TIMEDOUT", "RELEASE", "RELEASE_FAILED", "INIT",
            "DESTROY", "DESTROY_FAILED", "WAIT_BEGIN", "WAIT_END", "WAKE", "REQUEUE", "CONSISTENT",
            "THREAD_START", "THREAD_EXIT", "FORK", "EXEC", "DLOPEN", "MARK"]
PRIM_NAMES = ["NONE", "MUTEX", "RWLOCK", "COND", "SEM", "FUTEX", "PROBE", "THREAD", "PROCESS", "BARRIER", "SPIN", "ONCE"]

# struct lt_file_header, up to the marks
HDR = struct.Struct("<QIIIIIIiiQQQiIQIIQIIQIIQQQQQQQII")
HDR_FIELDS = ("magic version header_size event_size thread_entry_size module_entry_size stack_entry_size "
              "pid ppid start_monotonic_ns start_realtime_ns end_monotonic_ns exit_status families "
              "thread_table_offset thread_table_capacity threads_used module_table_offset "
              "module_table_capacity modules_used stack_table_offset stack_table_capacity stack_depth_max "
              "rings_offset file_end ring_capacity threads_dropped threads_recycled stacks_dropped "
              "modules_dropped marks_used reserved0").split()
THREAD = struct.Struct("<IiQQQQQQII16s48x")
MODULE = struct.Struct("<IIQQQQ32s400s40x")
EVENT = struct.Struct("<QQQQQQIHBBiI")
# struct lt_exec_chain, at byte 3328 of the header
EXEC_CHAIN_OFFSET = 3328
EXEC_CHAIN = struct.Struct("<II")
EXEC_IMAGE = struct.Struct("<128s56s")
EXEC_HANDOVER = 0x524E5448
# struct lt_file_header.stack_walks (format.h pins it with a static_assert)
STACK_WALKS_OFFSET = 3248


class Event:
    __slots__ = ("seq", "time", "addr", "addr2", "s0", "s1", "stack", "type", "prim", "flags", "result", "arg")

    def __init__(self, t):
        (self.seq, self.time, self.addr, self.addr2, self.s0, self.s1, self.stack, self.type, self.prim,
         self.flags, self.result, self.arg) = t

    @property
    def name(self):
        return EV_NAMES[self.type] if self.type < len(EV_NAMES) else str(self.type)

    @property
    def prim_name(self):
        return PRIM_NAMES[self.prim] if self.prim < len(PRIM_NAMES) else str(self.prim)


class Trace:
    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            self.data = f.read()
        self.mode = os.stat(path).st_mode & 0o777
        h = HDR.unpack_from(self.data, 0)
        self.h = dict(zip(HDR_FIELDS, h))
        if self.h["magic"] != MAGIC:
            raise ValueError("bad magic")
        self.stack_walks = struct.unpack_from("<Q", self.data, STACK_WALKS_OFFSET)[0]
        self.handover, self.exec_count = EXEC_CHAIN.unpack_from(self.data, EXEC_CHAIN_OFFSET)
        self.exec_chain = []
        for i in range(min(self.exec_count, 4)):
            exe, args = EXEC_IMAGE.unpack_from(self.data, EXEC_CHAIN_OFFSET + EXEC_CHAIN.size + i * EXEC_IMAGE.size)
            self.exec_chain.append((exe.split(b"\0")[0].decode(errors="replace"),
                                    args.split(b"\0")[0].decode(errors="replace")))
        self.threads = []
        for i in range(self.h["threads_used"]):
            off = self.h["thread_table_offset"] + i * self.h["thread_entry_size"]
            (state, tid, ring_off, cap, head, start, end, pself, gen, flags, name) = THREAD.unpack_from(self.data, off)
            self.threads.append(dict(state=state, tid=tid, ring_offset=ring_off, ring_capacity=cap, head=head,
                                     start_ns=start, end_ns=end, pthread_self=pself, generation=gen,
                                     name=name.split(b"\0")[0].decode(errors="replace")))
        self.modules = []
        for i in range(self.h["modules_used"]):
            off = self.h["module_table_offset"] + i * self.h["module_entry_size"]
            (state, bidlen, base, lo, hi, loaded, bid, path) = MODULE.unpack_from(self.data, off)
            self.modules.append(dict(state=state, base=base, lo=lo, hi=hi, build_id=bid[:bidlen].hex(),
                                     path=path.split(b"\0")[0].decode(errors="replace")))

    def events(self, t):
        """Committed events of thread slot t, oldest first; (events, torn)."""
        cap, head = t["ring_capacity"], t["head"]
        out, torn = [], 0
        for i in range(max(0, head - cap), head):
            off = t["ring_offset"] + (i & (cap - 1)) * 64
            e = Event(EVENT.unpack_from(self.data, off))
            if e.seq != i + 1:
                torn += 1
                continue
            out.append(e)
        return out, torn

    def stack(self, sid):
        if sid == 0:
            return []
        esz = self.h["stack_entry_size"]
        off = self.h["stack_table_offset"] + (sid - 1) * esz
        h, state, depth = struct.unpack_from("<QII", self.data, off)
        return list(struct.unpack_from("<%dQ" % depth, self.data, off + 16))


# Checks of a test script: each failed one is printed and kept here, so the
# script can end with "FAILED (n)" and a non-zero exit.
failures = []


def check(cond, what):
    print(("ok:   " if cond else "FAIL: ") + what)
    if not cond:
        failures.append(what)
    return cond


def keep_if_failed(d):
    """Removes the scratch directory d, or keeps it for a look when a check failed."""
    if not failures:
        shutil.rmtree(d, ignore_errors=True)
    else:
        print("trace kept in %s" % d)


def verdict(label):
    """Prints the closing line of a test script; returns its exit status."""
    print("%s: %s" % (label, "FAILED (%d)" % len(failures) if failures else "passed"))
    return 1 if failures else 0

