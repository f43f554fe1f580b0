/*
 * embed.c: an application with an in-process tandem keyspace.
 *
 * Opens an engine from a configuration, uses it (set/get/del/incr, a generic command
 * with its reply walked), watches its changes through a callback, serves replicas on
 * 127.0.0.1, starts a second engine in the same program that follows the first, reads
 * both roles and offsets, and closes both. Written only against include/tandem.h.
 * Exits non-zero on any unexpected result.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

#define S(lit) (const uint8_t *)(lit), (sizeof(lit) - 1)

static int contains(const uint8_t *hay, size_t n, const char *needle) {
    size_t m = strlen(needle);
    for (size_t i = 0; i + m <= n; i++) {
        if (memcmp(hay + i, needle, m) == 0) return 1;
    }
    return 0;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- the change feed: counts writes to keys under "user:" ------------------------- */

struct watch {
    pthread_mutex_t lock;
    int user_writes;
    int gaps;
};

static void on_change(void *user, const tandem_change *c) {
    struct watch *w = user;
    pthread_mutex_lock(&w->lock);
    if (c->kind == TANDEM_CHANGE_GAP) {
        w->gaps++;
    } else {
        for (size_t i = 0; i < c->key_count; i++) {
            size_t k = c->key_index[i];
            if (c->argv_len[k] >= 5 && memcmp(c->argv[k], "user:", 5) == 0) {
                w->user_writes++;
            }
        }
    }
    pthread_mutex_unlock(&w->lock);
}

static void on_log(void *user, int level, const char *msg) {
    (void)user;
    if (level >= TANDEM_LOG_WARNING) {
        printf("  [log] %s\n", msg);
    }
}

/* ---- printing a reply tree ---------------------------------------------------------- */

static void print_reply(const tandem_reply *r, int depth) {
    const uint8_t *p;
    size_t n;
    printf("%*s", depth * 2, "");
    switch (tandem_reply_type(r)) {
    case TANDEM_REPLY_NIL:
        printf("(nil)\n");
        break;
    case TANDEM_REPLY_STRING:
    case TANDEM_REPLY_BIGNUMBER:
        CHECK(tandem_reply_string(r, &p, &n), TANDEM_OK);
        printf("\"%.*s\"\n", (int)n, (const char *)p);
        break;
    case TANDEM_REPLY_ERROR:
        CHECK(tandem_reply_string(r, &p, &n), TANDEM_OK);
        printf("(error) %.*s\n", (int)n, (const char *)p);
        break;
    case TANDEM_REPLY_INTEGER:
    case TANDEM_REPLY_BOOLEAN:
        printf("(integer) %lld\n", (long long)tandem_reply_integer(r));
        break;
    case TANDEM_REPLY_DOUBLE:
        printf("(double) %g\n", tandem_reply_double(r));
        break;
    case TANDEM_REPLY_ARRAY:
        printf("(array of %zu)\n", tandem_reply_len(r));
        for (size_t i = 0; i < tandem_reply_len(r); i++) {
            print_reply(tandem_reply_element(r, i), depth + 1);
        }
        break;
    case TANDEM_REPLY_MAP:
        printf("(map of %zu)\n", tandem_reply_len(r));
        for (size_t i = 0; i < 2 * tandem_reply_len(r); i++) {
            print_reply(tandem_reply_element(r, i), depth + 1);
        }
        break;
    default:
        FAIL("unknown reply type %d", tandem_reply_type(r));
    }
}

static tandem_reply *run(tandem_engine *e, size_t argc, const char **argv) {
    const uint8_t *args[8];
    size_t lens[8];
    tandem_reply *r = NULL;
    for (size_t i = 0; i < argc; i++) {
        args[i] = (const uint8_t *)argv[i];
        lens[i] = strlen(argv[i]);
    }
    CHECK(tandem_execute(e, 0, argc, args, lens, &r), TANDEM_OK);
    return r;
}

static void print_role(const char *who, tandem_engine *e) {
    tandem_role_info info;
    CHECK(tandem_role(e, &info), TANDEM_OK);
    printf("%s: role=%s link_up=%d master_port=%u offset=%llu replicas=%u last_io_ms_ago=%lld\n",
           who, info.is_replica ? "replica" : "master", info.link_up, info.master_port,
           (unsigned long long)info.offset, info.connected_replicas,
           (long long)info.last_io_ms_ago);
}

int main(void) {
    printf("tandem %s\n", tandem_version());

    /* Open with a configuration. */
    tandem_config *cfg = tandem_config_new();
    if (!cfg) FAIL("tandem_config_new failed");
    CHECK(tandem_config_set(cfg, "databases", "4"), TANDEM_OK);
    CHECK(tandem_config_set(cfg, "maxmemory", "64mb"), TANDEM_OK);
    CHECK(tandem_config_set(cfg, "no-such-directive", "1"), TANDEM_ERR_CONFIG);
    printf("config: rejected a bad directive: %s\n", tandem_last_error());
    CHECK(tandem_config_set_log(cfg, on_log, NULL), TANDEM_OK);
    tandem_engine *master = NULL;
    CHECK(tandem_open(cfg, &master), TANDEM_OK);
    printf("opened the master engine\n");

    /* The change feed. */
    struct watch w = {PTHREAD_MUTEX_INITIALIZER, 0, 0};
    tandem_feed *feed = NULL;
    CHECK(tandem_on_change(master, on_change, &w, &feed), TANDEM_OK);

    /* Typed operations. */
    CHECK(tandem_set(master, 0, S("user:1"), S("alice")), TANDEM_OK);
    CHECK(tandem_set(master, 0, S("user:2"), S("bob")), TANDEM_OK);
    CHECK(tandem_set_ex(master, 0, S("session:9"), S("token"), 60000), TANDEM_OK);
    CHECK(tandem_set(master, 2, S("other-db"), S("x")), TANDEM_OK);

    tandem_bytes v = {NULL, 0};
    CHECK(tandem_get(master, 0, S("user:1"), &v), TANDEM_OK);
    if (v.len != 5 || memcmp(v.ptr, "alice", 5) != 0) FAIL("GET user:1 gave the wrong value");
    printf("GET user:1 -> %.*s\n", (int)v.len, (const char *)v.ptr);
    tandem_bytes_free(&v);
    CHECK(tandem_get(master, 0, S("user:404"), &v), TANDEM_NIL);
    CHECK(tandem_get(master, 1, S("other-db"), &v), TANDEM_NIL);

    uint8_t buf[16];
    size_t len = 0;
    CHECK(tandem_get_into(master, 0, S("user:2"), buf, sizeof buf, &len), TANDEM_OK);
    printf("GET user:2 (into a buffer) -> %.*s\n", (int)len, (const char *)buf);

    int64_t n = 0;
    CHECK(tandem_incr_by(master, 0, S("visits"), 10, &n), TANDEM_OK);
    CHECK(tandem_incr_by(master, 0, S("visits"), -3, &n), TANDEM_OK);
    if (n != 7) FAIL("INCRBY gave %lld", (long long)n);
    printf("INCRBY visits -> %lld\n", (long long)n);

    uint64_t deleted = 0;
    CHECK(tandem_del(master, 0, S("session:9"), &deleted), TANDEM_OK);
    if (deleted != 1) FAIL("DEL removed %llu keys", (unsigned long long)deleted);

    /* Generic commands, replies walked. */
    const char *rpush[] = {"RPUSH", "queue", "a", "b", "c"};
    tandem_reply_free(run(master, 5, rpush));
    const char *lrange[] = {"LRANGE", "queue", "0", "-1"};
    tandem_reply *r = run(master, 4, lrange);
    printf("LRANGE queue 0 -1 ->\n");
    print_reply(r, 1);
    if (tandem_reply_type(r) != TANDEM_REPLY_ARRAY || tandem_reply_len(r) != 3)
        FAIL("LRANGE: unexpected reply");
    tandem_reply_free(r);
    const char *hello[] = {"HELLO", "3"};
    r = run(master, 2, hello);
    if (tandem_reply_type(r) != TANDEM_REPLY_MAP) FAIL("HELLO 3 did not answer a map");
    printf("HELLO 3 -> map of %zu pairs\n", tandem_reply_len(r));
    tandem_reply_free(r);
    const char *bad[] = {"LPUSH", "user:1", "x"};
    r = run(master, 3, bad);
    printf("LPUSH on a string ->\n");
    print_reply(r, 1);
    if (tandem_reply_type(r) != TANDEM_REPLY_ERROR) FAIL("expected an error reply");
    tandem_reply_free(r);

    /* Serve replicas; a second engine in this program follows. */
    uint16_t port = 0;
    CHECK(tandem_serve_replicas(master, "127.0.0.1:0", &port), TANDEM_OK);
    printf("serving replicas on 127.0.0.1:%u\n", port);

    tandem_config *rcfg = tandem_config_new();
    CHECK(tandem_config_set(rcfg, "databases", "4"), TANDEM_OK);
    tandem_engine *replica = NULL;
    CHECK(tandem_open(rcfg, &replica), TANDEM_OK);
    CHECK(tandem_replicate_from(replica, "127.0.0.1", port), TANDEM_OK);
    CHECK(tandem_wait_for_sync(replica, 30000), TANDEM_OK);
    printf("the replica is in sync\n");

    CHECK(tandem_set(master, 0, S("user:3"), S("carol")), TANDEM_OK);
    int seen = 0;
    for (int i = 0; i < 2000 && !seen; i++) {
        int rc = tandem_get(replica, 0, S("user:3"), &v);
        if (rc == TANDEM_OK) {
            seen = v.len == 5 && memcmp(v.ptr, "carol", 5) == 0;
            tandem_bytes_free(&v);
        } else if (rc != TANDEM_NIL) {
            FAIL("GET on the replica: %s", tandem_status_name(rc));
        } else {
            sleep_ms(10);
        }
    }
    if (!seen) FAIL("the write did not reach the replica");
    CHECK(tandem_get(replica, 2, S("other-db"), &v), TANDEM_OK);
    tandem_bytes_free(&v);
    printf("the replica reads user:3 and db 2 locally\n");
    CHECK(tandem_set(replica, 0, S("user:4"), S("x")), TANDEM_ERR_COMMAND);
    printf("a write on the replica is refused: %s\n", tandem_last_error());

    print_role("master ", master);
    print_role("replica", replica);
    tandem_role_info mi, ri;
    CHECK(tandem_role(master, &mi), TANDEM_OK);
    for (int i = 0; i < 2000; i++) {
        CHECK(tandem_role(replica, &ri), TANDEM_OK);
        if (ri.offset == mi.offset) break;
        sleep_ms(10);
    }
    if (!ri.is_replica || !ri.link_up || ri.master_port != port || mi.connected_replicas != 1)
        FAIL("unexpected roles");
    if (ri.offset != mi.offset) FAIL("offsets differ: %llu vs %llu",
                                     (unsigned long long)ri.offset, (unsigned long long)mi.offset);
    printf("offsets match: %llu\n", (unsigned long long)ri.offset);

    tandem_bytes info = {NULL, 0};
    CHECK(tandem_info(replica, "replication", &info), TANDEM_OK);
    if (!contains(info.ptr, info.len, "role:slave")) FAIL("INFO replication lacks role:slave");
    tandem_bytes_free(&info);

    /* The feed saw the user: writes (user:1, user:2, user:3). */
    int writes = 0;
    for (int i = 0; i < 2000; i++) {
        pthread_mutex_lock(&w.lock);
        writes = w.user_writes;
        pthread_mutex_unlock(&w.lock);
        if (writes >= 3) break;
        sleep_ms(10);
    }
    printf("change feed: %d writes to user:* keys, %d gaps\n", writes, w.gaps);
    if (writes != 3) FAIL("expected 3 user:* writes in the feed");
    tandem_feed_free(feed);

    /* Promote the replica, then close both. */
    CHECK(tandem_promote(replica), TANDEM_OK);
    CHECK(tandem_set(replica, 0, S("user:4"), S("dave")), TANDEM_OK);
    printf("promoted the replica; it takes writes\n");
    CHECK(tandem_close(replica), TANDEM_OK);
    CHECK(tandem_close(master), TANDEM_OK);
    printf("closed both engines\nOK\n");
    return 0;
}
