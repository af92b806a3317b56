/* pipes: pipes between processes.
 *
 * Data larger than the pipe buffer (the writer blocks), a reader that blocks
 * before data arrives, EOF when all writers are gone, SIGPIPE and EPIPE when
 * the reader is gone, O_NONBLOCK (EAGAIN), pipe2 flags, FIONREAD, poll, and
 * a three-stage pipeline through execve'd /bin/cat. */
#define _GNU_SOURCE
#include "common.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void wait_and_describe(const char *label, pid_t pid) {
  int status;
  if (waitpid(pid, &status, 0) != pid) DIE("waitpid");
  if (WIFEXITED(status))
    printf("%s: exited %d\n", label, WEXITSTATUS(status));
  else if (WIFSIGNALED(status))
    printf("%s: killed by signal %d\n", label, WTERMSIG(status));
  else
    printf("%s: status 0x%x\n", label, status);
}

static uint32_t fnv(uint32_t h, const unsigned char *p, size_t n) {
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
  return h;
}

#define BIG (1 << 20)

int main(void) {
  line_buffered();

  printf("--- 1 MiB through a pipe (writer blocks)\n");
  {
    int pfd[2];
    if (pipe(pfd) < 0) DIE("pipe");
    pid_t p = xfork();
    if (p == 0) {
      close(pfd[0]);
      static unsigned char buf[BIG];
      for (size_t i = 0; i < BIG; i++) buf[i] = (unsigned char)(i * 31 + (i >> 9));
      size_t off = 0;
      while (off < BIG) {
        ssize_t n = write(pfd[1], buf + off, BIG - off);
        if (n <= 0) _exit(90);
        off += (size_t)n;
      }
      printf("  writer: wrote %zu bytes, hash %08x\n", off, fnv(2166136261u, buf, BIG));
      _exit(0);
    }
    close(pfd[1]);
    sleep_ms(50); /* let the writer fill the pipe and block */
    static unsigned char in[BIG + 1];
    size_t got = 0;
    ssize_t n;
    while ((n = read(pfd[0], in + got, 4096 + (got % 3000))) > 0) got += (size_t)n;
    printf("reader: read %zu bytes, hash %08x, last read %zd\n", got, fnv(2166136261u, in, got), n);
    close(pfd[0]);
    wait_and_describe("writer", p);
  }

  printf("--- reader blocks before data arrives\n");
  {
    int pfd[2], ack[2];
    if (pipe(pfd) < 0 || pipe(ack) < 0) DIE("pipe");
    pid_t p = xfork();
    if (p == 0) {
      close(pfd[0]);
      close(ack[1]);
      sleep_ms(100);
      if (write(pfd[1], "late data", 9) != 9) _exit(90);
      char c;
      if (read(ack[0], &c, 1) != 1) _exit(92);
      sleep_ms(20);
      if (write(pfd[1], "more", 4) != 4) _exit(91);
      _exit(0);
    }
    close(pfd[1]);
    close(ack[0]);
    char buf[64];
    memset(buf, 0, sizeof buf);
    SHOW("read (blocks)", read(pfd[0], buf, sizeof buf));
    printf("  got \"%s\"\n", buf);
    if (write(ack[1], "a", 1) != 1) DIE("write ack");
    close(ack[1]);
    memset(buf, 0, sizeof buf);
    SHOW("read (blocks again)", read(pfd[0], buf, sizeof buf));
    printf("  got \"%s\"\n", buf);
    SHOW("read at EOF", read(pfd[0], buf, sizeof buf));
    close(pfd[0]);
    wait_and_describe("writer", p);
  }

  printf("--- EOF needs every write end closed\n");
  {
    int pfd[2];
    if (pipe(pfd) < 0) DIE("pipe");
    int extra = dup(pfd[1]);
    close(pfd[1]);
    if (fcntl(pfd[0], F_SETFL, O_NONBLOCK) < 0) DIE("fcntl");
    char c;
    SHOW("read with a dup'd writer open", read(pfd[0], &c, 1));
    close(extra);
    SHOW("read after closing it", read(pfd[0], &c, 1));
    close(pfd[0]);
  }

  printf("--- SIGPIPE and EPIPE\n");
  {
    int pfd[2];
    if (pipe(pfd) < 0) DIE("pipe");
    close(pfd[0]);
    pid_t p = xfork();
    if (p == 0) {
      if (write(pfd[1], "x", 1) < 0) _exit(80);
      _exit(0);
    }
    wait_and_describe("writer with default SIGPIPE", p);
    p = xfork();
    if (p == 0) {
      signal(SIGPIPE, SIG_IGN);
      errno = 0;
      ssize_t z = write(pfd[1], "", 0); /* an empty write is not EPIPE */
      printf("  child: empty write = %zd %s\n", z, ename(errno));
      errno = 0;
      ssize_t r = write(pfd[1], "x", 1);
      printf("  child: write = %zd %s\n", r, ename(errno));
      _exit(0);
    }
    wait_and_describe("writer ignoring SIGPIPE", p);
    close(pfd[1]);
  }
  {
    /* the reader goes away while the writer is blocked on a full pipe */
    int pfd[2];
    if (pipe(pfd) < 0) DIE("pipe");
    pid_t reader = xfork();
    if (reader == 0) {
      close(pfd[1]);
      char buf[100];
      if (read(pfd[0], buf, sizeof buf) <= 0) _exit(81);
      sleep_ms(100);
      _exit(0); /* closes the read end */
    }
    close(pfd[0]);
    pid_t writer = xfork();
    if (writer == 0) {
      signal(SIGPIPE, SIG_IGN);
      static char buf[BIG];
      memset(buf, 'w', sizeof buf);
      size_t total = 0;
      for (;;) {
        ssize_t n = write(pfd[1], buf, sizeof buf);
        if (n < 0) /* 0: EPIPE after filling the pipe, as expected */
          _exit(errno == EPIPE ? (total >= 65536 ? 0 : 1) : 2);
        total += (size_t)n;
      }
    }
    close(pfd[1]);
    wait_and_describe("reader", reader);
    wait_and_describe("blocked writer", writer);
  }

  printf("--- O_NONBLOCK, pipe2, FIONREAD, poll\n");
  {
    int pfd[2];
    SHOW("pipe2 O_NONBLOCK|O_CLOEXEC", pipe2(pfd, O_NONBLOCK | O_CLOEXEC));
    SHOW("F_GETFD read end", fcntl(pfd[0], F_GETFD));
    SHOW("O_NONBLOCK set", (fcntl(pfd[1], F_GETFL) & O_NONBLOCK) != 0);
    char buf[70000];
    SHOW("read empty", read(pfd[0], buf, 10));
    struct pollfd pf[2] = {{pfd[0], POLLIN, 0}, {pfd[1], POLLOUT, 0}};
    SHOW("poll", poll(pf, 2, 0));
    printf("  revents: read end %s, write end %s\n", pf[0].revents & POLLIN ? "POLLIN" : "-",
           pf[1].revents & POLLOUT ? "POLLOUT" : "-");
    SHOW("write 5", write(pfd[1], "12345", 5));
    int avail = -1;
    SHOW("ioctl FIONREAD", ioctl(pfd[0], FIONREAD, &avail));
    printf("  available: %d\n", avail);
    pf[0].revents = 0;
    SHOW("poll read end", poll(pf, 1, 0));
    printf("  revents: %s\n", pf[0].revents & POLLIN ? "POLLIN" : "-");
    SHOW("read 5", read(pfd[0], buf, 5));
    memset(buf, 'z', sizeof buf);
    size_t total = 0;
    ssize_t n;
    while ((n = write(pfd[1], buf, 4096)) > 0) total += (size_t)n;
    printf("fill with 4 KiB writes until full: last write -1 %s, total %zu\n", ename(errno),
           total);
    pf[1].revents = 0;
    SHOW("poll write end when full", poll(&pf[1], 1, 0));
    close(pfd[0]);
    pf[1].revents = 0;
    SHOW("poll write end, reader closed", poll(&pf[1], 1, 0));
    printf("  revents: %s\n", pf[1].revents & POLLERR ? "POLLERR" : "-");
    close(pfd[1]);
  }
  {
    int pfd[2];
    if (pipe(pfd) < 0) DIE("pipe");
    pid_t p = xfork();
    if (p == 0) {
      sleep_ms(80);
      if (write(pfd[1], "p", 1) != 1) _exit(90);
      _exit(0);
    }
    struct pollfd pf = {pfd[0], POLLIN, 0};
    SHOW("poll waits for data", poll(&pf, 1, 5000));
    close(pfd[1]);
    wait_and_describe("poll writer", p);
    char c;
    SHOW("read", read(pfd[0], &c, 1));
    pf.revents = 0;
    SHOW("poll at EOF", poll(&pf, 1, 1000));
    printf("  revents: %s\n", pf.revents & POLLHUP ? "POLLHUP" : "-");
    close(pfd[0]);
  }

  printf("--- pipeline: parent | cat | cat | parent\n");
  {
    int a[2], b[2], c[2];
    if (pipe(a) < 0 || pipe(b) < 0 || pipe(c) < 0) DIE("pipe");
    pid_t k1 = xfork();
    if (k1 == 0) {
      dup2(a[0], 0);
      dup2(b[1], 1);
      close(a[0]); close(a[1]); close(b[0]); close(b[1]); close(c[0]); close(c[1]);
      execl("/bin/cat", "cat", (char *)NULL);
      _exit(126);
    }
    pid_t k2 = xfork();
    if (k2 == 0) {
      dup2(b[0], 0);
      dup2(c[1], 1);
      close(a[0]); close(a[1]); close(b[0]); close(b[1]); close(c[0]); close(c[1]);
      execl("/bin/cat", "cat", (char *)NULL);
      _exit(126);
    }
    close(a[0]);
    close(b[0]);
    close(b[1]);
    close(c[1]);
    pid_t feeder = xfork();
    if (feeder == 0) {
      close(c[0]);
      for (int i = 0; i < 2000; i++) {
        char line[64];
        int len = snprintf(line, sizeof line, "line %d of the pipeline\n", i);
        if (write(a[1], line, (size_t)len) != len) _exit(90);
      }
      _exit(0);
    }
    close(a[1]);
    static unsigned char in[BIG];
    size_t got = 0;
    ssize_t n;
    while ((n = read(c[0], in + got, sizeof in - got)) > 0) got += (size_t)n;
    close(c[0]);
    printf("pipeline output: %zu bytes, hash %08x\n", got, fnv(2166136261u, in, got));
    wait_and_describe("feeder", feeder);
    wait_and_describe("cat 1", k1);
    wait_and_describe("cat 2", k2);
  }
  printf("done\n");
  return 0;
}
