/*
 * daemon.h - relayguard-milter's privileged start: the user it runs as,
 * the unix socket's directory and ownership, the privilege drop.
 *
 * Order in main(): milter_user_lookup() (UserID user[:group]);
 * milter_socket_dir_prepare() before smfi_opensocket() (a missing
 * directory is created 0750, owned by the UserID user and group; one that
 * anybody may write without the sticky bit is refused); smfi_opensocket()
 * under umask ~SocketMode; milter_socket_give() hands the socket to the
 * UserID user and group, so that with "UserID relayguard:postfix" and
 * "SocketMode 0660" Postfix's smtpd (group postfix) can connect; then
 * milter_drop_privileges(). Every failure is fatal with its reason.
 */
#ifndef RELAYGUARD_MILTER_DAEMON_H
#define RELAYGUARD_MILTER_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct milter_user {
	bool set;		/* UserID given */
	uid_t uid;
	gid_t gid;		/* the group after ':', else the user's */
	char name[128];		/* user name, for the log */
};

/* spec: "user[:group]" or NULL (u->set false). 0, or -1 with err. */
int milter_user_lookup(const char *spec, struct milter_user *u, char *err,
    size_t errlen);

/* The file system path of a unix:/local: socket spec, else NULL. */
const char *milter_socket_path(const char *spec);

/* Create or check the directory of a unix socket (no-op for inet). */
void milter_socket_dir_prepare(const char *spec, const struct milter_user *u);
/* After smfi_opensocket(): the socket to the UserID user and group. */
void milter_socket_give(const char *spec, const struct milter_user *u);

/*
 * A unix socket another process still answers on (a running instance,
 * with or without PidFile) is never taken over: milter_socket_check_free()
 * before smfi_opensocket() connects to an existing socket node and stops
 * the start when it answers (a stale node, ECONNREFUSED, is libmilter's to
 * remove). milter_socket_note() after the open remembers the node's
 * device and inode; milter_socket_remove() at exit unlinks the path only if
 * it is still that node, never a later instance's socket.
 */
void milter_socket_check_free(const char *spec);
void milter_socket_note(const char *spec);
void milter_socket_remove(const char *spec);

/*
 * PidFile, held like Postfix's master holds its pid file: opened before the
 * socket is touched, without following a symbolic link (O_NOFOLLOW), a
 * regular file with one link, owned by us or the UserID user, mode 0600
 * (one others may open, others may lock: a local user could then stop
 * every restart); locked with
 * flock(LOCK_EX|LOCK_NB) for the daemon's life (the lock survives the
 * detach fork). A second instance finds the lock taken and stops with the
 * first one's pid, before it touches the socket (when the pid it names is
 * not running, the message says so). A missing directory is
 * created 0755 for the UserID user, so that the file can be removed at exit
 * after the privilege drop; in a directory the user cannot write, the file
 * is emptied at exit instead (and the start says so). path NULL: no-op.
 */
void milter_pidfile_open(const char *path, const struct milter_user *u);
/* After the detach: write this process's id. */
void milter_pidfile_write(void);
/* Remove the pid file if it is still ours (also registered with atexit). */
void milter_pidfile_remove(void);

/* setgroups, setresgid, setresuid to u (no-op when !u->set or already). */
void milter_drop_privileges(const struct milter_user *u);

#endif
