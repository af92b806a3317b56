// Java in the sandbox (runtimes_threads.test.js compiles it with javac inside
// the sandbox): 8 threads handing work over with synchronized/wait/notify, an
// ExecutorService, and NullPointerExceptions (the JVM takes a SIGSEGV for
// each implicit null check and turns it into the exception).
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

public class Prog {
    private final Object lock = new Object();
    private final long[] slots = new long[4];
    private int filled = 0;
    private long total = 0;

    void put(long v) throws InterruptedException {
        synchronized (lock) {
            while (filled == slots.length) lock.wait();
            slots[filled++] = v;
            lock.notifyAll();
        }
    }

    long take() throws InterruptedException {
        synchronized (lock) {
            while (filled == 0) lock.wait();
            long v = slots[--filled];
            lock.notifyAll();
            return v;
        }
    }

    static String nullString(int i) {
        return i >= 0 ? null : "never";
    }

    public static void main(String[] args) throws Exception {
        Prog p = new Prog();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            final int base = t * 100000;
            threads.add(new Thread(() -> {
                try {
                    for (int i = 0; i < 5000; i++) p.put(base + i);
                } catch (InterruptedException e) {
                    throw new RuntimeException(e);
                }
            }));
        }
        AtomicLong consumed = new AtomicLong();
        for (int t = 0; t < 4; t++) {
            threads.add(new Thread(() -> {
                try {
                    long s = 0;
                    for (int i = 0; i < 5000; i++) s += p.take();
                    consumed.addAndGet(s);
                    synchronized (p) {
                        p.total += s;
                    }
                } catch (InterruptedException e) {
                    throw new RuntimeException(e);
                }
            }));
        }
        for (Thread th : threads) th.start();
        for (Thread th : threads) th.join();
        System.out.println("threads: " + threads.size() + " total " + p.total + " consumed " + consumed.get());

        ExecutorService ex = Executors.newFixedThreadPool(4);
        List<Future<Long>> fs = new ArrayList<>();
        for (int k = 0; k < 16; k++) {
            final int kk = k;
            fs.add(ex.submit(() -> {
                long h = 1469598103934665603L;
                for (int i = 0; i < 200000; i++) h = (h ^ (i + kk)) * 1099511628211L;
                return h;
            }));
        }
        long checksum = 0;
        for (Future<Long> f : fs) checksum ^= f.get();
        ex.shutdown();
        System.out.println("executor: terminated " + ex.awaitTermination(30, TimeUnit.SECONDS) + " checksum " + Long.toHexString(checksum));

        int npes = 0;
        for (int i = 0; i < 1000; i++) {
            try {
                npes += nullString(i).length();
            } catch (NullPointerException e) {
                npes++;
            }
        }
        int[] arr = null;
        try {
            System.out.println(arr[0]);
        } catch (NullPointerException e) {
            System.out.println("npe: " + e.getMessage());
        }
        System.out.println("npe: caught " + npes);
    }
}
