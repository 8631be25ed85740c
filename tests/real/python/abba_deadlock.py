"""A Python deadlock: two threads take two threading.Locks in opposite order
(each holds one, then waits for the other), and the main thread joins them.
It never ends: the test reads its trace while it hangs, then kills it.
"""
import threading

accounts_lock = threading.Lock()
audit_lock = threading.Lock()
both_hold_one = threading.Barrier(2)


def transfer():
    with accounts_lock:
        both_hold_one.wait()
        with audit_lock:
            pass


def audit():
    with audit_lock:
        both_hold_one.wait()
        with accounts_lock:
            pass


threads = [threading.Thread(target=transfer, name="transfer"), threading.Thread(target=audit, name="audit")]
for t in threads:
    t.start()
print("started", flush=True)
for t in threads:
    t.join()
