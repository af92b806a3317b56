/* A multi-file pthread program that runtimes_threads.test.js builds with
 * make -j2 inside the sandbox. */
#ifndef WORK_H
#define WORK_H
long contend(int threads, int iterations);
long pipeline(int items);
unsigned long checksum(const char *s);
#endif
