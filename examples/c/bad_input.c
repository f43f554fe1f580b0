/*
 * bad_input.c: every misuse of the C ABI returns its documented status code and never
 * crashes the host: NULL handles, NULL pointers, buffers too small, invalid UTF-8 in
 * names, a handle used after close, double close, a panic inside the library, and
 * calls from several threads at once. Written only against include/tandem.h; exits
 * non-zero on any unexpected result.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tandem.h"

static int failures = 0;

#define EXPECT(call, expect)                                                               \
    do {                                                                                   \
        int rc_ = (call);                                                                  \
        if (rc_ != (expect)) {                                                             \
            fprintf(stderr, "FAIL %s:%d: %s returned %d (%s), expected %s (%s)\n",         \
                    __FILE__, __LINE__, #call, rc_, tandem_status_name(rc_), #expect,      \
                    tandem_last_error());                                                  \
            failures++;                                                                    \
        } else {                                                                           \
            printf("ok   %-74.74s -> %s\n", #call, tandem_status_name(rc_));               \
        }                                                                                  \
    } while (0)

#define TRUE(cond)                                                                         \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                \
            failures++;                                                                    \
        }                                                                                  \
    } while (0)

#define K(lit) (const uint8_t *)(lit), (sizeof(lit) - 1)

/* ---- several threads at once ------------------------------------------------------- */

struct worker {
    tandem_engine *e;
    int id;
    int errors;
};

static void *work(void *arg) {
    struct worker *w = arg;
    char key[32];
    uint8_t buf[32];
    for (int i = 0; i < 300; i++) {
        int n = snprintf(key, sizeof key, "w%d:%d", w->id, i);
        size_t len = 0;
        int64_t total = 0;
        if (tandem_set(w->e, 0, (const uint8_t *)key, (size_t)n, (const uint8_t *)key,
                       (size_t)n) != TANDEM_OK)
            w->errors++;
        if (tandem_get_into(w->e, 0, (const uint8_t *)key, (size_t)n, buf, sizeof buf, &len) !=
                TANDEM_OK ||
            len != (size_t)n || memcmp(buf, key, len) != 0)
            w->errors++;
        if (tandem_incr_by(w->e, 0, K("shared"), 1, &total) != TANDEM_OK) w->errors++;
        /* Misuse from threads too: the codes are per call, the messages per thread. */
        if (tandem_get_into(w->e, 0, (const uint8_t *)key, (size_t)n, buf, 1, &len) !=
            TANDEM_ERR_BUFFER_TOO_SMALL)
            w->errors++;
        if (tandem_set(w->e, 99, K("k"), K("v")) != TANDEM_ERR_INVALID) w->errors++;
        if (strstr(tandem_last_error(), "out of range") == NULL) w->errors++;
    }
    return NULL;
}

int main(void) {
    tandem_engine *e = NULL;
    tandem_bytes out = {NULL, 0};
    tandem_reply *reply = NULL;
    tandem_role_info role;
    uint8_t buf[4];
    size_t len = 0;
    int64_t n = 0;

    printf("-- NULL handles\n");
    EXPECT(tandem_set(NULL, 0, K("k"), K("v")), TANDEM_ERR_NULL);
    EXPECT(tandem_get(NULL, 0, K("k"), &out), TANDEM_ERR_NULL);
    EXPECT(tandem_get_into(NULL, 0, K("k"), buf, sizeof buf, &len), TANDEM_ERR_NULL);
    EXPECT(tandem_del(NULL, 0, K("k"), NULL), TANDEM_ERR_NULL);
    EXPECT(tandem_incr_by(NULL, 0, K("n"), 1, &n), TANDEM_ERR_NULL);
    EXPECT(tandem_role(NULL, &role), TANDEM_ERR_NULL);
    EXPECT(tandem_close(NULL), TANDEM_ERR_NULL);
    EXPECT(tandem_config_set(NULL, "hz", "10"), TANDEM_ERR_NULL);
    TRUE(strstr(tandem_last_error(), "NULL") != NULL);
    tandem_config_free(NULL);
    tandem_bytes_free(NULL);
    tandem_reply_free(NULL);
    tandem_feed_free(NULL);
    TRUE(tandem_reply_type(NULL) == TANDEM_ERR_NULL);
    TRUE(tandem_reply_len(NULL) == 0);
    TRUE(tandem_reply_element(NULL, 0) == NULL);
    TRUE(tandem_reply_integer(NULL) == 0);

    printf("-- open\n");
    EXPECT(tandem_open(NULL, NULL), TANDEM_ERR_NULL);
    tandem_config *cfg = tandem_config_new();
    EXPECT(tandem_config_set(cfg, "hz", NULL), TANDEM_ERR_NULL);
    EXPECT(tandem_config_set(cfg, "hz", "not a number"), TANDEM_ERR_CONFIG);
    EXPECT(tandem_config_set(cfg, "databases", "2"), TANDEM_OK);
    EXPECT(tandem_config_set_transport(cfg, NULL), TANDEM_ERR_NULL);
    tandem_transport partial = {NULL, NULL, NULL, NULL, NULL, NULL};
    EXPECT(tandem_config_set_transport(cfg, &partial), TANDEM_ERR_NULL);
    /* A config is consumed by tandem_open even when out is NULL (valgrind checks it). */
    tandem_config *lost = tandem_config_new();
    EXPECT(tandem_open(lost, NULL), TANDEM_ERR_NULL);
    EXPECT(tandem_open(cfg, &e), TANDEM_OK);
    if (!e) return 1;

    printf("-- NULL pointers\n");
    EXPECT(tandem_set(e, 0, NULL, 3, K("v")), TANDEM_ERR_NULL);
    EXPECT(tandem_set(e, 0, K("k"), NULL, 1), TANDEM_ERR_NULL);
    EXPECT(tandem_set(e, 0, NULL, 0, NULL, 0), TANDEM_OK); /* empty key and value */
    EXPECT(tandem_get(e, 0, K("k"), NULL), TANDEM_ERR_NULL);
    EXPECT(tandem_get_into(e, 0, K("k"), NULL, 8, &len), TANDEM_ERR_NULL);
    EXPECT(tandem_get_into(e, 0, K("k"), buf, sizeof buf, NULL), TANDEM_ERR_NULL);
    EXPECT(tandem_incr_by(e, 0, K("n"), 1, NULL), TANDEM_ERR_NULL);
    EXPECT(tandem_execute(e, 0, 1, NULL, NULL, &reply), TANDEM_ERR_NULL);
    const uint8_t *argv1[] = {(const uint8_t *)"PING"};
    size_t lens1[] = {4};
    EXPECT(tandem_execute(e, 0, 1, argv1, lens1, NULL), TANDEM_ERR_NULL);
    EXPECT(tandem_execute(e, 0, 0, argv1, lens1, &reply), TANDEM_ERR_INVALID);
    EXPECT(tandem_role(e, NULL), TANDEM_ERR_NULL);
    EXPECT(tandem_info(e, NULL, &out), TANDEM_ERR_NULL);
    EXPECT(tandem_info(e, "server", NULL), TANDEM_ERR_NULL);
    EXPECT(tandem_serve_replicas(e, NULL, NULL), TANDEM_ERR_NULL);
    EXPECT(tandem_replicate_from(e, NULL, 6379), TANDEM_ERR_NULL);
    EXPECT(tandem_on_change(e, NULL, NULL, NULL), TANDEM_ERR_NULL);
    EXPECT(tandem_execute(e, 0, 1, argv1, lens1, &reply), TANDEM_OK);
    EXPECT(tandem_reply_string(reply, NULL, &len), TANDEM_ERR_NULL);
    tandem_reply_free(reply);

    printf("-- bad arguments\n");
    EXPECT(tandem_set(e, 2, K("k"), K("v")), TANDEM_ERR_INVALID); /* databases 2 */
    EXPECT(tandem_set_ex(e, 0, K("k"), K("v"), 0), TANDEM_ERR_INVALID);
    EXPECT(tandem_serve_replicas(e, "not an address", NULL), TANDEM_ERR_INVALID);
    EXPECT(tandem_replicate_from(e, "127.0.0.1", 0), TANDEM_ERR_INVALID);
    EXPECT(tandem_replicate_from(e, "", 6379), TANDEM_ERR_INVALID);
    TRUE(strcmp(tandem_status_name(12345), "TANDEM_UNKNOWN_STATUS") == 0);

    printf("-- buffers too small\n");
    EXPECT(tandem_set(e, 0, K("big"), K("0123456789")), TANDEM_OK);
    len = 0;
    memset(buf, 'x', sizeof buf);
    EXPECT(tandem_get_into(e, 0, K("big"), buf, sizeof buf, &len), TANDEM_ERR_BUFFER_TOO_SMALL);
    TRUE(len == 10);
    TRUE(buf[0] == 'x'); /* nothing copied */
    EXPECT(tandem_get_into(e, 0, K("big"), NULL, 0, &len), TANDEM_ERR_BUFFER_TOO_SMALL);
    TRUE(len == 10);
    EXPECT(tandem_get_into(e, 0, K("missing"), buf, sizeof buf, &len), TANDEM_NIL);
    TRUE(len == 0);

    printf("-- invalid UTF-8 in names\n");
    const char bad_utf8[] = {'h', 'z', (char)0xff, 0};
    const char bad_host[] = {'1', '2', '7', (char)0xc3, (char)0x28, 0};
    tandem_config *cfg2 = tandem_config_new();
    EXPECT(tandem_config_set(cfg2, bad_utf8, "10"), TANDEM_ERR_UTF8);
    EXPECT(tandem_config_set(cfg2, "hz", bad_utf8), TANDEM_ERR_UTF8);
    tandem_config_free(cfg2);
    EXPECT(tandem_info(e, bad_utf8, &out), TANDEM_ERR_UTF8);
    EXPECT(tandem_serve_replicas(e, bad_host, NULL), TANDEM_ERR_UTF8);
    EXPECT(tandem_replicate_from(e, bad_host, 6379), TANDEM_ERR_UTF8);

    printf("-- command errors\n");
    EXPECT(tandem_incr_by(e, 0, K("big"), 1, &n), TANDEM_ERR_COMMAND);
    TRUE(strstr(tandem_last_error(), "not an integer") != NULL);
    const uint8_t *argv3[] = {(const uint8_t *)"RPUSH", (const uint8_t *)"list",
                              (const uint8_t *)"a"};
    size_t lens3[] = {5, 4, 1};
    EXPECT(tandem_execute(e, 0, 3, argv3, lens3, &reply), TANDEM_OK);
    tandem_reply_free(reply);
    EXPECT(tandem_incr_by(e, 0, K("list"), 1, &n), TANDEM_ERR_WRONGTYPE);
    const uint8_t *ptr = NULL;
    EXPECT(tandem_execute(e, 0, 1, argv1, lens1, &reply), TANDEM_OK);
    EXPECT(tandem_reply_string(reply, &ptr, &len), TANDEM_OK); /* +PONG */
    TRUE(len == 4 && memcmp(ptr, "PONG", 4) == 0);
    tandem_reply_free(reply);
    const uint8_t *argvi[] = {(const uint8_t *)"INCR", (const uint8_t *)"n"};
    size_t lensi[] = {4, 1};
    EXPECT(tandem_execute(e, 0, 2, argvi, lensi, &reply), TANDEM_OK);
    EXPECT(tandem_reply_string(reply, &ptr, &len), TANDEM_ERR_INVALID); /* an integer */
    TRUE(ptr == NULL && len == 0);
    tandem_reply_free(reply);

    printf("-- a panic inside the library\n");
    EXPECT(tandem_debug_panic("deliberate"), TANDEM_ERR_PANIC);
    TRUE(strstr(tandem_last_error(), "deliberate") != NULL);
    EXPECT(tandem_set(e, 0, K("after-panic"), K("fine")), TANDEM_OK);

    printf("-- several threads at once\n");
    enum { THREADS = 6 };
    pthread_t threads[THREADS];
    struct worker workers[THREADS];
    for (int i = 0; i < THREADS; i++) {
        workers[i] = (struct worker){e, i, 0};
        if (pthread_create(&threads[i], NULL, work, &workers[i]) != 0) return 1;
    }
    int thread_errors = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
        thread_errors += workers[i].errors;
    }
    TRUE(thread_errors == 0);
    EXPECT(tandem_get_into(e, 0, K("shared"), buf, sizeof buf, &len), TANDEM_OK);
    TRUE(len == 4 && memcmp(buf, "1800", 4) == 0);
    printf("%d threads x 300 iterations: %d errors, shared counter %.*s\n", THREADS,
           thread_errors, (int)len, (const char *)buf);

    printf("-- a handle used after close, double close\n");
    EXPECT(tandem_close(e), TANDEM_OK);
    EXPECT(tandem_set(e, 0, K("k"), K("v")), TANDEM_ERR_CLOSED);
    EXPECT(tandem_get(e, 0, K("k"), &out), TANDEM_ERR_CLOSED);
    EXPECT(tandem_get_into(e, 0, K("k"), buf, sizeof buf, &len), TANDEM_ERR_CLOSED);
    EXPECT(tandem_execute(e, 0, 1, argv1, lens1, &reply), TANDEM_ERR_CLOSED);
    EXPECT(tandem_role(e, &role), TANDEM_ERR_CLOSED);
    EXPECT(tandem_wait_for_sync(e, 10), TANDEM_ERR_CLOSED);
    EXPECT(tandem_on_change(e, NULL, NULL, NULL), TANDEM_ERR_NULL); /* NULLs checked first */
    EXPECT(tandem_save(e), TANDEM_ERR_CLOSED);
    EXPECT(tandem_close(e), TANDEM_ERR_CLOSED);
    TRUE(strstr(tandem_last_error(), "closed") != NULL);

    printf("-- a handle closed while other threads use it\n");
    tandem_engine *e2 = NULL;
    EXPECT(tandem_open(NULL, &e2), TANDEM_OK);
    /* Threads hammer the engine; the main thread waits for them before closing (close
       must not race other calls), then every late call is TANDEM_ERR_CLOSED. */
    for (int i = 0; i < THREADS; i++) {
        workers[i] = (struct worker){e2, 100 + i, 0};
        pthread_create(&threads[i], NULL, work, &workers[i]);
    }
    for (int i = 0; i < THREADS; i++) pthread_join(threads[i], NULL);
    EXPECT(tandem_close(e2), TANDEM_OK);
    EXPECT(tandem_incr_by(e2, 0, K("shared"), 1, &n), TANDEM_ERR_CLOSED);

    if (failures) {
        fprintf(stderr, "%d unexpected result(s)\n", failures);
        return 1;
    }
    printf("OK\n");
    return 0;
}
