/* SPDX-License-Identifier: Apache-2.0 */
/* topo_graph_test.c - tests for engine/topo_graph.c: exact text, DOT and Mermaid output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "topo.h"

static const char text[] = "name: g\n"
                           "nodes:\n"
                           "  in: {source: kafka, topic: ev}\n"
                           "  f: {filter: 'x == \"a\"', input: in}\n"
                           "  r:\n"
                           "    rules: [{id: A, title: a, severity: low, when: 'true'}]\n"
                           "    input: [f, in]\n"
                           "  out: {sink: kafka, topic: alerts, input: r}\n";

static char *graph(enum vg_graph_format fmt)
{
    struct vg_diag d;
    vg_diag_init(&d);
    struct vg_topology *t = vg_topo_load_string("g.yaml", text, strlen(text), &d);
    assert_non_null(t);
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    vg_topo_graph(t, fmt, f);
    fclose(f);
    vg_topo_free(t);
    vg_diag_fini(&d);
    return buf;
}

static void test_topo_graph_formats(void **state)
{
    (void)state;
    char *s = graph(VG_GRAPH_TEXT);
    assert_string_equal(s, "g\n"
                           "  in (source kafka topic=ev)\n"
                           "  f (filter) <- in\n"
                           "  r (rules 1 rule) <- f, in\n"
                           "  out (sink kafka topic=alerts) <- r\n");
    free(s);
    s = graph(VG_GRAPH_DOT);
    assert_string_equal(s, "digraph \"g\" {\n"
                           "  rankdir=LR;\n"
                           "  node [shape=box];\n"
                           "  \"in\" [label=\"in\\nsource kafka topic=ev\"];\n"
                           "  \"f\" [label=\"f\\nfilter\"];\n"
                           "  \"r\" [label=\"r\\nrules 1 rule\"];\n"
                           "  \"out\" [label=\"out\\nsink kafka topic=alerts\"];\n"
                           "  \"in\" -> \"f\";\n"
                           "  \"f\" -> \"r\";\n"
                           "  \"in\" -> \"r\";\n"
                           "  \"r\" -> \"out\";\n"
                           "}\n");
    free(s);
    s = graph(VG_GRAPH_MERMAID);
    assert_string_equal(s, "flowchart LR\n"
                           "  in[\"in<br/>source kafka topic=ev\"]\n"
                           "  f[\"f<br/>filter\"]\n"
                           "  r[\"r<br/>rules 1 rule\"]\n"
                           "  out[\"out<br/>sink kafka topic=alerts\"]\n"
                           "  in --> f\n"
                           "  f --> r\n"
                           "  in --> r\n"
                           "  r --> out\n");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_topo_graph_formats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
