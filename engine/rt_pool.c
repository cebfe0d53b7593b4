/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rt_pool.c - the rule thread pool (see rt_pool.h).
 *
 * DESIGN: jobs travel over a bounded multi-producer multi-consumer ck_ring. A submitter
 * pushes its job once per worker it wants (at most one per task) and posts the work
 * semaphore as many times; each worker that pops the job claims task numbers with an atomic
 * add until none are left, then drops its reference. The last reference posts the job's own
 * semaphore, so the submitter (whose stack holds the job) returns only when no worker can
 * still touch the job. If the ring is full the submitter yields and retries: the ring holds
 * 1024 entries and each stream thread has at most one job in flight, so in practice it never
 * fills.
 *
 * Thread: the workers are created here and nowhere else; vg_rt_pool_run from any thread.
 */
#include "rt_pool.h"

#include <ck_pr.h>
#include <ck_ring.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>

#define RING_SIZE 1024

struct job {
    void (*fn)(void *arg, size_t i);
    void *arg;
    unsigned n;
    unsigned next;      /* next task number to claim (ck_pr) */
    unsigned refs;      /* ring entries not yet released (ck_pr) */
    sem_t done;
};

struct vg_rt_pool {
    size_t n_threads;
    pthread_t *threads;
    ck_ring_t ring;
    ck_ring_buffer_t buf[RING_SIZE];
    sem_t work;
    int stop;
};

static void *worker_main(void *arg)
{
    struct vg_rt_pool *p = arg;
    for (;;) {
        while (sem_wait(&p->work) != 0)
            ; /* EINTR */
        if (ck_pr_load_int(&p->stop))
            return NULL;
        struct job *j;
        while (!ck_ring_dequeue_mpmc(&p->ring, p->buf, &j))
            sched_yield(); /* posted before the push became visible */
        unsigned i;
        while ((i = ck_pr_faa_uint(&j->next, 1)) < j->n)
            j->fn(j->arg, i);
        if (ck_pr_faa_uint(&j->refs, (unsigned)-1) == 1)
            sem_post(&j->done);
    }
}

struct vg_rt_pool *vg_rt_pool_new(size_t n_threads)
{
    struct vg_rt_pool *p = vg_xcalloc(1, sizeof(*p));
    p->n_threads = n_threads ? n_threads : 1;
    ck_ring_init(&p->ring, RING_SIZE);
    sem_init(&p->work, 0, 0);
    p->threads = vg_xcalloc(p->n_threads, sizeof(*p->threads));
    for (size_t i = 0; i < p->n_threads; i++)
        if (pthread_create(&p->threads[i], NULL, worker_main, p) != 0) {
            fprintf(stderr, "vigil: cannot start rule pool thread\n");
            abort();
        }
    return p;
}

void vg_rt_pool_free(struct vg_rt_pool *p)
{
    if (!p)
        return;
    ck_pr_store_int(&p->stop, 1);
    for (size_t i = 0; i < p->n_threads; i++)
        sem_post(&p->work);
    for (size_t i = 0; i < p->n_threads; i++)
        pthread_join(p->threads[i], NULL);
    sem_destroy(&p->work);
    vg_free(p->threads);
    vg_free(p);
}

size_t vg_rt_pool_size(const struct vg_rt_pool *p)
{
    return p->n_threads;
}

void vg_rt_pool_run(struct vg_rt_pool *p, void (*fn)(void *arg, size_t i), void *arg, size_t n)
{
    if (n == 0)
        return;
    struct job j = {.fn = fn, .arg = arg, .n = (unsigned)n};
    unsigned copies = (unsigned)VG_MIN(n, p->n_threads);
    j.refs = copies;
    sem_init(&j.done, 0, 0);
    ck_pr_fence_store();
    for (unsigned k = 0; k < copies; k++) {
        while (!ck_ring_enqueue_mpmc(&p->ring, p->buf, &j))
            sched_yield();
        sem_post(&p->work);
    }
    while (sem_wait(&j.done) != 0)
        ;
    sem_destroy(&j.done);
}
