/*
 * replica_of_redis.c: an application embeds a read replica of a running redis-server.
 *
 *   replica_of_redis PORT [KEY...]
 *
 * Follows the redis-server on 127.0.0.1:PORT, waits for the sync, then answers reads
 * locally (each KEY given must exist on the master; "key:1" is read if none is given)
 * while printing role, offset and lag. It follows twice: once over tandem's own TCP
 * connector, once through a host transport (tandem_transport) whose callbacks wrap
 * plain POSIX sockets, as a host carrying replication over its own channel would.
 * Written only against include/tandem.h; exits non-zero on any unexpected result.
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "tandem.h"

#define CHECK(call, expect)                                                                \
    do {                                                                                   \
        int rc_ = (call);                                                                  \
        if (rc_ != (expect)) {                                                             \
            fprintf(stderr, "%s:%d: %s returned %d (%s), expected %s: %s\n", __FILE__,     \
                    __LINE__, #call, rc_, tandem_status_name(rc_), #expect,                \
                    tandem_last_error());                                                  \
            exit(1);                                                                       \
        }                                                                                  \
    } while (0)

#define FAIL(...)                                                                          \
    do {                                                                                   \
        fprintf(stderr, __VA_ARGS__);                                                      \
        fputc('\n', stderr);                                                               \
        exit(1);                                                                           \
    } while (0)

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- a host transport over plain TCP sockets ---------------------------------------- */

struct sock_conn {
    int fd;
};

struct transport_stats {
    int connects;
    int closes;
};

static int sock_connect(void *user, const char *host, uint16_t port, void **conn_out) {
    struct transport_stats *stats = user;
    struct addrinfo hints, *res = NULL;
    char service[8];
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(service, sizeof service, "%u", port);
    if (getaddrinfo(host, service, &hints, &res) != 0) return -1;
    int fd = -1;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd < 0) continue;
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) return -1;
    /* Reads time out after 200 ms (TANDEM_IO_TIMEOUT), so tandem can stop the link. */
    struct timeval tv = {0, 200000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sock_conn *c = malloc(sizeof *c);
    if (!c) {
        close(fd);
        return -1;
    }
    c->fd = fd;
    *conn_out = c;
    stats->connects++;
    return 0;
}

static long sock_read(void *conn, uint8_t *buf, size_t cap) {
    struct sock_conn *c = conn;
    ssize_t n = recv(c->fd, buf, cap, 0);
    if (n >= 0) return (long)n;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return TANDEM_IO_TIMEOUT;
    return TANDEM_IO_ERROR;
}

static long sock_write(void *conn, const uint8_t *buf, size_t len) {
    struct sock_conn *c = conn;
    ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
    return n < 0 ? TANDEM_IO_ERROR : (long)n;
}

static void sock_shutdown(void *conn) {
    struct sock_conn *c = conn;
    shutdown(c->fd, SHUT_RDWR);
}

static struct transport_stats *stats_for_close;

static void sock_close(void *conn) {
    struct sock_conn *c = conn;
    close(c->fd);
    free(c);
    stats_for_close->closes++;
}

/* ---- the replica ------------------------------------------------------------------------ */

static tandem_engine *follow(uint16_t port, const tandem_transport *t) {
    tandem_config *cfg = tandem_config_new();
    if (!cfg) FAIL("tandem_config_new failed");
    if (t) CHECK(tandem_config_set_transport(cfg, t), TANDEM_OK);
    tandem_engine *e = NULL;
    CHECK(tandem_open(cfg, &e), TANDEM_OK);
    CHECK(tandem_replicate_from(e, "127.0.0.1", port), TANDEM_OK);
    CHECK(tandem_wait_for_sync(e, 30000), TANDEM_OK);
    return e;
}

static void report(const char *who, tandem_engine *e, uint16_t port) {
    tandem_role_info info;
    CHECK(tandem_role(e, &info), TANDEM_OK);
    printf("%s: role=%s link=%s master_port=%u offset=%llu lag_ms=%lld\n", who,
           info.is_replica ? "replica" : "master", info.link_up ? "up" : "down",
           info.master_port, (unsigned long long)info.offset, (long long)info.last_io_ms_ago);
    if (!info.is_replica || !info.link_up || info.master_port != port)
        FAIL("%s: not a replica with its link up", who);
}

static void read_keys(const char *who, tandem_engine *e, int nkeys, char **keys) {
    for (int i = 0; i < nkeys; i++) {
        tandem_bytes v = {NULL, 0};
        int rc = tandem_get(e, 0, (const uint8_t *)keys[i], strlen(keys[i]), &v);
        if (rc != TANDEM_OK) FAIL("%s: GET %s: %s %s", who, keys[i], tandem_status_name(rc),
                                  tandem_last_error());
        printf("%s: GET %s -> %.*s (read locally)\n", who, keys[i], (int)v.len,
               (const char *)v.ptr);
        tandem_bytes_free(&v);
    }
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s PORT [KEY...]\n", argv[0]);
        return 2;
    }
    long p = strtol(argv[1], NULL, 10);
    if (p <= 0 || p > 65535) FAIL("bad port %s", argv[1]);
    uint16_t port = (uint16_t)p;
    char *default_key[] = {"key:1"};
    int nkeys = argc > 2 ? argc - 2 : 1;
    char **keys = argc > 2 ? argv + 2 : default_key;

    printf("following redis-server on 127.0.0.1:%u over TCP\n", port);
    tandem_engine *tcp = follow(port, NULL);
    printf("tcp: in sync\n");
    read_keys("tcp", tcp, nkeys, keys);
    report("tcp", tcp, port);

    struct transport_stats stats = {0, 0};
    stats_for_close = &stats;
    tandem_transport t = {&stats, sock_connect, sock_read, sock_write, sock_close,
                          sock_shutdown};
    printf("following redis-server on 127.0.0.1:%u through a host transport\n", port);
    tandem_engine *host = follow(port, &t);
    printf("host-transport: in sync (%d connect(s))\n", stats.connects);
    read_keys("host-transport", host, nkeys, keys);
    report("host-transport", host, port);

    /* Both replicas reach the same offset, and a read on either costs no network hop. */
    tandem_role_info a, b;
    for (int i = 0; i < 1000; i++) {
        CHECK(tandem_role(tcp, &a), TANDEM_OK);
        CHECK(tandem_role(host, &b), TANDEM_OK);
        if (a.offset == b.offset) break;
        sleep_ms(10);
    }
    if (a.offset != b.offset)
        FAIL("offsets differ: %llu vs %llu", (unsigned long long)a.offset,
             (unsigned long long)b.offset);
    printf("both replicas at offset %llu\n", (unsigned long long)a.offset);

    struct timespec t0, t1;
    uint8_t buf[256];
    size_t len;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 20000; i++) {
        int rc = tandem_get_into(tcp, 0, (const uint8_t *)keys[0], strlen(keys[0]), buf,
                                 sizeof buf, &len);
        if (rc != TANDEM_OK) FAIL("get_into: %s", tandem_status_name(rc));
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("20000 local reads in %.3f s\n", secs);

    CHECK(tandem_close(host), TANDEM_OK);
    if (stats.closes != stats.connects)
        FAIL("transport: %d connects but %d closes", stats.connects, stats.closes);
    printf("host-transport: closed (%d connect(s), %d close(s))\n", stats.connects,
           stats.closes);
    CHECK(tandem_close(tcp), TANDEM_OK);
    printf("closed\nOK\n");
    return 0;
}
