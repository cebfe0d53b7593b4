/* SPDX-License-Identifier: Apache-2.0 */
/*
 * topo_graph.c - `vigil graph`: the DAG as text, Graphviz DOT or Mermaid, nodes in
 * topological order, each labelled with its operator and what it reads or writes.
 *
 * Thread: main.
 */
#include "topo.h"

#include <stdio.h>
#include <string.h>

#include "vg_op.h"

/* "source kafka topic=auth-events", "rules 3 rules", "sink kafka topic=alerts", "filter" */
static void describe(const struct vg_node *n, char *buf, size_t size)
{
    const char *op = n->type ? n->type->name : "?";
    const struct vg_ynode *v = n->op;
    if (v && v->type == VG_Y_SCALAR && (!strcmp(op, "source") || !strcmp(op, "sink"))) {
        const char *topic = vg_node_str(n, "topic", NULL), *path = vg_node_str(n, "path", NULL);
        if (topic)
            snprintf(buf, size, "%s %s topic=%s", op, v->str, topic);
        else if (path)
            snprintf(buf, size, "%s %s path=%s", op, v->str, path);
        else
            snprintf(buf, size, "%s %s", op, v->str);
    } else if (!strcmp(op, "rules") && v) {
        if (v->type == VG_Y_SEQ)
            snprintf(buf, size, "rules %zu rule%s", v->n, v->n == 1 ? "" : "s");
        else
            snprintf(buf, size, "rules file=%s", v->type == VG_Y_SCALAR ? v->str : "?");
    } else {
        snprintf(buf, size, "%s", op);
    }
}

static void put_escaped(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', out);
        fputc(*s, out);
    }
}

void vg_topo_graph(const struct vg_topology *t, enum vg_graph_format fmt, FILE *out)
{
    char label[512];
    switch (fmt) {
    case VG_GRAPH_TEXT:
        fprintf(out, "%s\n", t->name);
        for (size_t i = 0; i < t->n_nodes; i++) {
            const struct vg_node *n = t->nodes[i];
            describe(n, label, sizeof(label));
            fprintf(out, "  %s (%s)", n->name, label);
            for (size_t k = 0; k < n->n_inputs; k++)
                fprintf(out, "%s%s", k ? ", " : " <- ", n->inputs[k]->name);
            fputc('\n', out);
        }
        break;
    case VG_GRAPH_DOT:
        fprintf(out, "digraph \"");
        put_escaped(out, t->name);
        fprintf(out, "\" {\n  rankdir=LR;\n  node [shape=box];\n");
        for (size_t i = 0; i < t->n_nodes; i++) {
            describe(t->nodes[i], label, sizeof(label));
            fprintf(out, "  \"%s\" [label=\"%s\\n", t->nodes[i]->name, t->nodes[i]->name);
            put_escaped(out, label);
            fprintf(out, "\"];\n");
        }
        for (size_t i = 0; i < t->n_nodes; i++)
            for (size_t k = 0; k < t->nodes[i]->n_inputs; k++)
                fprintf(out, "  \"%s\" -> \"%s\";\n", t->nodes[i]->inputs[k]->name,
                        t->nodes[i]->name);
        fprintf(out, "}\n");
        break;
    case VG_GRAPH_MERMAID:
        fprintf(out, "flowchart LR\n");
        for (size_t i = 0; i < t->n_nodes; i++) {
            describe(t->nodes[i], label, sizeof(label));
            for (char *p = label; *p; p++)
                if (*p == '"')
                    *p = '\'';
            fprintf(out, "  %s[\"%s<br/>%s\"]\n", t->nodes[i]->name, t->nodes[i]->name, label);
        }
        for (size_t i = 0; i < t->n_nodes; i++)
            for (size_t k = 0; k < t->nodes[i]->n_inputs; k++)
                fprintf(out, "  %s --> %s\n", t->nodes[i]->inputs[k]->name, t->nodes[i]->name);
        break;
    }
}
