/* SPDX-License-Identifier: Apache-2.0 */
/* rt_pool_test.c - tests for engine/rt_pool.c: every task runs exactly once, on the pool's
 * threads, also with several submitters at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <pthread.h>
#include <string.h>

#include "rt_pool.h"

struct counts {
    int hits[1000];
    pthread_t submitter;
    int on_submitter;
};

static void count_task(void *arg, size_t i)
{
    struct counts *c = arg;
    __atomic_fetch_add(&c->hits[i], 1, __ATOMIC_RELAXED);
    if (pthread_equal(pthread_self(), c->submitter))
        __atomic_fetch_add(&c->on_submitter, 1, __ATOMIC_RELAXED);
}

static void test_rt_pool_run_each_task_once(void **state)
{
    (void)state;
    for (size_t threads = 1; threads <= 3; threads++) {
        struct vg_rt_pool *p = vg_rt_pool_new(threads);
        assert_int_equal(vg_rt_pool_size(p), threads);
        for (size_t n = 0; n <= 17; n++) {
            static struct counts c;
            memset(&c, 0, sizeof(c));
            c.submitter = pthread_self();
            vg_rt_pool_run(p, count_task, &c, n);
            for (size_t i = 0; i < n; i++)
                assert_int_equal(c.hits[i], 1);
            assert_int_equal(c.hits[n], 0);
            assert_int_equal(c.on_submitter, 0); /* the submitter only waits */
        }
        vg_rt_pool_free(p);
    }
}

struct submitter {
    struct vg_rt_pool *p;
    struct counts c;
};

static void *submit_many(void *arg)
{
    struct submitter *s = arg;
    s->c.submitter = pthread_self();
    for (int round = 0; round < 200; round++)
        vg_rt_pool_run(s->p, count_task, &s->c, 8);
    return NULL;
}

static void test_rt_pool_run_concurrent_submitters(void **state)
{
    (void)state;
    struct vg_rt_pool *p = vg_rt_pool_new(2);
    static struct submitter s[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        memset(&s[i], 0, sizeof(s[i]));
        s[i].p = p;
        pthread_create(&t[i], NULL, submit_many, &s[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        for (int k = 0; k < 8; k++)
            assert_int_equal(s[i].c.hits[k], 200);
    }
    vg_rt_pool_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rt_pool_run_each_task_once),
        cmocka_unit_test(test_rt_pool_run_concurrent_submitters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
