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
	snprintf(err->context, sizeof(err->context), "%s", context ? context : "");
	snprintf(err->hint, sizeof(err->hint), "%s", hint ? hint : "");
	return false;
}

/*
 * Copy at most max_chars UTF-8 characters of s into buf, never splitting a
 * character and never exceeding bufsize; append "..." when s was cut.
 * Control characters are shown as '?', so messages stay one line.
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
		unsigned char c = (unsigned char) s[i];
		size_t		clen = (c < 0x80) ? 1 : (c >= 0xF0) ? 4 : (c >= 0xE0) ? 3 : (c >= 0xC0) ? 2 : 1;

		if (i + clen > len)
			clen = len - i;
		if (o + clen + 4 > bufsize)
			break;
		if ((clen == 1 && (c < 0x20 || c == 0x7F || c >= 0x80)) ||
			(clen == 2 && c == 0xC2 && (unsigned char) s[i + 1] < 0xA0) ||
			(clen == 3 && c == 0xE2 && (unsigned char) s[i + 1] == 0x80 &&
			 ((unsigned char) s[i + 2] == 0xA8 || (unsigned char) s[i + 2] == 0xA9)))
			buf[o++] = '?';		/* C0/C1 controls, DEL, line separators */
		else
		{
			memcpy(buf + o, s + i, clen);
			o += clen;
		}
		i += clen;
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
 * "1e2" and "2147483647.000" are integers and "1.5" or "1e-1" are not.
 */
bool
cr_number_to_int64(const char *s, size_t len, bool *integral, int64_t *out)
{
	size_t		i = 0;
	bool		neg = false;
	char		digits[64];		/* significant digits, leading zeros dropped */
	size_t		nd = 0;
	long		exp10 = 0;		/* value = digits * 10^exp10 */
	bool		overflow_digits = false;
	long		e = 0;
	bool		eneg = false;
	uint64_t	v = 0;

	*integral = false;
	if (i < len && (s[i] == '-' || s[i] == '+'))
		neg = (s[i++] == '-');
	if (i >= len || !((s[i] >= '0' && s[i] <= '9') || s[i] == '.'))
		return false;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
	{
		if (nd == 0 && s[i] == '0')
			continue;
		if (nd < sizeof(digits))
			digits[nd++] = s[i];
		else
		{
			/* past our window: the value is out of range anyway */
			overflow_digits = true;
			exp10++;
		}
	}
	if (i < len && s[i] == '.')
	{
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
		{
			if (nd == 0 && s[i] == '0')
			{
				exp10--;
				continue;
			}
			if (nd < sizeof(digits))
			{
				digits[nd++] = s[i];
				exp10--;
			}
			else if (s[i] != '0')
				return false;	/* a nonzero digit beyond our window */
		}
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E'))
	{
		i++;
		if (i < len && (s[i] == '-' || s[i] == '+'))
			eneg = (s[i++] == '-');
		if (i >= len || s[i] < '0' || s[i] > '9')
			return false;
		for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			if (e < 100000)
				e = e * 10 + (s[i] - '0');
		exp10 += eneg ? -e : e;
	}
	if (i != len)
		return false;
	/* drop trailing zeros of the significand */
	while (nd > 0 && digits[nd - 1] == '0')
	{
		nd--;
		exp10++;
	}
	if (nd == 0)
	{
		*integral = true;
		*out = 0;
		return true;
	}
	if (exp10 < 0)
		return false;			/* a fraction remains */
	*integral = true;
	if (overflow_digits || (long) nd + exp10 > 19)
		return false;
	for (size_t k = 0; k < nd; k++)
		v = v * 10 + (uint64_t) (digits[k] - '0');
	for (long k = 0; k < exp10; k++)
	{
		if (v > UINT64_MAX / 10)
			return false;
		v *= 10;
	}
	if (neg)
	{
		if (v > (uint64_t) INT64_MAX + 1)
			return false;
		*out = (v == (uint64_t) INT64_MAX + 1) ? INT64_MIN : -(int64_t) v;
	}
	else
	{
		if (v > (uint64_t) INT64_MAX)
			return false;
		*out = (int64_t) v;
	}
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
