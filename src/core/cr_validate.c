/*-------------------------------------------------------------------------
 *
 * cr_validate.c
 *	  Address and identifier checks of the resolution core: E.164, the
 *	  email syntax check, TypeIDs, and the calling-code lookup.
 *
 * The calling-code tables are generated at build time from
 * data/calling-codes.tsv (see gen_callcodes.awk); they are constant.
 *
 *-------------------------------------------------------------------------
 */
#include "cr_core.h"

#include <string.h>

struct cr_cc_entry
{
	int			code;
	int			digits;
	const char *regions;
};

#include "cr_callcode_data.h"

bool
cr_is_e164(const char *s, size_t len)
{
	if (len < 3 || len > 16 || s[0] != '+' || s[1] == '0')
		return false;
	for (size_t i = 1; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

size_t
cr_utf8_chars(const char *s, size_t len)
{
	size_t		n = 0;

	for (size_t i = 0; i < len; i++)
		if (((unsigned char) s[i] & 0xC0) != 0x80)
			n++;
	return n;
}

/*
 * Whitespace or control character: C0 and C1 controls, DEL, and every code
 * point with the Unicode White_Space property.
 */
static bool
is_space_or_control(long cp)
{
	if (cp <= 0x20 || (cp >= 0x7F && cp <= 0x9F))
		return true;
	switch (cp)
	{
		case 0x00A0:
		case 0x1680:
		case 0x2028:
		case 0x2029:
		case 0x202F:
		case 0x205F:
		case 0x3000:
			return true;
	}
	return cp >= 0x2000 && cp <= 0x200A;
}

/*
 * sql.md 4.1: exactly one '@', a non-empty local part of at most 64 octets,
 * a domain of at least two non-empty dot-separated labels, at most 254
 * octets in all, no whitespace or control characters (and valid UTF-8).
 */
bool
cr_is_email(const char *s, size_t len)
{
	size_t		at = len;
	size_t		i = 0;
	size_t		labels = 0,
				label_len = 0;

	if (len == 0 || len > CR_MAX_EMAIL_OCTETS)
		return false;
	while (i < len)
	{
		size_t		start = i;
		long		cp = cr_utf8_decode(s, len, &i);

		if (cp < 0 || is_space_or_control(cp))
			return false;
		if (cp == '@')
		{
			if (at != len)
				return false;	/* a second '@' */
			at = start;
		}
	}
	if (at == len || at == 0 || at > CR_MAX_EMAIL_LOCAL)
		return false;
	for (i = at + 1; i <= len; i++)
	{
		if (i == len || s[i] == '.')
		{
			if (label_len == 0)
				return false;	/* empty label */
			labels++;
			label_len = 0;
		}
		else
			label_len++;
	}
	return labels >= 2;
}

static bool
is_crockford_lower(char c)
{
	return (c >= '0' && c <= '9') ||
		(c >= 'a' && c <= 'z' && c != 'i' && c != 'l' && c != 'o' && c != 'u');
}

bool
cr_is_typeid(const char *prefix, const char *s, size_t len)
{
	size_t		plen = strlen(prefix);
	size_t		slen;

	if (len < plen + 1 || memcmp(s, prefix, plen) != 0 || s[plen] != '_')
		return false;
	s += plen + 1;
	slen = len - plen - 1;
	if (slen < 26 || slen > 35 || s[0] < '0' || s[0] > '7')
		return false;
	for (size_t i = 1; i < slen; i++)
		if (!is_crockford_lower(s[i]))
			return false;
	return true;
}

bool
cr_is_typeid_prefix(const char *s, size_t len)
{
	if (len < 1 || len > 63 || s[0] == '_' || s[len - 1] == '_')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_'))
			return false;
	return true;
}

/*
 * TypeID suffix: the 128 bits as 26 Crockford base32 characters, most
 * significant first, with two implicit leading zero bits (so the first
 * character is 0-7).
 */
void
cr_typeid_suffix(const uint8_t uuid[16], char out[27])
{
	static const char alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";

	/* bit position b (0 = most significant of 130 bits, the first 2 zero) */
	for (int c = 0; c < 26; c++)
	{
		int			v = 0;

		for (int k = 0; k < 5; k++)
		{
			int			b = c * 5 + k - 2;
			int			bit = 0;

			if (b >= 0)
				bit = (uuid[b / 8] >> (7 - b % 8)) & 1;
			v = (v << 1) | bit;
		}
		out[c] = alphabet[v];
	}
	out[26] = '\0';
}

int
cr_calling_code(const char *s, size_t len, int *code_digits)
{
	int			p3;
	int			idx;
	size_t		ndigits;

	*code_digits = 0;
	if (!cr_is_e164(s, len))
		return 0;
	ndigits = len - 1;
	p3 = (s[1] - '0') * 100 + (s[2] - '0') * 10 + (ndigits >= 3 ? s[3] - '0' : 0);
	idx = cr_cc_prefix3[p3];
	if (idx == 0 || (size_t) cr_cc_codes[idx - 1].digits > ndigits)
		return 0;
	*code_digits = cr_cc_codes[idx - 1].digits;
	return cr_cc_codes[idx - 1].code;
}

const char *
cr_calling_code_regions(int code)
{
	for (int i = 0; i < CR_CC_NCODES; i++)
		if (cr_cc_codes[i].code == code)
			return cr_cc_codes[i].regions;
	return NULL;
}

int
cr_calling_code_count(void)
{
	return CR_CC_NCODES;
}

cr_geo
cr_geo_of(const char *s, size_t len)
{
	cr_geo		g = {0, -1};
	int			digits;

	g.code = cr_calling_code(s, len, &digits);
	if (g.code == 1 && len >= 5)
		g.area = (s[2] - '0') * 100 + (s[3] - '0') * 10 + (s[4] - '0');
	return g;
}

int
cr_geo_match(cr_geo sender, cr_geo recipient)
{
	if (sender.code == 0 || sender.code != recipient.code)
		return 0;
	if (sender.code == 1 && sender.area >= 0 && sender.area == recipient.area)
		return 2;
	return 1;
}
