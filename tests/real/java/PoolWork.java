// A healthy Java program: a fixed thread pool runs tasks that read and write a
// shared table under a ReentrantReadWriteLock, producers and consumers pass
// items through an ArrayBlockingQueue, and a synchronized counter is bumped by
// all of them.  Then it idles (the pool's threads wait for tasks) and exits 0.
//
//     java PoolWork BUSY_SECONDS IDLE_SECONDS
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.ArrayList;
import java.util.List;

public class PoolWork {
    static final ReentrantReadWriteLock tableLock = new ReentrantReadWriteLock();
    static final Map<Integer, Integer> table = new HashMap<>();
    static long counter;

    static synchronized void bump() { counter++; }

    static int lookup(int key) {
        tableLock.readLock().lock();
        try {
            return table.getOrDefault(key, 0);
        } finally {
            tableLock.readLock().unlock();
        }
    }

    static void store(int key, int value) {
        tableLock.writeLock().lock();
        try {
            table.put(key, value);
        } finally {
            tableLock.writeLock().unlock();
        }
    }

    public static void main(String[] args) throws Exception {
        double busy = args.length > 0 ? Double.parseDouble(args[0]) : 2.0;
        double idle = args.length > 1 ? Double.parseDouble(args[1]) : 1.0;
        ExecutorService pool = Executors.newFixedThreadPool(4);
        BlockingQueue<Integer> items = new ArrayBlockingQueue<>(16);
        long deadline = System.nanoTime() + (long) (busy * 1e9);

        Thread consumer = new Thread(() -> {
            try {
                while (true) {
                    int v = items.take();
                    if (v < 0) return;
                    store(v % 97, v);
                    bump();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "consumer");
        consumer.start();

        int round = 0;
        while (System.nanoTime() < deadline) {
            List<Future<Integer>> done = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                final int base = round * 8 + t;
                done.add(pool.submit(() -> {
                    int sum = 0;
                    for (int k = 0; k < 200; k++) {
                        if (k % 10 == 0) store((base + k) % 97, k);
                        else sum += lookup((base + k) % 97);
                    }
                    bump();
                    return sum;
                }));
            }
            for (int k = 0; k < 20; k++) items.put(round * 20 + k);
            for (Future<Integer> f : done) f.get();
            round++;
        }
        System.out.println("busy phase done: " + round + " rounds");
        Thread.sleep((long) (idle * 1000));  // idle: the pool waits for tasks
        items.put(-1);
        consumer.join();
        pool.shutdown();
        if (!pool.awaitTermination(30, TimeUnit.SECONDS)) throw new IllegalStateException("pool did not stop");
        System.out.println("done: " + counter);
    }
}
