/* Reading decimal numbers exactly and faster than strtod, for the readers
 * of the log CSV and the policy-scores CSV: a strict grammar scanned into a
 * mantissa and a power of ten, converted here when that can be done
 * exactly, by strtod otherwise. */
#ifndef OPE_CORE_DECIMAL_H
#define OPE_CORE_DECIMAL_H

#include <stdint.h>

/* The double nearest to w * 10^p (negated when neg), correctly rounded as
 * strtod would, into *out; returns 1. Returns 0 (the caller then uses
 * strtod) when this path cannot be sure: |p| > 27, the value lies exactly
 * half-way between two doubles after the first rounding, or long double
 * arithmetic here does not carry a 64-bit significand (an x87 set to double
 * precision, or valgrind, which computes long double in double). w is any
 * 64-bit mantissa (at most 19 decimal digits always fit). */
int ope_decimal_to_double(uint64_t w, int p, int neg, double *out);

/* s as [+-]digits[.digits][(e|E)[+-]digits] (at least one digit; the whole
 * string) into *out, exactly as strtod reads it. Returns 0 on success, 1
 * when s is not of that form, 2 for nan or inf, 3 when the value is beyond
 * the double range. */
int ope_decimal_parse(const char *s, double *out);

#endif
