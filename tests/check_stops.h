/* check_stops.h — a programmer-error stop, tested: run fn in a child and
 * check that it aborts with a message holding want and the file:line of
 * one of the given source files (at2 may be NULL). Needs check.h first. */
#ifndef CHAINRULE_TEST_CHECK_STOPS_H
#define CHAINRULE_TEST_CHECK_STOPS_H

#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void check_stops_in(void (*fn)(void), const char *want, const char *at1, const char *at2)
{
    int fd[2];
    if (pipe(fd) != 0) { CHECK(0); return; }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd[1], 2);
        close(fd[0]);
        fn();
        _exit(0);
    }
    close(fd[1]);
    char buf[1024] = {0};
    ssize_t n = 0, k;
    while (n < (ssize_t)sizeof buf - 1 && (k = read(fd[0], buf + n, sizeof buf - 1 - (size_t)n)) > 0) n += k;
    close(fd[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
    if (!strstr(buf, want)) printf("stderr was: %s\nwanted: %s\n", buf, want);
    CHECK(strstr(buf, want) != NULL);
    CHECK(strstr(buf, at1) != NULL || (at2 && strstr(buf, at2) != NULL));
}

#endif
