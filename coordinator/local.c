/* local.c: fork/exec of local agents (fork rather than posix_spawn: the child must ask for
 * SIGTERM when its parent dies, which only prctl in the child can). */
#include "coordinator/local.h"

#include "common/clock.h"
#include "common/files.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

struct fb_local {
    int n;
    pid_t *pids;
};

static int s_agent_path (const char *given, char *path, size_t size, fb_err_t *err) {
    if (given && given[0]) {
        snprintf (path, size, "%s", given);
        return 0;
    }
    char self[512];
    ssize_t len = readlink ("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0)
        return fb_err_set (err, FB_ESYS, "cannot find this program's folder: %s", strerror (errno));
    self[len] = '\0';
    /* Installed, the agent is fleetbench-agent (a name no other package has); in a build tree,
     * agent. */
    const char *dir = dirname (self);
    snprintf (path, size, "%s/fleetbench-agent", dir);
    if (access (path, X_OK) == 0)
        return 0;
    snprintf (path, size, "%s/agent", dir);
    if (access (path, X_OK) != 0)
        return fb_err_set (err, FB_ESYS, "no agent program at %s/fleetbench-agent or %s", dir,
                           path);
    return 0;
}

static pid_t s_spawn (const char *agent, const char *allow, const char *endpoint, int index,
                      const char *dir, const char *coordinator_key) {
    char id[32], log[600], state[600], cert[600];
    snprintf (id, sizeof id, "local-%d", index);
    snprintf (log, sizeof log, "%s/agents/%s.log", dir, id);
    snprintf (state, sizeof state, "%s/agents", dir);
    snprintf (cert, sizeof cert, "%s/agents/%s.key", dir, id);
    pid_t parent = getpid ();
    pid_t pid = fork ();
    if (pid != 0)
        return pid;
    prctl (PR_SET_PDEATHSIG, SIGTERM);
    if (getppid () != parent)
        _exit (127); /* the coordinator died before prctl */
    int fd = open (log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
        dup2 (fd, STDOUT_FILENO);
        dup2 (fd, STDERR_FILENO);
    }
    int null = open ("/dev/null", O_RDONLY);
    if (null >= 0)
        dup2 (null, STDIN_FILENO);
    const char *argv[16] = {agent, "--coordinator", endpoint,      "--id",
                            id,    "--once",        "--state-dir", state};
    int argc = 8;
    if (coordinator_key) {
        argv[argc++] = "--cert";
        argv[argc++] = cert;
        argv[argc++] = "--coordinator-key";
        argv[argc++] = coordinator_key;
    }
    if (allow && allow[0]) {
        argv[argc++] = "--allow";
        argv[argc++] = allow;
    }
    execv (agent, (char *const *)argv);
    _exit (127);
}

fb_local_t *fb_local_start (const char *agent_path, const char *allow, const char *endpoint, int n,
                            const char *run_dir, const char *coordinator_key, fb_err_t *err) {
    char agent[600], agents_dir[600];
    if (s_agent_path (agent_path, agent, sizeof agent, err) != 0)
        return NULL;
    snprintf (agents_dir, sizeof agents_dir, "%s/agents", run_dir);
    if (fb_files_mkdirs (agents_dir, err) != 0)
        return NULL;
    fb_local_t *self = calloc (1, sizeof *self);
    if (self)
        self->pids = calloc ((size_t)n, sizeof *self->pids);
    if (!self || !self->pids) {
        free (self);
        fb_err_set (err, FB_ENOMEM, "out of memory");
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        pid_t pid = s_spawn (agent, allow, endpoint, i + 1, run_dir, coordinator_key);
        if (pid < 0) {
            fb_err_set (err, FB_ESYS, "cannot start local agent %d: %s", i + 1, strerror (errno));
            fb_local_stop (&self);
            return NULL;
        }
        self->pids[self->n++] = pid;
    }
    return self;
}

int fb_local_exited (fb_local_t *self, int *code) {
    for (int i = 0; i < self->n; i++) {
        int status = 0;
        if (self->pids[i] <= 0 || waitpid (self->pids[i], &status, WNOHANG) != self->pids[i])
            continue;
        self->pids[i] = 0;
        *code = WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
        return i + 1;
    }
    return 0;
}

void fb_local_stop (fb_local_t **self_p) {
    fb_local_t *self = *self_p;
    if (!self)
        return;
    int64_t deadline = fb_clock_now_ns () + 5 * FB_NS_PER_S;
    int left = self->n;
    while (left > 0) {
        left = 0;
        for (int i = 0; i < self->n; i++) {
            if (self->pids[i] <= 0)
                continue;
            if (waitpid (self->pids[i], NULL, WNOHANG) == self->pids[i])
                self->pids[i] = 0;
            else if (fb_clock_now_ns () > deadline) {
                kill (self->pids[i], SIGTERM);
                waitpid (self->pids[i], NULL, 0);
                self->pids[i] = 0;
            } else
                left++;
        }
        if (left > 0)
            usleep (20000);
    }
    free (self->pids);
    free (self);
    *self_p = NULL;
}
