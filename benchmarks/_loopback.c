/*
 * Loopback load tools for benchmarks/proxy.py: one small binary, one mode per
 * measurement. Written in C so the client and the echo server cost a few
 * microseconds per round trip and the proxy is what the numbers show.
 *
 *   echo      PORT CLOSE_AFTER              echo server (CLOSE_AFTER > 0: close
 *                                           after echoing that many bytes)
 *   pingpong  PORT COUNT SIZE WARMUP MAX_S  one connection, RTT per exchange (ns)
 *   connrate  PORT MILLIS SIZE MAX_COUNT    connect, exchange, wait for the
 *                                           server's close; prints "count errors ns"
 *   hold      PORT N MAX_S                  open N connections, exchange 1 byte on
 *                                           each, print "ready N", hold until stdin
 *                                           closes
 *   burst     PORT N ROUNDS SIZE TIMEOUT_MS GAP_US
 *                                           N connections, each round sends one
 *                                           request on every connection (all at
 *                                           once, or one every GAP_US); prints
 *                                           each response time (ns)
 *
 * Every mode is bounded in time; every tool dies with its parent.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_FDS 65536
#define IO_TIMEOUT_S 10

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what) {
    fprintf(stderr, "loopback: %s: %s\n", what, strerror(errno));
    exit(1);
}

static struct sockaddr_in loopback_addr(int port) {
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return addr;
}

static void set_nodelay(int fd) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* A blocking client socket whose reads and writes give up after IO_TIMEOUT_S. */
static int connect_to(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct timeval tv = {IO_TIMEOUT_S, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    set_nodelay(fd);
    struct sockaddr_in addr = loopback_addr(port);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

static int write_all(int fd, const char *buf, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static int read_exact(int fd, char *buf, size_t len) {
    while (len > 0) {
        ssize_t n = read(fd, buf, len);
        if (n == 0) {
            errno = ECONNRESET;
            return -1;
        }
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static int parse_int(const char *text, const char *name) {
    char *end = NULL;
    long value = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || value < 0 || value > 1000000000L) {
        fprintf(stderr, "loopback: bad %s: %s\n", name, text);
        exit(2);
    }
    return (int)value;
}

/* ---- echo ------------------------------------------------------------ */

static int echo_server(int port, int close_after) {
    static uint32_t echoed[MAX_FDS];
    static char buf[65536];
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (lfd < 0) die("socket");
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = loopback_addr(port);
    if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind");
    if (listen(lfd, 4096) < 0) die("listen");
    socklen_t addr_len = sizeof addr;
    getsockname(lfd, (struct sockaddr *)&addr, &addr_len);
    printf("%d\n", ntohs(addr.sin_port));
    fflush(stdout);

    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) die("epoll_create1");
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd};
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    struct epoll_event events[256];
    for (;;) {
        int n = epoll_wait(ep, events, 256, 1000);
        if (n < 0 && errno != EINTR) die("epoll_wait");
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if (fd == lfd) {
                for (;;) {
                    /* Accepted sockets stay blocking: replies are small and the
                     * clients always read them, so a write never waits long. */
                    int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
                    if (cfd < 0) break;
                    if (cfd >= MAX_FDS) {
                        close(cfd);
                        continue;
                    }
                    set_nodelay(cfd);
                    struct timeval tv = {IO_TIMEOUT_S, 0};
                    setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
                    echoed[cfd] = 0;
                    struct epoll_event cev = {.events = EPOLLIN, .data.fd = cfd};
                    epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &cev);
                }
                continue;
            }
            ssize_t got = read(fd, buf, sizeof buf);
            if (got <= 0) {
                if (got < 0 && errno == EINTR) continue;
                close(fd);
                continue;
            }
            if (write_all(fd, buf, (size_t)got) < 0) {
                close(fd);
                continue;
            }
            echoed[fd] += (uint32_t)got;
            if (close_after > 0 && echoed[fd] >= (uint32_t)close_after) close(fd);
        }
    }
    return 0; /* not reached: the benchmark ends the server with SIGTERM */
}

/* ---- pingpong -------------------------------------------------------- */

static int pingpong(int port, int count, int size, int warmup, int max_s) {
    char *buf = calloc((size_t)size, 1);
    uint64_t *samples = calloc((size_t)count + 1, sizeof *samples);
    if (!buf || !samples) die("calloc");
    memset(buf, 'p', (size_t)size);
    int fd = connect_to(port);
    if (fd < 0) die("connect");
    uint64_t deadline = now_ns() + (uint64_t)max_s * 1000000000ull;
    int taken = 0;
    for (int i = 0; i < warmup + count; i++) {
        uint64_t start = now_ns();
        if (start > deadline) break;
        if (write_all(fd, buf, (size_t)size) < 0) die("write");
        if (read_exact(fd, buf, (size_t)size) < 0) die("read");
        if (i >= warmup) samples[taken++] = now_ns() - start;
    }
    close(fd);
    for (int i = 0; i < taken; i++) printf("%llu\n", (unsigned long long)samples[i]);
    return 0;
}

/* ---- connrate -------------------------------------------------------- */

static int connrate(int port, int seconds_ms, int size, int max_count) {
    char buf[512];
    if (size > (int)sizeof buf) size = (int)sizeof buf;
    memset(buf, 'c', sizeof buf);
    uint64_t start = now_ns();
    uint64_t deadline = start + (uint64_t)seconds_ms * 1000000ull;
    long count = 0, errors = 0;
    while (count < max_count && now_ns() < deadline && errors < 1000) {
        int fd = connect_to(port);
        if (fd < 0) {
            errors++;
            continue;
        }
        int ok = write_all(fd, buf, (size_t)size) == 0 && read_exact(fd, buf, (size_t)size) == 0;
        /* Wait for the server's close so the TIME_WAIT lands on its side and
         * the client's ephemeral ports stay reusable for the whole run. */
        if (ok) {
            char tail[16];
            ssize_t n;
            while ((n = read(fd, tail, sizeof tail)) > 0) {
            }
            ok = n == 0;
        }
        close(fd);
        if (ok)
            count++;
        else
            errors++;
    }
    printf("%ld %ld %llu\n", count, errors, (unsigned long long)(now_ns() - start));
    return 0;
}

/* ---- hold ------------------------------------------------------------ */

static int hold(int port, int n, int max_s) {
    alarm((unsigned)max_s); /* never outlive the benchmark, whatever happens */
    int *fds = calloc((size_t)n, sizeof *fds);
    if (!fds) die("calloc");
    for (int i = 0; i < n; i++) {
        char byte = 'h';
        fds[i] = connect_to(port);
        if (fds[i] < 0 || write_all(fds[i], &byte, 1) < 0 || read_exact(fds[i], &byte, 1) < 0) {
            fprintf(stderr, "loopback: hold: connection %d of %d failed: %s\n", i + 1, n,
                    strerror(errno));
            return 1;
        }
    }
    printf("ready %d\n", n);
    fflush(stdout);
    char sink[64];
    while (read(STDIN_FILENO, sink, sizeof sink) > 0) {
    }
    for (int i = 0; i < n; i++) close(fds[i]);
    return 0;
}

/* ---- burst ----------------------------------------------------------- */

#define TIMER_TAG UINT32_MAX

struct burst {
    int n, size, ep, timer;
    int *fds, *got;
    uint64_t *sent_at, *samples;
    int taken, done, sent;
    char *request;
};

static void send_next(struct burst *b) {
    int i = b->sent++;
    b->got[i] = 0;
    b->sent_at[i] = now_ns();
    if (write_all(b->fds[i], b->request, (size_t)b->size) < 0) die("write");
}

/* Handle what is ready (waiting up to wait_ms): record completed responses and,
 * on a pacing tick, send the requests that are due. */
static int poll_burst(struct burst *b, int wait_ms) {
    struct epoll_event events[512];
    char buf[4096];
    int ready = epoll_wait(b->ep, events, 512, wait_ms);
    if (ready < 0 && errno != EINTR) die("epoll_wait");
    for (int e = 0; e < ready; e++) {
        uint32_t tag = events[e].data.u32;
        if (tag == TIMER_TAG) {
            uint64_t ticks = 0;
            if (read(b->timer, &ticks, sizeof ticks) != (ssize_t)sizeof ticks) continue;
            while (ticks-- > 0 && b->sent < b->n) send_next(b);
            continue;
        }
        int i = (int)tag;
        ssize_t len = read(b->fds[i], buf, sizeof buf);
        if (len < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (len <= 0) {
            fprintf(stderr, "loopback: burst: connection %d closed early\n", i);
            return -1;
        }
        b->got[i] += (int)len;
        if (b->got[i] == b->size) {
            b->samples[b->taken++] = now_ns() - b->sent_at[i];
            b->done++;
        }
    }
    return 0;
}

/* GAP_US 0: every request at once. Otherwise one request every GAP_US, paced by
 * a timerfd so the client sleeps between sends instead of spinning. */
static int burst(int port, int n, int rounds, int size, int timeout_ms, int gap_us) {
    struct burst b = {.n = n, .size = size};
    b.fds = calloc((size_t)n, sizeof *b.fds);
    b.got = calloc((size_t)n, sizeof *b.got);
    b.sent_at = calloc((size_t)n, sizeof *b.sent_at);
    b.samples = calloc((size_t)n * (size_t)rounds, sizeof *b.samples);
    b.request = calloc((size_t)size, 1);
    if (!b.fds || !b.got || !b.sent_at || !b.samples || !b.request) die("calloc");
    memset(b.request, 'b', (size_t)size);
    b.ep = epoll_create1(EPOLL_CLOEXEC);
    b.timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (b.ep < 0 || b.timer < 0) die("epoll/timerfd");
    struct epoll_event tev = {.events = EPOLLIN, .data.u32 = TIMER_TAG};
    epoll_ctl(b.ep, EPOLL_CTL_ADD, b.timer, &tev);
    for (int i = 0; i < n; i++) {
        b.fds[i] = connect_to(port);
        if (b.fds[i] < 0) die("connect");
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(b.ep, EPOLL_CTL_ADD, b.fds[i], &ev);
    }
    usleep(100000); /* let the proxy finish dialling upstream for every connection */
    for (int r = 0; r < rounds; r++) {
        b.done = b.sent = 0;
        if (gap_us == 0) {
            /* Collect responses already back while still sending, so the send
             * loop never delays a measured response. */
            while (b.sent < n) {
                send_next(&b);
                if (poll_burst(&b, 0) < 0) return 1;
            }
        } else {
            struct itimerspec pace = {
                .it_interval = {gap_us / 1000000, (long)(gap_us % 1000000) * 1000},
                .it_value = {gap_us / 1000000, (long)(gap_us % 1000000) * 1000},
            };
            send_next(&b);
            timerfd_settime(b.timer, 0, &pace, NULL);
        }
        uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000ull;
        while (b.done < n) {
            uint64_t now = now_ns();
            if (now > deadline) {
                fprintf(stderr, "loopback: burst: %d of %d responses missing\n", n - b.done, n);
                return 1;
            }
            if (poll_burst(&b, (int)((deadline - now) / 1000000ull) + 1) < 0) return 1;
            if (b.sent == n && gap_us > 0) {
                struct itimerspec off = {{0, 0}, {0, 0}};
                timerfd_settime(b.timer, 0, &off, NULL);
            }
        }
    }
    for (int i = 0; i < b.taken; i++) printf("%llu\n", (unsigned long long)b.samples[i]);
    return 0;
}

int main(int argc, char **argv) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    signal(SIGPIPE, SIG_IGN);
    if (argc == 4 && strcmp(argv[1], "echo") == 0)
        return echo_server(parse_int(argv[2], "port"), parse_int(argv[3], "close_after"));
    if (argc == 7 && strcmp(argv[1], "pingpong") == 0)
        return pingpong(parse_int(argv[2], "port"), parse_int(argv[3], "count"),
                        parse_int(argv[4], "size"), parse_int(argv[5], "warmup"),
                        parse_int(argv[6], "max_s"));
    if (argc == 6 && strcmp(argv[1], "connrate") == 0)
        return connrate(parse_int(argv[2], "port"), parse_int(argv[3], "duration_ms"),
                        parse_int(argv[4], "size"), parse_int(argv[5], "max_count"));
    if (argc == 5 && strcmp(argv[1], "hold") == 0)
        return hold(parse_int(argv[2], "port"), parse_int(argv[3], "n"),
                    parse_int(argv[4], "max_s"));
    if (argc == 8 && strcmp(argv[1], "burst") == 0)
        return burst(parse_int(argv[2], "port"), parse_int(argv[3], "n"),
                     parse_int(argv[4], "rounds"), parse_int(argv[5], "size"),
                     parse_int(argv[6], "timeout_ms"), parse_int(argv[7], "gap_us"));
    fprintf(stderr, "usage: loopback echo|pingpong|connrate|hold|burst ARGS (see source)\n");
    return 2;
}
