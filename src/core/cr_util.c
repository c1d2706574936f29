/*-------------------------------------------------------------------------
 *
 * cr_util.c
 *	  Errors, excerpts of user input, JSON tree helpers and channel names
 *	  for the resolution core.
 *
 * No allocation and no global state: every function is reentrant.
 *
 *-------------------------------------------------------------------------
 */
#include "cr_core.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const sender_channel_names[CR_SCH_COUNT] = {
	"RCS", "WHATSAPP", "SMS", "EMAIL", "PUSH"
};

static const char *const recipient_channel_names[CR_RCH_COUNT] = {
	"PHONE", "EMAIL", "WHATSAPP", "PUSH"
};

/*
 * Drop a UTF-8 sequence cut short at the end of buf (what a truncating
 * snprintf can leave), so the text stays valid UTF-8.
 */
static void
utf8_trim_tail(char *buf)
{
	size_t		len = strlen(buf);
	size_t		lead = len;
	unsigned char c;
	size_t		need;

	while (lead > 0 && ((unsigned char) buf[lead - 1] & 0xC0) == 0x80)
		lead--;
	if (lead == 0)
		return;
	lead--;
	c = (unsigned char) buf[lead];
	need = (c < 0x80) ? 1 : (c >= 0xF0) ? 4 : (c >= 0xE0) ? 3 : (c >= 0xC0) ? 2 : 1;
	if (len - lead < need)
		buf[lead] = '\0';
}

/* Set *err; always returns false so callers can "return cr_fail(...)". */
bool
cr_fail(cr_error *err, cr_errkind kind, const char *context,
		const char *hint, const char *fmt,...)
{
	va_list		ap;

	err->kind = kind;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	utf8_trim_tail(err->message);
	snprintf(err->context, sizeof(err->context), "%s", context ? context : "");
	snprintf(err->hint, sizeof(err->hint), "%s", hint ? hint : "");
	return false;
}

/*
 * Copy at most max_chars UTF-8 characters of s into buf, never splitting a
 * character and never exceeding bufsize; append "..." when s was cut.
 * Malformed UTF-8 and control characters are shown as '?', so messages
 * stay valid, one-line UTF-8.
 */
char *
cr_excerpt(char *buf, size_t bufsize, const char *s, size_t len,
		   size_t max_chars)
{
	size_t		i = 0,
				o = 0,
				chars = 0;

	if (bufsize < 4)
	{
		if (bufsize)
			buf[0] = '\0';
		return buf;
	}
	while (i < len && chars < max_chars)
	{
		size_t		start = i;
		long		cp = cr_utf8_decode(s, len, &i);
		size_t		clen = i - start;

		if (o + clen + 4 > bufsize)
		{
			i = start;
			break;
		}
		/* malformed UTF-8, C0/C1 controls, DEL and line separators */
		if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029)
			buf[o++] = '?';
		else
		{
			memcpy(buf + o, s + start, clen);
			o += clen;
		}
		chars++;
	}
	if (i < len)
	{
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

/*
 * Decode one UTF-8 character at s[*i] and advance *i past it.  Returns the
 * code point, or -1 for a malformed, overlong, surrogate or out-of-range
 * sequence, in which case *i advances by one byte.
 */
long
cr_utf8_decode(const char *s, size_t len, size_t *i)
{
	unsigned char c = (unsigned char) s[*i];
	int			extra;
	long		cp;

	if (c < 0x80)
	{
		(*i)++;
		return c;
	}
	if (c >= 0xC2 && c <= 0xDF)
	{
		extra = 1;
		cp = c & 0x1F;
	}
	else if (c >= 0xE0 && c <= 0xEF)
	{
		extra = 2;
		cp = c & 0x0F;
	}
	else if (c >= 0xF0 && c <= 0xF4)
	{
		extra = 3;
		cp = c & 0x07;
	}
	else
	{
		(*i)++;
		return -1;
	}
	if (*i + extra >= len)
	{
		(*i)++;
		return -1;				/* truncated sequence */
	}
	for (int k = 1; k <= extra; k++)
	{
		unsigned char cc = (unsigned char) s[*i + k];

		if ((cc & 0xC0) != 0x80)
		{
			(*i)++;
			return -1;
		}
		cp = (cp << 6) | (cc & 0x3F);
	}
	if ((extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000) ||
		(cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
	{
		(*i)++;
		return -1;
	}
	*i += extra + 1;
	return cp;
}

const cr_jv *
cr_jv_get(const cr_jv *obj, const char *key)
{
	size_t		klen = strlen(key);

	if (obj == NULL || obj->type != CR_JV_OBJECT)
		return NULL;
	for (size_t i = 0; i < obj->n_loaded; i++)
	{
		const cr_jv_member *m = &obj->members[i];

		if (m->key_len == klen && memcmp(m->key, key, klen) == 0)
			return m->value;
	}
	return NULL;
}

const char *
cr_jv_type_name(cr_jv_type type)
{
	switch (type)
	{
		case CR_JV_NULL:
			return "null";
		case CR_JV_BOOL:
			return "a boolean";
		case CR_JV_NUMBER:
			return "a number";
		case CR_JV_STRING:
			return "a string";
		case CR_JV_ARRAY:
			return "an array";
		case CR_JV_OBJECT:
			return "an object";
	}
	return "unknown";
}

/*
 * Decide whether the JSON number text s is an integer that fits in int64.
 * Works on the decimal digits exactly (no floating point), so "1.0",
 * "1e2" and "2147483647.000" are integers and "1.5" or "1e-1" are not,
 * however many digits the text has.
 */
bool
cr_number_to_int64(const char *s, size_t len, bool *integral, int64_t *out)
{
	size_t		i = 0,
				int_start,
				int_len,
				frac_start,
				frac_len = 0;
	bool		neg = false;
	long		e = 0;
	long		first = -1,
				last = -1;		/* indexes of nonzero digits in int||frac */
	long		e_low,
				e_high;
	uint64_t	v = 0;

	*integral = false;
	if (i < len && (s[i] == '-' || s[i] == '+'))
		neg = (s[i++] == '-');
	int_start = i;
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++;
	int_len = i - int_start;
	frac_start = i;
	if (i < len && s[i] == '.')
	{
		frac_start = ++i;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		frac_len = i - frac_start;
	}
	if (int_len + frac_len == 0)
		return false;
	if (i < len && (s[i] == 'e' || s[i] == 'E'))
	{
		bool		eneg = false;

		i++;
		if (i < len && (s[i] == '-' || s[i] == '+'))
			eneg = (s[i++] == '-');
		if (i >= len || s[i] < '0' || s[i] > '9')
			return false;
		for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			if (e < 1000000)
				e = e * 10 + (s[i] - '0');
		if (eneg)
			e = -e;
	}
	if (i != len)
		return false;

	/* digit k of int||frac has the decimal exponent int_len - 1 - k + e */
	for (size_t k = 0; k < int_len + frac_len; k++)
	{
		char		c = k < int_len ? s[int_start + k] : s[frac_start + k - int_len];

		if (c != '0')
		{
			if (first < 0)
				first = (long) k;
			last = (long) k;
		}
	}
	*integral = true;
	if (first < 0)
	{
		*out = 0;
		return true;
	}
	e_low = (long) int_len - 1 - last + e;
	e_high = (long) int_len - 1 - first + e;
	if (e_low < 0)
	{
		*integral = false;
		return false;
	}
	if (e_high > 18)
		return false;			/* at least 10^19: out of range */
	for (long k = first; k <= last; k++)
	{
		char		c = k < (long) int_len ? s[int_start + k] : s[frac_start + k - int_len];

		v = v * 10 + (uint64_t) (c - '0');
	}
	for (long k = 0; k < e_low; k++)
		v *= 10;				/* no overflow: below 10^19 */
	if (neg)
	{
		if (v > (uint64_t) INT64_MAX + 1)
			return false;
		*out = (v == (uint64_t) INT64_MAX + 1) ? INT64_MIN : -(int64_t) v;
		return true;
	}
	if (v > (uint64_t) INT64_MAX)
		return false;
	*out = (int64_t) v;
	return true;
}

const char *
cr_sender_channel_name(cr_sender_channel ch)
{
	return (ch >= 0 && ch < CR_SCH_COUNT) ? sender_channel_names[ch] : "?";
}

const char *
cr_recipient_channel_name(cr_recipient_channel ch)
{
	return (ch >= 0 && ch < CR_RCH_COUNT) ? recipient_channel_names[ch] : "?";
}

static int
name_lookup(const char *const *names, int n, const char *s, size_t len)
{
	for (int i = 0; i < n; i++)
		if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0)
			return i;
	return -1;
}

int
cr_sender_channel_from_name(const char *s, size_t len)
{
	return name_lookup(sender_channel_names, CR_SCH_COUNT, s, len);
}

int
cr_recipient_channel_from_name(const char *s, size_t len)
{
	return name_lookup(recipient_channel_names, CR_RCH_COUNT, s, len);
}

/* PHONE <- SMS, RCS; WHATSAPP <- WHATSAPP; EMAIL <- EMAIL; PUSH <- PUSH. */
bool
cr_channel_reaches(cr_sender_channel sc, cr_recipient_channel rc)
{
	switch (rc)
	{
		case CR_RCH_PHONE:
			return sc == CR_SCH_SMS || sc == CR_SCH_RCS;
		case CR_RCH_WHATSAPP:
			return sc == CR_SCH_WHATSAPP;
		case CR_RCH_EMAIL:
			return sc == CR_SCH_EMAIL;
		case CR_RCH_PUSH:
			return sc == CR_SCH_PUSH;
		default:
			return false;
	}
}
