/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kafka.c - librdkafka configuration defaults and topic creation (see kafka.h).
 *
 * Thread: any; nothing here keeps state.
 */
#include "kafka.h"

#include <stdio.h>
#include <string.h>

struct prop {
    const char *name;
    const char *value;
};

static const struct prop consumer_defaults[] = {
    {"enable.auto.commit", "true"},          /* commits what the engine stored ... */
    {"enable.auto.offset.store", "false"},   /* ... which is only delivered work */
    {"auto.commit.interval.ms", "1000"},
    {"auto.offset.reset", "earliest"},
    {"fetch.wait.max.ms", "10"},
    {"queued.min.messages", "1000000"},
    {"queued.max.messages.kbytes", "262144"},
    {"max.partition.fetch.bytes", "4194304"},
    {"fetch.max.bytes", "52428800"},
    {"topic.metadata.refresh.interval.ms", "10000"},
    {"enable.partition.eof", "false"},
    {"log.connection.close", "false"},
    {"session.timeout.ms", "10000"},         /* a crashed member's partitions move in 10 s */
    {"heartbeat.interval.ms", "2000"},
};

static const struct prop producer_defaults[] = {
    {"enable.idempotence", "true"},
    {"acks", "all"},
    {"linger.ms", "5"},
    {"batch.num.messages", "10000"},
    {"queue.buffering.max.messages", "200000"},
    {"message.timeout.ms", "0"},             /* never give up: outages pause, not drop */
    {"sticky.partitioning.linger.ms", "0"},  /* unkeyed records spread, not pile up */
    {"log.connection.close", "false"},
};

static bool is_consumer_only(const char *name)
{
    static const char *const only[] = {
        "enable.auto.commit", "enable.auto.offset.store", "auto.commit.interval.ms",
        "auto.offset.reset", "fetch.wait.max.ms", "queued.min.messages",
        "queued.max.messages.kbytes", "max.partition.fetch.bytes", "fetch.max.bytes",
        "enable.partition.eof", "group.id", "session.timeout.ms", "heartbeat.interval.ms",
        "max.poll.interval.ms", "partition.assignment.strategy", "fetch.min.bytes",
        "isolation.level", "group.instance.id", "allow.auto.create.topics"};
    for (size_t i = 0; i < VG_ARRAY_LEN(only); i++)
        if (strcmp(name, only[i]) == 0)
            return true;
    return false;
}

static bool is_producer_only(const char *name)
{
    static const char *const only[] = {
        "enable.idempotence", "acks", "request.required.acks", "linger.ms",
        "queue.buffering.max.ms", "batch.num.messages", "batch.size",
        "queue.buffering.max.messages", "queue.buffering.max.kbytes", "message.timeout.ms",
        "sticky.partitioning.linger.ms", "compression.type", "compression.codec",
        "partitioner", "retries", "message.send.max.retries", "retry.backoff.ms",
        "transactional.id", "delivery.timeout.ms"};
    for (size_t i = 0; i < VG_ARRAY_LEN(only); i++)
        if (strcmp(name, only[i]) == 0)
            return true;
    return false;
}

rd_kafka_conf_t *vg_kafka_conf(const struct vg_topology *topo, enum vg_kafka_role role,
                               const char *group, struct vg_err *err)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char errstr[512];
    const struct prop *defs = role == VG_KAFKA_CONSUMER ? consumer_defaults : producer_defaults;
    size_t n_defs = role == VG_KAFKA_CONSUMER ? VG_ARRAY_LEN(consumer_defaults)
                                              : VG_ARRAY_LEN(producer_defaults);
    for (size_t i = 0; i < n_defs; i++)
        if (rd_kafka_conf_set(conf, defs[i].name, defs[i].value, errstr, sizeof(errstr)) !=
            RD_KAFKA_CONF_OK) {
            VG_ERR_SET(err, VG_EKAFKA, "kafka property '%s': %s", defs[i].name, errstr);
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    if (group && rd_kafka_conf_set(conf, "group.id", group, errstr, sizeof(errstr)) !=
                     RD_KAFKA_CONF_OK) {
        VG_ERR_SET(err, VG_EKAFKA, "kafka property 'group.id': %s", errstr);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    for (size_t i = 0; topo && i < topo->n_kafka; i++) {
        const char *name = topo->kafka[i].key;
        /* a property meant for the other role only makes librdkafka warn: skip it */
        if ((role == VG_KAFKA_PRODUCER && is_consumer_only(name)) ||
            (role == VG_KAFKA_CONSUMER && is_producer_only(name)))
            continue;
        if (rd_kafka_conf_set(conf, name, topo->kafka[i].value, errstr, sizeof(errstr)) !=
            RD_KAFKA_CONF_OK) {
            VG_ERR_SET(err, VG_EKAFKA, "kafka property '%s': %s", name, errstr);
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }
    return conf;
}

bool vg_kafka_check(const struct vg_topology *topo, struct vg_diag *diag)
{
    const struct vg_ynode *k = vg_ynode_get(topo->root, "kafka");
    bool ok = true;
    char errstr[512];
    for (size_t i = 0; k && k->type == VG_Y_MAP && i < k->n; i++) {
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        const char *value = k->items[i]->type == VG_Y_SCALAR ? k->items[i]->str : "";
        if (rd_kafka_conf_set(conf, k->keys[i]->str, value, errstr, sizeof(errstr)) !=
            RD_KAFKA_CONF_OK) {
            vg_diag_add(diag, k->keys[i]->mark, NULL, "kafka property '%s': %s",
                        k->keys[i]->str, errstr);
            ok = false;
        }
        rd_kafka_conf_destroy(conf);
    }
    return ok;
}

int vg_kafka_create_topic(rd_kafka_t *rk, const char *topic, int n_partitions, int timeout_ms,
                          struct vg_err *err)
{
    char errstr[512];
    int rc = 0;
    rd_kafka_NewTopic_t *nt =
        rd_kafka_NewTopic_new(topic, n_partitions, -1, errstr, sizeof(errstr));
    if (!nt)
        return VG_ERR_SET(err, VG_EKAFKA, "topic '%s': %s", topic, errstr);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *opt = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_request_timeout(opt, timeout_ms, errstr, sizeof(errstr));
    rd_kafka_CreateTopics(rk, &nt, 1, opt, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms + 1000);
    if (!ev) {
        rc = VG_ERR_SET(err, VG_EKAFKA, "topic '%s': no answer from the broker", topic);
    } else if (rd_kafka_event_error(ev)) {
        rc = VG_ERR_SET(err, VG_EKAFKA, "topic '%s': %s", topic, rd_kafka_event_error_string(ev));
    } else {
        const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
        size_t n;
        const rd_kafka_topic_result_t **tr = rd_kafka_CreateTopics_result_topics(res, &n);
        for (size_t i = 0; i < n; i++) {
            rd_kafka_resp_err_t e = rd_kafka_topic_result_error(tr[i]);
            if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
                rc = VG_ERR_SET(err, VG_EKAFKA, "topic '%s': %s", topic,
                                rd_kafka_topic_result_error_string(tr[i]));
        }
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(opt);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);
    return rc;
}

int32_t vg_kafka_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    int32_t n = 0;
    if (rkt && rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR && md) {
        if (md->topic_cnt == 1 && !md->topics[0].err)
            n = md->topics[0].partition_cnt;
        rd_kafka_metadata_destroy(md);
    }
    if (rkt)
        rd_kafka_topic_destroy(rkt);
    return n;
}
