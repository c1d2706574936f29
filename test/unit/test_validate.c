/*
 * test_validate.c
 *	  Unit tests of the address and identifier checks, calling codes,
 *	  geography, JSON numbers, names, excerpts and the sticky score.
 */
#include "test_common.h"

#include <stdlib.h>

#define S(lit) (lit), (sizeof(lit) - 1)	/* a literal as (bytes, length) */

/* ---------------------------------------------------------------------
 * E.164
 * ---------------------------------------------------------------------
 */
static void
test_e164_valid(void **state)
{
	(void) state;
	assert_true(cr_is_e164(S("+12")));	/* 2 digits: the minimum */
	assert_true(cr_is_e164(S("+99")));
	assert_true(cr_is_e164(S("+14155552671")));
	assert_true(cr_is_e164(S("+447911123456")));
	assert_true(cr_is_e164(S("+123456789012345")));	/* 15 digits: the maximum */
	assert_true(cr_is_e164(S("+100000000000000")));	/* zeros after the first */
}

static void
test_e164_invalid(void **state)
{
	(void) state;
	assert_false(cr_is_e164(S("")));
	assert_false(cr_is_e164(S("+")));
	assert_false(cr_is_e164(S("+1")));	/* 1 digit */
	assert_false(cr_is_e164(S("+1234567890123456")));	/* 16 digits */
	assert_false(cr_is_e164(S("+12345678901234567890")));
	assert_false(cr_is_e164(S("+0")));
	assert_false(cr_is_e164(S("+01")));	/* leading 0 */
	assert_false(cr_is_e164(S("+04155552671")));
	assert_false(cr_is_e164(S("14155552671")));	/* missing + */
	assert_false(cr_is_e164(S("0014155552671")));
	assert_false(cr_is_e164(S("++14155552671")));
	assert_false(cr_is_e164(S("+1415555267a")));
	assert_false(cr_is_e164(S("+1 4155552671")));
	assert_false(cr_is_e164(S("+1-415-555-2671")));
	assert_false(cr_is_e164(S("+14155552671 ")));
	assert_false(cr_is_e164(S(" +14155552671")));
	assert_false(cr_is_e164(S("+-12")));
	assert_false(cr_is_e164(S("+1415/555")));	/* '/' is just below '0' */
	assert_false(cr_is_e164(S("+1415:555")));	/* ':' is just above '9' */
	assert_false(cr_is_e164(S("+\xef\xbc\x91\xef\xbc\x92")));	/* full-width digits */
	assert_false(cr_is_e164(S("+\xd9\xa1\xd9\xa2")));	/* Arabic-Indic digits */
	assert_false(cr_is_e164(S("+12\0" "3")));	/* embedded NUL */
	assert_false(cr_is_e164(S("whatsapp:+14155552671")));
}

static void
test_e164_uses_length(void **state)
{
	const char	buf[3] = {'+', '1', '2'};	/* not NUL-terminated */

	(void) state;
	assert_true(cr_is_e164(buf, 3));
	assert_false(cr_is_e164(buf, 2));
	assert_true(cr_is_e164("+1234567890123456789", 16));	/* first 15 digits */
	assert_false(cr_is_e164("+1234567890123456789", 17));
	assert_true(cr_is_e164("+12x", 3));
}

/* ---------------------------------------------------------------------
 * Email
 * ---------------------------------------------------------------------
 */
static char *
repeat(char *buf, const char *unit, int times)
{
	buf[0] = '\0';
	for (int i = 0; i < times; i++)
		strcat(buf, unit);
	return buf;
}

static bool
email(const char *s)
{
	return cr_is_email(s, strlen(s));
}

static void
test_email_valid(void **state)
{
	(void) state;
	assert_true(email("a@b.c"));
	assert_true(email("alice@example.com"));
	assert_true(email("first.last+tag@sub.example.co.uk"));
	assert_true(email("jos\xc3\xa9@example.com"));	/* U+00E9 */
	assert_true(email("\xe6\x97\xa5\xe6\x9c\xac@\xe4\xbe\x8b\xe3\x81\x88.jp"));
	assert_true(email("smile\xf0\x9f\x98\x80@example.com"));	/* 4-byte UTF-8 */
	assert_true(email("a\xe2\x80\x8b" "b@example.com"));	/* U+200B: not White_Space */
	assert_true(email("a\xc2\xa1" "b@example.com"));	/* U+00A1 */
	assert_true(email("a\xe1\xa0\x8e" "b@example.com"));	/* U+180E: not White_Space */
	assert_true(email("a\xef\xbb\xbf" "b@example.com"));	/* U+FEFF */
	assert_true(email("a\xe2\x80\x8c" "b@example.com"));	/* U+200C, just past U+200A */
	assert_true(email("a\xe2\x80\x8d" "b@example.com"));	/* U+200D */
	assert_true(email("a!#$%&'*+/=?^_`{|}~-b@example.com"));
	assert_true(email("a@xn--bcher-kva.example"));
	assert_true(email("a@1.2"));
}

static void
test_email_local_part_length(void **state)
{
	char		local[300],
				addr[400];

	(void) state;
	repeat(local, "a", 64);
	snprintf(addr, sizeof(addr), "%s@example.com", local);
	assert_true(email(addr));	/* 64 octets */
	repeat(local, "a", 65);
	snprintf(addr, sizeof(addr), "%s@example.com", local);
	assert_false(email(addr));	/* 65 octets */

	/* octets, not characters: 32 x U+00E9 is 64 octets, 33 is 66 */
	repeat(local, "\xc3\xa9", 32);
	snprintf(addr, sizeof(addr), "%s@example.com", local);
	assert_true(email(addr));
	repeat(local, "\xc3\xa9", 33);
	snprintf(addr, sizeof(addr), "%s@example.com", local);
	assert_false(email(addr));
	/* 63 + a 2-octet character = 65 octets */
	repeat(local, "a", 63);
	strcat(local, "\xc3\xa9");
	snprintf(addr, sizeof(addr), "%s@example.com", local);
	assert_false(email(addr));
}

static void
test_email_total_length(void **state)
{
	char		a63[64],
				b63[64],
				local[80],
				last[80],
				addr[400];

	(void) state;
	repeat(a63, "b", 63);
	repeat(b63, "c", 63);
	repeat(local, "a", 64);

	/* 64 + 1 + 63 + 1 + 63 + 1 + 61 = 254 octets */
	repeat(last, "d", 61);
	snprintf(addr, sizeof(addr), "%s@%s.%s.%s", local, a63, b63, last);
	assert_int_equal(strlen(addr), 254);
	assert_true(email(addr));

	repeat(last, "d", 62);
	snprintf(addr, sizeof(addr), "%s@%s.%s.%s", local, a63, b63, last);
	assert_int_equal(strlen(addr), 255);
	assert_false(email(addr));

	/* octets, not characters: a label of 30 x U+00E9 is 60 octets */
	repeat(last, "\xc3\xa9", 30);
	/* 64 + 1 + 63 + 1 + 60 + 1 = 190, then a last label up to 254 in all */
	{
		char		pad[80];

		repeat(pad, "x", 254 - 190);
		snprintf(addr, sizeof(addr), "%s@%s.%s.%s", local, a63, last, pad);
		assert_int_equal(strlen(addr), 254);
		assert_true(email(addr));
		repeat(pad, "x", 255 - 190);
		snprintf(addr, sizeof(addr), "%s@%s.%s.%s", local, a63, last, pad);
		assert_int_equal(strlen(addr), 255);
		assert_false(email(addr));
	}
}

static void
test_email_structure(void **state)
{
	(void) state;
	assert_false(email(""));
	assert_false(email("alice.example.com"));	/* no @ */
	assert_false(email("@example.com"));	/* empty local part */
	assert_false(email("alice@"));	/* empty domain */
	assert_false(email("@"));
	assert_false(email("alice@localhost"));	/* one-label domain */
	assert_false(email("alice@com"));
	assert_false(email("alice@.example.com"));	/* empty labels */
	assert_false(email("alice@example..com"));
	assert_false(email("alice@example.com."));
	assert_false(email("alice@."));
	assert_false(email("alice@.."));
	assert_false(email("a@b@example.com"));	/* two @ */
	assert_false(email("a@@example.com"));
	assert_false(email("a@example.com@"));
	assert_false(email("@a@example.com"));
}

static void
test_email_whitespace_and_controls(void **state)
{
	static const char *const bad[] = {
		"a b@example.com", "a@exa mple.com", " a@example.com", "a@example.com ",
		"a\t@example.com", "a@example.com\n", "a\r@example.com", "a\v@example.com",
		"a\f@example.com",
		"a\x01@example.com", "a\x1f@example.com", "a\x7f@example.com",
		"a\xc2\x80@example.com",	/* U+0080 */
		"a\xc2\x85@example.com",	/* U+0085 NEL */
		"a\xc2\x9f@example.com",	/* U+009F */
		"a\xc2\xa0" "b@example.com",	/* U+00A0 NO-BREAK SPACE */
		"a\xe1\x9a\x80" "b@example.com",	/* U+1680 */
		"a\xe2\x80\x80" "b@example.com",	/* U+2000 */
		"a\xe2\x80\x85" "b@example.com",	/* U+2005 */
		"a\xe2\x80\x8a" "b@example.com",	/* U+200A */
		"a\xe2\x80\xa8" "b@example.com",	/* U+2028 */
		"a\xe2\x80\xa9" "b@example.com",	/* U+2029 */
		"a\xe2\x80\xaf" "b@example.com",	/* U+202F */
		"a\xe2\x81\x9f" "b@example.com",	/* U+205F */
		"a\xe3\x80\x80" "b@example.com",	/* U+3000 IDEOGRAPHIC SPACE */
		"a@example\xe3\x80\x80.com",
		"a@example.com\xc2\xa0",
		NULL
	};

	(void) state;
	for (int i = 0; bad[i]; i++)
		if (email(bad[i]))
			fail_msg("cr_is_email accepted bad[%d]", i);
	/* NUL inside the explicit length */
	assert_false(cr_is_email(S("a\0b@example.com")));
	assert_false(cr_is_email(S("a@example.com\0")));
}

static void
test_email_invalid_utf8(void **state)
{
	static const char *const bad[] = {
		"a\x80@example.com",	/* lone continuation byte */
		"a\xbf@example.com",
		"a\xc3@example.com",	/* truncated 2-byte sequence */
		"a@example.com\xc3",	/* truncated at the end */
		"a@example.com\xe2\x80",
		"a@example.com\xf0\x9f\x98",
		"a\xc0\xaf@example.com",	/* overlong '/' */
		"a\xc1\xbf@example.com",
		"a\xe0\x80\xaf@example.com",	/* overlong 3-byte '/' */
		"a\xe0\x82\xa9@example.com",	/* overlong 3-byte U+00A9 */
		"a\xe0\x9f\xbf@example.com",	/* overlong 3-byte U+07FF */
		"a\xf0\x80\x80\xaf@example.com",	/* overlong 4-byte '/' */
		"a\xf0\x82\x82\xac@example.com",	/* overlong 4-byte U+20AC */
		"a\xf0\x8f\xbf\xbf@example.com",	/* overlong 4-byte U+FFFF */
		"a\xed\xa0\x80@example.com",	/* surrogate U+D800 */
		"a\xed\xbf\xbf@example.com",	/* surrogate U+DFFF */
		"a\xf4\x90\x80\x80@example.com",	/* U+110000 */
		"a\xf5\x80\x80\x80@example.com",
		"a\xf8\x88\x80\x80\x80@example.com",
		"a\xfe@example.com", "a\xff@example.com",
		"a\xe2\x28\xa1@example.com",	/* bad continuation */
		NULL
	};

	(void) state;
	for (int i = 0; bad[i]; i++)
		if (email(bad[i]))
			fail_msg("cr_is_email accepted invalid UTF-8 bad[%d]", i);
	/* the largest code point and the last before the surrogates are fine */
	assert_true(email("a\xf4\x8f\xbf\xbf@example.com"));
	assert_true(email("a\xed\x9f\xbf@example.com"));
	assert_true(email("a\xee\x80\x80@example.com"));
	/* the smallest code points of each length */
	assert_true(email("a\xc2\xa1@example.com"));
	assert_true(email("a\xe0\xa0\x80@example.com"));	/* U+0800 */
	assert_true(email("a\xf0\x90\x80\x80@example.com"));	/* U+10000 */
	/* a sequence cut by the explicit length */
	assert_false(cr_is_email("a@example.com\xc3\xa9", 14));
	assert_true(cr_is_email("a@example.com\xc3\xa9", 13));
}

static void
test_utf8_chars(void **state)
{
	(void) state;
	assert_int_equal(cr_utf8_chars(S("")), 0);
	assert_int_equal(cr_utf8_chars(S("abc")), 3);
	assert_int_equal(cr_utf8_chars(S("\xc3\xa9")), 1);
	assert_int_equal(cr_utf8_chars(S("\xe6\x97\xa5\xe6\x9c\xac")), 2);
	assert_int_equal(cr_utf8_chars(S("\xf0\x9f\x98\x80x")), 2);
}

/* ---------------------------------------------------------------------
 * TypeIDs
 * ---------------------------------------------------------------------
 */
static void
parse_uuid(const char *text, uint8_t out[16])
{
	int			k = 0;

	for (const char *p = text; *p && k < 32; p++)
	{
		int			v;

		if (*p == '-')
			continue;
		v = (*p >= '0' && *p <= '9') ? *p - '0' : (*p | 0x20) - 'a' + 10;
		if (k % 2 == 0)
			out[k / 2] = (uint8_t) (v << 4);
		else
			out[k / 2] |= (uint8_t) v;
		k++;
	}
	assert_int_equal(k, 32);
}

static void
test_typeid_suffix(void **state)
{
	/* TypeID spec test vectors; checked independently with Python */
	static const struct
	{
		const char *uuid;
		const char *suffix;
	}			cases[] = {
		{"01890a5d-ac96-774b-bcce-b302099a8057", "01h455vb4pex5vsknk084sn02q"},
		{"00000000-0000-0000-0000-000000000000", "00000000000000000000000000"},
		{"00000000-0000-0000-0000-000000000001", "00000000000000000000000001"},
		{"00000000-0000-0000-0000-00000000000a", "0000000000000000000000000a"},
		{"00000000-0000-0000-0000-000000000010", "0000000000000000000000000g"},
		{"00000000-0000-0000-0000-000000000020", "00000000000000000000000010"},
		{"ffffffff-ffff-ffff-ffff-ffffffffffff", "7zzzzzzzzzzzzzzzzzzzzzzzzz"},
		{"01234567-89ab-cdef-0123-456789abcdef", "014d2pf2dbsqqg28t5cy4tqkff"},
	};

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		uint8_t		u[16];
		char		out[28];
		char		id[64];

		memset(out, 'X', sizeof(out));
		parse_uuid(cases[i].uuid, u);
		cr_typeid_suffix(u, out);
		assert_string_equal(out, cases[i].suffix);
		snprintf(id, sizeof(id), "comms_sender_%s", out);
		assert_true(cr_is_typeid(CR_SENDER_PREFIX, id, strlen(id)));
	}
}

static bool
typeid(const char *prefix, const char *s)
{
	return cr_is_typeid(prefix, s, strlen(s));
}

static void
test_is_typeid(void **state)
{
	char		id[128];

	(void) state;
	assert_true(typeid(CR_SENDER_PREFIX, "comms_sender_01h455vb4pex5vsknk084sn02q"));
	assert_true(typeid(CR_POOL_PREFIX, "comms_senderpool_01h455vb4pex5vsknk084sn02q"));
	assert_true(typeid(CR_SENDER_PREFIX, "comms_sender_7zzzzzzzzzzzzzzzzzzzzzzzzz"));
	assert_true(typeid(CR_SENDER_PREFIX, "comms_sender_00000000000000000000000000"));
	assert_true(typeid("comms_credential", "comms_credential_01h9krwprkeee8fzqspvwy6nq8"));

	/* suffix length: [0-7] then 25..34 characters */
	snprintf(id, sizeof(id), "comms_sender_%s", "0123456789abcdefghjkmnpqr");	/* 25 */
	assert_false(typeid(CR_SENDER_PREFIX, id));
	snprintf(id, sizeof(id), "comms_sender_%s", "0123456789abcdefghjkmnpqrs");	/* 26 */
	assert_true(typeid(CR_SENDER_PREFIX, id));
	snprintf(id, sizeof(id), "comms_sender_%s", "0123456789abcdefghjkmnpqrstvwxyz012");	/* 35 */
	assert_true(typeid(CR_SENDER_PREFIX, id));
	snprintf(id, sizeof(id), "comms_sender_%s", "0123456789abcdefghjkmnpqrstvwxyz0123");	/* 36 */
	assert_false(typeid(CR_SENDER_PREFIX, id));

	/* first character 0-7 */
	assert_true(typeid(CR_SENDER_PREFIX, "comms_sender_71h455vb4pex5vsknk084sn02q"));
	assert_false(typeid(CR_SENDER_PREFIX, "comms_sender_81h455vb4pex5vsknk084sn02q"));
	assert_false(typeid(CR_SENDER_PREFIX, "comms_sender_z1h455vb4pex5vsknk084sn02q"));

	/* alphabet: lower-case Crockford, no i l o u */
	assert_false(typeid(CR_SENDER_PREFIX, "comms_sender_01H455vb4pex5vsknk084sn02q"));
	assert_false(typeid(CR_SENDER_PREFIX, "comms_sender_01h455vb4pex5vsknk084sn02i"));
	assert_false(typeid(CR_SENDER_PREFIX, "comms_sender_01h455vb4pex5vsknk084sn02l"));
	assert_false(typeid(CR_SENDER_PREFIX, "comms_sender_01h455vb4pex5vsknk084sn02o"));
	assert_false(typeid(CR_SENDER_PREFIX, "comms_sender_01h455vb4pex5vsknk084sn02u"));
	assert_false(typeid(CR_SENDER_PREFIX, "comms_sender_01h455vb4pex5vsknk084sn02-"));
	assert_false(typeid(CR_SENDER_PREFIX, "comms_sender_01h455vb4pex5vsknk084sn02_"));
	assert_false(typeid(CR_SENDER_PREFIX, "comms_sender_01h455vb4pex5vsknk084sn02 "));

	/* prefix and separator */
	assert_false(typeid(CR_SENDER_PREFIX, "comms_senderpool_01h455vb4pex5vsknk084sn02q"));
	assert_false(typeid(CR_POOL_PREFIX, "comms_sender_01h455vb4pex5vsknk084sn02q"));
	assert_false(typeid(CR_SENDER_PREFIX, "comms_sender01h455vb4pex5vsknk084sn02q"));
	assert_false(typeid(CR_SENDER_PREFIX, "comms_sender-01h455vb4pex5vsknk084sn02q"));
	assert_false(typeid(CR_SENDER_PREFIX, "Comms_sender_01h455vb4pex5vsknk084sn02q"));
	assert_false(typeid(CR_SENDER_PREFIX, "01h455vb4pex5vsknk084sn02q"));
	assert_false(typeid(CR_SENDER_PREFIX, "comms_sender_"));
	assert_false(typeid(CR_SENDER_PREFIX, "comms_sender"));
	assert_false(typeid(CR_SENDER_PREFIX, "comms"));
	assert_false(typeid(CR_SENDER_PREFIX, ""));
	assert_false(typeid(CR_SENDER_PREFIX, " comms_sender_01h455vb4pex5vsknk084sn02q"));
	/* explicit length */
	assert_false(cr_is_typeid(CR_SENDER_PREFIX, "comms_sender_01h455vb4pex5vsknk084sn02q", 38));
	assert_true(cr_is_typeid(CR_SENDER_PREFIX, "comms_sender_01h455vb4pex5vsknk084sn02qXYZ", 39));
}

static void
test_is_typeid_prefix(void **state)
{
	char		p[80];

	(void) state;
	assert_true(cr_is_typeid_prefix(S("comms_sender")));
	assert_true(cr_is_typeid_prefix(S("a")));
	assert_true(cr_is_typeid_prefix(S("a__b")));
	assert_false(cr_is_typeid_prefix(S("")));
	assert_false(cr_is_typeid_prefix(S("_a")));
	assert_false(cr_is_typeid_prefix(S("a_")));
	assert_false(cr_is_typeid_prefix(S("_")));
	assert_false(cr_is_typeid_prefix(S("A")));
	assert_false(cr_is_typeid_prefix(S("a1")));
	assert_false(cr_is_typeid_prefix(S("a-b")));
	repeat(p, "a", 63);
	assert_true(cr_is_typeid_prefix(p, 63));
	repeat(p, "a", 64);
	assert_false(cr_is_typeid_prefix(p, 64));
}

/* ---------------------------------------------------------------------
 * Calling codes and geography
 * ---------------------------------------------------------------------
 */
static int
ccode(const char *s, int *digits)
{
	*digits = 99;
	return cr_calling_code(s, strlen(s), digits);
}

static void
test_calling_code(void **state)
{
	static const struct
	{
		const char *number;
		int			code;
		int			digits;
	}			cases[] = {
		{"+14155552671", 1, 1},	/* NANP: 1-digit code */
		{"+12", 1, 1},			/* a 2-digit number */
		{"+19", 1, 1},
		{"+79161234567", 7, 1},	/* RU/KZ: 1-digit code */
		{"+77", 7, 1},
		{"+447911123456", 44, 2},
		{"+44", 44, 2},			/* the code is the whole number */
		{"+33612345678", 33, 2},
		{"+35312345678", 353, 3},	/* 3-digit codes */
		{"+353", 353, 3},
		{"+88012345", 880, 3},
		{"+80012345678", 800, 3},	/* non-geographic */
		{"+97912345678", 979, 3},
		{"+998123456789", 998, 3},
		{"+35", 0, 0},			/* prefix of 35x only: too short */
		{"+21", 0, 0},
		{"+50", 0, 0},
		{"+2812345678", 0, 0},	/* unassigned prefixes */
		{"+21012345", 0, 0},
		{"+21412345", 0, 0},
		{"+38412345", 0, 0},
		{"+42212345", 0, 0},
		{"+80112345", 0, 0},
		{"+96912345", 0, 0},
		{"+99012345", 0, 0},
		{"+99912345", 0, 0},
		{"+999", 0, 0},
		{"14155552671", 0, 0},	/* not E.164 */
		{"+04155552671", 0, 0},
		{"+1", 0, 0},
		{"+7", 0, 0},
		{"+1234567890123456", 0, 0},
		{"", 0, 0},
	};

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		int			digits;
		int			code = ccode(cases[i].number, &digits);

		if (code != cases[i].code || digits != cases[i].digits)
			fail_msg("cr_calling_code(\"%s\") = %d (%d digits), expected %d (%d digits)",
					 cases[i].number, code, digits, cases[i].code, cases[i].digits);
	}
}

static void
test_calling_code_regions(void **state)
{
	const char *r;

	(void) state;
	r = cr_calling_code_regions(1);
	assert_non_null(r);
	assert_true(strncmp(r, "US,", 3) == 0);
	assert_non_null(strstr(r, "CA"));
	assert_string_equal(cr_calling_code_regions(7), "RU,KZ");
	assert_string_equal(cr_calling_code_regions(44), "GB,GG,IM,JE");
	assert_string_equal(cr_calling_code_regions(353), "IE");
	assert_string_equal(cr_calling_code_regions(800), "001");
	assert_null(cr_calling_code_regions(0));
	assert_null(cr_calling_code_regions(2));
	assert_null(cr_calling_code_regions(28));
	assert_null(cr_calling_code_regions(35));
	assert_null(cr_calling_code_regions(999));
	assert_null(cr_calling_code_regions(-1));
	assert_null(cr_calling_code_regions(1000));
}

#ifndef CR_CALLING_CODES_TSV
#error "build with -DCR_CALLING_CODES_TSV=\"path/to/data/calling-codes.tsv\""
#endif

/*
 * Cross-check the compiled table against data/calling-codes.tsv read here,
 * independently of gen_callcodes.awk: every code, its regions, the count,
 * and for every 3-digit prefix the code (if any) that it starts with.
 */
static void
test_calling_codes_match_data(void **state)
{
	FILE	   *f;
	char		line[1024];
	static int	codes[1000];
	static char regions[1000][256];
	int			n = 0;

	(void) state;
	f = fopen(CR_CALLING_CODES_TSV, "r");
	if (f == NULL)
		fail_msg("cannot open %s", CR_CALLING_CODES_TSV);
	while (fgets(line, sizeof(line), f))
	{
		char	   *tab = strchr(line, '\t');
		char	   *end;

		if (line[0] == '#' || strncmp(line, "code\t", 5) == 0 || tab == NULL)
			continue;
		*tab = '\0';
		end = tab + 1 + strcspn(tab + 1, "\t\r\n");
		*end = '\0';
		assert_true(n < 1000);
		codes[n] = atoi(line);
		snprintf(regions[n], sizeof(regions[n]), "%s", tab + 1);
		n++;
	}
	fclose(f);
	assert_true(n > 200);
	assert_int_equal(cr_calling_code_count(), n);

	for (int i = 0; i < n; i++)
	{
		char		num[32];
		int			digits;
		const char *r = cr_calling_code_regions(codes[i]);

		if (r == NULL || strcmp(r, regions[i]) != 0)
			fail_msg("regions of %d: \"%s\", expected \"%s\"", codes[i], r ? r : "(null)", regions[i]);
		snprintf(num, sizeof(num), "+%d5550100", codes[i]);
		assert_int_equal(ccode(num, &digits), codes[i]);
		assert_int_equal(digits, (int) strlen(num) - 8);
		/* the code alone is a number too, if it has 2+ digits */
		snprintf(num, sizeof(num), "+%d", codes[i]);
		assert_int_equal(ccode(num, &digits), codes[i] >= 10 ? codes[i] : 0);
	}

	for (int p = 100; p < 1000; p++)
	{
		char		num[32],
					ps[8];
		int			expect = 0,
					digits;

		snprintf(ps, sizeof(ps), "%d", p);
		for (int i = 0; i < n; i++)
		{
			char		cs[8];

			snprintf(cs, sizeof(cs), "%d", codes[i]);
			if (strncmp(ps, cs, strlen(cs)) == 0)
			{
				if (expect)
					fail_msg("data not prefix-free at %d", p);
				expect = codes[i];
			}
		}
		snprintf(num, sizeof(num), "+%d4567", p);
		if (ccode(num, &digits) != expect)
			fail_msg("cr_calling_code(\"%s\") = %d, expected %d", num, ccode(num, &digits), expect);
	}
}

static void
assert_geo(const char *s, int code, int area)
{
	cr_geo		g = cr_geo_of(s, strlen(s));

	if (g.code != code || g.area != area)
		fail_msg("cr_geo_of(\"%s\") = {%d, %d}, expected {%d, %d}", s, g.code, g.area, code, area);
}

static void
test_geo_of(void **state)
{
	(void) state;
	assert_geo("+14155552671", 1, 415);
	assert_geo("+12125550100", 1, 212);
	assert_geo("+10005550100", 1, 0);
	assert_geo("+19995550100", 1, 999);
	assert_geo("+1415", 1, 415);	/* exactly three digits after the code */
	assert_geo("+141", 1, -1);	/* fewer: no area code */
	assert_geo("+12", 1, -1);
	assert_geo("+79161234567", 7, -1);	/* only code 1 has an area */
	assert_geo("+447911123456", 44, -1);
	assert_geo("+35312345678", 353, -1);
	assert_geo("+2812345678", 0, -1);	/* unassigned */
	assert_geo("+99912345", 0, -1);
	assert_geo("14155552671", 0, -1);	/* not E.164 */
	assert_geo("alice@example.com", 0, -1);
	assert_geo("", 0, -1);
}

static cr_geo
G(int code, int area)
{
	cr_geo		g;

	g.code = code;
	g.area = area;
	return g;
}

static void
test_geo_match(void **state)
{
	(void) state;
	assert_int_equal(cr_geo_match(G(1, 415), G(1, 415)), 2);
	assert_int_equal(cr_geo_match(G(1, 0), G(1, 0)), 2);
	assert_int_equal(cr_geo_match(G(1, 415), G(1, 212)), 1);
	assert_int_equal(cr_geo_match(G(1, 415), G(1, -1)), 1);
	assert_int_equal(cr_geo_match(G(1, -1), G(1, 415)), 1);
	assert_int_equal(cr_geo_match(G(1, -1), G(1, -1)), 1);
	assert_int_equal(cr_geo_match(G(7, -1), G(7, -1)), 1);
	assert_int_equal(cr_geo_match(G(44, -1), G(44, -1)), 1);
	assert_int_equal(cr_geo_match(G(353, -1), G(353, -1)), 1);
	assert_int_equal(cr_geo_match(G(44, -1), G(33, -1)), 0);
	assert_int_equal(cr_geo_match(G(1, 415), G(44, -1)), 0);
	assert_int_equal(cr_geo_match(G(1, 415), G(7, -1)), 0);
	assert_int_equal(cr_geo_match(G(35, -1), G(353, -1)), 0);
	assert_int_equal(cr_geo_match(G(0, -1), G(0, -1)), 0);	/* no code: no match */
	assert_int_equal(cr_geo_match(G(0, -1), G(1, 415)), 0);
	assert_int_equal(cr_geo_match(G(1, 415), G(0, -1)), 0);

	/* through cr_geo_of */
#define GM(a, b) cr_geo_match(cr_geo_of(S(a)), cr_geo_of(S(b)))
	assert_int_equal(GM("+14155550100", "+14155552671"), 2);
	assert_int_equal(GM("+14155550100", "+12125552671"), 1);
	assert_int_equal(GM("+18765550100", "+14155552671"), 1);	/* JM and US share code 1 */
	assert_int_equal(GM("+447700900100", "+447911123456"), 1);
	assert_int_equal(GM("+79161234567", "+77012345678"), 1);	/* RU and KZ share code 7 */
	assert_int_equal(GM("+447700900100", "+14155552671"), 0);
	assert_int_equal(GM("+99912345", "+99912345"), 0);	/* unassigned: no match */
	assert_int_equal(GM("+35312345678", "+35212345678"), 0);
	assert_int_equal(GM("+141", "+14155552671"), 1);
#undef GM
}

/* ---------------------------------------------------------------------
 * JSON numbers
 * ---------------------------------------------------------------------
 */
typedef struct numcase
{
	const char *text;
	bool		ret;
	bool		integral;
	int64_t		value;
} numcase;

static void
check_numbers(const numcase *cases, size_t n)
{
	for (size_t i = 0; i < n; i++)
	{
		bool		integral = !cases[i].integral;
		int64_t		v = 12345;
		bool		ret = cr_number_to_int64(cases[i].text, strlen(cases[i].text), &integral, &v);

		if (ret != cases[i].ret || integral != cases[i].integral ||
			(ret && v != cases[i].value))
			fail_msg("cr_number_to_int64(\"%.80s\") = %d, integral %d, value %lld; "
					 "expected %d, integral %d, value %lld",
					 cases[i].text, ret, integral, (long long) v,
					 cases[i].ret, cases[i].integral, (long long) cases[i].value);
	}
}

static void
test_number_to_int64(void **state)
{
	static const numcase cases[] = {
		{"0", true, true, 0},
		{"-0", true, true, 0},
		{"0.0", true, true, 0},
		{"-0.0e5", true, true, 0},
		{"0e0", true, true, 0},
		{"0.000e-7", true, true, 0},
		{"1", true, true, 1},
		{"-1", true, true, -1},
		{"42", true, true, 42},
		{"1.0", true, true, 1},	/* integral JSON numbers are integers */
		{"1.000", true, true, 1},
		{"1e2", true, true, 100},
		{"1E2", true, true, 100},
		{"1e+2", true, true, 100},
		{"1e0", true, true, 1},
		{"1e-0", true, true, 1},
		{"1.5e1", true, true, 15},
		{"150e-1", true, true, 15},
		{"100e-2", true, true, 1},
		{"0.05e2", true, true, 5},
		{"-2.5e1", true, true, -25},
		{"2147483647", true, true, INT32_MAX},
		{"2147483647.000", true, true, INT32_MAX},
		{"2147483648", true, true, (int64_t) INT32_MAX + 1},
		{"2.147483647e9", true, true, INT32_MAX},
		{"1e18", true, true, INT64_C(1000000000000000000)},
		{"9223372036854775807", true, true, INT64_MAX},
		{"9.223372036854775807e18", true, true, INT64_MAX},
		{"-9223372036854775808", true, true, INT64_MIN},
		{"9223372036854775808", false, true, 0},	/* out of int64 range */
		{"-9223372036854775809", false, true, 0},
		{"1e19", false, true, 0},
		{"10000000000000000000", false, true, 0},
		{"18446744073709551616", false, true, 0},
		{"1e100", false, true, 0},
		{"1e100000000", false, true, 0},
		{"1.5", false, false, 0},	/* fractions */
		{"0.5", false, false, 0},
		{"-0.5", false, false, 0},
		{"1e-1", false, false, 0},
		{"12.30", false, false, 0},
		{"1.0000000001", false, false, 0},
		{"2147483647.5", false, false, 0},
		{"1e-100000000", false, false, 0},
		{"", false, false, 0},	/* not numbers */
		{"-", false, false, 0},
		{"abc", false, false, 0},
		{"1e", false, false, 0},
		{"1e+", false, false, 0},
		{"1x", false, false, 0},
		{"1.5.5", false, false, 0},
		{"1e1.5", false, false, 0},
		{"e5", false, false, 0},
		{" 1", false, false, 0},
		{"1 ", false, false, 0},
		{"--1", false, false, 0},
	};

	(void) state;
	check_numbers(cases, sizeof(cases) / sizeof(cases[0]));
}

static void
test_number_to_int64_long(void **state)
{
	static char big[4][200];
	numcase		cases[4];

	(void) state;
	/* 1 followed by 80 zeros: integral, out of range */
	strcpy(big[0], "1");
	repeat(big[0] + 1, "0", 80);
	cases[0] = (numcase) {big[0], false, true, 0};
	/* 1. followed by 100 zeros: the integer 1 */
	strcpy(big[1], "1.");
	repeat(big[1] + 2, "0", 100);
	cases[1] = (numcase) {big[1], true, true, 1};
	/* 1. followed by 100 zeros and a 1: a fraction */
	strcpy(big[2], "1.");
	repeat(big[2] + 2, "0", 100);
	strcat(big[2], "1");
	cases[2] = (numcase) {big[2], false, false, 0};
	/* 0.000...0007e110 (100 zeros): 7 * 10^9 */
	strcpy(big[3], "0.");
	repeat(big[3] + 2, "0", 100);
	strcat(big[3], "7e110");
	cases[3] = (numcase) {big[3], true, true, INT64_C(7000000000)};
	check_numbers(cases, 4);
}

/*
 * An integer written with more significant digits than the parser's window
 * (64) and scaled back by a negative exponent: still the integer 1.
 */
static void
test_number_to_int64_wide_mantissa(void **state)
{
	static char text[200];
	numcase		c;

	(void) state;
	strcpy(text, "1");
	repeat(text + 1, "0", 69);
	strcat(text, "e-69");		/* 10^69 * 10^-69 = 1 */
	c = (numcase) {text, true, true, 1};
	check_numbers(&c, 1);
}

/* ---------------------------------------------------------------------
 * Names and reachability
 * ---------------------------------------------------------------------
 */
static void
test_channel_names(void **state)
{
	static const char *const snames[] = {"RCS", "WHATSAPP", "SMS", "EMAIL", "PUSH"};
	static const char *const rnames[] = {"PHONE", "EMAIL", "WHATSAPP", "PUSH"};

	(void) state;
	assert_int_equal(CR_SCH_COUNT, 5);
	assert_int_equal(CR_RCH_COUNT, 4);
	for (int i = 0; i < CR_SCH_COUNT; i++)
	{
		assert_string_equal(cr_sender_channel_name((cr_sender_channel) i), snames[i]);
		assert_int_equal(cr_sender_channel_from_name(snames[i], strlen(snames[i])), i);
	}
	for (int i = 0; i < CR_RCH_COUNT; i++)
	{
		assert_string_equal(cr_recipient_channel_name((cr_recipient_channel) i), rnames[i]);
		assert_int_equal(cr_recipient_channel_from_name(rnames[i], strlen(rnames[i])), i);
	}
	assert_int_equal(cr_sender_channel_from_name(S("sms")), -1);
	assert_int_equal(cr_sender_channel_from_name(S("Sms")), -1);
	assert_int_equal(cr_sender_channel_from_name(S("SMS ")), -1);
	assert_int_equal(cr_sender_channel_from_name(S("SM")), -1);
	assert_int_equal(cr_sender_channel_from_name("SMSX", 3), CR_SCH_SMS);
	assert_int_equal(cr_sender_channel_from_name(S("")), -1);
	assert_int_equal(cr_sender_channel_from_name(S("PHONE")), -1);
	assert_int_equal(cr_sender_channel_from_name(S("SMS\0")), -1);
	assert_int_equal(cr_recipient_channel_from_name(S("SMS")), -1);
	assert_int_equal(cr_recipient_channel_from_name(S("phone")), -1);
	assert_int_equal(cr_recipient_channel_from_name(S("RCS")), -1);
	assert_string_equal(cr_sender_channel_name((cr_sender_channel) CR_SCH_COUNT), "?");
	assert_string_equal(cr_recipient_channel_name((cr_recipient_channel) CR_RCH_COUNT), "?");
}

static void
test_channel_reaches(void **state)
{
	/* sql.md 4.2: PHONE <- SMS, RCS; WHATSAPP <- WHATSAPP; EMAIL <- EMAIL; PUSH <- PUSH */
	static const bool expect[CR_SCH_COUNT][CR_RCH_COUNT] = {
		/* PHONE  EMAIL  WHATSAPP PUSH */
		[CR_SCH_RCS] = {true, false, false, false},
		[CR_SCH_WHATSAPP] = {false, false, true, false},
		[CR_SCH_SMS] = {true, false, false, false},
		[CR_SCH_EMAIL] = {false, true, false, false},
		[CR_SCH_PUSH] = {false, false, false, true},
	};

	(void) state;
	for (int s = 0; s < CR_SCH_COUNT; s++)
		for (int r = 0; r < CR_RCH_COUNT; r++)
			if (cr_channel_reaches((cr_sender_channel) s, (cr_recipient_channel) r) != expect[s][r])
				fail_msg("cr_channel_reaches(%d, %d) wrong", s, r);
}

/* ---------------------------------------------------------------------
 * Errors and excerpts
 * ---------------------------------------------------------------------
 */
static void
test_fail(void **state)
{
	cr_error	err;
	char		longctx[600];

	(void) state;
	assert_false(cr_fail(&err, CR_ERR_UNDEFINED, "$.x", "A hint.", "bad %s %d", "thing", 7));
	assert_int_equal(err.kind, CR_ERR_UNDEFINED);
	assert_string_equal(err.message, "bad thing 7");
	assert_string_equal(err.context, "$.x");
	assert_string_equal(err.hint, "A hint.");
	assert_false(cr_fail(&err, CR_ERR_INVALID, NULL, NULL, "m"));
	assert_string_equal(err.context, "");
	assert_string_equal(err.hint, "");
	/* overlong parts are cut, never overrun */
	repeat(longctx, "c", 500);
	assert_false(cr_fail(&err, CR_ERR_INVALID, longctx, longctx, "%s", longctx));
	assert_int_equal(strlen(err.context), sizeof(err.context) - 1);
	assert_int_equal(strlen(err.message), sizeof(err.message) - 1);
	assert_int_equal(strlen(err.hint), sizeof(err.hint) - 1);
	/* a cut message never ends inside a UTF-8 character */
	assert_false(cr_fail(&err, CR_ERR_INVALID, NULL, NULL, "x%s",
						 "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
						 "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
						 "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
						 "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
						 "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
						 "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
						 "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
						 "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"));
	assert_int_equal((strlen(err.message) - 1) % 4, 0);
}

static void
test_excerpt(void **state)
{
	char		buf[64];
	char		small[8];

	(void) state;
	assert_string_equal(cr_excerpt(buf, sizeof(buf), S("hello"), 40), "hello");
	assert_string_equal(cr_excerpt(buf, sizeof(buf), S("hello"), 5), "hello");
	assert_string_equal(cr_excerpt(buf, sizeof(buf), S("hello"), 3), "hel...");
	assert_string_equal(cr_excerpt(buf, sizeof(buf), S(""), 3), "");
	/* characters, not bytes; never a split character */
	assert_string_equal(cr_excerpt(buf, sizeof(buf), S("\xc3\xa9\xe6\x97\xa5\xe6\x9c\xac"), 2),
						"\xc3\xa9\xe6\x97\xa5...");
	assert_string_equal(cr_excerpt(buf, sizeof(buf), S("\xf0\x9f\x98\x80" "ab"), 1),
						"\xf0\x9f\x98\x80...");
	/* control characters become '?', so messages stay one line */
	assert_string_equal(cr_excerpt(buf, sizeof(buf), S("a\nb\tc\x7f"), 40), "a?b?c?");
	assert_string_equal(cr_excerpt(buf, sizeof(buf), S("a\xc2\x85" "b"), 40), "a?b");	/* U+0085 */
	assert_string_equal(cr_excerpt(buf, sizeof(buf), S("a\xc2\xa0" "b"), 40), "a\xc2\xa0" "b");
	/* the buffer bounds the output, still on a character boundary */
	assert_string_equal(cr_excerpt(small, sizeof(small), S("abcdefghij"), 40), "abcd...");
	assert_string_equal(cr_excerpt(small, sizeof(small), S("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"), 40),
						"\xc3\xa9\xc3\xa9...");
	assert_string_equal(cr_excerpt(small, 4, S("abc"), 40), "...");
	memset(small, 'X', sizeof(small));
	assert_string_equal(cr_excerpt(small, 3, S("abc"), 40), "");
	assert_true(small[1] == 'X');
	memset(small, 'X', sizeof(small));
	cr_excerpt(small, 0, S("abc"), 40);
	assert_true(small[0] == 'X');
}

/* ---------------------------------------------------------------------
 * The sticky score
 * ---------------------------------------------------------------------
 */

/*
 * Known values, computed independently with Python 3:
 *
 *   def sticky(addr, sid):
 *       M = (1 << 64) - 1
 *       h = 0xcbf29ce484222325
 *       for b in (addr + "|" + sid).encode("utf-8"):
 *           h ^= b; h = (h * 0x100000001b3) & M
 *       h ^= h >> 33; h = (h * 0xff51afd7ed558ccd) & M
 *       h ^= h >> 33; h = (h * 0xc4ceb9fe1a85ec53) & M
 *       h ^= h >> 33
 *       return h
 */
static const struct
{
	const char *address;
	const char *sender_id;
	uint64_t	score;
}			sticky_known[] = {
	{"+14155552671", "comms_sender_01h455vb4pex5vsknk084sn02q", UINT64_C(0x3205171afc181014)},
	{"", "comms_sender_01h455vb4pex5vsknk084sn02q", UINT64_C(0xa75b6be0faa3d437)},
	/* "josé@example.com" */
	{"jos\xc3\xa9@example.com", "s1", UINT64_C(0xcafd72bf4cd4b512)},
	/* "日本@例え.jp" */
	{"\xe6\x97\xa5\xe6\x9c\xac@\xe4\xbe\x8b\xe3\x81\x88.jp", "comms_sender_7zzzzzzzzzzzzzzzzzzzzzzzzz",
	UINT64_C(0x7d5c3183e9a6ac08)},
	{"+447911123456", "comms_sender_00000000000000000000000000", UINT64_C(0x54194a7747e96bf4)},
	{"alice@example.com", "", UINT64_C(0xa66bbc2a7f43863f)},
	{"", "", UINT64_C(0x080e795202020c51)},
	{"a", "b", UINT64_C(0xd6ec624bc6a0e9fd)},
	/* "push-token-😀" */
	{"push-token-\xf0\x9f\x98\x80", "comms_sender_01h455vb4pex5vsknk084sn02r", UINT64_C(0xd67046b6ec6cebab)},
};

static void
test_sticky_known_values(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof(sticky_known) / sizeof(sticky_known[0]); i++)
	{
		const char *a = sticky_known[i].address;
		const char *s = sticky_known[i].sender_id;
		uint64_t	h = cr_sticky_score(a, strlen(a), s, strlen(s));

		if (h != sticky_known[i].score)
			fail_msg("cr_sticky_score(\"%s\", \"%s\") = 0x%016llx, expected 0x%016llx",
					 a, s, (unsigned long long) h, (unsigned long long) sticky_known[i].score);
		/* the inline pieces compose to the same value */
		h = cr_fnv1a_update(CR_FNV_OFFSET, a, strlen(a));
		h = cr_fnv1a_update(h, "|", 1);
		h = cr_fmix64(cr_fnv1a_update(h, s, strlen(s)));
		assert_true(h == sticky_known[i].score);
	}
}

static void
test_sticky_uses_lengths(void **state)
{
	/* explicit lengths: trailing bytes are not hashed */
	(void) state;
	assert_true(cr_sticky_score("aXXX", 1, "bYYY", 1) == UINT64_C(0xd6ec624bc6a0e9fd));
	assert_true(cr_sticky_score(NULL, 0, "", 0) == UINT64_C(0x080e795202020c51));
	/* the separator matters: "a|" + "b" differs from "a" + "|b" only by the added '|' */
	assert_true(cr_sticky_score(S("a|"), S("b")) != cr_sticky_score(S("a"), S("b")));
	assert_true(cr_sticky_score(S("ab"), S("")) != cr_sticky_score(S("a"), S("b")));
}

/* FNV-1a of the empty string is the offset basis; known 64-bit vectors. */
static void
test_fnv_and_fmix(void **state)
{
	(void) state;
	assert_true(cr_fnv1a_update(CR_FNV_OFFSET, "", 0) == UINT64_C(0xcbf29ce484222325));
	/* reference FNV-1a 64 vectors (Fowler/Noll/Vo test suite) */
	assert_true(cr_fnv1a_update(CR_FNV_OFFSET, S("a")) == UINT64_C(0xaf63dc4c8601ec8c));
	assert_true(cr_fnv1a_update(CR_FNV_OFFSET, S("foobar")) == UINT64_C(0x85944171f73967e8));
	/* fmix64(0) = 0 */
	assert_true(cr_fmix64(0) == 0);
}

const struct CMUnitTest validate_tests[] = {
	cmocka_unit_test(test_e164_valid),
	cmocka_unit_test(test_e164_invalid),
	cmocka_unit_test(test_e164_uses_length),
	cmocka_unit_test(test_email_valid),
	cmocka_unit_test(test_email_local_part_length),
	cmocka_unit_test(test_email_total_length),
	cmocka_unit_test(test_email_structure),
	cmocka_unit_test(test_email_whitespace_and_controls),
	cmocka_unit_test(test_email_invalid_utf8),
	cmocka_unit_test(test_utf8_chars),
	cmocka_unit_test(test_typeid_suffix),
	cmocka_unit_test(test_is_typeid),
	cmocka_unit_test(test_is_typeid_prefix),
	cmocka_unit_test(test_calling_code),
	cmocka_unit_test(test_calling_code_regions),
	cmocka_unit_test(test_calling_codes_match_data),
	cmocka_unit_test(test_geo_of),
	cmocka_unit_test(test_geo_match),
	cmocka_unit_test(test_number_to_int64),
	cmocka_unit_test(test_number_to_int64_long),
	cmocka_unit_test(test_number_to_int64_wide_mantissa),
	cmocka_unit_test(test_channel_names),
	cmocka_unit_test(test_channel_reaches),
	cmocka_unit_test(test_fail),
	cmocka_unit_test(test_excerpt),
	cmocka_unit_test(test_sticky_known_values),
	cmocka_unit_test(test_sticky_uses_lengths),
	cmocka_unit_test(test_fnv_and_fmix),
};
const size_t validate_tests_count = sizeof(validate_tests) / sizeof(validate_tests[0]);
