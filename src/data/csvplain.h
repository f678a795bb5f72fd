/* The fast path of the CSV readers: a plain line (no quote, no carriage
 * return but one just before its '\n') split at its commas here instead of
 * by libcsv, giving the same fields and the same callbacks as libcsv with
 * CSV_STRICT | CSV_APPEND_NULL | CSV_EMPTY_IS_NULL: spaces and tabs around
 * a field trimmed, an empty field passed as NULL, every field
 * NUL-terminated, a blank line no record. Any other line is left to
 * libcsv. Most lines of a log are plain, and libcsv's byte-at-a-time
 * state machine was the largest cost of reading them. */
#ifndef OPE_DATA_CSVPLAIN_H
#define OPE_DATA_CSVPLAIN_H

#include <stddef.h>

/* Room for the longest line the fast path takes; longer lines go to
 * libcsv. */
#define OPE_CSV_PLAIN_MAX 65536

/* Line [q, end), end just past its '\n', split as libcsv would into
 * on_field / on_row calls (on_row's c is '\n'), using scratch (at least
 * OPE_CSV_PLAIN_MAX bytes; [q, end) itself is never written). The caller
 * must be at a record boundary (libcsv has no row begun). Returns 1 when
 * the line was handled, 0 when it is not plain (nothing was called). */
int ope_csv_plain_line(const char *q, const char *end, char *scratch,
                       void (*on_field)(void *field, size_t len, void *ctx),
                       void (*on_row)(int c, void *ctx), void *ctx);

#endif
