/*
 * filetrust.h - may this file steer a daemon? sshd StrictModes for the
 * relayguard config and the files it includes (file:/path lists).
 *
 * A daemon calls rg_file_trust_enable() once at start, before it drops
 * privileges and before any thread exists: it records who started it
 * (the effective uid and gid). From then on rg_config_load() and the
 * file: lists of TrustedNetworks, LocalDomains and RelayDomains refuse a
 * file, with the reason, that
 *   - is not a regular file;
 *   - anybody may write (mode o+w);
 *   - its group may write, unless that group is root (or, for a daemon
 *     started by an ordinary user, that user's group);
 *   - belongs to anyone but root or the user that started the daemon - so
 *     a config owned by the UserID user, which a compromised daemon could
 *     rewrite and reload, is refused;
 *   - has a POSIX ACL whose named user or group entry may write (ls -l
 *     shows only the ACL's mask, as the group bits), unless it names root
 *     or the starting user (group);
 *   - lies below a directory - any on its path up to /, as sshd walks
 *     them - that anybody may write without the sticky bit, that belongs
 *     to anyone but root or the starting user, or whose ACL lets another
 *     user or group write (each could replace the file).
 * The same holds at reload (SIGUSR1), after the privilege drop: the rule
 * uses the uid recorded at start. Without rg_file_trust_enable() (the
 * auditor, unit tests) nothing is checked.
 *
 * rg_file_trusted() checks an open file (fstat, so what is checked is what
 * is read) and every directory on its path: 0, or -1 with "PATH: why" in
 * err.
 */
#ifndef RELAYGUARD_FILETRUST_H
#define RELAYGUARD_FILETRUST_H

#include <stdbool.h>
#include <stddef.h>

void rg_file_trust_enable(void);
bool rg_file_trust_enabled(void);
int rg_file_trusted(int fd, const char *path, char *err, size_t errlen);

#endif
