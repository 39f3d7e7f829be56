/*
 * ready: the preload's start-up: the first hook (or the constructor) loads
 * the policy and opens the log, other threads wait for that load, a forked
 * child starts over or carries on, and the summary is written at exit.
 */
#include "ready.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fmt.h"
#include "log.h"
#include "peek.h"
#include "real.h"
#include "reload.h"
#include "setup.h"

_Atomic int g_state = ST_NEW;

/* ---- start-up ---- */

static char exe_name[256];

static const char *read_exe_name(void)
{
	char path[4096];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	if (n <= 0)
		return NULL;
	path[n] = '\0';
	const char *b = ss_base_name(path);
	if (strlen(b) >= sizeof(exe_name))
		return NULL;
	strcpy(exe_name, b);
	return exe_name;
}

static void load(pid_t pid)
{
	struct ss_setup s;
	ss_log_set_pid(pid);
	peek_set_pid(pid);
	int rc = ss_setup_load(&s);
	if (rc == SS_EX_CONFIG)
		_exit(SS_EX_CONFIG);
	if (rc < 0)
		return; /* out of memory at start-up: pass everything through, silently */
	struct ss_policy *p = s.policy;
	const char *program = program_invocation_short_name;
	ss_policy_bind_program(p, program, read_exe_name());
	ss_setup_started(&s, program, exe_name[0] ? exe_name : NULL, NULL);
	ss_setup_rotation(&s);
	ss_reload_start(&s, program, exe_name[0] ? exe_name : NULL, true, NULL);
}

static _Atomic pid_t g_loader_tid, g_loader_pid;

/* Registered before the first load, which may come before our constructor (a
 * hook called from another library's constructor): a child forked while
 * another thread loads must load again, not inherit a load that never ends.
 * (A vfork child shares our memory; no handler runs there, and it passes
 * through until it execs.) */
static void watch_forks(void)
{
	static _Atomic int once;
	if (!atomic_exchange(&once, 1))
		pthread_atfork(NULL, NULL, shim_after_fork_child);
}

/*
 * true once the policy is in place. The first hook to get here loads it.
 * Other threads wait for the load (a thread started by another library's
 * constructor must be pinned like any other). Only the loading thread itself
 * (a signal handler that interrupted the load) and a child forked in the
 * middle of a load pass through: waiting there would never end.
 */
bool ready_slow(int st)
{
	int saved = errno;
	int expected = ST_NEW;
	if (st == ST_NEW && atomic_compare_exchange_strong(&g_state, &expected, ST_LOADING)) {
		pid_t pid = getpid();
		atomic_store(&g_loader_pid, pid);
		atomic_store(&g_loader_tid, gettid());
		watch_forks();
		load(pid);
		atomic_store_explicit(&g_state, ST_READY, memory_order_release);
		errno = saved;
		return true;
	}
	pid_t me = gettid();
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	/* a load takes milliseconds; give up after a few seconds all the same */
	for (long spins = 0;; spins++) {
		if (atomic_load_explicit(&g_state, memory_order_acquire) == ST_READY) {
			errno = saved;
			return true;
		}
		/* the loader publishes its ids just after taking the load: 0 means
		 * "not yet", not "someone else" */
		pid_t lpid = atomic_load(&g_loader_pid);
		if (atomic_load(&g_loader_tid) == me || (lpid && lpid != getpid()))
			break;
		sched_yield();
		if ((spins & 1023) == 1023) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec - start.tv_sec > 5)
				break;
		}
	}
	errno = saved;
	return false;
}

bool shim_ready(void) { return ready(); }

void shim_after_fork_child(void)
{
	if (atomic_load(&g_state) == ST_LOADING) {
		/* forked mid-load: the loading thread does not exist here; start over */
		ss_setup_reset();
		atomic_store(&g_loader_pid, 0);
		atomic_store(&g_loader_tid, 0);
		atomic_store(&g_state, ST_NEW);
		return;
	}
	ss_log_set_pid(getpid());
	peek_set_pid(getpid());
	ss_reload_after_fork(); /* fresh rotation; the child's summary counts its own calls */
}

void shim_fini(void)
{
	if (atomic_load(&g_state) != ST_READY)
		return;
	int saved = errno;
	ss_reload_summary(NULL);
	errno = saved;
}

void shim_init(void)
{
	real_resolve_all();
	ready();
}
