/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ktable.c - a compacted topic held in memory (ktable.h).
 *
 * Thread: the loader thread writes; stream threads read under the rwlock.
 */
#include "ktable.h"

#include "htab.h"
#include "kafka.h"
#include "log.h"

#include <pthread.h>
#include <string.h>

struct krow {
    struct vg_hlink link;   /* first: in rows */
    uint32_t klen, vlen;
    char *val;              /* the JSON value */
    char key[];
};

struct vg_ktable {
    const struct vg_table_conf *t;
    rd_kafka_t *rk;
    rd_kafka_queue_t *q;
    pthread_t tid;
    bool started;
    int stop;                       /* atomic-ish: set once, read by the loader */
    pthread_rwlock_t lock;
    struct vg_htab rows;
    /* until caught up: the end offsets at start, and how many partitions are not there yet */
    int64_t *end;
    int32_t n_parts;
    int32_t behind;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t tombstones, keyless;
};

static struct krow *find(struct vg_ktable *kt, const char *key, size_t len, uint64_t h)
{
    for (struct vg_hlink *l = vg_htab_head(&kt->rows, h); l; l = l->next) {
        struct krow *r = (struct krow *)l;
        if (l->hash == h && r->klen == len && !memcmp(r->key, key, len))
            return r;
    }
    return NULL;
}

static void apply(struct vg_ktable *kt, const rd_kafka_message_t *m)
{
    if (!m->key || m->key_len == 0) {
        kt->keyless++;
        return;
    }
    uint64_t h = vg_hash_mem(m->key, m->key_len);
    struct krow *r = find(kt, m->key, m->key_len, h);
    if (!m->payload) { /* tombstone */
        kt->tombstones++;
        if (r) {
            vg_htab_remove(&kt->rows, &r->link);
            vg_free(r->val);
            vg_free(r);
        }
        return;
    }
    if (!r) {
        r = vg_xcalloc(1, sizeof(*r) + m->key_len);
        r->link.hash = h;
        r->klen = (uint32_t)m->key_len;
        memcpy(r->key, m->key, m->key_len);
        vg_htab_insert(&kt->rows, &r->link);
    } else {
        vg_free(r->val);
    }
    r->val = vg_xstrndup(m->payload, m->len);
    r->vlen = (uint32_t)m->len;
}

/* Partition p reached its end offset at start (or it was empty): one fewer to wait for. */
static void caught_up(struct vg_ktable *kt, int32_t p)
{
    pthread_mutex_lock(&kt->mu);
    if (kt->end[p] >= 0) {
        kt->end[p] = -1;
        kt->behind--;
        pthread_cond_broadcast(&kt->cv);
    }
    pthread_mutex_unlock(&kt->mu);
}

static void *loader(void *arg)
{
    struct vg_ktable *kt = arg;
    rd_kafka_message_t *msgs[1024];
    while (!__atomic_load_n(&kt->stop, __ATOMIC_RELAXED)) {
        ssize_t n = rd_kafka_consume_batch_queue(kt->q, 100, msgs, 1024);
        if (n <= 0)
            continue;
        pthread_rwlock_wrlock(&kt->lock);
        for (ssize_t i = 0; i < n; i++)
            if (!msgs[i]->err)
                apply(kt, msgs[i]);
        pthread_rwlock_unlock(&kt->lock);
        for (ssize_t i = 0; i < n; i++) {
            const rd_kafka_message_t *m = msgs[i];
            if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF ||
                (!m->err && m->partition < kt->n_parts && m->offset + 1 >= kt->end[m->partition]))
                caught_up(kt, m->partition);
            else if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                vg_log(VG_LOG_WARN, "table '%s': topic '%s': %s", kt->t->name, kt->t->topic,
                       rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(msgs[i]);
        }
    }
    return NULL;
}

struct vg_ktable *vg_ktable_start(const struct vg_topology *topo, const struct vg_table_conf *t,
                                  int wait_ms, struct vg_err *err)
{
    struct vg_ktable *kt = vg_xcalloc(1, sizeof(*kt));
    kt->t = t;
    pthread_rwlock_init(&kt->lock, NULL);
    pthread_mutex_init(&kt->mu, NULL);
    pthread_cond_init(&kt->cv, NULL);
    char errstr[512], group[300];
    snprintf(group, sizeof(group), "vigil-table.%s.%s", topo->name, t->name);
    rd_kafka_conf_t *cc = vg_kafka_conf(topo, VG_KAFKA_CONSUMER, group, err);
    if (!cc) {
        vg_ktable_stop(kt);
        return NULL;
    }
    rd_kafka_conf_set(cc, "enable.auto.commit", "false", errstr, sizeof(errstr));
    rd_kafka_conf_set(cc, "enable.auto.offset.store", "false", errstr, sizeof(errstr));
    rd_kafka_conf_set(cc, "enable.partition.eof", "true", errstr, sizeof(errstr));
    if (!(kt->rk = rd_kafka_new(RD_KAFKA_CONSUMER, cc, errstr, sizeof(errstr)))) {
        rd_kafka_conf_destroy(cc);
        vg_ktable_stop(kt);
        VG_ERR_SET(err, VG_EKAFKA, "table '%s': kafka consumer: %s", t->name, errstr);
        return NULL;
    }
    kt->n_parts = vg_kafka_partitions(kt->rk, t->topic, 10000);
    if (kt->n_parts <= 0) {
        vg_ktable_stop(kt);
        VG_ERR_SET(err, VG_EKAFKA, "table '%s': topic '%s' not found", t->name, t->topic);
        return NULL;
    }
    kt->end = vg_xcalloc((size_t)kt->n_parts, sizeof(*kt->end));
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(kt->n_parts);
    for (int32_t p = 0; p < kt->n_parts; p++) {
        int64_t lo = 0, hi = 0;
        if (rd_kafka_query_watermark_offsets(kt->rk, t->topic, p, &lo, &hi, 10000))
            hi = 0;
        kt->end[p] = hi > lo ? hi : -1; /* -1: empty, nothing to wait for */
        if (kt->end[p] >= 0)
            kt->behind++;
        rd_kafka_topic_partition_list_add(l, t->topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_resp_err_t e = rd_kafka_assign(kt->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (e) {
        vg_ktable_stop(kt);
        VG_ERR_SET(err, VG_EKAFKA, "table '%s': assign: %s", t->name, rd_kafka_err2str(e));
        return NULL;
    }
    kt->q = rd_kafka_queue_get_consumer(kt->rk);
    if (pthread_create(&kt->tid, NULL, loader, kt) != 0) {
        vg_ktable_stop(kt);
        VG_ERR_SET(err, VG_EIO, "table '%s': cannot start its loader", t->name);
        return NULL;
    }
    kt->started = true;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += wait_ms / 1000;
    until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&kt->mu);
    int rc = 0;
    while (kt->behind > 0 && rc == 0)
        rc = pthread_cond_timedwait(&kt->cv, &kt->mu, &until);
    int32_t behind = kt->behind;
    pthread_mutex_unlock(&kt->mu);
    if (behind > 0) {
        vg_ktable_stop(kt);
        VG_ERR_SET(err, VG_EKAFKA, "table '%s': topic '%s' not read to its end in %d ms "
                   "(%d partitions behind)", t->name, t->topic, wait_ms, (int)behind);
        return NULL;
    }
    vg_log(VG_LOG_INFO, "table '%s': %zu rows from topic '%s' (%d partitions)", t->name,
           vg_ktable_rows(kt), t->topic, (int)kt->n_parts);
    return kt;
}

static void free_row(struct vg_hlink *l, void *ud)
{
    (void)ud;
    vg_free(((struct krow *)l)->val);
    vg_free(l);
}

void vg_ktable_stop(struct vg_ktable *kt)
{
    if (!kt)
        return;
    __atomic_store_n(&kt->stop, 1, __ATOMIC_RELAXED);
    if (kt->started)
        pthread_join(kt->tid, NULL);
    if (kt->q)
        rd_kafka_queue_destroy(kt->q);
    if (kt->rk) {
        rd_kafka_consumer_close(kt->rk);
        rd_kafka_destroy(kt->rk);
    }
    vg_htab_clear(&kt->rows, free_row, NULL);
    pthread_rwlock_destroy(&kt->lock);
    pthread_mutex_destroy(&kt->mu);
    pthread_cond_destroy(&kt->cv);
    vg_free(kt->end);
    vg_free(kt);
}

void vg_ktable_lookup(struct vg_ktable *kt, const char *const *keys, const size_t *klens,
                      size_t n,
                      void (*row)(void *ud, size_t i, const char *field, size_t flen,
                                  const char *val, size_t vlen),
                      void *ud)
{
    pthread_rwlock_rdlock(&kt->lock);
    for (size_t i = 0; i < n; i++) {
        const struct krow *r = find(kt, keys[i], klens[i],
                                    vg_hash_mem(keys[i], klens[i]));
        if (r)
            row(ud, i, NULL, 0, r->val, r->vlen);
    }
    pthread_rwlock_unlock(&kt->lock);
}

size_t vg_ktable_rows(struct vg_ktable *kt)
{
    pthread_rwlock_rdlock(&kt->lock);
    size_t n = kt->rows.n;
    pthread_rwlock_unlock(&kt->lock);
    return n;
}
