/* Number formatting for the files ope writes (CSV, JSON, reports): the
 * shortest decimal string that reads back to the same double (C locale,
 * '.' as the point, exponent form for very large or small magnitudes). */
#ifndef OPE_DATA_NUMFMT_H
#define OPE_DATA_NUMFMT_H

/* Buffer size that always suffices. */
#define OPE_NUMFMT_MAX 32

/* Write x into buf (at least OPE_NUMFMT_MAX bytes), NUL-terminated; return
 * the length. x must be finite; callers decide how to spell inf/NaN. */
int ope_numfmt_double(char *buf, double x);

/* Write a signed 64-bit integer; return the length. */
int ope_numfmt_int(char *buf, long long v);

#endif
