/* Tables of strings for terminal and Markdown output (table.h). */
#include "reports/table.h"

#include <stdlib.h>
#include <string.h>

int ope_table_init(ope_table *t, size_t n_cols, const char *const *header) {
  memset(t, 0, sizeof *t);
  if (n_cols == 0 || n_cols > OPE_TABLE_MAX_COLS) return -1;
  t->n_cols = n_cols;
  t->n_rows = 0;
  t->cap = 8;
  t->cell = calloc(t->cap * n_cols, sizeof *t->cell);
  if (!t->cell) return -1;
  for (size_t c = 0; c < n_cols; c++)
    snprintf(t->cell[c], OPE_TABLE_CELL, "%s", header[c] ? header[c] : "");
  return 0;
}

int ope_table_row(ope_table *t, const char *const *cells) {
  if (t->cell == NULL) return -1;
  if (t->n_rows + 2 > t->cap) {
    size_t cap = t->cap * 2;
    char (*grown)[OPE_TABLE_CELL] = realloc(t->cell, cap * t->n_cols * sizeof *t->cell);
    if (!grown) return -1;
    t->cell = grown;
    t->cap = cap;
  }
  t->n_rows++;
  for (size_t c = 0; c < t->n_cols; c++)
    snprintf(t->cell[t->n_rows * t->n_cols + c], OPE_TABLE_CELL, "%s",
             cells[c] ? cells[c] : "");
  return 0;
}

void ope_table_free(ope_table *t) {
  if (t == NULL) return;
  free(t->cell);
  memset(t, 0, sizeof *t);
}

/* Display width: UTF-8 continuation bytes take no column. */
static size_t width(const char *s) {
  size_t w = 0;
  for (; *s; s++) w += ((unsigned char)*s & 0xC0) != 0x80;
  return w;
}

/* Markdown cells may not hold a pipe. */
static void md_cell(const char *s, FILE *out) {
  for (; *s; s++) {
    if (*s == '|') fputs("\\|", out);
    else fputc(*s, out);
  }
}

void ope_table_write(const ope_table *t, int markdown, int indent, FILE *out) {
  size_t w[OPE_TABLE_MAX_COLS] = {0};
  if (t->cell == NULL) return;
  for (size_t r = 0; r <= t->n_rows; r++)
    for (size_t c = 0; c < t->n_cols; c++) {
      size_t x = width(t->cell[r * t->n_cols + c]);
      if (x > w[c]) w[c] = x;
    }
  size_t last_col = 0;
  for (size_t c = 0; c < t->n_cols; c++)
    if (!t->hide[c]) last_col = c;
  for (size_t r = 0; r <= t->n_rows; r++) {
    if (markdown) {
      fputc('|', out);
      for (size_t c = 0; c < t->n_cols; c++) {
        if (t->hide[c]) continue;
        fputc(' ', out);
        md_cell(t->cell[r * t->n_cols + c], out);
        fputs(" |", out);
      }
      fputc('\n', out);
      if (r == 0) {
        fputc('|', out);
        for (size_t c = 0; c < t->n_cols; c++)
          if (!t->hide[c]) fputs(t->right[c] ? " ---: |" : " --- |", out);
        fputc('\n', out);
      }
      continue;
    }
    /* the row ends at its last non-empty cell: no trailing blanks */
    size_t end = 0;
    for (size_t c = 0; c < t->n_cols; c++)
      if (!t->hide[c] && t->cell[r * t->n_cols + c][0]) end = c;
    fprintf(out, "%*s", indent, "");
    for (size_t c = 0; c <= end; c++) {
      const char *s = t->cell[r * t->n_cols + c];
      size_t pad = w[c] - width(s);
      int last = c == end;
      if (t->hide[c]) continue;
      if (t->right[c]) fprintf(out, "%*s%s", (int)pad, "", s);
      else if (last) fputs(s, out);
      else fprintf(out, "%s%*s", s, (int)pad, "");
      if (!last) fputs("  ", out);
    }
    fputc('\n', out);
    if (r == 0) {
      fprintf(out, "%*s", indent, "");
      size_t total = 0;
      for (size_t c = 0; c < t->n_cols; c++)
        if (!t->hide[c]) total += w[c] + (c != last_col ? 2 : 0);
      for (size_t k = 0; k < total; k++) fputc('-', out);
      fputc('\n', out);
    }
  }
}
