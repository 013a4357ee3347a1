// The peer credentials of a Unix-domain socket (SO_PEERCRED), for ledgerd's roles. Linux's `struct ucred` is only
// declared with _GNU_SOURCE, which would change other system types under Swift's modules; this struct has its layout.
#ifndef LEDGER_PEER_CREDENTIALS_H
#define LEDGER_PEER_CREDENTIALS_H
#include <stdint.h>
#include <sys/socket.h>

/// The kernel's view of the process at the other end of a Unix-domain socket (the layout of `struct ucred`).
typedef struct {
    int32_t pid;
    uint32_t uid;
    uint32_t gid;
} ledger_ucred;

/// SOL_SOCKET and SO_PEERCRED, as Swift cannot read the macros.
static inline int ledger_sol_socket(void) { return SOL_SOCKET; }
static inline int ledger_so_peercred(void) { return SO_PEERCRED; }

#endif
