/*
 * gantry-relay: PID 1 of a `provided` container (design.md, "Why a unix socket").
 *
 * Stock runtime clients reach the Lambda Runtime API at AWS_LAMBDA_RUNTIME_API (host:port, TCP);
 * Gantry serves it on a unix socket bind-mounted into the container. This program:
 *   1. listens on AWS_LAMBDA_RUNTIME_API (default 127.0.0.1:9001) BEFORE the bootstrap starts, so
 *      a bootstrap's first request can never race the listener (loopback exists even with
 *      --network none);
 *   2. starts the bootstrap as its only direct child: argv[1..] when given, else
 *      $LAMBDA_TASK_ROOT/bootstrap (default /var/task/bootstrap), or, when the task root has no
 *      bootstrap at all, the executable _HANDLER names there (how Lambda's go1.x ran a function:
 *      handler = the executable's name). When exec fails (missing file,
 *      no exec bit, bad interpreter) the child posts /runtime/init/error with errorType
 *      Runtime.InvalidEntrypoint, as Lambda reports it, and exits 127 (126 for EACCES);
 *   3. forwards every accepted connection, bytes both ways, to the unix socket
 *      $GANTRY_RUNTIME_API_SOCKET (default /run/gantry/runtime.sock), one small thread each;
 *   4. as PID 1: reaps every orphan, forwards SIGTERM/SIGINT/SIGHUP/SIGQUIT/SIGUSR1/SIGUSR2 to
 *      the bootstrap, and exits with the bootstrap's status (128 + signal when it was killed), so
 *      the platform sees the runtime's exit as the container's exit.
 *
 * Static, no dependencies beyond libc and pthreads; the idle cost is one blocked thread.
 * Build: cc -O2 -static -pthread -o gantry-relay gantry-relay.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_LISTEN "127.0.0.1:9001"
#define DEFAULT_SOCKET "/run/gantry/runtime.sock"
#define DEFAULT_TASK_ROOT "/var/task"
#define BUF_BYTES (64 * 1024)
#define THREAD_STACK_BYTES (128 * 1024)
/* The platform's socket may not be listening yet at the very first request. */
#define CONNECT_RETRY_MS 2000
#define CONNECT_RETRY_STEP_MS 10

static const char *socket_path;

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("gantry-relay: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

static const char *env_or(const char *name, const char *def) {
  const char *v = getenv(name);
  return v && *v ? v : def;
}

/* ------------------------------------------------------------------ listening socket */

/* Parses host:port ("localhost" and "[v6]" accepted) and returns a listening socket, or -1. */
static int listen_on(const char *spec) {
  char host[256];
  const char *colon = strrchr(spec, ':');
  if (!colon || colon == spec || (size_t)(colon - spec) >= sizeof host) return -1;
  memcpy(host, spec, (size_t)(colon - spec));
  host[colon - spec] = '\0';
  char *end;
  long port = strtol(colon + 1, &end, 10);
  if (*end || port <= 0 || port > 65535) return -1;
  char *h = host;
  size_t hl = strlen(h);
  if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
    h[hl - 1] = '\0';
    h++;
  }
  if (strcmp(h, "localhost") == 0) h = "127.0.0.1";

  struct sockaddr_storage ss;
  socklen_t len;
  memset(&ss, 0, sizeof ss);
  struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
  struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
  if (inet_pton(AF_INET, h, &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    len = sizeof *a4;
  } else if (inet_pton(AF_INET6, h, &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons((uint16_t)port);
    len = sizeof *a6;
  } else {
    return -1;
  }
  int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 64) < 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

/* ------------------------------------------------------------------ forwarding */

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
}

static int connect_unix(const char *path, int retry) {
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof addr.sun_path) return -1;
  strcpy(addr.sun_path, path);
  for (long waited = 0;; waited += CONNECT_RETRY_STEP_MS) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0) return fd;
    int e = errno;
    close(fd);
    if (!retry || (e != ENOENT && e != ECONNREFUSED) || waited >= CONNECT_RETRY_MS) {
      errno = e;
      return -1;
    }
    sleep_ms(CONNECT_RETRY_STEP_MS);
  }
}

static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Copies both ways until both directions reach EOF (half-closes are passed on) or one fails. */
static void pump(int a, int b) {
  char *buf = malloc(BUF_BYTES);
  if (!buf) return;
  struct pollfd p[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
  int open_dirs = 2;
  while (open_dirs > 0) {
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; i++) {
      if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      int from = p[i].fd, to = i == 0 ? b : a;
      ssize_t r = recv(from, buf, BUF_BYTES, 0);
      if (r < 0 && errno == EINTR) continue;
      if (r > 0 && write_all(to, buf, (size_t)r) == 0) continue;
      if (r < 0 || r > 0) goto done; /* read or write failed: drop both */
      shutdown(to, SHUT_WR);           /* EOF: pass the half-close on */
      p[i].fd = -1;
      open_dirs--;
    }
  }
done:
  free(buf);
}

static void *serve(void *arg) {
  int client = (int)(intptr_t)arg;
  int one = 1;
  /* The Runtime API is request/response: never hold small writes back. */
  setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  int upstream = connect_unix(socket_path, 1);
  if (upstream < 0) {
    logf_("cannot reach the Runtime API at %s: %s", socket_path, strerror(errno));
  } else {
    pump(client, upstream);
    close(upstream);
  }
  close(client);
  return NULL;
}

static void *accept_loop(void *arg) {
  int lfd = (int)(intptr_t)arg;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, THREAD_STACK_BYTES);
  for (;;) {
    int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOMEM || errno == ENOBUFS) {
        sleep_ms(10);
        continue;
      }
      logf_("accept failed: %s", strerror(errno));
      return NULL;
    }
    pthread_t t;
    if (pthread_create(&t, &attr, serve, (void *)(intptr_t)c) != 0) {
      logf_("cannot start a connection thread");
      close(c);
    }
  }
}

/* ------------------------------------------------------------------ bootstrap start failure */

static void json_escape(char *out, size_t cap, const char *s) {
  size_t o = 0;
  for (; *s && o + 7 < cap; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch == '"' || ch == '\\') {
      out[o++] = '\\';
      out[o++] = (char)ch;
    } else if (ch < 0x20) {
      o += (size_t)snprintf(out + o, cap - o, "\\u%04x", ch);
    } else {
      out[o++] = (char)ch;
    }
  }
  out[o] = '\0';
}

/* Best effort: tell the platform why there is no runtime, then the caller exits. */
static void post_invalid_entrypoint(const char *path, int err) {
  char msg[1024], esc[2048], body[2300], req[2600];
  snprintf(msg, sizeof msg, "Couldn't start the bootstrap %s: %s", path, strerror(err));
  json_escape(esc, sizeof esc, msg);
  int bl = snprintf(body, sizeof body, "{\"errorType\":\"Runtime.InvalidEntrypoint\",\"errorMessage\":\"%s\"}", esc);
  int rl = snprintf(req, sizeof req,
                    "POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: localhost\r\n"
                    "Content-Type: application/json\r\nLambda-Runtime-Function-Error-Type: Runtime.InvalidEntrypoint\r\n"
                    "Content-Length: %d\r\nConnection: close\r\n\r\n%s",
                    bl, body);
  int fd = connect_unix(socket_path, 1);
  if (fd < 0) return;
  if (write_all(fd, req, (size_t)rl) == 0) {
    char sink[512];
    struct pollfd p = {fd, POLLIN, 0};
    /* Wait (bounded) for the answer so the post lands before the container exits. */
    while (poll(&p, 1, 5000) > 0 && recv(fd, sink, sizeof sink, 0) > 0) {
    }
  }
  close(fd);
}

/* ------------------------------------------------------------------ which program */

/* A handler that names a file inside the task root: relative, no empty, "." or ".." segment. */
static int task_relative(const char *p) {
  if (!p || !*p || *p == '/') return 0;
  for (const char *seg = p; *seg;) {
    const char *end = strchr(seg, '/');
    size_t n = end ? (size_t)(end - seg) : strlen(seg);
    if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.')) return 0;
    if (!end) break;
    seg = end + 1;
  }
  return 1;
}

/* $LAMBDA_TASK_ROOT/bootstrap; when there is none (not even a dangling link), the go1.x way:
 * the regular file _HANDLER names in the task root. */
static void default_program(char *out, size_t cap) {
  const char *root = env_or("LAMBDA_TASK_ROOT", DEFAULT_TASK_ROOT);
  snprintf(out, cap, "%s/bootstrap", root);
  struct stat st;
  if (lstat(out, &st) == 0 || errno != ENOENT) return;
  const char *handler = getenv("_HANDLER");
  if (!task_relative(handler)) return;
  char named[4096];
  if ((size_t)snprintf(named, sizeof named, "%s/%s", root, handler) >= sizeof named) return;
  if (stat(named, &st) == 0 && S_ISREG(st.st_mode)) snprintf(out, cap, "%s", named);
}

/* ------------------------------------------------------------------ main: PID 1 duties */

static const int FORWARDED[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

int main(int argc, char **argv) {
  socket_path = env_or("GANTRY_RUNTIME_API_SOCKET", DEFAULT_SOCKET);
  const char *listen_spec = env_or("AWS_LAMBDA_RUNTIME_API", DEFAULT_LISTEN);

  char default_bootstrap[4096];
  default_program(default_bootstrap, sizeof default_bootstrap);
  char *default_argv[] = {default_bootstrap, NULL};
  char **child_argv = argc > 1 ? argv + 1 : default_argv;

  int lfd = listen_on(listen_spec);
  if (lfd < 0) {
    logf_("cannot listen on AWS_LAMBDA_RUNTIME_API=%s: %s", listen_spec, strerror(errno));
    return 1;
  }

  /* Every thread inherits this mask; only sigwait() below takes these signals. */
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  for (size_t i = 0; i < sizeof FORWARDED / sizeof FORWARDED[0]; i++) sigaddset(&set, FORWARDED[i]);
  sigprocmask(SIG_BLOCK, &set, &old);

  pid_t child = fork();
  if (child < 0) {
    logf_("fork failed: %s", strerror(errno));
    return 1;
  }
  if (child == 0) {
    sigprocmask(SIG_SETMASK, &old, NULL);
    close(lfd);
    execv(child_argv[0], child_argv);
    int err = errno;
    logf_("cannot exec %s: %s", child_argv[0], strerror(err));
    post_invalid_entrypoint(child_argv[0], err);
    _exit(err == EACCES ? 126 : 127);
  }

  pthread_t acceptor;
  if (pthread_create(&acceptor, NULL, accept_loop, (void *)(intptr_t)lfd) != 0) {
    logf_("cannot start the accept thread");
    kill(child, SIGKILL);
    return 1;
  }

  for (;;) {
    int sig;
    if (sigwait(&set, &sig) != 0) continue;
    if (sig != SIGCHLD) {
      kill(child, sig);
      continue;
    }
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
      if (pid != child) continue; /* an orphan re-parented to PID 1 */
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    }
  }
}
