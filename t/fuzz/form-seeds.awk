# The form definitions of sql/007_catalog_seed.sql as a C table, for
# t/fuzz/fuzz_form.c: each procedure's slug (VALUES ('slug', ...) and the
# first $json$[...]$json$ after it, its fields.  t/fuzz/run counts them.
#
#   awk -f t/fuzz/form-seeds.awk sql/007_catalog_seed.sql > seeds.h

BEGIN {
    print "/* made by t/fuzz/run from sql/007_catalog_seed.sql */"
    print ""
    print "static const char  *ngx_http_portal_fuzz_seeds[][2] = {"
}

/^VALUES \('/ {
    slug = $0
    sub(/^VALUES \('/, "", slug)
    sub(/'.*/, "", slug)
    want = 1
    next
}

want && !body && index($0, "$json$[") {
    body = 1
    sub(/.*\$json\$\[/, "[")
    printf "    { \"%s\",\n", slug
}

body {
    line = $0
    last = sub(/\]\$json\$.*/, "]", line)
    gsub(/\\/, "\\\\", line)
    gsub(/"/, "\\\"", line)
    gsub(/\?/, "\\?", line)
    printf "      \"%s%s\"%s\n", line, last ? "" : "\\n", last ? " }," : ""

    if (last) {
        body = 0
        want = 0
    }
}

END {
    print "};"
}
