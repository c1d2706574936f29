# gen_callcodes.awk: turn data/calling-codes.tsv into the C tables of
# src/core/cr_callcode.c.  Codes are prefix-free, 1 to 3 digits long, so a
# table indexed by the first three digits of a number finds its code.
BEGIN { FS = "\t"; n = 0 }
/^#/ { next }
$1 == "code" { next }
NF >= 2 {
	if ($1 !~ /^[1-9][0-9]?[0-9]?$/) { print "bad code: " $1 > "/dev/stderr"; exit 1 }
	n++; code[n] = $1; regions[n] = $2
}
END {
	print "/* Generated from data/calling-codes.tsv by src/core/gen_callcodes.awk: do not edit. */"
	print "static const struct cr_cc_entry cr_cc_codes[] = {"
	for (i = 1; i <= n; i++)
		printf "\t{%d, %d, \"%s\"},\n", code[i], length(code[i]), regions[i]
	print "};"
	printf "#define CR_CC_NCODES %d\n", n
	print "/* 1-based index into cr_cc_codes of the code prefixing each 3-digit string, 0: none */"
	print "static const unsigned char cr_cc_prefix3[1000] = {"
	for (p = 0; p < 1000; p++) {
		s = sprintf("%03d", p); found = 0
		for (i = 1; i <= n; i++)
			if (substr(s, 1, length(code[i])) == code[i]) {
				if (found) { print "codes not prefix-free at " s > "/dev/stderr"; exit 1 }
				found = i
			}
		printf "%d,%s", found, (p % 20 == 19) ? "\n" : ""
	}
	print "};"
}
