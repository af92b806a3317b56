// Urgent data through the NAT: send "abc", the urgent byte X, "def" to
// HOST:PORT (nat/oobsrv.py), which reports what it read in band and out of
// band; then read the server's bytes to EOF (it sends "12", urgent "Z",
// "34": the NAT's host socket keeps urgent data inline, so all five arrive
// in the stream).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 3) return 2;
  int c = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[2]))};
  inet_pton(AF_INET, argv[1], &sa.sin_addr);
  if (connect(c, (struct sockaddr *)&sa, sizeof sa) < 0) {
    perror("connect");
    return 1;
  }
  int one = 1;
  setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (send(c, "abc", 3, 0) != 3 || send(c, "X", 1, MSG_OOB) != 1 || send(c, "def", 3, 0) != 3) {
    perror("send");
    return 1;
  }
  char buf[256];
  size_t got = 0;
  ssize_t n;
  while (got < sizeof buf && (n = recv(c, buf + got, sizeof buf - got, 0)) > 0) got += n;
  printf("%.*s\n", (int)got, buf);
  return 0;
}
