/* SPDX-License-Identifier: Apache-2.0 */
/*
 * topo_check_test.c - tests for engine/topo_check.c (and topo_load.c through it): every
 * tests/cases/topology/bad_*.yaml gives exactly the diagnostics of its .expected file (the
 * `vigil validate` output without its summary line); good_*.yaml and the shipped topologies
 * load, with their settings read as written.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "topo.h"
#include "vg_op.h"
#include "vg_test.h"

static char *diag_text(struct vg_diag *d)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    vg_diag_print(d, f);
    fclose(f);
    return buf;
}

static void test_topo_check_bad_cases(void **state)
{
    (void)state;
    assert_int_equal(chdir(getenv("VG_SOURCE_DIR")), 0);
    unsetenv("VG_TEST_SURELY_UNSET_VAR");
    setenv("VG_TEST_TOPIC", "", 1);
    DIR *dir = opendir("tests/cases/topology");
    assert_non_null(dir);
    struct dirent *de;
    int cases = 0;
    while ((de = readdir(dir))) {
        size_t n = strlen(de->d_name);
        if (strncmp(de->d_name, "bad_", 4) != 0 || n < 5 || strcmp(de->d_name + n - 5, ".yaml"))
            continue;
        char path[512], exp[512];
        snprintf(path, sizeof(path), "tests/cases/topology/%s", de->d_name);
        snprintf(exp, sizeof(exp), "tests/cases/topology/%.*s.expected", (int)(n - 5), de->d_name);
        char *want = vg_test_read(exp);
        char *last = strrchr(want, '\n');
        while (last && last > want && last[-1] != '\n')
            last--;
        if (last)
            *last = '\0'; /* drop the "file: N errors" summary line of vigil validate */
        struct vg_diag d;
        vg_diag_init(&d);
        struct vg_topology *t = vg_topo_load(path, &d);
        if (t)
            fail_msg("%s: loaded", path);
        char *got = diag_text(&d);
        if (strcmp(got, want) != 0)
            fail_msg("%s:\n--- got\n%s--- want\n%s", path, got, want);
        free(got);
        free(want);
        vg_diag_fini(&d);
        cases++;
    }
    closedir(dir);
    assert_true(cases >= 7);
}

static void test_topo_check_good_union(void **state)
{
    (void)state;
    assert_int_equal(chdir(getenv("VG_SOURCE_DIR")), 0);
    unsetenv("VG_TEST_DESC");
    struct vg_diag d;
    vg_diag_init(&d);
    struct vg_topology *t = vg_topo_load("tests/cases/topology/good_union.yaml", &d);
    assert_int_equal(vg_diag_count(&d), 0);
    assert_non_null(t);
    assert_string_equal(t->name, "good-union");
    assert_string_equal(t->description, "union of two sources");
    assert_string_equal(t->dir, "tests/cases/topology");
    assert_int_equal(t->latency_budget_ms, 5400000);
    assert_int_equal(t->parallelism, 3);
    assert_int_equal(t->rule_threads, 2);
    assert_int_equal(t->n_kafka, 2);
    assert_string_equal(t->kafka[1].key, "client.rack");
    assert_string_equal(t->kafka[1].value, "${literal}");
    assert_string_equal(t->redis_url, "redis://:secret@127.0.0.1:6380/2");
    /* topological order, file order among ready nodes */
    const char *order[] = {"b", "a", "both", "out", "copy"};
    assert_int_equal(t->n_nodes, 5);
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(t->nodes[i]->name, order[i]);
        assert_int_equal(t->nodes[i]->index, i);
    }
    struct vg_node *both = vg_topo_node(t, "both");
    assert_int_equal(both->n_inputs, 2);
    assert_string_equal(both->inputs[0]->name, "a");
    assert_string_equal(both->inputs[1]->name, "b");
    assert_string_equal(both->type->name, "filter");
    assert_string_equal(vg_node_str(vg_topo_node(t, "copy"), "path", NULL), "/tmp/copy.jsonl");
    assert_null(vg_topo_node(t, "nope"));
    vg_topo_free(t);
    vg_diag_fini(&d);
}

static void test_topo_check_env_and_shipped(void **state)
{
    (void)state;
    assert_int_equal(chdir(getenv("VG_SOURCE_DIR")), 0);
    setenv("VG_TEST_DESC", "from the environment", 1);
    struct vg_diag d;
    vg_diag_init(&d);
    struct vg_topology *t = vg_topo_load("tests/cases/topology/good_union.yaml", &d);
    assert_non_null(t);
    assert_string_equal(t->description, "from the environment");
    vg_topo_free(t);
    unsetenv("VG_TEST_DESC");
    const char *shipped[] = {"topologies/auth_anomalies.yaml", "topologies/suspicious_process.yaml",
                             "topologies/auth_avro.yaml",      "topologies/brute_force.yaml",
                             "topologies/port_scan.yaml",      "topologies/error_bursts.yaml",
                             "bench/scenarios/rules20.yaml"};
    for (size_t i = 0; i < sizeof(shipped) / sizeof(shipped[0]); i++) {
        t = vg_topo_load(shipped[i], &d);
        if (!t) {
            char *got = diag_text(&d);
            fail_msg("%s:\n%s", shipped[i], got);
        }
        vg_topo_free(t);
    }
    vg_diag_fini(&d);
}

static void test_topo_check_node_values(void **state)
{
    (void)state;
    static const char text[] = "name: x\n"
                               "nodes:\n"
                               "  in: {source: kafka, topic: t, lateness: 2m, max_event_bytes: 10}\n"
                               "  out: {sink: stdout, input: in}\n";
    struct vg_diag d;
    vg_diag_init(&d);
    struct vg_topology *t = vg_topo_load_string("mem.yaml", text, strlen(text), &d);
    assert_non_null(t);
    struct vg_node *in = vg_topo_node(t, "in");
    assert_int_equal(vg_node_duration_ms(in, "lateness", -1), 120000);
    assert_int_equal(vg_node_duration_ms(in, "idle_timeout", 30000), 30000);
    assert_int_equal(vg_node_int(in, "max_event_bytes", 0), 10);
    assert_true(vg_node_bool(in, "absent", true));
    assert_int_equal(in->mark.line, 3);
    assert_int_equal(in->mark.col, 3);
    vg_topo_free(t);
    vg_diag_fini(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_topo_check_bad_cases),
        cmocka_unit_test(test_topo_check_good_union),
        cmocka_unit_test(test_topo_check_env_and_shipped),
        cmocka_unit_test(test_topo_check_node_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
