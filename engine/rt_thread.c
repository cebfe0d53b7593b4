/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rt_thread.c - the stream threads: poll, run the fused operator chain, produce, commit.
 *
 * Dataflow per stream thread: its consumer (one member of the group vigil.<topology>)
 * yields up to VG_RT_BATCH records; they become one batch; every node runs on it in
 * topological order (sources decode, filters and maps select and derive, rules add alert
 * events, sinks hand encoded records to this thread's producer or to a shared file); then
 * the next batch. There is no queue between operators: a stateless chain is fused into one
 * pass over the batch, and the only hand-off is the rule pool (rt_pool.c).
 *
 * DESIGN: offsets. Every batch gets a ticket holding the highest offset per partition it
 * read. Each Kafka record produced for the batch (alert, event or dead letter) carries the
 * ticket as its opaque and counts as pending until its delivery report; a failed delivery is
 * produced again after a back-off, so the ticket stays pending across an outage. Tickets are
 * completed strictly in order: only when the oldest ticket has nothing pending are its
 * offsets stored, and librdkafka's auto-commit commits stored offsets only. A crash or stop
 * therefore never commits an offset whose alerts the broker has not acknowledged.
 *
 * Back-pressure: the producer's queue is bounded; when it is full the thread polls the
 * producer (delivery reports) until there is room, so a slow or unreachable sink stops the
 * thread from consuming instead of growing memory. Deliveries never time out
 * (message.timeout.ms=0), so an outage only pauses.
 *
 * Thread: each struct rt_thread is touched only by its own thread (librdkafka callbacks
 * run inside its polls), except the stop flag and the stats, read by main for the summary.
 */
#include "rt.h"

#include <ck_pr.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "codec.h"
#include "codec_paths.h"
#include "dag.h"
#include "kafka.h"
#include "ktable.h"
#include "file_input.h"
#include "state.h"
#include "log.h"
#include "rt_pool.h"

#define VG_RT_BATCH 8000
#define VG_RT_FLUSH_MS 3000 /* on stop: how long to wait for the broker's acknowledgements */
#define VG_SPLIT_NAMES_MAX 8 /* key fields read without a decode (vg_json_top_strings) */

struct ticket {
    struct ticket *next;
    int pending;
    bool sealed;
    bool failed;
    rd_kafka_topic_partition_list_t *pos;
};

struct retry {
    struct retry *next;
    rd_kafka_topic_t *rkt;
    int32_t partition;
    void *key;
    size_t key_len;
    void *value;
    size_t len;
    rd_kafka_headers_t *hdrs;
    struct ticket *t;
};

struct rt_output {
    enum vg_output_kind kind;
    const char *target;
    FILE *fp;
    pthread_mutex_t mu;
};

struct rt_topo;

/* A Redis connection's health as the log tells it: one line when it goes, one when it is
 * back, and the back-off in between (250 ms doubling to 5 s). */
struct store_health {
    bool failing;
    int backoff_ms;
};

struct rt_thread {
    struct rt_topo *tp;
    int index;
    pthread_t tid;
    rd_kafka_t *consumer;
    rd_kafka_queue_t *cq;           /* the consumer's queue */
    rd_kafka_t *producer;
    rd_kafka_topic_t **out_rkt;     /* per output (Kafka ones) */
    rd_kafka_topic_t **dlq_rkt;     /* per source (NULL: none) */
    struct vg_dag dag;              /* the topology's operators for this thread */
    vg_time_ns batch_ns;            /* when the last batch ran */
    vg_time_ns marks_ns;            /* when writer watermarks were last sent (exchanges) */
    vg_time_ns caught_ns;           /* when caught-up partitions were last checked */
    /* operator state in Redis (windows): see checkpoint() */
    struct vg_state *state;
    struct part_pos { int source; int32_t partition; int64_t next; } *pos;
    size_t n_pos, cap_pos;
    vg_time_ns ckpt_ns;             /* last checkpoint attempt */
    uint64_t saved_epoch;           /* connection epoch of the last good checkpoint */
    struct store_health state_health; /* th->state's connection */
    struct vg_state *lookup;        /* tables (join with `table: redis`): its own connection */
    bool close_abandoned;           /* destroy without a close: the group did not let go in
                                     * time (consumer_close), or a replay (no group) */
    int in_group;                   /* assigned (an empty assignment counts); atomic */
    struct store_health lookup_health;
    struct vg_op_ctx ctx;
    rd_kafka_message_t **msgs;
    struct ticket *head, *tail, *cur;
    struct retry *retries;
    vg_time_ns retry_at_ns;
    int retry_backoff_ms;
    bool delivery_failing;
    int rc;                         /* first fatal error */
    struct vg_rt_stats stats;
    vg_time_ns budget_log_ns;
    uint64_t budget_logged;
    uint64_t dlq_logged;
    int64_t max_over_ms;
    /* replay: the partitions this thread reads and the end offset of each */
    struct rp_part {
        int source;
        int32_t partition;
        int64_t end;
        bool done;
        rd_kafka_queue_t *q; /* from Kafka: its own queue, read apart (poll_replay) */
        size_t pub;          /* local_x: its slot in rt_topo.pub */
    } *rp;
    size_t n_rp, rp_left, rp_last;
    struct rp_behind { vg_time_ms ts; size_t i; } *rp_order; /* poll_replay's, n_rp + 1 */
    /* replay --input: archived records instead of a consumer (every thread reads them all and
     * keeps its share: of the keys, or of the partitions when the files are kcat envelopes),
     * one "partition" 0 per source, or the envelopes' own; a batch's records are copied into
     * fbuf unless the input keeps them in place until the next poll */
    struct rp_file {
        int source;
        struct vg_file_input *fi;
        int64_t next;
        bool done;
        bool held;              /* envelopes: VG_RP_HOLD holds its event time back */
        bool topic_said;        /* an envelope's other topic was logged */
        size_t pub;             /* local_x: its source's slot in rt_topo.pub */
    } *files;
    size_t n_files, file_cur;
    int file_split_n, file_split_k; /* threads reading the archives, and which this one is */
    int file_by;                /* they split by: -1 not known yet, 0 key, 1 partition */
    struct frec {
        int source;
        size_t off, len;        /* in fbuf, */
        const char *topic;      /* the source's topic (envelopes) or the file's path */
        int64_t index;          /* the source's record number */
        const char *kept;       /* or here, in place (vg_file_input_next) */
        int32_t partition;      /* an envelope's (else 0, and offset = index) */
        int64_t offset;
        vg_time_ms ts;          /* an envelope's Kafka timestamp, or INT64_MIN */
        size_t why;             /* a bad envelope line: why, at fbuf + why; else SIZE_MAX */
    } *frecs;
    struct vg_buf fbuf;
    /* partitions that reached their end in the batch polled last (done once it ran) */
    struct rp_end { int source; int32_t partition; } *ends;
    size_t n_ends, cap_ends;
    /* replay with exchanges inside the process: records written for a repartition topic by
     * any thread for the keys this thread owns (xbox, locked), read by it after each batch
     * (local_exchanges) */
    struct xbox {
        pthread_mutex_t mu;
        struct xrec { int x; char *v; size_t len; vg_time_ms append_ms; } *v;
        size_t n, cap;
    } xbox;
    int64_t x_offset;
    vg_time_ns pace_wall0;          /* --speed: wall clock and event time of the first event */
    vg_time_ms pace_ts0;
    int finished;                   /* replay: read, closed and flushed (atomic) */
};

struct rt_topo {
    struct vg_rt *rt;
    struct vg_compiled *c;
    int32_t *x_parts;               /* per exchange: partitions of its repartition topic */
    struct rt_output *outs;
    struct rt_thread *threads;
    int n_threads;
    pthread_barrier_t closing;      /* every thread commits before any leaves the group */
    bool barrier_ready;
    char group[300];
    const struct vg_replay *replay; /* NULL: a live run */
    uint64_t to_read;               /* replay: records between the start and end offsets */
    int *split_slots;               /* replay of archives split by key over the threads */
    size_t n_split;
    /* and the fields' names, when all sources are JSON and each is a top-level field (a
     * record's owner can then often be told without decoding it); else n_split_names 0 */
    const char *split_names[VG_SPLIT_NAMES_MAX];
    size_t split_name_lens[VG_SPLIT_NAMES_MAX], n_split_names;
    int read_all;                   /* replay: threads done reading (atomic) */
    bool local_x;                   /* replay with exchanges: repartitioned records stay in
                                     * memory, handed to the thread owning their key */
    /* local_x: every source partition read, the watermark its reader published (atomic),
     * INT64_MAX once it is read to its end */
    struct pub_wm { int source; int64_t wm; } *pub;
    size_t n_pub;
    int x_threads;                  /* local_x: the threads keys go to (1 when an exchange
                                     * feeds another: its records would not be covered) */
    struct rt_ktable { const struct vg_table_conf *conf; struct vg_ktable *kt; } *ktables;
    size_t n_ktables;               /* table: kafka nodes, held in memory */
};

struct vg_rt {
    struct rt_topo *topos;
    size_t n;
    struct vg_rt_pool *pool;
    int stop;
};

/* ---- tickets and offsets ---- */

static struct ticket *ticket_new(void)
{
    struct ticket *t = vg_xcalloc(1, sizeof(*t));
    t->pos = rd_kafka_topic_partition_list_new(8);
    return t;
}

static void ticket_free(struct ticket *t)
{
    if (!t)
        return;
    rd_kafka_topic_partition_list_destroy(t->pos);
    vg_free(t);
}

/* The index in t->pos of (topic, partition), added when missing. */
static int ticket_slot(struct ticket *t, const char *topic, int32_t partition)
{
    rd_kafka_topic_partition_t *p = rd_kafka_topic_partition_list_find(t->pos, topic, partition);
    if (!p)
        p = rd_kafka_topic_partition_list_add(t->pos, topic, partition);
    return (int)(p - t->pos->elems);
}

static void ticket_note(struct ticket *t, int slot, int64_t offset)
{
    rd_kafka_topic_partition_t *p = &t->pos->elems[slot];
    if (offset + 1 > p->offset)
        p->offset = offset + 1; /* the committed offset is the next one to read */
}

/* Store the offsets of every completed ticket at the head, in order. */
static void advance(struct rt_thread *th)
{
    while (th->head && th->head->sealed && th->head->pending == 0 && !th->head->failed) {
        struct ticket *t = th->head;
        if (t->pos->cnt > 0 && !th->tp->replay) { /* replay: nothing to commit */
            rd_kafka_resp_err_t e = rd_kafka_offsets_store(th->consumer, t->pos);
            if (e && e != RD_KAFKA_RESP_ERR__STATE)
                vg_log(VG_LOG_WARN, "%s: storing offsets: %s", th->tp->c->topo->name,
                       rd_kafka_err2str(e));
        }
        th->head = t->next;
        if (!th->head)
            th->tail = NULL;
        ticket_free(t);
    }
}

/* ---- producing ---- */

/* The opaque of control records: not tracked by tickets, not retried (the next one says more). */
static struct ticket control_tag;

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    struct rt_thread *th = opaque;
    struct ticket *t = m->_private;
    if (t == &control_tag)
        return;
    if (!m->err) {
        if (t)
            t->pending--;
        th->stats.last_ns = vg_mono_ns();
        if (th->delivery_failing) {
            th->delivery_failing = false;
            vg_log(VG_LOG_INFO, "%s: deliveries succeed again", th->tp->c->topo->name);
        }
        return;
    }
    if (!th->delivery_failing) {
        th->delivery_failing = true;
        vg_log(VG_LOG_WARN, "%s: delivery to '%s' failed (%s); retrying with back-off",
               th->tp->c->topo->name, rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
    }
    struct retry *r = vg_xcalloc(1, sizeof(*r));
    r->rkt = m->rkt;
    r->partition = RD_KAFKA_PARTITION_UA;
    if (m->key_len) {
        r->key = vg_xmalloc(m->key_len);
        memcpy(r->key, m->key, m->key_len);
        r->key_len = m->key_len;
    }
    r->value = vg_xmalloc(m->len);
    memcpy(r->value, m->payload, m->len);
    r->len = m->len;
    rd_kafka_headers_t *h = NULL;
    if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR && h)
        r->hdrs = rd_kafka_headers_copy(h);
    r->t = t;
    r->next = th->retries;
    th->retries = r;
    if (!th->retry_backoff_ms)
        th->retry_backoff_ms = 500;
    th->retry_at_ns = vg_mono_ns() + (vg_time_ns)th->retry_backoff_ms * 1000000;
}

static bool stopping(const struct rt_thread *th)
{
    return ck_pr_load_int(&th->tp->rt->stop) != 0;
}

/* Produce one record, waiting for room in the producer queue. Takes ownership of hdrs.
 * Returns 0, or VG_EAGAIN when asked to stop while the queue stayed full. */
static int produce(struct rt_thread *th, rd_kafka_topic_t *rkt, const void *key, size_t key_len,
                   const void *value, size_t len, rd_kafka_headers_t *hdrs, struct ticket *t)
{
    for (;;) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            th->producer, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_KEY((void *)key, key_len), RD_KAFKA_V_VALUE((void *)value, len),
            RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(t), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (t)
                t->pending++;
            return 0;
        }
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            vg_log(VG_LOG_ERROR, "%s: cannot produce to '%s': %s", th->tp->c->topo->name,
                   rd_kafka_topic_name(rkt), rd_kafka_err2str(e));
            if (hdrs)
                rd_kafka_headers_destroy(hdrs);
            return VG_EKAFKA;
        }
        /* back-pressure: serve delivery reports until there is room */
        rd_kafka_poll(th->producer, 50);
        if (stopping(th)) {
            if (hdrs)
                rd_kafka_headers_destroy(hdrs);
            return VG_EAGAIN;
        }
    }
}

static void run_retries(struct rt_thread *th)
{
    if (!th->retries || vg_mono_ns() < th->retry_at_ns)
        return;
    struct retry *list = th->retries;
    th->retries = NULL;
    th->retry_backoff_ms = VG_MIN(th->retry_backoff_ms * 2, 10000);
    while (list) {
        struct retry *r = list;
        list = r->next;
        if (r->t)
            r->t->pending--; /* produce counts it again */
        if (produce(th, r->rkt, r->key, r->key_len, r->value, r->len, r->hdrs, r->t) != 0 &&
            r->t) {
            r->t->failed = true; /* never commit past it; a restart redoes the batch */
        }
        vg_free(r->key);
        vg_free(r->value);
        vg_free(r);
    }
}

/* ---- operator context callbacks ---- */

/* The store `what` (state, table) failed: logged on the change only. True on the change. */
static bool store_down(const struct rt_thread *th, struct store_health *h, const char *what,
                       const char *why)
{
    h->backoff_ms = h->backoff_ms ? VG_MIN(h->backoff_ms * 2, 5000) : 250;
    if (h->failing)
        return false;
    h->failing = true;
    vg_log(VG_LOG_WARN, "%s: thread %d: %s store unavailable (%s); intake paused, retrying "
           "with back-off", th->tp->c->topo->name, th->index, what, why);
    return true;
}

/* The store `what` answered: logged on the change only. True on the change. */
static bool store_up(const struct rt_thread *th, struct store_health *h, const char *what)
{
    h->backoff_ms = 0;
    if (!h->failing)
        return false;
    h->failing = false;
    vg_log(VG_LOG_INFO, "%s: thread %d: %s store reachable again; intake resumed",
           th->tp->c->topo->name, th->index, what);
    return true;
}

static int ctx_lookup(struct vg_op_ctx *ctx, const struct vg_table_conf *t,
                      const char *const *keys, const size_t *klens, size_t n,
                      void (*row)(void *ud, size_t i, const char *field, size_t flen,
                                  const char *val, size_t vlen),
                      void *ud)
{
    struct rt_thread *th = ctx->rt;
    for (size_t i = 0; t->kafka && i < th->tp->n_ktables; i++)
        if (th->tp->ktables[i].conf == t) {
            vg_ktable_lookup(th->tp->ktables[i].kt, keys, klens, n, row, ud);
            return 0;
        }
    for (;;) {
        struct vg_err err = {0};
        int rc = vg_state_connected(th->lookup) ? 0 : vg_state_connect(th->lookup, &err);
        if (rc == 0)
            rc = vg_state_hgetall(th->lookup, keys, klens, n, row, ud, &err);
        if (rc == 0 || vg_state_connected(th->lookup)) { /* an error reply is not an outage */
            if (rc)
                vg_log(VG_LOG_WARN, "%s: thread %d: table lookup: %s", th->tp->c->topo->name,
                       th->index, err.msg);
            store_up(th, &th->lookup_health, "table");
            return 0;
        }
        store_down(th, &th->lookup_health, "table", err.msg);
        for (int waited = 0; waited < th->lookup_health.backoff_ms && !stopping(th); waited += 50)
            usleep(50 * 1000);
        if (stopping(th))
            return VG_EREDIS;
    }
}

/* The exchange writing to output out, or -1. */
static int exchange_of_output(const struct vg_compiled *c, int out)
{
    for (size_t x = 0; x < c->n_exchanges; x++)
        if (c->exchanges[x].output_id == out)
            return (int)x;
    return -1;
}

/* ---- replay: exchanges in memory ----
 * A record written for a repartition topic goes to the thread that owns its key (the same
 * hash of the record key as archives split by key use), into that thread's box; readers of
 * source partitions publish each partition's watermark after the records of the batch that
 * moved it are in the boxes. A thread reads the published watermarks first and its box
 * second, so the box holds every record those watermarks cover: windows close on that event
 * time and never find an event of theirs still to come (vg_dag_local_exchanges). */

static void xbox_push(struct rt_topo *tp, const void *key, size_t key_len, int x,
                      const void *value, size_t len, vg_time_ms append_ms)
{
    uint64_t h = vg_hash_mem(key, key_len);
    struct xbox *b = &tp->threads[((unsigned __int128)h * (uint64_t)tp->x_threads) >> 64].xbox;
    char *v = vg_xmalloc(len + 1);
    memcpy(v, value, len);
    pthread_mutex_lock(&b->mu);
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 1024;
        b->v = vg_xrealloc(b->v, b->cap * sizeof(*b->v));
    }
    b->v[b->n++] = (struct xrec){x, v, len, append_ms};
    pthread_mutex_unlock(&b->mu);
}

/* Publish the watermark of each partition this thread reads (after its records are boxed). */
static void local_publish(struct rt_thread *th)
{
    for (size_t i = 0; i < th->n_files; i++) { /* archives: a source over the partitions its
                                                  * envelopes name (file_note) */
        const struct rp_file *f = &th->files[i];
        int64_t wm = f->done ? INT64_MAX
                             : vg_wm_current_of(&th->dag.wm, 1ULL << f->source, vg_mono_ns());
        ck_pr_store_64((uint64_t *)&th->tp->pub[f->pub].wm, (uint64_t)wm);
    }
    for (size_t i = 0; !th->files && i < th->n_rp; i++) {
        const struct rp_part *p = &th->rp[i];
        int64_t wm = p->done ? INT64_MAX
                             : vg_wm_partition(&th->dag.wm, (uint16_t)p->source, p->partition);
        ck_pr_store_64((uint64_t *)&th->tp->pub[p->pub].wm, (uint64_t)wm);
    }
}

/* The event time of the sources in mask over every thread: the least published watermark. */
static vg_time_ms local_watermark(void *ud, uint64_t mask)
{
    const struct rt_topo *tp = ud;
    int64_t wm = INT64_MAX;
    for (size_t i = 0; i < tp->n_pub; i++)
        if (tp->pub[i].source < 64 && ((mask >> tp->pub[i].source) & 1))
            wm = VG_MIN(wm, (int64_t)ck_pr_load_64((uint64_t *)&tp->pub[i].wm));
    return wm == INT64_MAX ? VG_TIME_NONE : wm; /* all read: the final flush closes */
}

/* Read this thread's box: its records go through the nodes fed by exchanges as those topics'
 * records (one partition each), with event time as published before the box was taken; at
 * least one run, so event time moves on with the sources even when nothing was written. */
static int local_exchanges(struct rt_thread *th)
{
    int rc = 0;
    local_publish(th);
    for (bool first = true; rc == 0; first = false) {
        vg_dag_local_snapshot(&th->dag);
        pthread_mutex_lock(&th->xbox.mu);
        struct xrec *list = th->xbox.v;
        size_t n = th->xbox.n;
        th->xbox.v = NULL;
        th->xbox.n = th->xbox.cap = 0;
        pthread_mutex_unlock(&th->xbox.mu);
        if (!first && n == 0)
            break;
        vg_dag_begin(&th->dag);
        for (size_t i = 0; i < n; i++) {
            const struct vg_compiled_exchange *x = &th->tp->c->exchanges[list[i].x];
            vg_dag_add(&th->dag, x->source_id, x->topic, 0, th->x_offset++, list[i].v,
                       list[i].len, list[i].append_ms);
        }
        rc = vg_dag_run(&th->dag);
        for (size_t i = 0; i < n; i++)
            vg_free(list[i].v);
        vg_free(list);
    }
    return rc;
}

static int ctx_write(struct vg_op_ctx *ctx, int out, const void *key, size_t key_len,
                     const void *value, size_t len, const struct vg_event *ev)
{
    struct rt_thread *th = ctx->rt;
    struct rt_output *o = &th->tp->outs[out];
    if (th->tp->local_x) {
        int x = exchange_of_output(th->tp->c, out);
        if (x >= 0) {
            xbox_push(th->tp, key, key_len, x, value, len, ev->append_ms);
            return 0;
        }
    }
    th->stats.written++;
    if (ev->alert) {
        th->stats.alerts++;
        int64_t lat_ms = vg_now_ms() - ev->append_ms;
        if (lat_ms < 0)
            lat_ms = 0;
        vg_hist_record(&th->stats.latency_us, (uint64_t)lat_ms * 1000);
        int64_t budget = th->tp->c->topo->latency_budget_ms;
        if (budget > 0 && lat_ms > budget) {
            th->stats.over_budget++;
            if (lat_ms > th->max_over_ms)
                th->max_over_ms = lat_ms;
        }
    }
    if (o->kind == VG_OUT_KAFKA)
        return produce(th, th->out_rkt[out], key, key_len, value, len, NULL, th->cur);
    pthread_mutex_lock(&o->mu);
    fwrite(value, 1, len, o->fp);
    fputc('\n', o->fp);
    pthread_mutex_unlock(&o->mu);
    return 0;
}

/* Replay of archives split over the threads: the thread that keeps this record, when its
 * key can be read without decoding it, else -1 (every thread decodes it). */
static int record_owner(struct rt_thread *th, const char *data, size_t len)
{
    static const int idx[VG_SPLIT_NAMES_MAX] = {0, 1, 2, 3, 4, 5, 6, 7};
    const struct rt_topo *tp = th->tp;
    struct vg_value vals[VG_SPLIT_NAMES_MAX];
    if (!tp->n_split_names || vg_json_top_strings(data, len, tp->split_names,
                                                   tp->split_name_lens, tp->n_split_names,
                                                   vals) != 0)
        return -1;
    return vg_dag_split_owner(&th->dag, vals, idx);
}

static void ctx_dead_letter(struct vg_op_ctx *ctx, const struct vg_event *ev, const char *reason)
{
    struct rt_thread *th = ctx->rt;
    const struct vg_compiled *c = th->tp->c;
    if (th->dag.in_source && th->dag.split_n > 1) { /* a record every thread may read */
        int owner = record_owner(th, ev->payload, ev->len); /* it alone was given it */
        if ((owner >= 0 ? owner : (int)(ev->offset % th->dag.split_n)) != th->dag.split_k)
            return; /* else all decoded it: one of them counts it */
    }
    th->stats.dead_letters++;
    if (th->dlq_logged < 5 || (th->dlq_logged & (th->dlq_logged - 1)) == 0)
        vg_log(VG_LOG_WARN, "%s: dead letter #%llu from %s[%d]@%lld: %s", c->topo->name,
               (unsigned long long)th->stats.dead_letters, ev->topic, ev->partition,
               (long long)ev->offset, reason);
    th->dlq_logged++;
    rd_kafka_topic_t *rkt = th->dlq_rkt[ev->source];
    if (!rkt)
        return;
    rd_kafka_headers_t *h = rd_kafka_headers_new(6);
    char num[32];
    rd_kafka_header_add(h, "vigil.reason", -1, reason, -1);
    rd_kafka_header_add(h, "vigil.topology", -1, c->topo->name, -1);
    rd_kafka_header_add(h, "vigil.node", -1, c->sources[ev->source].node->name, -1);
    rd_kafka_header_add(h, "vigil.source.topic", -1, ev->topic, -1);
    snprintf(num, sizeof(num), "%d", ev->partition);
    rd_kafka_header_add(h, "vigil.source.partition", -1, num, -1);
    snprintf(num, sizeof(num), "%lld", (long long)ev->offset);
    rd_kafka_header_add(h, "vigil.source.offset", -1, num, -1);
    produce(th, rkt, NULL, 0, ev->payload, ev->len, h, th->cur);
}

static void ctx_parallel(struct vg_op_ctx *ctx, void (*fn)(void *arg, size_t i), void *arg,
                         size_t n)
{
    struct rt_thread *th = ctx->rt;
    vg_rt_pool_run(th->tp->rt->pool, fn, arg, n);
}

/* ---- consumer ---- */

/* Wait until everything produced so far is acknowledged (or timeout), store offsets. */
static void drain(struct rt_thread *th, int timeout_ms)
{
    vg_time_ns deadline = vg_mono_ns() + (vg_time_ns)timeout_ms * 1000000;
    while (th->producer && (th->head || th->retries) && vg_mono_ns() < deadline) {
        rd_kafka_poll(th->producer, 20);
        if (th->retries) {
            th->retry_at_ns = 0; /* on drain, retry at once */
            run_retries(th);
        }
        advance(th);
        if (th->head && th->head->failed)
            break;
    }
    advance(th);
}

/* Is topic read by one of the sources in mask (bit per source id)? */
static bool topic_in(const struct vg_compiled *c, uint64_t mask, const char *topic)
{
    for (size_t s = 0; s < c->n_sources && s < 64; s++)
        if (((mask >> s) & 1) && !strcmp(c->sources[s].topic, topic))
            return true;
    return false;
}

/* The exchange whose repartition topic this is, or -1. */
static int exchange_of_topic(const struct vg_compiled *c, const char *topic)
{
    for (size_t x = 0; x < c->n_exchanges; x++)
        if (!strcmp(c->exchanges[x].topic, topic))
            return (int)x;
    return -1;
}

/* Repartition partitions without stored state or committed offset start at the beginning
 * (whatever auto.offset.reset says for the sources): everything in them was written for us. */
static void exchange_start(struct rt_thread *th, rd_kafka_topic_partition_list_t *parts)
{
    const struct vg_compiled *c = th->tp->c;
    rd_kafka_topic_partition_list_t *ask = rd_kafka_topic_partition_list_new(parts->cnt + 1);
    for (int i = 0; i < parts->cnt; i++)
        if (exchange_of_topic(c, parts->elems[i].topic) >= 0 &&
            parts->elems[i].offset == RD_KAFKA_OFFSET_INVALID)
            rd_kafka_topic_partition_list_add(ask, parts->elems[i].topic,
                                              parts->elems[i].partition);
    if (ask->cnt > 0 && rd_kafka_committed(th->consumer, ask, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR)
        for (int i = 0; i < ask->cnt; i++) {
            rd_kafka_topic_partition_t *tp = rd_kafka_topic_partition_list_find(
                parts, ask->elems[i].topic, ask->elems[i].partition);
            tp->offset = ask->elems[i].offset >= 0 ? ask->elems[i].offset
                                                   : RD_KAFKA_OFFSET_BEGINNING;
        }
    rd_kafka_topic_partition_list_destroy(ask);
}

static void state_assign(struct rt_thread *th, rd_kafka_topic_partition_list_t *parts);
static void state_revoke(struct rt_thread *th, const rd_kafka_topic_partition_list_t *parts);

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t e,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    struct rt_thread *th = opaque;
    bool cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    if (e == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        ck_pr_store_int(&th->in_group, 1);
        vg_log(VG_LOG_INFO, "%s: thread %d assigned %d partitions", th->tp->c->topo->name,
               th->index, parts->cnt);
        const struct vg_compiled *c = th->tp->c;
        for (int i = 0; i < parts->cnt; i++)
            for (size_t s = 0; s < c->n_sources; s++)
                if (!strcmp(c->sources[s].topic, parts->elems[i].topic))
                    vg_wm_assign(&th->dag.wm, (uint16_t)s, parts->elems[i].partition,
                                 vg_mono_ns());
        if (th->state)
            state_assign(th, parts);
        if (c->n_exchanges && c->sources[0].start_latest)
            exchange_start(th, parts);
        if (cooperative)
            rd_kafka_error_destroy(rd_kafka_incremental_assign(rk, parts));
        else
            rd_kafka_assign(rk, parts);
        return;
    }
    /* revoked: finish what was produced for these partitions and commit it first */
    drain(th, 10000);
    if (th->state)
        state_revoke(th, parts);
    rd_kafka_commit(rk, NULL, 0);
    if (cooperative) {
        rd_kafka_error_destroy(rd_kafka_incremental_unassign(rk, parts));
    } else {
        rd_kafka_assign(rk, NULL);
        ck_pr_store_int(&th->in_group, 0); /* until the rebalance assigns again */
    }
}

static int source_of(const struct rt_thread *th, rd_kafka_topic_t *rkt)
{
    const char *name = rd_kafka_topic_name(rkt);
    const struct vg_compiled *c = th->tp->c;
    for (size_t i = 0; i < c->n_sources; i++)
        if (strcmp(c->sources[i].topic, name) == 0)
            return (int)i;
    return -1;
}

/* ---- replay ---- */

static struct rp_part *replay_part(struct rt_thread *th, int source, int32_t partition)
{
    if (th->rp_last < th->n_rp && th->rp[th->rp_last].source == source &&
        th->rp[th->rp_last].partition == partition)
        return &th->rp[th->rp_last]; /* records come in runs from one partition */
    for (size_t i = 0; i < th->n_rp; i++)
        if (th->rp[i].source == source && th->rp[i].partition == partition) {
            th->rp_last = i;
            return &th->rp[i];
        }
    return NULL;
}

/* A partition read up to its end: stop fetching it; it no longer holds event time back. */
static void replay_done(struct rt_thread *th, int source, int32_t partition)
{
    struct rp_part *p = source >= 0 ? replay_part(th, source, partition) : NULL;
    if (!p || p->done)
        return;
    p->done = true;
    th->rp_left--;
    const char *topic = th->tp->c->sources[source].topic;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, partition);
    if (th->tp->threads[0].consumer) /* a replay's one consumer */
        rd_kafka_pause_partitions(th->tp->threads[0].consumer, l);
    rd_kafka_topic_partition_list_destroy(l);
    vg_wm_forget(&th->dag.wm, (uint16_t)source, partition);
}

/* --speed: hold the thread until wall clock catches up with the event time read. */
static void replay_pace(struct rt_thread *th)
{
    double speed = th->tp->replay->speed;
    vg_time_ms ts = th->dag.max_ts;
    if (speed <= 0 || ts == INT64_MIN)
        return;
    if (!th->pace_wall0) {
        th->pace_wall0 = vg_mono_ns();
        th->pace_ts0 = ts;
        return;
    }
    vg_time_ns due = th->pace_wall0 + (vg_time_ns)((double)(ts - th->pace_ts0) * 1e6 / speed);
    while (!stopping(th) && vg_mono_ns() < due) {
        vg_time_ns left = due - vg_mono_ns();
        struct timespec t = {0, left > 100000000 ? 100000000 : (long)left};
        if (left > 0)
            nanosleep(&t, NULL);
    }
}

/* A partition reached its end (its last record before the end offset, its partition EOF,
 * the end of its files): done once the batch in hand has run. */
static void note_end(struct rt_thread *th, int source, int32_t partition)
{
    if (th->n_ends == th->cap_ends) {
        th->cap_ends = th->cap_ends ? 2 * th->cap_ends : 16;
        th->ends = vg_xrealloc(th->ends, th->cap_ends * sizeof(*th->ends));
    }
    th->ends[th->n_ends++] = (struct rp_end){source, partition};
}

/* Replay from Kafka: one consumer (thread 0's) fetches every partition; each partition's
 * records wait in a queue of their own, read by the thread the partition is given to (one
 * consumer instead of one per thread: 6-10% less CPU, with half the fetch requests and
 * fetch threads), and a batch takes VG_RP_CHUNK of them at a time from the partitions
 * furthest behind in event time first.
 * Taken in the order they were fetched, the records of one partition came a whole fetch at a
 * time (with 900-record batches on the broker, a quarter of an hour of event time), and the
 * partitions ran so far apart in event time that windows waited for the slowest with every
 * pane of every key held: 2M events took 3.4 s and 700 MB instead of 1.9 s and 350 MB. */
#define VG_RP_CHUNK 256
/* How many records a batch takes: a paced replay (--speed) waits between small batches. */
static size_t batch_max(const struct rt_thread *th)
{
    return th->tp->replay && th->tp->replay->speed > 0 ? 20 : VG_RT_BATCH;
}

/* A replay reads nothing while its state store fails (--keep-state): it has no partitions
 * of its own to pause (set_paused); true after a 100 ms wait. */
static bool replay_held(const struct rt_thread *th)
{
    if (!th->state_health.failing)
        return false;
    struct timespec t = {0, 100 * 1000000};
    nanosleep(&t, NULL);
    return true;
}

static size_t poll_replay(struct rt_thread *th)
{
    if (replay_held(th))
        return 0;
    size_t max = batch_max(th);
    ssize_t got = th->cq ? rd_kafka_consume_batch_queue(th->cq, 0, th->msgs, max) : 0; /* errors */
    size_t n = got > 0 ? (size_t)got : 0;
    struct rp_behind *order = th->rp_order;
    size_t n_order = 0;
    for (size_t i = 0; i < th->n_rp; i++)
        if (!th->rp[i].done && th->rp[i].q)
            order[n_order++] = (struct rp_behind){
                vg_wm_get(&th->dag.wm, (uint16_t)th->rp[i].source, th->rp[i].partition)->max_ts, i};
    for (size_t a = 1; a < n_order; a++) /* insertion sort: nearly sorted from the last batch */
        for (size_t b = a; b > 0 && order[b].ts < order[b - 1].ts; b--) {
            struct rp_behind t = order[b];
            order[b] = order[b - 1];
            order[b - 1] = t;
        }
    for (size_t k = 0; k < n_order && n < max; k++) {
        got = rd_kafka_consume_batch_queue(th->rp[order[k].i].q, 0, th->msgs + n,
                                           VG_MIN(max - n, VG_RP_CHUNK));
        n += got > 0 ? (size_t)got : 0;
    }
    if (n == 0 && n_order > 0) { /* nothing fetched yet: wait a little for the one behind */
        got = rd_kafka_consume_batch_queue(th->rp[order[0].i].q, 10, th->msgs,
                                           VG_MIN(max, VG_RP_CHUNK));
        n += got > 0 ? (size_t)got : 0;
    }
    return n;
}

static void rp_queues_release(struct rt_thread *th)
{
    for (size_t i = 0; i < th->n_rp; i++)
        if (th->rp[i].q) {
            rd_kafka_queue_destroy(th->rp[i].q);
            th->rp[i].q = NULL;
        }
}

/* The consumer read a partition to its end, past every record it delivered: each source of
 * that topic may now count it idle after its idle_timeout (wm.h). */
static void caught_up(struct rt_thread *th, rd_kafka_topic_t *rkt, int32_t partition,
                      int64_t end_offset)
{
    const char *name = rd_kafka_topic_name(rkt);
    const struct vg_compiled *c = th->tp->c;
    for (size_t s = 0; s < c->n_sources; s++)
        if (strcmp(c->sources[s].topic, name) == 0)
            vg_wm_caught_up(&th->dag.wm, (uint16_t)s, partition, end_offset, vg_mono_ns());
}

/* Every 200 ms: a caught-up partition whose end has moved on since (the consumer fetched
 * records the thread has not read yet; its high watermark is cached from fetch responses,
 * no request) is not caught up: silence of a partition with unread records is not idleness. */
static void check_caught_up(struct rt_thread *th)
{
    vg_time_ns now = vg_mono_ns();
    if (!th->consumer || th->tp->replay || now - th->caught_ns < 200 * 1000000LL)
        return;
    th->caught_ns = now;
    const struct vg_compiled *c = th->tp->c;
    for (size_t i = 0; i < th->dag.wm.n; i++) {
        struct vg_wm_part *p = &th->dag.wm.parts[i];
        int64_t lo, hi;
        if (!p->caught_up || p->fixed ||
            rd_kafka_get_watermark_offsets(th->consumer, c->sources[p->source].topic,
                                           p->partition, &lo, &hi) != RD_KAFKA_RESP_ERR_NO_ERROR)
            continue;
        if (hi > p->end_offset)
            vg_wm_behind(p, now);
    }
}

/* Poll up to VG_RT_BATCH records: a live run waits up to 100 ms for the first, then takes
 * what is there; a replay reads its partitions apart (poll_replay). */
static size_t poll_batch(struct rt_thread *th)
{
    size_t n = 0, got;
    if (th->tp->replay) {
        got = poll_replay(th);
    } else {
        /* the first record (waiting up to 100 ms), then what is there in one call: the
         * queue's lock is taken once for the lot, not once per record */
        rd_kafka_message_t *first = rd_kafka_consumer_poll(th->consumer, 100);
        if (!first)
            return 0;
        th->msgs[0] = first;
        ssize_t more = rd_kafka_consume_batch_queue(th->cq, 0, th->msgs + 1, VG_RT_BATCH - 1);
        got = 1 + (more > 0 ? (size_t)more : 0);
    }
    for (size_t i = 0; i < got; i++) {
        rd_kafka_message_t *m = th->msgs[i];
        if (m->err) {
            if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF && th->tp->replay)
                note_end(th, source_of(th, m->rkt), m->partition); /* past control records */
            else if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
                caught_up(th, m->rkt, m->partition, m->offset);
            else
                vg_log(VG_LOG_WARN, "%s: consumer: %s", th->tp->c->topo->name,
                       rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            continue;
        }
        th->msgs[n++] = m;
    }
    return n;
}

/* Replay --input: the partition number that stands for the envelope files of a source not
 * read to their end. Assigned (with no event) when the first envelope is read, it holds the
 * source's event time back until every file of the source is read, so partitions that come
 * later in the file (kcat writes them one after the other) or in a later file never find
 * their windows closed; Kafka partitions are never negative. */
#define VG_RP_HOLD (-1)

/* Replay --input: the (source, partition) of an envelope as one of the thread's replay
 * partitions, done with the source's last file (a partition's records may come in several
 * runs, and in several files). */
static void file_part(struct rt_thread *th, int source, int32_t partition)
{
    if (replay_part(th, source, partition))
        return;
    th->rp = vg_xrealloc(th->rp, (th->n_rp + 1) * sizeof(*th->rp));
    th->rp[th->n_rp++] = (struct rp_part){source, partition, INT64_MAX, false, NULL, SIZE_MAX};
    th->rp_left++;
}

/* Replay --input: what a record read from f says of the partitions and the split; false when
 * the threads that split the archives get envelopes and plain lines both (logged; the replay
 * stops: the two split the keys differently). */
static bool file_note(struct rt_thread *th, struct rp_file *f, const struct vg_file_rec *rec)
{
    const struct vg_compiled *c = th->tp->c;
    if (th->file_split_n > 1 && th->file_by != rec->envelope) {
        if (th->file_by < 0) {
            th->file_by = rec->envelope;
            if (rec->envelope) /* by partition, as a replay from Kafka: no key split */
                th->dag.split_n = 1, th->dag.split_k = 0;
        } else {
            if (th->file_split_k == 0)
                vg_log(VG_LOG_ERROR, "%s: replay input: %s holds %s, but the files read before "
                       "it %s: with %d stream threads the archives must be all kcat envelopes "
                       "(split by partition) or all plain lines (split by key)", c->topo->name,
                       rec->path, rec->envelope ? "kcat envelopes" : "plain lines",
                       rec->envelope ? "did not" : "were envelopes", th->file_split_n);
            return false;
        }
    }
    if (!rec->envelope || rec->bad)
        return true;
    if (!f->held) {
        file_part(th, f->source, VG_RP_HOLD);
        vg_wm_assign(&th->dag.wm, (uint16_t)f->source, VG_RP_HOLD, vg_mono_ns());
        f->held = true;
    }
    file_part(th, f->source, rec->partition);
    const char *topic = c->sources[f->source].topic;
    if (rec->topic && !f->topic_said &&
        (rec->topic_len != strlen(topic) || memcmp(rec->topic, topic, rec->topic_len) != 0)) {
        f->topic_said = true;
        if (th->file_split_k == 0)
            vg_log(VG_LOG_WARN, "%s: replay input %s: records of topic '%.*s' read as source "
                   "'%s', whose topic is '%s' (alerts name '%s')", c->topo->name, rec->path,
                   (int)rec->topic_len, rec->topic, c->sources[f->source].node->name, topic,
                   topic);
    }
    return true;
}

/* Replay --input: up to batch_max records from the sources' files, one source after the
 * other (a batch from each in turn). A read error ends that source, logged. Nothing is read
 * while the state store fails (as a consumer's partitions are paused). */
static size_t file_poll(struct rt_thread *th)
{
    if (replay_held(th))
        return 0;
    vg_buf_clear(&th->fbuf);
    for (size_t i = 0; i < th->n_files; i++) /* the previous batch is done */
        vg_file_input_release(th->files[i].fi);
    size_t n = 0;
    for (size_t tries = 0; tries < th->n_files && n == 0; tries++) {
        struct rp_file *f = &th->files[th->file_cur];
        th->file_cur = (th->file_cur + 1) % th->n_files;
        while (!f->done && n < batch_max(th)) {
            struct vg_file_rec rec;
            struct vg_err err = {0};
            int rc = vg_file_input_next(f->fi, &rec, &err);
            if (rc <= 0) {
                if (rc < 0)
                    vg_log(VG_LOG_ERROR, "%s: replay input: %s", th->tp->c->topo->name, err.msg);
                f->done = true;
                for (size_t p = 0; p < th->n_rp; p++) /* its partitions are all read now */
                    if (th->rp[p].source == f->source && !th->rp[p].done)
                        note_end(th, f->source, th->rp[p].partition);
                break;
            }
            if (!file_note(th, f, &rec)) {
                th->rc = VG_EINVAL;
                vg_rt_stop(th->tp->rt);
                return n;
            }
            bool own = rec.envelope && !rec.bad; /* its own position, in the source's topic */
            th->frecs[n] = (struct frec){
                f->source, th->fbuf.len, rec.len,
                own ? th->tp->c->sources[f->source].topic : rec.path, f->next,
                rec.kept ? rec.data : NULL, own ? rec.partition : 0, own ? rec.offset : f->next,
                own ? rec.ts : INT64_MIN, SIZE_MAX};
            f->next++;
            if (!rec.kept && rec.len)
                vg_buf_append(&th->fbuf, rec.data, rec.len);
            if (rec.bad) {
                th->frecs[n].why = th->fbuf.len;
                vg_buf_append(&th->fbuf, rec.bad, strlen(rec.bad) + 1);
            }
            n++;
        }
    }
    return n;
}

/* ---- operator state (Redis) ----
 * Every second (and before partitions are revoked, and at shutdown) a stream thread with
 * stateful operators waits until everything it produced is acknowledged, then writes what its
 * operators changed and, per partition, the next source offset and event time that state
 * covers, each partition in one MULTI/EXEC. On assignment it loads a partition's state and
 * resumes from the offset stored with it, so a crash at any instant neither loses an event
 * nor counts one twice. When Redis is unreachable, intake pauses and the write is retried
 * with back-off; after a reconnection everything is written again (Redis may have restarted
 * empty). */

#define VG_CKPT_MS 1000
#define VG_OFFSETS_TTL_MS (7LL * 24 * 3600 * 1000)

/* The index in th->pos of (source, partition), added when missing. */
static size_t pos_slot(struct rt_thread *th, int source, int32_t partition)
{
    for (size_t i = 0; i < th->n_pos; i++)
        if (th->pos[i].source == source && th->pos[i].partition == partition)
            return i;
    if (th->n_pos == th->cap_pos) {
        th->cap_pos = th->cap_pos ? 2 * th->cap_pos : 16;
        th->pos = vg_xrealloc(th->pos, th->cap_pos * sizeof(*th->pos));
    }
    th->pos[th->n_pos] = (struct part_pos){source, partition, 0};
    return th->n_pos++;
}

static void note_pos(struct rt_thread *th, int source, int32_t partition, int64_t next)
{
    size_t i = pos_slot(th, source, partition); /* before th->pos is read: it may move */
    th->pos[i].next = next;
}

struct state_ctx {
    struct rt_thread *th;
    const char *node;
};

static void state_put(struct vg_state_out *o, int32_t partition, const char *bucket,
                      const char *key, size_t klen, const void *val, size_t len, int64_t ttl_ms)
{
    struct state_ctx *sc = o->ud;
    vg_state_put(sc->th->state, sc->node, partition, bucket, key, klen, val, len, ttl_ms);
}

static void state_del(struct vg_state_out *o, int32_t partition, const char *bucket,
                      const char *key, size_t klen)
{
    struct state_ctx *sc = o->ud;
    vg_state_del(sc->th->state, sc->node, partition, bucket, key, klen);
}

static void set_paused(struct rt_thread *th, bool pause)
{
    rd_kafka_topic_partition_list_t *a = NULL;
    if (!th->consumer || th->tp->replay)
        return; /* a replay: poll_replay and file_poll hold back while the store fails */
    if (rd_kafka_assignment(th->consumer, &a) == RD_KAFKA_RESP_ERR_NO_ERROR && a) {
        if (pause)
            rd_kafka_pause_partitions(th->consumer, a);
        else
            rd_kafka_resume_partitions(th->consumer, a);
        rd_kafka_topic_partition_list_destroy(a);
    }
}

static void state_trouble(struct rt_thread *th, const struct vg_err *err)
{
    if (store_down(th, &th->state_health, "state", err->msg))
        set_paused(th, true);
    th->stats.last_ns = vg_mono_ns(); /* paused is not idle (vigil run --exit-idle) */
}

/* A repartition partition's writers, stored with its offsets as fields "<topic>#<writer>":
 * the highest source offset counted and the watermark each said (exchange.h). */
static void save_writers(struct rt_thread *th, const struct vg_compiled_node *cn, int xi,
                         int32_t partition)
{
    const struct vg_compiled_exchange *x = &th->tp->c->exchanges[xi];
    const struct vg_x_part *xp = vg_x_part(&th->dag.xr[xi], partition);
    for (size_t w = 0; xp && w < xp->n; w++) {
        char field[300];
        snprintf(field, sizeof(field), "%s#%u", x->topic, xp->w[w].writer);
        vg_state_offset(th->state, cn->state_name, partition, field, xp->w[w].offset,
                        xp->w[w].heard ? xp->w[w].wm : INT64_MIN, VG_OFFSETS_TTL_MS);
    }
}

/* Write the operators' changes and the offsets they cover. 0, VG_EAGAIN (deliveries still
 * pending) or VG_EREDIS. */
static int checkpoint(struct rt_thread *th, bool force)
{
    if (!th->state || (th->tp->replay && !force)) /* a replay writes its state once, at the end */
        return 0;
    vg_time_ns now = vg_mono_ns();
    int64_t wait_ms = th->state_health.failing ? th->state_health.backoff_ms : VG_CKPT_MS;
    if (!force && now - th->ckpt_ns < wait_ms * 1000000LL)
        return 0;
    th->ckpt_ns = now;
    drain(th, 3000);
    if (th->head)
        return VG_EAGAIN;
    const struct vg_compiled *c = th->tp->c;
    struct vg_err err = {0};
    if (!vg_state_connected(th->state) && vg_state_connect(th->state, &err) != 0) {
        state_trouble(th, &err);
        return VG_EREDIS;
    }
    bool all = th->tp->replay || vg_state_epoch(th->state) != th->saved_epoch;
    for (size_t i = 0; i < c->n_nodes; i++) {
        const struct vg_compiled_node *cn = &c->nodes[i];
        if (!cn->stateful)
            continue;
        struct state_ctx sc = {th, cn->state_name};
        struct vg_state_out out = {.ud = &sc, .put = state_put, .del = state_del};
        cn->type->state_save(th->dag.st[i], &out, all);
        for (size_t p = 0; p < th->n_pos; p++) {
            int src = th->pos[p].source;
            if (src >= 64 || !((cn->fed_by >> src) & 1))
                continue;
            for (int k = 0; cn->exchange >= 0 && k < cn->n_exchanges; k++)
                if (th->tp->c->exchanges[cn->exchange + k].source_id == src)
                    save_writers(th, cn, cn->exchange + k, th->pos[p].partition);
            vg_time_ms wm = vg_wm_partition(&th->dag.wm, (uint16_t)src, th->pos[p].partition);
            vg_state_offset(th->state, cn->state_name, th->pos[p].partition,
                            c->sources[src].topic, th->pos[p].next,
                            wm == INT64_MIN ? INT64_MIN : wm + th->dag.lateness_ms[src],
                            VG_OFFSETS_TTL_MS);
        }
    }
    if (vg_state_commit(th->state, &err) != 0) {
        state_trouble(th, &err);
        return VG_EREDIS;
    }
    for (size_t i = 0; i < c->n_nodes; i++)
        if (c->nodes[i].stateful)
            c->nodes[i].type->state_saved(th->dag.st[i]);
    th->saved_epoch = vg_state_epoch(th->state);
    if (vg_mono_ns() - now > 100 * 1000000LL)
        th->stats.last_ns = vg_mono_ns(); /* a long write is work, not idleness */
    if (store_up(th, &th->state_health, "state"))
        set_paused(th, false);
    return 0;
}

struct load_ctx {
    struct rt_thread *th;
    const struct vg_compiled_node *cn;
    size_t node;
    int32_t partition;
    rd_kafka_topic_partition_list_t *parts;
};

static int load_entry(void *ud, const char *key, size_t klen, const char *val, size_t len)
{
    struct load_ctx *lc = ud;
    int rc = lc->cn->type->state_load(lc->th->dag.st[lc->node], lc->partition, key, klen, val,
                                      len);
    if (rc != 0)
        vg_log(VG_LOG_WARN, "%s: node '%s': partition %d: unreadable state entry '%.*s' "
               "skipped", lc->th->tp->c->topo->name, lc->cn->node->name, (int)lc->partition,
               (int)klen, key);
    return 0;
}

static void load_offset(void *ud, const char *topic, int64_t next, vg_time_ms max_ts)
{
    struct load_ctx *lc = ud;
    const struct vg_compiled *c = lc->th->tp->c;
    const char *hash = strchr(topic, '#');
    if (hash) { /* a repartition partition's writer (save_writers): "<topic>#<writer>" */
        for (int k = 0; lc->cn->exchange >= 0 && k < lc->cn->n_exchanges; k++) {
            int xi = lc->cn->exchange + k;
            const char *xt = c->exchanges[xi].topic;
            if (strlen(xt) == (size_t)(hash - topic) && !strncmp(xt, topic, (size_t)(hash - topic)))
                vg_x_restore(&lc->th->dag.xr[xi], lc->partition,
                             (uint32_t)strtoul(hash + 1, NULL, 10), next, max_ts);
        }
        return;
    }
    for (int i = 0; i < lc->parts->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &lc->parts->elems[i];
        if (tp->partition != lc->partition || strcmp(tp->topic, topic) != 0)
            continue;
        /* several stateful nodes: resume from the oldest offset any of them covers, with the
         * event time stored with that offset (their writes are separate transactions: after
         * a crash between two, a later node's event time would make the records read again
         * late) */
        bool first = tp->offset < 0, older = first || next < tp->offset;
        if (!older && next != tp->offset)
            continue;
        tp->offset = next;
        for (size_t s = 0; s < c->n_sources; s++)
            if (!strcmp(c->sources[s].topic, topic) && max_ts != INT64_MIN) {
                struct vg_wm_part *wp = vg_wm_get(&lc->th->dag.wm, (uint16_t)s, lc->partition);
                if (older || max_ts < wp->max_ts)
                    wp->max_ts = max_ts;
                note_pos(lc->th, (int)s, lc->partition, next);
            }
    }
}

/* Load the state of newly assigned partitions and point the consumer at the offsets stored
 * with it. Retries while Redis is unreachable (intake cannot start without the state). */
static void state_assign(struct rt_thread *th, rd_kafka_topic_partition_list_t *parts)
{
    const struct vg_compiled *c = th->tp->c;
    for (int i = 0; i < parts->cnt; i++)
        parts->elems[i].offset = RD_KAFKA_OFFSET_INVALID; /* the committed offset */
    for (int i = 0; i < parts->cnt; i++) {
        int32_t partition = parts->elems[i].partition;
        for (size_t n = 0; n < c->n_nodes; n++) {
            const struct vg_compiled_node *cn = &c->nodes[n];
            if (!cn->stateful || !topic_in(c, cn->fed_by, parts->elems[i].topic))
                continue;
            bool seen = false; /* co-partitioned topics: one state per partition number */
            for (int j = 0; j < i; j++)
                seen |= parts->elems[j].partition == partition &&
                        topic_in(c, cn->fed_by, parts->elems[j].topic);
            if (seen)
                continue;
            struct load_ctx lc = {th, cn, n, partition, parts};
            for (;;) {
                struct vg_err err = {0};
                int rc = vg_state_connected(th->state) ? 0 : vg_state_connect(th->state, &err);
                if (rc == 0)
                    rc = vg_state_load(th->state, cn->state_name, partition, load_entry,
                                       load_offset, &lc, &err);
                if (rc == 0)
                    break;
                state_trouble(th, &err); /* logged once; the next checkpoint resumes */
                if (stopping(th))
                    return;
                struct timespec ts = {0, 500 * 1000000};
                nanosleep(&ts, NULL);
            }
        }
    }
}

static void state_revoke(struct rt_thread *th, const rd_kafka_topic_partition_list_t *parts)
{
    const struct vg_compiled *c = th->tp->c;
    for (int attempt = 0; attempt < 20 && checkpoint(th, true) == VG_EAGAIN; attempt++)
        ;
    for (int i = 0; i < parts->cnt; i++) {
        int32_t partition = parts->elems[i].partition;
        for (size_t n = 0; n < c->n_nodes; n++)
            if (c->nodes[n].stateful &&
                topic_in(c, c->nodes[n].fed_by, parts->elems[i].topic))
                c->nodes[n].type->state_drop(th->dag.st[n], partition);
        int x = exchange_of_topic(c, parts->elems[i].topic);
        if (x >= 0)
            vg_x_forget(&th->dag.xr[x], partition);
        for (size_t s = 0; s < c->n_sources; s++)
            if (!strcmp(c->sources[s].topic, parts->elems[i].topic))
                vg_wm_forget(&th->dag.wm, (uint16_t)s, partition);
        for (size_t p = 0; p < th->n_pos;)
            if (th->pos[p].partition == partition &&
                !strcmp(c->sources[th->pos[p].source].topic, parts->elems[i].topic))
                th->pos[p] = th->pos[--th->n_pos];
            else
                p++;
    }
}

static int process_batch(struct rt_thread *th, size_t n)
{
    const struct vg_compiled *c = th->tp->c;
    vg_dag_begin(&th->dag);
    struct ticket *t = ticket_new();
    th->cur = t;
    th->ctx.now_ms = vg_now_ms();
    th->batch_ns = vg_mono_ns();
    for (size_t i = 0; th->files && i < n; i++) {
        const struct frec *r = &th->frecs[i];
        const char *data = r->kept ? r->kept : r->len ? th->fbuf.data + r->off : "";
        if (r->why != SIZE_MAX) { /* a bad envelope line: a dead letter, counted by one thread */
            struct vg_event ev = {.topic = r->topic, .offset = r->index, .payload = data,
                                  .len = (uint32_t)r->len, .source = (uint16_t)r->source};
            if (r->index % th->file_split_n == th->file_split_k)
                th->ctx.dead_letter(&th->ctx, &ev, th->fbuf.data + r->why);
            continue;
        }
        int owner = th->file_by > 0          ? (int)(r->partition % th->file_split_n)
                    : th->dag.split_n > 1 ? record_owner(th, data, r->len)
                                          : -1;
        if (owner < 0 || owner == th->file_split_k) /* another thread's: not decoded here */
            vg_dag_add(&th->dag, r->source, r->topic, r->partition, r->offset, data, r->len,
                       r->ts >= 0 ? r->ts : th->ctx.now_ms);
    }
    /* a batch comes in runs of one partition: its source and ticket slot are looked up (by
     * name, over every partition of the ticket) once a run */
    rd_kafka_topic_t *run_rkt = NULL;
    int32_t run_partition = -1;
    int run_src = -1, run_slot = -1;
    size_t run_pos = SIZE_MAX;
    for (size_t i = 0; !th->files && i < n; i++) {
        rd_kafka_message_t *m = th->msgs[i];
        const char *topic = rd_kafka_topic_name(m->rkt);
        if (m->rkt != run_rkt || m->partition != run_partition) {
            run_rkt = m->rkt;
            run_partition = m->partition;
            run_src = source_of(th, m->rkt);
            run_slot = ticket_slot(t, topic, m->partition);
            run_pos = SIZE_MAX;
        }
        ticket_note(t, run_slot, m->offset);
        int src = run_src;
        if (src < 0)
            continue;
        if (th->tp->replay) { /* replay: up to the end captured at start */
            struct rp_part *p = replay_part(th, src, m->partition);
            if (!p || p->done || m->offset >= p->end)
                continue;
            if (m->offset + 1 >= p->end)
                note_end(th, src, m->partition);
        }
        if (th->state) {
            if (run_pos == SIZE_MAX)
                run_pos = pos_slot(th, src, m->partition);
            th->pos[run_pos].next = m->offset + 1;
        }
        rd_kafka_timestamp_type_t tst;
        vg_time_ms append_ms = rd_kafka_message_timestamp(m, &tst);
        vg_dag_add(&th->dag, src, topic, m->partition, m->offset, m->payload, m->len,
                   append_ms < 0 ? th->ctx.now_ms : append_ms);
    }
    if (th->files && th->file_split_n > 1) { /* every thread reads every record: a share */
        for (size_t i = 0; i < n; i++)
            th->stats.records += th->frecs[i].index % th->file_split_n == th->file_split_k;
    } else {
        th->stats.records += n;
    }
    if (!th->stats.first_ns && n)
        th->stats.first_ns = vg_mono_ns();
    uint64_t events_before = th->dag.events;
    int rc = vg_dag_run(&th->dag);
    if (rc == 0 && th->tp->local_x)
        rc = local_exchanges(th);
    th->stats.events += th->dag.events - events_before;
    if (th->tp->replay) {
        for (size_t i = 0; i < th->n_ends; i++)
            replay_done(th, th->ends[i].source, th->ends[i].partition);
        th->n_ends = 0;
        replay_pace(th);
    }
    for (size_t i = 0; !th->files && i < n; i++)
        rd_kafka_message_destroy(th->msgs[i]);
    for (size_t o = 0; o < c->n_outputs; o++)
        if (th->tp->outs[o].fp) {
            pthread_mutex_lock(&th->tp->outs[o].mu);
            fflush(th->tp->outs[o].fp);
            pthread_mutex_unlock(&th->tp->outs[o].mu);
        }
    if (n)
        th->stats.last_ns = vg_mono_ns();
    t->sealed = true;
    t->failed = rc != 0;
    if (th->tail)
        th->tail->next = t;
    else
        th->head = t;
    th->tail = t;
    th->cur = NULL;
    return rc;
}

static void log_budget(struct rt_thread *th)
{
    if (th->tp->replay)
        return; /* the budget is for live alerts: a replayed event's age is not latency */
    vg_time_ns now = vg_mono_ns();
    if (now - th->budget_log_ns < 10LL * 1000000000)
        return;
    th->budget_log_ns = now;
    if (th->stats.over_budget > th->budget_logged) {
        vg_log(VG_LOG_WARN, "%s: %llu alerts exceeded the latency budget of %lld ms (max %lld ms)",
               th->tp->c->topo->name,
               (unsigned long long)(th->stats.over_budget - th->budget_logged),
               (long long)th->tp->c->topo->latency_budget_ms, (long long)th->max_over_ms);
        th->budget_logged = th->stats.over_budget;
        th->max_over_ms = 0;
    }
}

/* ---- keyed exchange (exchange.h) ---- */

/* Every 200 ms, tell every partition of each repartition topic the watermark of each
 * upstream partition this thread reads. Produced after the data of the batches before it, on
 * the same producer, so a reader sees a watermark only after the events it covers. */
static void send_marks(struct rt_thread *th)
{
    const struct vg_compiled *c = th->tp->c;
    vg_time_ns now = vg_mono_ns();
    if (!c->n_exchanges || th->tp->local_x || now - th->marks_ns < 200 * 1000000LL)
        return;
    th->marks_ns = now;
    struct vg_x_mark *marks = vg_xcalloc(th->dag.wm.n + 1, sizeof(*marks));
    struct vg_buf b;
    vg_buf_init(&b);
    for (size_t x = 0; x < c->n_exchanges; x++) {
        size_t n = vg_dag_marks(&th->dag, x, marks, th->dag.wm.n, now);
        if (n == 0)
            continue;
        vg_buf_clear(&b);
        vg_x_encode_control(&b, marks, n, vg_now_ms());
        rd_kafka_topic_t *rkt = th->out_rkt[c->exchanges[x].output_id];
        for (int32_t p = 0; p < th->tp->x_parts[x]; p++) {
            rd_kafka_resp_err_t e = rd_kafka_producev(
                th->producer, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_PARTITION(p),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_VALUE(b.data, b.len),
                RD_KAFKA_V_OPAQUE(&control_tag), RD_KAFKA_V_END);
            if (e && e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                vg_log(VG_LOG_WARN, "%s: watermarks to '%s' [%d]: %s", c->topo->name,
                       c->exchanges[x].topic, (int)p, rd_kafka_err2str(e));
        }
    }
    vg_buf_fini(&b);
    vg_free(marks);
}

/* The partition count of topic, waiting up to 30 s for the broker to know it; 0: unknown. */
static int32_t wait_partitions(rd_kafka_t *rk, const char *topic)
{
    int32_t n = 0;
    for (int attempt = 0; attempt < 30 && (n = vg_kafka_partitions(rk, topic, 5000)) == 0;
         attempt++)
        sleep(1);
    return n;
}

/* Before the threads start: how many upstream partitions write into each repartition topic,
 * and how many partitions it has (created when missing). */
static int exchange_setup(struct rt_topo *tp, struct vg_err *err)
{
    const struct vg_compiled *c = tp->c;
    if (!c->n_exchanges)
        return 0;
    rd_kafka_t *rk = tp->threads[0].producer;
    tp->x_parts = vg_xcalloc(c->n_exchanges, sizeof(*tp->x_parts));
    for (size_t x = 0; x < c->n_exchanges; x++) {
        const struct vg_compiled_exchange *xc = &c->exchanges[x];
        /* a join's two topics are sized alike: its keys meet by partition number */
        uint64_t sized = xc->upstream;
        const struct vg_compiled_node *jn = &c->nodes[xc->node->index]; /* the reader */
        if (jn->n_exchanges == 2)
            sized = c->exchanges[jn->exchange].upstream | c->exchanges[jn->exchange + 1].upstream;
        else
            jn = NULL;
        size_t writers = 0;
        int32_t most = 0;
        for (size_t s = 0; s < c->n_sources && s < 64; s++) {
            if (!((sized >> s) & 1))
                continue;
            int32_t n = wait_partitions(rk, c->sources[s].topic);
            if (n == 0)
                return VG_ERR_SET(err, VG_EKAFKA, "source topic '%s': no partitions found",
                                  c->sources[s].topic);
            if ((xc->upstream >> s) & 1)
                writers += (size_t)n;
            most = VG_MAX(most, n);
        }
        int32_t have = vg_kafka_partitions(rk, xc->topic, 5000);
        if (have == 0) {
            struct vg_err cerr = {0};
            if (vg_kafka_create_topic(rk, xc->topic, most, 10000, &cerr) != 0)
                vg_log(VG_LOG_INFO, "repartition topic '%s': not created with %d partitions "
                       "(%s); the broker's automatic creation decides", xc->topic, (int)most,
                       cerr.msg);
            else
                vg_log(VG_LOG_INFO, "repartition topic '%s': %d partitions", xc->topic, (int)most);
            have = wait_partitions(rk, xc->topic);
        }
        if (have == 0)
            return VG_ERR_SET(err, VG_EKAFKA, "repartition topic '%s': not found and not created",
                              xc->topic);
        tp->x_parts[x] = have;
        if (jn && x == (size_t)jn->exchange + 1 && have != tp->x_parts[x - 1])
            return VG_ERR_SET(err, VG_EKAFKA, "repartition topics '%s' (%d partitions) and '%s' "
                              "(%d) of join '%s' must have as many partitions",
                              c->exchanges[x - 1].topic, (int)tp->x_parts[x - 1], xc->topic,
                              (int)have, jn->node->name);
        for (int k = 0; k < tp->n_threads; k++)
            tp->threads[k].dag.xr[x].n_writers = writers;
        vg_log(VG_LOG_INFO, "%s: node '%s' reads '%s' (%d partitions, %zu upstream partitions "
               "writing)", c->topo->name, xc->node->name, xc->topic, (int)have, writers);
    }
    return 0;
}

/* Before the threads start: a stream-stream join that reads its sources as they are (both
 * keyed by the join key) pairs them by partition number, so they must have as many. */
static int copartition_check(struct rt_topo *tp, struct vg_err *err)
{
    const struct vg_compiled *c = tp->c;
    rd_kafka_t *rk = tp->threads[0].consumer;
    for (size_t n = 0; rk && n < c->n_nodes; n++) {
        const struct vg_compiled_node *cn = &c->nodes[n];
        if (!(cn->type->flags & VG_OP_JOIN) || !cn->keyed || cn->exchange >= 0)
            continue;
        const char *first = NULL;
        int32_t first_n = 0;
        for (size_t s = 0; s < c->n_sources && s < 64; s++) {
            if (!((cn->fed_by >> s) & 1))
                continue;
            int32_t p = wait_partitions(rk, c->sources[s].topic);
            if (!first) {
                first = c->sources[s].topic;
                first_n = p;
            } else if (p != first_n) {
                return VG_ERR_SET(err, VG_EKAFKA,
                                  "join '%s': topics '%s' (%d partitions) and '%s' (%d) must have "
                                  "as many partitions: their keys meet by partition number (or "
                                  "drop partitioned_by to join through repartition topics)",
                                  cn->node->name, first, (int)first_n, c->sources[s].topic,
                                  (int)p);
            }
        }
    }
    return 0;
}

/* Before the threads start: every `table: kafka` read into memory up to its end. */
static int ktables_start(struct rt_topo *tp, struct vg_err *err)
{
    const struct vg_compiled *c = tp->c;
    for (size_t i = 0; i < c->n_nodes; i++) {
        const struct vg_table_conf *t = c->nodes[i].conf;
        if (!(c->nodes[i].type->flags & VG_OP_TABLE) || !t || !t->kafka)
            continue;
        struct vg_ktable *kt = vg_ktable_start(c->topo, t, 60000, err);
        if (!kt)
            return VG_EKAFKA;
        tp->ktables = vg_xrealloc(tp->ktables, (tp->n_ktables + 1) * sizeof(*tp->ktables));
        tp->ktables[tp->n_ktables++] = (struct rt_ktable){t, kt};
    }
    return 0;
}

/* Replay, this thread's partitions all read: once every thread is there, close every window
 * that the event time read allows (the largest over all threads, or --to), the same for any
 * parallelism. */
static void replay_close(struct rt_thread *th)
{
    struct rt_topo *tp = th->tp;
    ck_pr_inc_int(&tp->read_all);
    while (!stopping(th) && ck_pr_load_int(&tp->read_all) < tp->n_threads) {
        if (th->producer)
            rd_kafka_poll(th->producer, 0);
        advance(th);
        if (tp->local_x && local_exchanges(th) != 0) /* what the others still send here */
            th->rc = VG_EINVAL;
        struct timespec t = {0, 10 * 1000000};
        nanosleep(&t, NULL);
    }
    if (stopping(th))
        return;
    vg_time_ms close_at = INT64_MIN;
    for (int k = 0; k < tp->n_threads; k++) /* written before each thread counted itself */
        close_at = VG_MAX(close_at,
                         (vg_time_ms)ck_pr_load_64((uint64_t *)&tp->threads[k].dag.max_ts));
    if (close_at == INT64_MIN || !th->dag.keyed)
        return;
    /* every thread has read everything: what they sent here is all in the box; it goes in
     * before the final flush closes the windows */
    if (tp->local_x && local_exchanges(th) != 0)
        th->rc = VG_EINVAL;
    th->dag.close_at = VG_MIN(close_at, tp->replay->to);
    if (process_batch(th, 0) != 0)
        th->rc = VG_EINVAL;
}

/* Leave the group, but not wait on it for long: a close during a rebalance waits for the
 * rebalance, which on a slow group takes a session timeout or more. What was acknowledged is
 * committed already; after VG_RT_CLOSE_MS the consumer is dropped without the goodbye and the
 * group notices by the session timeout. */
#define VG_RT_CLOSE_MS 3000
static void consumer_close(struct rt_thread *th)
{
    rd_kafka_queue_t *q = rd_kafka_queue_new(th->consumer);
    rd_kafka_error_t *e = rd_kafka_consumer_close_queue(th->consumer, q);
    if (e) {
        vg_log(VG_LOG_WARN, "%s: thread %d: consumer close: %s", th->tp->c->topo->name,
               th->index, rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        th->close_abandoned = true;
    } else {
        vg_time_ns deadline = vg_mono_ns() + (vg_time_ns)VG_RT_CLOSE_MS * 1000000;
        /* served as events: the queue may also hold fetched records and errors, which a
         * callback-only poll does not take (librdkafka asserts on them) */
        while (!rd_kafka_consumer_closed(th->consumer) && vg_mono_ns() < deadline) {
            rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 100);
            if (ev && rd_kafka_event_type(ev) == RD_KAFKA_EVENT_REBALANCE)
                rebalance_cb(th->consumer, rd_kafka_event_error(ev),
                             rd_kafka_event_topic_partition_list(ev), th);
            if (ev)
                rd_kafka_event_destroy(ev);
        }
        th->close_abandoned = !rd_kafka_consumer_closed(th->consumer);
        if (th->close_abandoned)
            vg_log(VG_LOG_WARN, "%s: thread %d: the group did not let go within %d ms (a "
                   "rebalance in progress); leaving without it", th->tp->c->topo->name,
                   th->index, VG_RT_CLOSE_MS);
    }
    rd_kafka_queue_destroy(q);
}

static void *thread_main(void *arg)
{
    struct rt_thread *th = arg;
    const struct vg_compiled *c = th->tp->c;
    /* the threads' checkpoints take turns: Redis serves one connection at a time, and two
     * threads waiting on it together leave a core idle */
    th->ckpt_ns = vg_mono_ns() - (vg_time_ns)th->index * VG_CKPT_MS * 1000000LL /
                                     th->tp->n_threads;
    while (!stopping(th) && !(th->tp->replay && th->rp_left == 0)) {
        if (th->producer) {
            rd_kafka_poll(th->producer, 0);
            run_retries(th);
        }
        advance(th);
        log_budget(th);
        if (th->state_health.failing || th->delivery_failing)
            vg_wm_busy(&th->dag.wm, vg_mono_ns()); /* paused: not idle, whatever it read */
        check_caught_up(th);
        send_marks(th);
        checkpoint(th, false);
        size_t n = th->files ? file_poll(th) : poll_batch(th);
        /* with windows, an empty batch now and then lets event time move on idle partitions */
        if (n == 0 && !th->n_ends &&
            (!th->dag.keyed || vg_mono_ns() - th->batch_ns < 200 * 1000000LL))
            continue;
        int rc = process_batch(th, n);
        if (rc != 0 && rc != VG_EAGAIN) {
            vg_log(VG_LOG_ERROR, "%s: thread %d stops: batch failed (%d)", c->topo->name,
                   th->index, rc);
            th->rc = rc;
            break;
        }
    }
    if (th->rc)
        vg_rt_stop(th->tp->rt); /* one failed thread stops the process, cleanly */
    if (th->tp->replay && !stopping(th))
        replay_close(th);
    drain(th, VG_RT_FLUSH_MS);
    if (th->state && !th->state_health.failing && checkpoint(th, true) != 0)
        vg_log(VG_LOG_WARN, "%s: thread %d: final state write failed; the state stored last "
               "and its offsets stay in force", c->topo->name, th->index);
    if (th->head)
        vg_log(VG_LOG_WARN,
               "%s: thread %d stops with unacknowledged records; their source offsets stay "
               "uncommitted and will be read again",
               c->topo->name, th->index);
    /* Commit what was acknowledged while the group is still stable: a thread that left
     * first would start a rebalance, and the others' commits would then be refused. */
    rd_kafka_resp_err_t e = th->tp->replay ? RD_KAFKA_RESP_ERR_NO_ERROR
                                   : rd_kafka_commit(th->consumer, NULL, 0);
    if (e && e != RD_KAFKA_RESP_ERR__NO_OFFSET)
        vg_log(VG_LOG_WARN, "%s: thread %d: final commit: %s", c->topo->name, th->index,
               rd_kafka_err2str(e));
    pthread_barrier_wait(&th->tp->closing);
    if (th->consumer && th->tp->replay)
        th->close_abandoned = true; /* outside any group: nothing to say goodbye to */
    else if (th->consumer)
        consumer_close(th);
    ck_pr_store_int(&th->finished, 1);
    return NULL;
}

/* ---- set-up and tear-down ---- */

static int thread_open(struct rt_topo *tp, struct rt_thread *th, int index, struct vg_err *err)
{
    const struct vg_compiled *c = tp->c;
    char errstr[512];
    th->tp = tp;
    th->index = index;
    vg_hist_init(&th->stats.latency_us);
    /* archives: no consumer at all; a replay from Kafka: thread 0's alone (poll_replay) */
    bool no_consumer = tp->replay && (tp->replay->n_inputs > 0 || index > 0);
    rd_kafka_conf_t *cc =
        no_consumer ? NULL : vg_kafka_conf(c->topo, VG_KAFKA_CONSUMER, tp->group, err);
    if (!no_consumer && !cc)
        return VG_EKAFKA;
    char client_id[320];
    snprintf(client_id, sizeof(client_id), "%s-%d", tp->group, index);
    if (cc) {
        rd_kafka_conf_set(cc, "client.id", client_id, errstr, sizeof(errstr));
        bool latest = c->n_sources > 0 && c->sources[0].start_latest && !tp->replay;
        if (latest)
            rd_kafka_conf_set(cc, "auto.offset.reset", "latest", errstr, sizeof(errstr));
        /* the end of a partition is how a thread knows it is caught up (wm.h: idleness) */
        rd_kafka_conf_set(cc, "enable.partition.eof", "true", errstr, sizeof(errstr));
        if (tp->replay) { /* assigned partitions, outside the group: nothing is committed */
            rd_kafka_conf_set(cc, "enable.auto.commit", "false", errstr, sizeof(errstr));
            rd_kafka_conf_set(cc, "enable.auto.offset.store", "false", errstr, sizeof(errstr));
        }
        rd_kafka_conf_set_rebalance_cb(cc, rebalance_cb);
        rd_kafka_conf_set_opaque(cc, th);
        th->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, cc, errstr, sizeof(errstr));
        if (!th->consumer) {
            rd_kafka_conf_destroy(cc);
            return VG_ERR_SET(err, VG_EKAFKA, "kafka consumer: %s", errstr);
        }
        rd_kafka_poll_set_consumer(th->consumer);
        th->cq = rd_kafka_queue_get_consumer(th->consumer);
    }
    bool need_producer = false;
    for (size_t o = 0; o < c->n_outputs; o++)
        need_producer |= c->outputs[o].kind == VG_OUT_KAFKA;
    for (size_t s = 0; s < c->n_sources; s++)
        need_producer |= c->sources[s].dead_letter != NULL;
    th->out_rkt = vg_xcalloc(c->n_outputs + 1, sizeof(*th->out_rkt));
    th->dlq_rkt = vg_xcalloc(c->n_sources + 1, sizeof(*th->dlq_rkt));
    if (need_producer) {
        rd_kafka_conf_t *pc = vg_kafka_conf(c->topo, VG_KAFKA_PRODUCER, NULL, err);
        if (!pc)
            return VG_EKAFKA;
        rd_kafka_conf_set(pc, "client.id", client_id, errstr, sizeof(errstr));
        rd_kafka_conf_set_dr_msg_cb(pc, dr_cb);
        rd_kafka_conf_set_opaque(pc, th);
        th->producer = rd_kafka_new(RD_KAFKA_PRODUCER, pc, errstr, sizeof(errstr));
        if (!th->producer) {
            rd_kafka_conf_destroy(pc);
            return VG_ERR_SET(err, VG_EKAFKA, "kafka producer: %s", errstr);
        }
        for (size_t o = 0; o < c->n_outputs; o++)
            if (c->outputs[o].kind == VG_OUT_KAFKA)
                th->out_rkt[o] = rd_kafka_topic_new(th->producer, c->outputs[o].target, NULL);
        for (size_t s = 0; s < c->n_sources; s++)
            if (c->sources[s].dead_letter)
                th->dlq_rkt[s] = rd_kafka_topic_new(th->producer, c->sources[s].dead_letter, NULL);
    }
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(4);
    for (size_t s = 0; s < c->n_sources; s++)
        if (!rd_kafka_topic_partition_list_find(topics, c->sources[s].topic,
                                                RD_KAFKA_PARTITION_UA))
            rd_kafka_topic_partition_list_add(topics, c->sources[s].topic,
                                              RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (th->consumer && !tp->replay)
        e = rd_kafka_subscribe(th->consumer, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (e)
        return VG_ERR_SET(err, VG_EKAFKA, "kafka subscribe: %s", rd_kafka_err2str(e));

    th->msgs = vg_xcalloc(VG_RT_BATCH, sizeof(*th->msgs));
    const char *url = c->topo->redis_url ? c->topo->redis_url : "redis://127.0.0.1:6379/0";
    bool stateful = false;
    for (size_t i = 0; i < c->n_nodes; i++)
        stateful |= c->nodes[i].stateful;
    if (stateful && (!tp->replay || tp->replay->keep_state)) {
        char ns[400];
        if (tp->replay)
            snprintf(ns, sizeof(ns), "replay.%s.%s", tp->replay->id, c->topo->name);
        if (!(th->state = vg_state_new(url, tp->replay ? ns : c->topo->name, err)))
            return VG_ECONFIG;
        struct vg_err cerr = {0};
        if (vg_state_connect(th->state, &cerr) != 0)
            vg_log(VG_LOG_WARN, "%s: thread %d: %s; will retry", c->topo->name, index, cerr.msg);
    }
    bool tables = false; /* redis ones */
    for (size_t i = 0; i < c->n_nodes; i++)
        tables |= (c->nodes[i].type->flags & VG_OP_TABLE) && c->nodes[i].conf &&
                  !((const struct vg_table_conf *)c->nodes[i].conf)->kafka;
    if (tables) {
        if (!(th->lookup = vg_state_new(url, c->topo->name, err)))
            return VG_ECONFIG;
    }
    th->ctx.lookup = ctx_lookup;
    th->ctx.expr = vg_expr_ctx_new();
    th->ctx.rt = th;
    th->ctx.dead_letter = ctx_dead_letter;
    th->ctx.write = ctx_write;
    th->ctx.parallel = ctx_parallel;
    th->ctx.n_workers = vg_rt_pool_size(tp->rt->pool);
    th->ctx.replay = tp->replay != NULL;
    int rc = vg_dag_open(&th->dag, c, &th->ctx, err);
    if (rc == 0 && tp->replay) {
        th->dag.bounded = true;
        th->dag.from = tp->replay->from;
        th->dag.to = tp->replay->to;
        for (size_t s = 0; s < c->n_sources; s++) /* read speed is not event time */
            th->dag.idle_ms[s] = VG_WM_NEVER_IDLE;
        if (tp->local_x) {
            vg_dag_local_exchanges(&th->dag);
            th->dag.local_shared = local_watermark;
            th->dag.local_ud = tp;
        }
    }
    return rc;
}

static void thread_close(struct rt_thread *th)
{
    const struct vg_compiled *c = th->tp->c;
    vg_dag_flush(&th->dag);
    vg_dag_close(&th->dag);
    while (th->head) {
        struct ticket *t = th->head;
        th->head = t->next;
        ticket_free(t);
    }
    while (th->retries) {
        struct retry *r = th->retries;
        th->retries = r->next;
        vg_free(r->key);
        vg_free(r->value);
        if (r->hdrs)
            rd_kafka_headers_destroy(r->hdrs);
        vg_free(r);
    }
    for (size_t o = 0; th->out_rkt && o < c->n_outputs; o++)
        if (th->out_rkt[o])
            rd_kafka_topic_destroy(th->out_rkt[o]);
    for (size_t s = 0; th->dlq_rkt && s < c->n_sources; s++)
        if (th->dlq_rkt[s])
            rd_kafka_topic_destroy(th->dlq_rkt[s]);
    vg_time_ns t0 = vg_mono_ns();
    if (th->producer) {
        rd_kafka_flush(th->producer, 100);
        rd_kafka_purge(th->producer, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_poll(th->producer, 0);
        rd_kafka_destroy(th->producer);
    }
    if (th->cq)
        rd_kafka_queue_destroy(th->cq);
    vg_time_ns t1 = vg_mono_ns();
    if (th->consumer)
        rd_kafka_destroy_flags(th->consumer,
                               th->close_abandoned ? RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE : 0);
    /* librdkafka's own teardown waits on requests in flight (a group's join during a
     * rebalance); said when it is what makes a stop slow */
    vg_time_ns t2 = vg_mono_ns();
    if (t2 - t0 > 1000000000LL)
        vg_log(VG_LOG_WARN, "%s: thread %d: closing the Kafka clients took %.0f ms (producer "
               "%.0f ms, consumer %.0f ms)", c->topo->name, th->index, (double)(t2 - t0) / 1e6,
               (double)(t1 - t0) / 1e6, (double)(t2 - t1) / 1e6);
    vg_expr_ctx_free(th->ctx.expr);
    vg_free(th->msgs);
    vg_state_free(th->state);
    vg_state_free(th->lookup);
    vg_free(th->pos);
    vg_free(th->out_rkt);
    vg_free(th->dlq_rkt);
    vg_free(th->rp);
    vg_free(th->rp_order);
    vg_free(th->ends);
    for (size_t i = 0; i < th->n_files; i++)
        vg_file_input_free(th->files[i].fi);
    vg_free(th->files);
    vg_free(th->frecs);
    for (size_t i = 0; i < th->xbox.n; i++)
        vg_free(th->xbox.v[i].v);
    vg_free(th->xbox.v);
    th->xbox.v = NULL;
    th->xbox.n = 0;
    pthread_mutex_destroy(&th->xbox.mu);
    vg_buf_fini(&th->fbuf);
}

/* Replay of archives: can the threads split them by key? Only when every source declares the
 * same partitioned_by fields (the keys that meet in one partition meet in one thread). */
static bool replay_split(struct rt_topo *tp)
{
    const struct vg_compiled *c = tp->c;
    if (tp->n_threads < 2)
        return false;
    for (size_t s = 0; s < c->n_sources; s++) {
        const struct vg_ynode *p = vg_ynode_get(c->sources[s].node->body, "partitioned_by");
        size_t n = vg_ylist_len(p);
        if (n == 0)
            return false;
        if (s == 0)
            tp->split_slots = vg_xcalloc(n, sizeof(*tp->split_slots));
        else if (n != tp->n_split)
            return false;
        for (size_t i = 0; i < n; i++) {
            int slot = vg_compiled_source_slot(c, vg_ylist_str(p, i));
            if (slot < 0 || (s > 0 && slot != tp->split_slots[i]))
                return false;
            if (s == 0)
                tp->split_slots[tp->n_split++] = slot;
        }
    }
    /* read without decoding: JSON sources, at most 8 fields, each one path segment */
    bool names = tp->n_split <= VG_SPLIT_NAMES_MAX;
    for (size_t s = 0; s < c->n_sources; s++)
        names &= strcmp(vg_node_str(c->sources[s].node, "format", "json"), "json") == 0;
    const struct vg_ynode *p = vg_ynode_get(c->sources[0].node->body, "partitioned_by");
    for (size_t i = 0; names && i < tp->n_split; i++) {
        struct vg_paths_seg segs[VG_PATHS_MAX_SEGS];
        const char *name = vg_ylist_str(p, i);
        names = vg_paths_split(name, segs, NULL) == 1 && segs[0].name;
        tp->split_names[i] = name;
        tp->split_name_lens[i] = strlen(name);
    }
    tp->n_split_names = names ? tp->n_split : 0;
    return true;
}

/* A new slot in tp->pub for a partition of source s (replay, local_x). */
static size_t pub_slot(struct rt_topo *tp, int s)
{
    tp->pub = vg_xrealloc(tp->pub, (tp->n_pub + 1) * sizeof(*tp->pub));
    tp->pub[tp->n_pub] = (struct pub_wm){s, INT64_MIN};
    return tp->n_pub++;
}

/* Replay: where each source partition starts (--from-offset; else, for a source on Kafka
 * timestamps, the first record at --from - lateness; else the beginning) and ends (the end
 * offset now); partition p goes to thread p % threads, so co-partitioned topics meet. */
static int replay_setup(struct rt_topo *tp, struct vg_err *err)
{
    const struct vg_compiled *c = tp->c;
    const struct vg_replay *r = tp->replay;
    if (r->n_inputs) {
        /* archives: when every source declares partitioned_by, every thread reads them all and
         * keeps its share of the keys (as partitions would split them), or of the partitions
         * of kcat envelopes (file_note); else, or when a file can be read only once (a pipe,
         * standard input), or when records are handed to the threads by key anyway
         * (local_x), thread 0 alone */
        bool again = true;
        for (size_t i = 0; i < r->n_inputs; i++)
            for (size_t k = 0; k < r->inputs[i].n_paths; k++)
                again &= vg_file_input_rereadable(r->inputs[i].paths[k]);
        int readers = !tp->local_x && again && replay_split(tp) ? tp->n_threads : 1;
        for (int k = 0; k < readers; k++) {
            struct rt_thread *th = &tp->threads[k];
            th->files = vg_xcalloc(r->n_inputs, sizeof(*th->files));
            th->frecs = vg_xcalloc(VG_RT_BATCH, sizeof(*th->frecs));
            vg_buf_init(&th->fbuf);
            th->file_split_n = readers;
            th->file_split_k = k;
            th->file_by = -1;
            if (readers > 1) {
                th->dag.split_slots = tp->split_slots;
                th->dag.n_split = tp->n_split;
                th->dag.split_n = readers;
                th->dag.split_k = k;
            }
            for (size_t i = 0; i < r->n_inputs; i++) {
                int s = r->inputs[i].source;
                if (vg_compiled_is_exchange(c, (size_t)s))
                    continue; /* kept in memory (local_x) */
                th->files[th->n_files++] = (struct rp_file){
                    s, vg_file_input_new(r->inputs[i].paths, r->inputs[i].n_paths), 0, false,
                    false, false, tp->local_x ? pub_slot(tp, s) : SIZE_MAX};
                th->rp = vg_xrealloc(th->rp, (th->n_rp + 1) * sizeof(*th->rp));
                th->rp[th->n_rp++] = (struct rp_part){s, 0, INT64_MAX, false, NULL, SIZE_MAX};
                th->rp_left++;
                vg_wm_assign(&th->dag.wm, (uint16_t)s, 0, vg_mono_ns());
            }
        }
        return 0;
    }
    rd_kafka_t *rk = tp->threads[0].consumer; /* the replay's one consumer */
    rd_kafka_topic_partition_list_t *assign = rd_kafka_topic_partition_list_new(16);
    int rc = 0;
    for (size_t s = 0; s < c->n_sources && rc == 0; s++) {
        if (vg_compiled_is_exchange(c, s))
            continue; /* kept in memory (local_x) */
        const char *topic = c->sources[s].topic;
        int32_t n = vg_kafka_partitions(rk, topic, 10000); /* a replay does not wait for it */
        if (n <= 0) {
            rc = VG_ERR_SET(err, VG_EKAFKA, "topic '%s': not found (or no broker answered)", topic);
            break;
        }
        bool by_kafka_time = vg_node_str(c->sources[s].node, "time", NULL) == NULL;
        int64_t lateness = vg_node_duration_ms(c->sources[s].node, "lateness", 0);
        for (int32_t p = 0; p < n && rc == 0; p++) {
            int64_t lo = 0, hi = 0;
            rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 10000);
            if (e) {
                rc = VG_ERR_SET(err, VG_EKAFKA, "topic '%s' partition %d: end offset: %s", topic,
                                (int)p, rd_kafka_err2str(e));
                break;
            }
            int64_t start = lo;
            bool set = false;
            for (size_t i = 0; i < r->n_offsets; i++)
                if (r->offsets[i].partition == p &&
                    (!r->offsets[i].topic || !strcmp(r->offsets[i].topic, topic))) {
                    start = VG_MAX(lo, r->offsets[i].offset);
                    set = true;
                }
            if (!set && by_kafka_time && r->from != INT64_MIN) {
                /* brokers that cannot look up times (the development broker) answer with an
                 * error: reading from the beginning is then right, only slower */
                rd_kafka_topic_partition_list_t *q = rd_kafka_topic_partition_list_new(1);
                rd_kafka_topic_partition_list_add(q, topic, p)->offset = r->from - lateness;
                if (rd_kafka_offsets_for_times(rk, q, 10000) == 0 && q->elems[0].err == 0)
                    start = q->elems[0].offset < 0 ? hi : VG_MAX(lo, q->elems[0].offset);
                rd_kafka_topic_partition_list_destroy(q);
            }
            struct rt_thread *th =
                &tp->threads[tp->local_x && tp->x_threads == 1 ? 0 : p % tp->n_threads];
            th->rp = vg_xrealloc(th->rp, (th->n_rp + 1) * sizeof(*th->rp));
            th->rp[th->n_rp++] = (struct rp_part){(int)s, p, hi, start >= hi, NULL,
                                                  tp->local_x ? pub_slot(tp, (int)s) : SIZE_MAX};
            if (start >= hi)
                continue;
            th->rp_left++;
            tp->to_read += (uint64_t)(hi - start);
            rd_kafka_topic_partition_list_add(assign, topic, p)->offset = start;
            vg_wm_assign(&th->dag.wm, (uint16_t)s, p, vg_mono_ns());
        }
    }
    /* each partition read from its own queue by its thread (poll_replay), taken out of the
     * consumer's queue before the assignment starts fetching into it */
    for (int k = 0; k < tp->n_threads; k++) {
        struct rt_thread *th = &tp->threads[k];
        th->rp_order = vg_xcalloc(th->n_rp + 1, sizeof(*th->rp_order));
        for (size_t i = 0; i < th->n_rp && rc == 0; i++)
            if (!th->rp[i].done) {
                const char *topic = c->sources[th->rp[i].source].topic;
                th->rp[i].q = rd_kafka_queue_get_partition(rk, topic, th->rp[i].partition);
                if (!th->rp[i].q) /* its records would reach no thread: the replay would hang */
                    rc = VG_ERR_SET(err, VG_EKAFKA, "topic '%s' partition %d: no queue", topic,
                                    (int)th->rp[i].partition);
                else
                    rd_kafka_queue_forward(th->rp[i].q, NULL);
            }
    }
    if (rc == 0 && assign->cnt) {
        rd_kafka_resp_err_t e = rd_kafka_assign(rk, assign);
        if (e)
            rc = VG_ERR_SET(err, VG_EKAFKA, "assign: %s", rd_kafka_err2str(e));
    }
    rd_kafka_topic_partition_list_destroy(assign);
    return rc;
}

void vg_rt_replay_progress(struct vg_rt *rt, uint64_t *to_read, bool *finished)
{
    *to_read = rt->topos[0].to_read;
    *finished = true;
    for (int k = 0; k < rt->topos[0].n_threads; k++)
        *finished &= ck_pr_load_int(&rt->topos[0].threads[k].finished) != 0;
}

/* Is an exchange fed through another one? */
static bool exchange_chained(const struct vg_compiled *c)
{
    for (size_t x = 0; x < c->n_exchanges; x++)
        for (size_t y = 0; y < c->n_exchanges; y++)
            if (c->exchanges[y].source_id < 64 &&
                ((c->exchanges[x].upstream >> c->exchanges[y].source_id) & 1))
                return true;
    return false;
}

static long n_cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? n : 1;
}

struct vg_rt *vg_rt_start(struct vg_compiled *const *topos, size_t n,
                          const struct vg_replay *replay, struct vg_err *err)
{
    struct vg_rt *rt = vg_xcalloc(1, sizeof(*rt));
    rt->n = n;
    rt->topos = vg_xcalloc(n, sizeof(*rt->topos));
    int pool_threads = 0;
    for (size_t i = 0; i < n; i++)
        pool_threads = VG_MAX(pool_threads, topos[i]->topo->rule_threads);
    rt->pool = vg_rt_pool_new(pool_threads > 0 ? (size_t)pool_threads : (size_t)n_cores());
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct rt_topo *tp = &rt->topos[i];
        tp->rt = rt;
        tp->c = topos[i];
        tp->replay = replay;
        tp->local_x = replay && tp->c->n_exchanges > 0;
        tp->x_threads = 1;
        if (replay)
            snprintf(tp->group, sizeof(tp->group), "vigil-replay.%s.%s", tp->c->topo->name,
                     replay->id);
        else
            snprintf(tp->group, sizeof(tp->group), "vigil.%s", tp->c->topo->name);
        tp->outs = vg_xcalloc(tp->c->n_outputs + 1, sizeof(*tp->outs));
        for (size_t o = 0; o < tp->c->n_outputs && rc == 0; o++) {
            struct rt_output *out = &tp->outs[o];
            out->kind = tp->c->outputs[o].kind;
            out->target = tp->c->outputs[o].target;
            pthread_mutex_init(&out->mu, NULL);
            if (out->kind == VG_OUT_STDOUT)
                out->fp = stdout;
            else if (out->kind == VG_OUT_FILE &&
                     !(out->fp = fopen(out->target, replay ? "w" : "a")))
                rc = VG_ERR_SET(err, VG_EIO, "sink file '%s': %s", out->target, strerror(errno));
        }
        int par = tp->c->topo->parallelism > 0 ? tp->c->topo->parallelism : (int)n_cores();
        tp->threads = vg_xcalloc((size_t)par, sizeof(*tp->threads));
        if (tp->local_x && !exchange_chained(tp->c))
            tp->x_threads = par;
        for (int k = 0; k < par; k++)
            pthread_mutex_init(&tp->threads[k].xbox.mu, NULL);
        for (int k = 0; k < par && rc == 0; k++) {
            rc = thread_open(tp, &tp->threads[k], k, err);
            tp->n_threads = k + 1;
        }
        if (rc == 0)
            rc = replay ? replay_setup(tp, err) : exchange_setup(tp, err);
        if (rc == 0 && !replay)
            rc = copartition_check(tp, err);
        if (rc == 0)
            rc = ktables_start(tp, err);
    }
    if (rc != 0) {
        vg_rt_free(rt);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        pthread_barrier_init(&rt->topos[i].closing, NULL, (unsigned)rt->topos[i].n_threads);
        rt->topos[i].barrier_ready = true;
    }
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < rt->topos[i].n_threads; k++)
            if (pthread_create(&rt->topos[i].threads[k].tid, NULL, thread_main,
                               &rt->topos[i].threads[k]) != 0) {
                fprintf(stderr, "vigil: cannot start stream thread\n");
                abort();
            }
    return rt;
}

void vg_rt_stop(struct vg_rt *rt)
{
    ck_pr_store_int(&rt->stop, 1);
}

bool vg_rt_stopping(struct vg_rt *rt)
{
    return ck_pr_load_int(&rt->stop) != 0;
}

int vg_rt_wait(struct vg_rt *rt)
{
    int rc = 0;
    for (size_t i = 0; i < rt->n; i++)
        for (int k = 0; k < rt->topos[i].n_threads; k++) {
            struct rt_thread *th = &rt->topos[i].threads[k];
            if (th->tid) {
                pthread_join(th->tid, NULL);
                th->tid = 0;
            }
            if (th->rc && !rc)
                rc = th->rc;
        }
    return rc;
}

void vg_rt_stats(struct vg_rt *rt, size_t i, struct vg_rt_stats *out)
{
    memset(out, 0, sizeof(*out));
    vg_hist_init(&out->latency_us);
    for (int k = 0; k < rt->topos[i].n_threads; k++) {
        const struct rt_thread *th = &rt->topos[i].threads[k];
        const struct vg_rt_stats *s = &th->stats;
        if (th->consumer && !rt->topos[i].replay && !ck_pr_load_int((int *)&th->in_group))
            out->unsettled++;
        out->records += s->records;
        out->events += s->events;
        out->alerts += s->alerts;
        out->written += s->written;
        out->dead_letters += s->dead_letters;
        out->over_budget += s->over_budget;
        if (s->first_ns && (!out->first_ns || s->first_ns < out->first_ns))
            out->first_ns = s->first_ns;
        if (s->last_ns > out->last_ns)
            out->last_ns = s->last_ns;
        vg_hist_merge(&out->latency_us, &s->latency_us);
    }
}

void vg_rt_free(struct vg_rt *rt)
{
    if (!rt)
        return;
    vg_rt_pool_free(rt->pool);
    for (size_t i = 0; i < rt->n; i++) {
        struct rt_topo *tp = &rt->topos[i];
        /* every thread's partition queues belong to thread 0's consumer: all go before it */
        for (int k = 0; k < tp->n_threads; k++)
            rp_queues_release(&tp->threads[k]);
        for (int k = 0; k < tp->n_threads; k++)
            thread_close(&tp->threads[k]);
        vg_free(tp->threads);
        for (size_t o = 0; tp->c && o < tp->c->n_outputs; o++) {
            if (tp->outs[o].kind == VG_OUT_FILE && tp->outs[o].fp)
                fclose(tp->outs[o].fp);
            else if (tp->outs[o].fp)
                fflush(tp->outs[o].fp);
            pthread_mutex_destroy(&tp->outs[o].mu);
        }
        vg_free(tp->outs);
        vg_free(tp->x_parts);
        vg_free(tp->split_slots);
        vg_free(tp->pub);
        for (size_t k = 0; k < tp->n_ktables; k++)
            vg_ktable_stop(tp->ktables[k].kt);
        vg_free(tp->ktables);
        if (tp->barrier_ready)
            pthread_barrier_destroy(&tp->closing);
    }
    vg_free(rt->topos);
    vg_free(rt);
}
