/*
 * worker.c - slow work off the event loop: one thread runs jobs (password hashing)
 * in order and hands each back to the loop through a pipe, where its done callback
 * runs. The accept path never waits for a password.
 *
 * At most WORKER_QUEUE jobs wait; gw_worker_run refuses more (the caller answers 503).
 */
#include "gatewayd/worker.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/queue.h>
#include <unistd.h>

#define WORKER_QUEUE 64

struct gw_job {
	void (*work)(void *arg);
	void (*done)(void *arg);
	void *arg;
	TAILQ_ENTRY(gw_job) link;
};

struct gw_worker {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	TAILQ_HEAD(, gw_job) todo;
	int queued; /* waiting or running; read on the loop only */
	bool stopping;
	int pipe[2]; /* the thread writes finished jobs' pointers, the loop reads */
	struct event *ev;
};

/* worker_main - the thread: take a job, do it, pass it back */
static void *worker_main(void *arg)
{
	struct gw_worker *w = arg;
	struct gw_job *job;

	for (;;) {
		pthread_mutex_lock(&w->lock);
		while (TAILQ_EMPTY(&w->todo) && !w->stopping)
			pthread_cond_wait(&w->wake, &w->lock);
		if (w->stopping) {
			pthread_mutex_unlock(&w->lock);
			return NULL;
		}
		job = TAILQ_FIRST(&w->todo);
		TAILQ_REMOVE(&w->todo, job, link);
		pthread_mutex_unlock(&w->lock);
		job->work(job->arg);
		while (write(w->pipe[1], &job, sizeof(job)) < 0 && errno == EINTR)
			;
	}
}

/* on_done - on the loop: the done callbacks of the jobs that came back */
static void on_done(evutil_socket_t fd, short what, void *arg)
{
	struct gw_worker *w = arg;
	struct gw_job *job;

	while (read(fd, &job, sizeof(job)) == (ssize_t)sizeof(job)) {
		w->queued--;
		job->done(job->arg);
		free(job);
	}
}

struct gw_worker *gw_worker_new(struct event_base *base)
{
	struct gw_worker *w = tgm_xcalloc(1, sizeof(*w));
	sigset_t all, old;
	int started;

	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	TAILQ_INIT(&w->todo);
	/* the thread is born with every signal blocked: signals are the loop's alone */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	started = pipe2(w->pipe, O_CLOEXEC) == 0 && fcntl(w->pipe[0], F_SETFL, O_NONBLOCK) == 0 &&
		  pthread_create(&w->thread, NULL, worker_main, w) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!started)
		log_fatal("cannot start the worker thread");
	w->ev = event_new(base, w->pipe[0], EV_READ | EV_PERSIST, on_done, w);
	event_add(w->ev, NULL);
	return w;
}

bool gw_worker_run(struct gw_worker *w, void (*work)(void *), void (*done)(void *), void *arg)
{
	struct gw_job *job;

	if (w->queued >= WORKER_QUEUE)
		return false;
	job = tgm_xcalloc(1, sizeof(*job));
	job->work = work;
	job->done = done;
	job->arg = arg;
	w->queued++;
	pthread_mutex_lock(&w->lock);
	TAILQ_INSERT_TAIL(&w->todo, job, link);
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	return true;
}

int gw_worker_busy(const struct gw_worker *w)
{
	return w ? w->queued : 0;
}

void gw_worker_free(struct gw_worker *w)
{
	struct gw_job *job;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	on_done(w->pipe[0], EV_READ, w); /* what finished meanwhile */
	while ((job = TAILQ_FIRST(&w->todo)) != NULL) {
		TAILQ_REMOVE(&w->todo, job, link);
		job->work(job->arg);
		job->done(job->arg);
		free(job);
	}
	event_free(w->ev);
	close(w->pipe[0]);
	close(w->pipe[1]);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->wake);
	free(w);
}
