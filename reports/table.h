/* A small table of strings for the text and Markdown renderers: columns
 * padded to their widest cell (text) or separated by pipes (Markdown).
 * Cells are copied (truncated at OPE_TABLE_CELL - 1 bytes). */
#ifndef OPE_REPORTS_TABLE_H
#define OPE_REPORTS_TABLE_H

#include <stddef.h>
#include <stdio.h>

#define OPE_TABLE_MAX_COLS 16
#define OPE_TABLE_CELL 160

typedef struct ope_table {
  size_t n_cols, n_rows, cap;
  int right[OPE_TABLE_MAX_COLS];   /* 1: right-aligned (numbers) */
  int hide[OPE_TABLE_MAX_COLS];    /* 1: not written */
  char (*cell)[OPE_TABLE_CELL];    /* (n_rows + 1, n_cols), row 0 the header */
} ope_table;

/* Start a table with the given header (n_cols <= OPE_TABLE_MAX_COLS).
 * Returns 0, or -1 when out of memory. */
int ope_table_init(ope_table *t, size_t n_cols, const char *const *header);
/* Append a row of n_cols cells; NULL cells are empty. -1 when out of memory. */
int ope_table_row(ope_table *t, const char *const *cells);
void ope_table_free(ope_table *t);
/* Write t: markdown != 0 for a Markdown table, else aligned text with a
 * rule under the header; indent spaces before each text line. */
void ope_table_write(const ope_table *t, int markdown, int indent, FILE *out);

#endif
