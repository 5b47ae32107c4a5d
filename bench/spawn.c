/*
 * spawn: run one measured call for bench/run.
 *
 *     spawn OUTFILE PROGRAM [ARG...]
 *
 * Forks, execs PROGRAM in the child, waits for it with wait4(2) and writes one line to
 * OUTFILE:  "<exit status> <wall ns> <user us> <sys us> <maxrss KiB>"; exits 0 (127 when it
 * cannot even fork).
 *
 * Why a separate small program and not Python's own fork: at execve the kernel folds the
 * *previous* memory image's high-water RSS into the process's maxrss, so a child forked from
 * the Python benchmark driver (~13 MiB) reports at least that much whatever it really uses.
 * Forked from this static, tiny process, the child's maxrss is its own.  The CPU reported is
 * the child's user+sys including every descendant it waited for (wait4 semantics).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    struct timespec t0, t1;
    struct rusage ru;
    int status = 0;
    pid_t pid, r;
    FILE *out;

    if (argc < 3) {
        fprintf(stderr, "usage: spawn OUTFILE PROGRAM [ARG...]\n");
        return 2;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid = fork();
    if (pid < 0) {
        perror("spawn: fork");
        return 127;
    }
    if (pid == 0) {
        execv(argv[2], argv + 2);
        perror("spawn: execv");
        _exit(127);
    }
    do {
        r = wait4(pid, &status, 0, &ru);
    } while (r < 0 && errno == EINTR);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (r < 0) {
        perror("spawn: wait4");
        return 127;
    }
    out = fopen(argv[1], "w");
    if (out == NULL) {
        perror("spawn: OUTFILE");
        return 127;
    }
    fprintf(out, "%d %lld %lld %lld %ld\n",
            WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
            (long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec),
            (long long)ru.ru_utime.tv_sec * 1000000LL + ru.ru_utime.tv_usec,
            (long long)ru.ru_stime.tv_sec * 1000000LL + ru.ru_stime.tv_usec,
            ru.ru_maxrss);
    fclose(out);
    return 0;
}
