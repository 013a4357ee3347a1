#ifndef LEDGER_CZSTD_SHIM_H
#define LEDGER_CZSTD_SHIM_H
// The advanced parameters (magicless frames) are enum values passed to stable functions.
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>
#include <zstd_errors.h>
#include <zdict.h>
#endif
