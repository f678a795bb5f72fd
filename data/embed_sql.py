#!/usr/bin/env python3
"""Embed the store's migration files into C: an array of SQL strings, one per
schema version, in file order. Usage: embed_sql.py OUT.c IN.sql..."""
import sys

out, inputs = sys.argv[1], sys.argv[2:]
with open(out, "w", encoding="utf-8") as f:
    f.write("/* Generated from the files in data/schema by data/embed_sql.py. */\n")
    f.write("#include <stddef.h>\n")
    f.write("extern const char *const ope_schema_migrations[];\n")
    f.write("extern const size_t ope_schema_n_migrations;\n")
    f.write("const char *const ope_schema_migrations[] = {\n")
    for path in inputs:
        with open(path, encoding="utf-8") as src:
            text = src.read()
        f.write("  /* %s */\n" % path.split("/")[-1])
        for line in text.splitlines():
            f.write('  "%s\\n"\n' % line.replace("\\", "\\\\").replace('"', '\\"'))
        f.write("  ,\n")
    f.write("};\n")
    f.write("const size_t ope_schema_n_migrations = %d;\n" % len(inputs))
