"""A healthy threaded Python program: workers take jobs from a queue.Queue,
update shared counters under threading.Lock, hand results on through a
threading.Condition, and a reader/writer pair meets on a threading.Event.
Then it idles: the workers wait on the empty queue while the main thread
sleeps, until the given number of seconds is over; then it stops them and
exits 0.

    healthy_threads.py BUSY_SECONDS IDLE_SECONDS
"""
import queue
import sys
import threading
import time

busy_s = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
idle_s = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0

jobs = queue.Queue(maxsize=64)
results = []
results_lock = threading.Lock()
results_ready = threading.Condition(results_lock)
totals_lock = threading.Lock()
totals = {"jobs": 0, "sum": 0}
STOP = object()


def worker():
    while True:
        job = jobs.get()
        if job is STOP:
            jobs.task_done()
            return
        value = sum(range(job % 200))
        with totals_lock:
            totals["jobs"] += 1
            totals["sum"] += value
        with results_ready:
            results.append(value)
            results_ready.notify()
        jobs.task_done()


def collector(stop):
    seen = 0
    while not stop.is_set() or results:
        with results_ready:
            while not results and not stop.is_set():
                results_ready.wait(0.2)
            seen += len(results)
            results.clear()
    return seen


def main():
    workers = [threading.Thread(target=worker, name="worker-%d" % i) for i in range(4)]
    stop = threading.Event()
    coll = threading.Thread(target=collector, args=(stop,), name="collector")
    for t in workers + [coll]:
        t.start()
    deadline = time.monotonic() + busy_s
    n = 0
    while time.monotonic() < deadline:
        jobs.put(n)
        n += 1
    jobs.join()
    print("busy phase done: %d jobs" % totals["jobs"], flush=True)
    time.sleep(idle_s)  # idle: the workers wait on the empty queue
    for _ in workers:
        jobs.put(STOP)
    for t in workers:
        t.join()
    stop.set()
    with results_ready:
        results_ready.notify_all()
    coll.join()
    assert totals["jobs"] == n, (totals["jobs"], n)
    print("done", flush=True)


main()
