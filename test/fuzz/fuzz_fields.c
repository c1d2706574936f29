/*-------------------------------------------------------------------------
 *
 * fuzz_fields.c
 *	  libFuzzer target: the core's field checks on raw bytes, each against
 *	  an independent reference written from its documentation (cr_core.h):
 *	  cr_is_e164, cr_is_email, cr_number_to_int64, cr_calling_code /
 *	  cr_geo_of, cr_utf8_decode / cr_utf8_chars, cr_excerpt (several buffer
 *	  sizes, each buffer exactly sized so ASan sees an overrun), cr_is_typeid,
 *	  cr_is_typeid_prefix, the channel names and cr_typeid_suffix.
 *
 * The whole input is the field (not NUL-terminated: libFuzzer's buffer is
 * exactly sized).
 *
 *-------------------------------------------------------------------------
 */
#include "fuzz_common.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---------------------------------------------------------------------
 * References
 * ---------------------------------------------------------------------
 */

static bool
isdigit_ascii(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* Strict UTF-8 decode at s[i]: code point and length, or -1 (length 1). */
static long
ref_decode(const unsigned char *s, size_t len, size_t i, size_t *clen)
{
	unsigned char c = s[i];
	int			extra;
	long		cp;

	*clen = 1;
	if (c < 0x80)
		return c;
	if (c >= 0xC0 && c < 0xE0)
		extra = 1, cp = c & 0x1F;
	else if (c >= 0xE0 && c < 0xF0)
		extra = 2, cp = c & 0x0F;
	else if (c >= 0xF0 && c < 0xF8)
		extra = 3, cp = c & 0x07;
	else
		return -1;
	if (i + (size_t) extra >= len)
		return -1;
	for (int k = 1; k <= extra; k++)
	{
		if ((s[i + k] & 0xC0) != 0x80)
			return -1;
		cp = (cp << 6) | (s[i + k] & 0x3F);
	}
	if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) ||
		(extra == 3 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return -1;
	*clen = (size_t) extra + 1;
	return cp;
}

/* '+' then 2..15 ASCII digits, the first not '0'. */
static bool
ref_e164(const unsigned char *s, size_t len)
{
	if (len < 3 || len > 16 || s[0] != '+' || s[1] == '0')
		return false;
	for (size_t i = 1; i < len; i++)
		if (!isdigit_ascii(s[i]))
			return false;
	return true;
}

/* Unicode White_Space, C0 and C1 controls, DEL. */
static bool
ref_space_or_control(long cp)
{
	static const long ws[] = {0x20, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000};

	if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F))
		return true;
	if (cp >= 0x2000 && cp <= 0x200A)
		return true;
	for (size_t i = 0; i < sizeof(ws) / sizeof(ws[0]); i++)
		if (cp == ws[i])
			return true;
	return false;
}

/*
 * Exactly one '@', a non-empty local part of at most 64 octets, a domain of
 * at least two non-empty dot-separated labels, at most 254 octets, no
 * whitespace or control characters, valid UTF-8.
 */
static bool
ref_email(const unsigned char *s, size_t len)
{
	size_t		at = 0,
				n_at = 0,
				labels = 0,
				cur = 0;

	if (len == 0 || len > 254)
		return false;
	for (size_t i = 0; i < len;)
	{
		size_t		clen;
		long		cp = ref_decode(s, len, i, &clen);

		if (cp < 0 || ref_space_or_control(cp))
			return false;
		if (cp == '@')
		{
			n_at++;
			at = i;
		}
		i += clen;
	}
	if (n_at != 1 || at == 0 || at > 64)
		return false;
	for (size_t i = at + 1; i < len; i++)
	{
		if (s[i] == '.')
		{
			if (cur == 0)
				return false;
			labels++;
			cur = 0;
		}
		else
			cur++;
	}
	if (cur == 0)
		return false;
	return labels + 1 >= 2;
}

/* Strict JSON number syntax: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool
json_number_syntax(const unsigned char *s, size_t len)
{
	size_t		i = 0;

	if (i < len && s[i] == '-')
		i++;
	if (i >= len)
		return false;
	if (s[i] == '0')
		i++;
	else if (s[i] >= '1' && s[i] <= '9')
		while (i < len && isdigit_ascii(s[i]))
			i++;
	else
		return false;
	if (i < len && s[i] == '.')
	{
		size_t		start = ++i;

		while (i < len && isdigit_ascii(s[i]))
			i++;
		if (i == start)
			return false;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E'))
	{
		size_t		start;

		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		start = i;
		while (i < len && isdigit_ascii(s[i]))
			i++;
		if (i == start)
			return false;
	}
	return i == len;
}

/*
 * The value of a syntactically valid JSON number as significant digits D
 * times 10^scale, trailing zeros of D moved into scale: an integer iff
 * scale >= 0 (or D is 0), in int64 iff it also fits.
 */
static bool
ref_number(const unsigned char *s, size_t len, bool *integral, int64_t *out)
{
	char		digits[8192];
	size_t		nd = 0,
				i = 0;
	bool		neg = false;
	long		scale = 0,
				e = 0;
	size_t		first;
	__int128	v = 0;

	*integral = false;
	if (s[i] == '-')
		neg = true, i++;
	for (; i < len && isdigit_ascii(s[i]); i++)
		digits[nd++] = (char) s[i];
	if (i < len && s[i] == '.')
		for (i++; i < len && isdigit_ascii(s[i]); i++)
		{
			digits[nd++] = (char) s[i];
			scale--;
		}
	if (i < len)
	{
		bool		eneg = false;

		i++;
		if (s[i] == '+' || s[i] == '-')
			eneg = s[i++] == '-';
		for (; i < len; i++)
			if (e < 100000000)
				e = e * 10 + (s[i] - '0');
		scale += eneg ? -e : e;
	}
	for (first = 0; first < nd && digits[first] == '0'; first++)
		;
	if (first == nd)
	{
		*integral = true;
		*out = 0;
		return true;
	}
	while (digits[nd - 1] == '0')
		nd--, scale++;
	if (scale < 0)
		return false;
	*integral = true;
	if ((long) (nd - first) + scale > 19)
		return false;
	for (size_t k = first; k < nd; k++)
		v = v * 10 + (digits[k] - '0');
	for (long k = 0; k < scale; k++)
		v *= 10;
	if (neg)
		v = -v;
	if (v < INT64_MIN || v > INT64_MAX)
		return false;
	*out = (int64_t) v;
	return true;
}

static bool
ref_crockford_lower(unsigned char c)
{
	return isdigit_ascii(c) || (c >= 'a' && c <= 'z' && c != 'i' && c != 'l' && c != 'o' && c != 'u');
}

static bool
ref_typeid(const char *prefix, const unsigned char *s, size_t len)
{
	size_t		plen = strlen(prefix);

	if (len < plen + 1 + 26 || len > plen + 1 + 35)
		return false;
	if (memcmp(s, prefix, plen) != 0 || s[plen] != '_')
		return false;
	if (s[plen + 1] < '0' || s[plen + 1] > '7')
		return false;
	for (size_t i = plen + 2; i < len; i++)
		if (!ref_crockford_lower(s[i]))
			return false;
	return true;
}

static bool
ref_typeid_prefix(const unsigned char *s, size_t len)
{
	if (len < 1 || len > 63)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_'))
			return false;
	return s[0] != '_' && s[len - 1] != '_';
}

/* ---------------------------------------------------------------------
 * Checks
 * ---------------------------------------------------------------------
 */
static void
check_utf8(const unsigned char *s, size_t len)
{
	size_t		i = 0,
				leads = 0;

	while (i < len)
	{
		size_t		at = i,
					clen;
		long		want = ref_decode(s, len, i, &clen);
		long		cp = cr_utf8_decode((const char *) s, len, &i);

		FUZZ_CHECK(cp == want, "cr_utf8_decode at %zu: %ld, expected %ld", at, cp, want);
		FUZZ_CHECK(i == at + clen, "cr_utf8_decode at %zu advanced %zu, expected %zu", at, i - at, clen);
	}
	for (i = 0; i < len; i++)
		leads += (s[i] & 0xC0) != 0x80;
	FUZZ_CHECK(cr_utf8_chars((const char *) s, len) == leads, "cr_utf8_chars");
}

/* The excerpt's character for input character cp. */
static bool
shown_as_question_mark(long cp)
{
	return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029;
}

/*
 * Does buf[0..plen) show the input's first characters exactly?  *chars
 * gets how many it shows, *rest whether input is left after them.
 */
static bool
excerpt_matches(const unsigned char *s, size_t len, const char *buf, size_t plen,
				size_t *chars, bool *rest)
{
	size_t		i = 0,
				o = 0,
				k = 0;

	while (o < plen && i < len)
	{
		size_t		clen;
		long		cp = ref_decode(s, len, i, &clen);

		if (shown_as_question_mark(cp))
		{
			if (buf[o] != '?')
				return false;
			o++;
		}
		else
		{
			if (o + clen > plen || memcmp(buf + o, s + i, clen) != 0)
				return false;
			o += clen;
		}
		i += clen;
		k++;
	}
	*chars = k;
	*rest = i < len;
	return o == plen;
}

static void
check_excerpt(const unsigned char *s, size_t len, size_t bufsize, size_t max_chars)
{
	char	   *buf = fuzz_xmalloc(bufsize);
	char	   *ret = cr_excerpt(buf, bufsize, (const char *) s, len, max_chars);
	size_t		olen,
				k = 0;
	bool		rest,
				whole,
				cut;

	FUZZ_CHECK(ret == buf, "cr_excerpt did not return buf");
	if (bufsize == 0)
	{
		free(buf);
		return;
	}
	olen = strnlen(buf, bufsize);
	FUZZ_CHECK(olen < bufsize, "cr_excerpt: no NUL within %zu bytes", bufsize);
	if (bufsize < 4)
	{
		free(buf);
		return;
	}
	FUZZ_CHECK(fuzz_valid_utf8(buf, olen), "cr_excerpt output is not valid UTF-8");
	/*
	 * The shown prefix of the input, then "..." exactly when cut.  Input
	 * ending in "..." can read both ways; either must hold.
	 */
	whole = excerpt_matches(s, len, buf, olen, &k, &rest) && !rest && k <= max_chars;
	if (!whole)
	{
		cut = olen >= 3 && memcmp(buf + olen - 3, "...", 3) == 0 &&
			excerpt_matches(s, len, buf, olen - 3, &k, &rest) && rest;
		FUZZ_CHECK(cut, "cr_excerpt(bufsize %zu, max %zu): \"%s\" is no excerpt of the input",
				   bufsize, max_chars, buf);
		FUZZ_CHECK(k <= max_chars, "cr_excerpt showed %zu characters, max %zu", k, max_chars);
	}
	/* a buffer of 4 bytes a character, plus "..." and NUL, shows them all */
	if (bufsize / 4 > (max_chars < len ? max_chars : len))
		FUZZ_CHECK(k == max_chars || whole,
				   "cr_excerpt: only %zu of %zu characters in a %zu-byte buffer", k, max_chars, bufsize);
	free(buf);
}

static void
check_number(const unsigned char *s, size_t len)
{
	bool		integral,
				ref_integral;
	int64_t		v = 0x5a5a5a5a,
				ref_v = 0;
	bool		ok = cr_number_to_int64((const char *) s, len, &integral, &v);

	if (ok)
		FUZZ_CHECK(integral, "cr_number_to_int64: true but not integral");
	if (len > 0 && len < 8192 && json_number_syntax(s, len))
	{
		bool		ref_ok = ref_number(s, len, &ref_integral, &ref_v);

		FUZZ_CHECK(ok == ref_ok && integral == ref_integral && (!ok || v == ref_v),
				   "cr_number_to_int64(\"%.*s\"): %d/%d/%lld, expected %d/%d/%lld",
				   (int) len, (const char *) s, ok, integral, (long long) v,
				   ref_ok, ref_integral, (long long) ref_v);
	}
}

static void
check_calling_code(const unsigned char *s, size_t len)
{
	int			digits = -1;
	int			code = cr_calling_code((const char *) s, len, &digits);
	int			want = 0,
				want_digits = 0;
	cr_geo		g = cr_geo_of((const char *) s, len);

	if (ref_e164(s, len))
		for (int d = 1; d <= 3 && (size_t) d < len; d++)
		{
			int			c = 0;

			for (int k = 1; k <= d; k++)
				c = c * 10 + (s[k] - '0');
			if (cr_calling_code_regions(c) != NULL)
			{
				FUZZ_CHECK(want == 0, "calling codes %d and %d both prefix the number", want, c);
				want = c;
				want_digits = d;
			}
		}
	FUZZ_CHECK(code == want && digits == want_digits,
			   "cr_calling_code: %d (%d digits), expected %d (%d digits)", code, digits, want, want_digits);
	FUZZ_CHECK(g.code == code, "cr_geo_of code %d, cr_calling_code %d", g.code, code);
	if (code == 1 && len >= 5)
		FUZZ_CHECK(g.area == (s[2] - '0') * 100 + (s[3] - '0') * 10 + (s[4] - '0'), "cr_geo_of area %d", g.area);
	else
		FUZZ_CHECK(g.area == -1, "cr_geo_of area %d without code 1", g.area);
}

/* Decode a 26-character TypeID suffix back to 16 bytes. */
static bool
decode_suffix(const char *s, uint8_t out[16])
{
	static const char alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";
	int			bits[130];

	for (int c = 0; c < 26; c++)
	{
		const char *p = memchr(alphabet, s[c], 32);

		if (p == NULL || s[c] == '\0')
			return false;
		for (int k = 0; k < 5; k++)
			bits[c * 5 + k] = ((p - alphabet) >> (4 - k)) & 1;
	}
	if (bits[0] || bits[1])
		return false;
	memset(out, 0, 16);
	for (int b = 0; b < 128; b++)
		out[b / 8] |= (uint8_t) (bits[b + 2] << (7 - b % 8));
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char *s = data;
	const char *cs = (const char *) data;

	FUZZ_CHECK(cr_is_e164(cs, size) == ref_e164(s, size), "cr_is_e164 disagrees");
	FUZZ_CHECK(cr_is_email(cs, size) == ref_email(s, size), "cr_is_email disagrees (%d)", cr_is_email(cs, size));
	check_number(s, size);
	check_calling_code(s, size);
	check_utf8(s, size);

	{
		static const size_t params[][2] = {
			{0, 10}, {1, 10}, {3, 10}, {4, 10}, {4, 0}, {5, 1}, {7, 3}, {16, 40},
			{40 * 4 + 8, 40}, {4096, 1000},
		};

		for (size_t k = 0; k < sizeof(params) / sizeof(params[0]); k++)
			check_excerpt(s, size, params[k][0], params[k][1]);
		check_excerpt(s, size, size * 4 + 8, SIZE_MAX);
	}

	FUZZ_CHECK(cr_is_typeid(CR_SENDER_PREFIX, cs, size) == ref_typeid(CR_SENDER_PREFIX, s, size), "cr_is_typeid sender");
	FUZZ_CHECK(cr_is_typeid(CR_POOL_PREFIX, cs, size) == ref_typeid(CR_POOL_PREFIX, s, size), "cr_is_typeid pool");
	FUZZ_CHECK(cr_is_typeid("comms_credential", cs, size) == ref_typeid("comms_credential", s, size), "cr_is_typeid credential");
	FUZZ_CHECK(cr_is_typeid_prefix(cs, size) == ref_typeid_prefix(s, size), "cr_is_typeid_prefix");

	for (int c = 0; c < CR_SCH_COUNT; c++)
	{
		const char *name = cr_sender_channel_name((cr_sender_channel) c);
		bool		same = strlen(name) == size && memcmp(name, s, size) == 0;

		FUZZ_CHECK(same == (cr_sender_channel_from_name(cs, size) == c), "cr_sender_channel_from_name");
	}
	for (int c = 0; c < CR_RCH_COUNT; c++)
	{
		const char *name = cr_recipient_channel_name((cr_recipient_channel) c);
		bool		same = strlen(name) == size && memcmp(name, s, size) == 0;

		FUZZ_CHECK(same == (cr_recipient_channel_from_name(cs, size) == c), "cr_recipient_channel_from_name");
	}

	if (size >= 16)
	{
		char		suffix[27];
		char		id[40];
		uint8_t		back[16];

		cr_typeid_suffix(s, suffix);
		FUZZ_CHECK(strlen(suffix) == 26, "cr_typeid_suffix length");
		snprintf(id, sizeof(id), "x_%s", suffix);
		FUZZ_CHECK(cr_is_typeid("x", id, strlen(id)), "cr_typeid_suffix output is no TypeID");
		FUZZ_CHECK(decode_suffix(suffix, back) && memcmp(back, s, 16) == 0, "cr_typeid_suffix does not round-trip");
	}
	return 0;
}
