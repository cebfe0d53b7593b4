/* SPDX-License-Identifier: Apache-2.0 */
/* map_test.c - tests for operators/map.c: derived fields, projection, scope after a map. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vg_pipe.h"

static void test_map_writes_exactly_its_fields(void **state)
{
    (void)state;
    struct vg_pipe *p = vg_pipe_new("name: t\n"
                                    "nodes:\n"
                                    "  in: {source: kafka, topic: events}\n"
                                    "  shaped:\n"
                                    "    map: {user: lower(user), kb: bytes / 1024, "
                                    "big: bytes >= 4096, who: 'user + \"@\" + host'}\n"
                                    "    input: in\n"
                                    "  out: {sink: stdout, input: shaped}\n",
                                    1);
    vg_pipe_feed(p, "in",
                 "{\"user\":\"Alice\",\"host\":\"h1\",\"bytes\":8192,\"other\":1}\n"
                 "{\"user\":\"BOB\",\"bytes\":100}\n"
                 "{}\n",
                 0);
    char *out = vg_pipe_out_text(p);
    assert_string_equal(out,
                        "{\"user\":\"alice\",\"kb\":8,\"big\":true,\"who\":\"Alice@h1\"}\n"
                        "{\"user\":\"bob\",\"kb\":0,\"big\":false,\"who\":null}\n"
                        "{\"user\":null,\"kb\":null,\"big\":false,\"who\":null}\n");
    free(out);
    vg_pipe_free(p);
}

static void test_map_output_feeds_a_filter(void **state)
{
    (void)state;
    struct vg_pipe *p = vg_pipe_new("name: t\n"
                                    "nodes:\n"
                                    "  in: {source: kafka, topic: events}\n"
                                    "  shaped: {map: {u: lower(user)}, input: in}\n"
                                    "  admins: {filter: 'u == \"admin\"', input: shaped}\n"
                                    "  out: {sink: stdout, input: admins}\n",
                                    1);
    vg_pipe_feed(p, "in", "{\"user\":\"ADMIN\"}\n{\"user\":\"x\"}\n{\"user\":\"Admin\"}\n", 0);
    char *out = vg_pipe_out_text(p);
    assert_string_equal(out, "{\"u\":\"admin\"}\n{\"u\":\"admin\"}\n");
    free(out);
    vg_pipe_free(p);
}

static void test_map_hides_fields_it_does_not_define(void **state)
{
    (void)state;
    char *errs = vg_pipe_errors("name: t\n"
                                "nodes:\n"
                                "  in: {source: kafka, topic: events}\n"
                                "  shaped: {map: {u: lower(user)}, input: in}\n"
                                "  f:\n"
                                "    filter: host == \"x\"\n"
                                "    input: shaped\n"
                                "  out: {sink: stdout, input: f}\n");
    assert_string_equal(errs, "t.yaml:6:13: error: expression: unknown field 'host' "
                              "(the map upstream defines only its own fields)\n");
    free(errs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_map_writes_exactly_its_fields),
        cmocka_unit_test(test_map_output_feeds_a_filter),
        cmocka_unit_test(test_map_hides_fields_it_does_not_define),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
