/*
 * test_request.c
 *	  Unit tests of input parsing (sql.md 4.1): recipients, channel
 *	  controls, pool ids, sender addresses (form B) and whole requests.
 */
#include "test_common.h"

#define RA "$.recipientAddresses"
#define CH "$.channels"
#define SA "$.senderAddresses"
#define POOL_ID "comms_senderpool_01h455vb4pex5vsknk084sn02q"
#define CRED_ID "comms_credential_01h9krwprkeee8fzqspvwy6nq8"

static int
setup(void **state)
{
	(void) state;
	jv_reset();
	return 0;
}

/* Does recipient r have this channel, address, position and geo? */
static void
check_recipient(const cr_recipient *r, cr_recipient_channel ch, const char *addr,
				int position, int code, int area)
{
	uint64_t	h;

	if (r->channel != ch || r->len != strlen(addr) || memcmp(r->address, addr, r->len) != 0 ||
		r->position != position || r->geo.code != code || r->geo.area != area)
		fail_msg("recipient {%d, \"%.*s\", pos %d, geo {%d, %d}}, expected "
				 "{%d, \"%s\", pos %d, geo {%d, %d}}",
				 r->channel, (int) r->len, r->address, r->position, r->geo.code, r->geo.area,
				 ch, addr, position, code, area);
	/* hash_prefix: FNV-1a state after address '|' (computed byte by byte here) */
	h = UINT64_C(0xcbf29ce484222325);
	for (size_t i = 0; i <= r->len; i++)
	{
		h ^= (unsigned char) (i < r->len ? addr[i] : '|');
		h *= UINT64_C(0x100000001b3);
	}
	assert_true(r->hash_prefix == h);
}

static void
parse_ok(const cr_jv *v, cr_request *req)
{
	cr_error	err;

	cr_request_init(req);
	assert_ok(cr_parse_recipients(v, RA, req, &err), err);
}

/* ---------------------------------------------------------------------
 * Recipients
 * ---------------------------------------------------------------------
 */
static void
test_request_init(void **state)
{
	cr_request	req;

	(void) state;
	memset(&req, 0x7f, sizeof(req));
	cr_request_init(&req);
	assert_int_equal(req.n_recipients, 0);
	assert_false(req.has_filter);
	assert_int_equal(req.filter_mask, 0);
	assert_int_equal(req.listed_mask, 0);
	assert_true(req.max_listed == -1);
}

static void
test_recipients_forms(void **state)
{
	cr_request	req;
	const cr_jv *wa;
	const cr_jv *v;

	(void) state;
	wa = jstr("whatsapp:+447911123456");
	v = JARR(jstr("+14155552671"),
			 wa,
			 jstr("alice@example.com"),
			 JREC("device-token-1", "PUSH"),
			 JREC("+33612345678", "WHATSAPP"),
			 JOBJ({"channel", jstr("EMAIL")}, {"address", jstr("b@c.de")}),	/* key order */
			 JREC("+12125550100", "PHONE"),
			 jstr("+12"),
			 JREC("jos\xc3\xa9@example.com", "EMAIL"));
	parse_ok(v, &req);
	assert_int_equal(req.n_recipients, 9);
	check_recipient(&req.recipients[0], CR_RCH_PHONE, "+14155552671", 0, 1, 415);
	check_recipient(&req.recipients[1], CR_RCH_WHATSAPP, "+447911123456", 1, 44, -1);
	check_recipient(&req.recipients[2], CR_RCH_EMAIL, "alice@example.com", 2, 0, -1);
	check_recipient(&req.recipients[3], CR_RCH_PUSH, "device-token-1", 3, 0, -1);
	check_recipient(&req.recipients[4], CR_RCH_WHATSAPP, "+33612345678", 4, 33, -1);
	check_recipient(&req.recipients[5], CR_RCH_EMAIL, "b@c.de", 5, 0, -1);
	check_recipient(&req.recipients[6], CR_RCH_PHONE, "+12125550100", 6, 1, 212);
	check_recipient(&req.recipients[7], CR_RCH_PHONE, "+12", 7, 1, -1);
	check_recipient(&req.recipients[8], CR_RCH_EMAIL, "jos\xc3\xa9@example.com", 8, 0, -1);
	/* the WhatsApp prefix is dropped by pointing into the input */
	assert_ptr_equal(req.recipients[1].address, wa->s + 9);
	/* the parser does not touch the channel controls */
	assert_false(req.has_filter);
	assert_true(req.max_listed == -1);
}

/* Patterns of bare strings: whatsapp:+E164, +E164, contains @. */
static void
test_recipients_bare_patterns(void **state)
{
	cr_request	req;

	(void) state;
	/* "whatsapp:" followed by something not E.164 but with an @ is an email */
	parse_ok(JARR(jstr("whatsapp:a@example.com")), &req);
	check_recipient(&req.recipients[0], CR_RCH_EMAIL, "whatsapp:a@example.com", 0, 0, -1);

	parse_ok(JARR(jstr("whatsapp:+12")), &req);
	check_recipient(&req.recipients[0], CR_RCH_WHATSAPP, "+12", 0, 1, -1);

	parse_ok(JARR(jstr("whatsapp:+123456789012345")), &req);
	check_recipient(&req.recipients[0], CR_RCH_WHATSAPP, "+123456789012345", 0, 1, 234);

	parse_ok(JARR(jstr("+99912345")), &req);	/* E.164 with no assigned code */
	check_recipient(&req.recipients[0], CR_RCH_PHONE, "+99912345", 0, 0, -1);
}

static void
test_recipients_dedup(void **state)
{
	cr_request	req;
	const cr_jv *v;

	(void) state;
	v = JARR(jstr("+14155552671"),	/* 0 */
			 JREC("+14155552671", "PHONE"),	/* 1: same as 0 */
			 jstr("whatsapp:+14155552671"),	/* 2: other channel, kept */
			 JREC("+14155552671", "WHATSAPP"),	/* 3: same as 2 */
			 jstr("a@example.com"),	/* 4 */
			 jstr("+14155552671"),	/* 5: same as 0 */
			 JREC("a@example.com", "EMAIL"),	/* 6: same as 4 */
			 jstr("A@example.com"),	/* 7: differs in case, kept */
			 JREC("+14155552671", "PUSH"),	/* 8: PUSH, kept */
			 JREC("+14155552671", "PUSH"),	/* 9: same as 8 */
			 jstr("b@example.com"));	/* 10 */
	parse_ok(v, &req);
	assert_int_equal(req.n_recipients, 6);
	check_recipient(&req.recipients[0], CR_RCH_PHONE, "+14155552671", 0, 1, 415);
	check_recipient(&req.recipients[1], CR_RCH_WHATSAPP, "+14155552671", 2, 1, 415);
	check_recipient(&req.recipients[2], CR_RCH_EMAIL, "a@example.com", 4, 0, -1);
	check_recipient(&req.recipients[3], CR_RCH_EMAIL, "A@example.com", 7, 0, -1);
	check_recipient(&req.recipients[4], CR_RCH_PUSH, "+14155552671", 8, 0, -1);
	check_recipient(&req.recipients[5], CR_RCH_EMAIL, "b@example.com", 10, 0, -1);
}

static void
test_recipients_limits(void **state)
{
	const cr_jv *items[101];
	cr_request	req;
	cr_error	err;
	char		addr[32];
	char		push[600];

	(void) state;
	for (int i = 0; i < 101; i++)
	{
		snprintf(addr, sizeof(addr), "+1415555%04d", i);
		items[i] = jstr(addr);
	}
	parse_ok(jarr_v(items, 100), &req);	/* 100: the maximum */
	assert_int_equal(req.n_recipients, 100);
	assert_int_equal(req.recipients[99].position, 99);
	cr_request_init(&req);
	assert_fails(cr_parse_recipients(jarr_v(items, 101), RA, &req, &err), err, CR_ERR_INVALID, RA);

	/* 100 copies of one recipient: one */
	for (int i = 0; i < 100; i++)
		items[i] = items[0];
	parse_ok(jarr_v(items, 100), &req);
	assert_int_equal(req.n_recipients, 1);

	/* PUSH: at most 256 characters (not octets) */
	push[0] = '\0';
	for (int i = 0; i < 256; i++)
		strcat(push, "\xc3\xa9");
	parse_ok(JARR(JREC(push, "PUSH")), &req);
	assert_int_equal(req.recipients[0].len, 512);
	strcat(push, "x");
	cr_request_init(&req);
	assert_fails(cr_parse_recipients(JARR(JREC(push, "PUSH")), RA, &req, &err), err,
				 CR_ERR_INVALID, RA "[0].address");
	parse_ok(JARR(JREC("x", "PUSH")), &req);
	parse_ok(JARR(JREC(" any thing\t", "PUSH")), &req);
}

static void
test_recipients_array_errors(void **state)
{
	cr_request	req;
	cr_error	err;
	const cr_jv *two = JARR(jstr("+14155552671"), jstr("+14155552672"));

	(void) state;
	cr_request_init(&req);
	assert_fails(cr_parse_recipients(NULL, RA, &req, &err), err, CR_ERR_INVALID, RA);
	assert_fails(cr_parse_recipients(jnull(), RA, &req, &err), err, CR_ERR_INVALID, RA);
	assert_fails(cr_parse_recipients(jstr("+14155552671"), RA, &req, &err), err, CR_ERR_INVALID, RA);
	assert_fails(cr_parse_recipients(JOBJ0(), RA, &req, &err), err, CR_ERR_INVALID, RA);
	assert_fails(cr_parse_recipients(jnum("1"), RA, &req, &err), err, CR_ERR_INVALID, RA);
	assert_fails(cr_parse_recipients(jbool(true), RA, &req, &err), err, CR_ERR_INVALID, RA);
	assert_fails(cr_parse_recipients(JARR0(), RA, &req, &err), err, CR_ERR_INVALID, RA);
	/* a container the caller stopped converting counts as too large */
	assert_fails(cr_parse_recipients(jtruncated(two, 50), RA, &req, &err), err, CR_ERR_INVALID, RA);
	assert_fails(cr_parse_recipients(jtruncated(two, 100000), RA, &req, &err), err, CR_ERR_INVALID, RA);
	assert_fails(cr_parse_recipients(jtruncated(JARR0(), 3), RA, &req, &err), err, CR_ERR_INVALID, RA);
	/* the path prefix is the caller's */
	assert_fails(cr_parse_recipients(JARR0(), "$.r", &req, &err), err, CR_ERR_INVALID, "$.r");
	assert_fails(cr_parse_recipients(JARR(jstr("+1"), jstr("x")), "recipients", &req, &err),
				 err, CR_ERR_INVALID, "recipients[0]");
}

static void
test_recipients_element_errors(void **state)
{
	static const struct
	{
		const char *what;
		int			at;			/* index of the bad element */
		const char *ctx;
	}			cases[] = {
		{"number", 1, RA "[1]"},
		{"null", 2, RA "[2]"},
		{"bool", 0, RA "[0]"},
		{"array", 3, RA "[3]"},
		{"cannot infer", 2, RA "[2]"},
		{"empty string", 1, RA "[1]"},
		{"spaced phone", 0, RA "[0]"},
		{"bad whatsapp", 1, RA "[1]"},
		{"upper WHATSAPP:", 1, RA "[1]"},
		{"leading 0", 2, RA "[2]"},
		{"16 digits", 2, RA "[2]"},
		{"bad bare email", 3, RA "[3]"},
		{"bare email two @", 0, RA "[0]"},
		{"bare email NBSP", 0, RA "[0]"},
		{"unknown key", 2, RA "[2]"},
		{"too many keys", 1, RA "[1]"},
		{"no channel", 2, RA "[2].channel"},
		{"empty object", 0, RA "[0].channel"},
		{"channel number", 1, RA "[1].channel"},
		{"channel null", 1, RA "[1].channel"},
		{"channel lower case", 2, RA "[2].channel"},
		{"sender channel", 2, RA "[2].channel"},
		{"no address", 1, RA "[1].address"},
		{"address number", 1, RA "[1].address"},
		{"address null", 1, RA "[1].address"},
		{"phone not e164", 2, RA "[2].address"},
		{"phone 1 digit", 0, RA "[0].address"},
		{"whatsapp with prefix", 2, RA "[2].address"},
		{"email invalid", 2, RA "[2].address"},
		{"email one label", 1, RA "[1].address"},
		{"email 65 local", 1, RA "[1].address"},
		{"push empty", 2, RA "[2].address"},
		{"unknown key and no channel", 0, RA "[0]"},
	};

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		const char *w = cases[i].what;
		const cr_jv *bad = NULL;
		const cr_jv *items[5];
		cr_request	req;
		cr_error	err;
		char		local65[80];

		jv_reset();
		memset(local65, 'a', 65);
		strcpy(local65 + 65, "@example.com");
		if (!strcmp(w, "number"))
			bad = jnum("1");
		else if (!strcmp(w, "null"))
			bad = jnull();
		else if (!strcmp(w, "bool"))
			bad = jbool(false);
		else if (!strcmp(w, "array"))
			bad = JARR(jstr("+14155552671"));
		else if (!strcmp(w, "cannot infer"))
			bad = jstr("hello");
		else if (!strcmp(w, "empty string"))
			bad = jstr("");
		else if (!strcmp(w, "spaced phone"))
			bad = jstr("+1 415 555 2671");
		else if (!strcmp(w, "bad whatsapp"))
			bad = jstr("whatsapp:+0123");
		else if (!strcmp(w, "upper WHATSAPP:"))
			bad = jstr("WHATSAPP:+14155552671");
		else if (!strcmp(w, "leading 0"))
			bad = jstr("+04155552671");
		else if (!strcmp(w, "16 digits"))
			bad = jstr("+1234567890123456");
		else if (!strcmp(w, "bad bare email"))
			bad = jstr("alice@localhost");
		else if (!strcmp(w, "bare email two @"))
			bad = jstr("a@b@example.com");
		else if (!strcmp(w, "bare email NBSP"))
			bad = jstr("a\xc2\xa0" "b@example.com");
		else if (!strcmp(w, "unknown key"))
			bad = JOBJ({"address", jstr("+14155552671")}, {"channel", jstr("PHONE")},
					   {"name", jstr("x")});
		else if (!strcmp(w, "too many keys"))
			bad = jtruncated(JREC("+14155552671", "PHONE"), 3);
		else if (!strcmp(w, "no channel"))
			bad = JOBJ({"address", jstr("+14155552671")});
		else if (!strcmp(w, "empty object"))
			bad = JOBJ0();
		else if (!strcmp(w, "channel number"))
			bad = JOBJ({"address", jstr("+14155552671")}, {"channel", jnum("0")});
		else if (!strcmp(w, "channel null"))
			bad = JOBJ({"address", jstr("+14155552671")}, {"channel", jnull()});
		else if (!strcmp(w, "channel lower case"))
			bad = JREC("+14155552671", "phone");
		else if (!strcmp(w, "sender channel"))
			bad = JREC("+14155552671", "SMS");
		else if (!strcmp(w, "no address"))
			bad = JOBJ({"channel", jstr("PHONE")});
		else if (!strcmp(w, "address number"))
			bad = JOBJ({"address", jnum("14155552671")}, {"channel", jstr("PHONE")});
		else if (!strcmp(w, "address null"))
			bad = JOBJ({"address", jnull()}, {"channel", jstr("EMAIL")});
		else if (!strcmp(w, "phone not e164"))
			bad = JREC("14155552671", "PHONE");
		else if (!strcmp(w, "phone 1 digit"))
			bad = JREC("+1", "PHONE");
		else if (!strcmp(w, "whatsapp with prefix"))
			bad = JREC("whatsapp:+14155552671", "WHATSAPP");
		else if (!strcmp(w, "email invalid"))
			bad = JREC("a b@example.com", "EMAIL");
		else if (!strcmp(w, "email one label"))
			bad = JREC("a@example", "EMAIL");
		else if (!strcmp(w, "email 65 local"))
			bad = JREC(local65, "EMAIL");
		else if (!strcmp(w, "push empty"))
			bad = JREC("", "PUSH");
		else if (!strcmp(w, "unknown key and no channel"))
			bad = JOBJ({"to", jstr("+14155552671")});
		else
			fail_msg("no case %s", w);

		/* valid elements around the bad one; a later bad one is not reached */
		for (int k = 0; k < 5; k++)
			items[k] = k < cases[i].at ? jstr("+14155552671") : jstr("???");
		items[cases[i].at] = bad;
		cr_request_init(&req);
		memset(&err, 0x55, sizeof(err));
		if (cr_parse_recipients(jarr_v(items, 5), RA, &req, &err))
			fail_msg("case \"%s\": accepted", w);
		if (err.kind != CR_ERR_INVALID || strcmp(err.context, cases[i].ctx) != 0)
			fail_msg("case \"%s\": kind %d context \"%s\" (%s), expected context \"%s\"",
					 w, err.kind, err.context, err.message, cases[i].ctx);
		check_error_text(&err);
	}
}

static void
test_recipients_messages(void **state)
{
	cr_request	req;
	cr_error	err;
	char		longs[400];

	(void) state;
	cr_request_init(&req);
	assert_fails(cr_parse_recipients(JARR(jstr("hello")), RA, &req, &err), err, CR_ERR_INVALID, RA "[0]");
	assert_non_null(strstr(err.message, "cannot infer"));
	assert_non_null(strstr(err.message, "hello"));
	/* hostile input: the message quotes a short prefix only */
	memset(longs, 'x', sizeof(longs) - 1);
	longs[sizeof(longs) - 1] = '\0';
	assert_fails(cr_parse_recipients(JARR(jstr(longs)), RA, &req, &err), err, CR_ERR_INVALID, RA "[0]");
	assert_true(strlen(err.message) < 120);
	assert_non_null(strstr(err.message, "..."));
	/* control characters do not reach the message */
	assert_fails(cr_parse_recipients(JARR(jstr("a\nb")), RA, &req, &err), err, CR_ERR_INVALID, RA "[0]");
	assert_null(strchr(err.message, '\n'));
}

/*
 * cr_core.h: "Messages quote at most a short, UTF-8-safe prefix of user
 * input, so they stay small for hostile input."  Input that is not valid
 * UTF-8 (possible outside PostgreSQL, e.g. in the emulator) must not make
 * the message invalid UTF-8 (check_error_text checks that).
 */
static void
test_messages_utf8_safe(void **state)
{
	static const char *const hostile[] = {
		"\xe2" "ab@example.com",	/* lead byte, then ASCII */
		"ab@example.com\xe2\x82",	/* truncated at the end */
		"\xff\xfe@example.com",
		"\xe2" "abcd",				/* cannot infer */
		"abc\xf0\x9f",
		"\xc0\xaf@example.com",	/* overlong */
		"\xed\xa0\x80@example.com",	/* surrogate */
		NULL
	};
	char		longs[200];

	(void) state;
	for (int i = 0; hostile[i]; i++)
	{
		cr_request	req;
		cr_error	err;

		jv_reset();
		cr_request_init(&req);
		assert_fails(cr_parse_recipients(JARR(jstr(hostile[i])), RA, &req, &err), err,
					 CR_ERR_INVALID, RA "[0]");
		assert_fails(cr_parse_recipients(JARR(JREC("+1", hostile[i])), RA, &req, &err), err,
					 CR_ERR_INVALID, RA "[0].channel");
	}
	/* valid multi-byte input cut at the excerpt length stays valid */
	{
		cr_request	req;
		cr_error	err;

		longs[0] = '\0';
		for (int i = 0; i < 60; i++)
			strcat(longs, "\xc3\xa9");
		cr_request_init(&req);
		assert_fails(cr_parse_recipients(JARR(jstr(longs)), RA, &req, &err), err,
					 CR_ERR_INVALID, RA "[0]");
		assert_non_null(strstr(err.message, "..."));
	}
}

/* ---------------------------------------------------------------------
 * Channels
 * ---------------------------------------------------------------------
 */
static void
channels_ok(const cr_jv *v, cr_request *req)
{
	cr_error	err;

	assert_ok(cr_parse_channels(v, CH, req, &err), err);
}

static void
test_channels_absent(void **state)
{
	cr_request	req;

	(void) state;
	cr_request_init(&req);
	channels_ok(NULL, &req);
	assert_false(req.has_filter);
	assert_int_equal(req.listed_mask, 0);
	assert_true(req.max_listed == -1);
	channels_ok(jnull(), &req);
	assert_false(req.has_filter);
	channels_ok(JOBJ0(), &req);
	assert_false(req.has_filter);
	assert_int_equal(req.listed_mask, 0);
	assert_true(req.max_listed == -1);

	/* absent resets what an earlier parse set */
	channels_ok(JOBJ({"filterIn", JARR(jstr("SMS"))},
					 {"priority", JARR(JOBJ({"channel", jstr("SMS")}, {"priority", jnum("3")}))}), &req);
	assert_true(req.has_filter);
	assert_int_equal(req.listed_mask, 1u << CR_SCH_SMS);
	channels_ok(NULL, &req);
	assert_false(req.has_filter);
	assert_int_equal(req.filter_mask, 0);
	assert_int_equal(req.listed_mask, 0);
	assert_true(req.max_listed == -1);
}

static void
test_channels_filter_in(void **state)
{
	cr_request	req;

	(void) state;
	cr_request_init(&req);
	channels_ok(JOBJ({"filterIn", JARR(jstr("SMS"), jstr("RCS"))}), &req);
	assert_true(req.has_filter);
	assert_int_equal(req.filter_mask, (1u << CR_SCH_SMS) | (1u << CR_SCH_RCS));
	assert_int_equal(req.listed_mask, 0);

	channels_ok(JOBJ({"filterIn", JARR(jstr("PUSH"), jstr("EMAIL"), jstr("WHATSAPP"),
									   jstr("SMS"), jstr("RCS"))}), &req);
	assert_int_equal(req.filter_mask, 0x1f);

	/* empty: lets nothing through, but is a filter */
	channels_ok(JOBJ({"filterIn", JARR0()}), &req);
	assert_true(req.has_filter);
	assert_int_equal(req.filter_mask, 0);
}

static void
test_channels_priority(void **state)
{
	cr_request	req;

	(void) state;
	cr_request_init(&req);
	channels_ok(JOBJ({"priority", JARR(JOBJ({"channel", jstr("SMS")}, {"priority", jnum("5")}),
									   JOBJ({"priority", jnum("2")}, {"channel", jstr("RCS")}))}), &req);
	assert_false(req.has_filter);
	assert_int_equal(req.listed_mask, (1u << CR_SCH_SMS) | (1u << CR_SCH_RCS));
	assert_true(req.listed_priority[CR_SCH_SMS] == 5);
	assert_true(req.listed_priority[CR_SCH_RCS] == 2);
	assert_true(req.max_listed == 5);

	/* integral numbers in any spelling; the bounds 0 and 2147483647 */
	channels_ok(JOBJ({"priority", JARR(JOBJ({"channel", jstr("EMAIL")}, {"priority", jnum("1.0")}),
									   JOBJ({"channel", jstr("PUSH")}, {"priority", jnum("1e2")}),
									   JOBJ({"channel", jstr("WHATSAPP")}, {"priority", jnum("0")}),
									   JOBJ({"channel", jstr("RCS")}, {"priority", jnum("2147483647")}),
									   JOBJ({"channel", jstr("SMS")}, {"priority", jnum("2147483647.0")}))}),
				&req);
	assert_int_equal(req.listed_mask, 0x1f);
	assert_true(req.listed_priority[CR_SCH_EMAIL] == 1);
	assert_true(req.listed_priority[CR_SCH_PUSH] == 100);
	assert_true(req.listed_priority[CR_SCH_WHATSAPP] == 0);
	assert_true(req.listed_priority[CR_SCH_RCS] == 2147483647);
	assert_true(req.listed_priority[CR_SCH_SMS] == 2147483647);
	assert_true(req.max_listed == 2147483647);

	/* only 0 listed */
	channels_ok(JOBJ({"priority", JARR(JOBJ({"channel", jstr("SMS")}, {"priority", jnum("0")}))}), &req);
	assert_true(req.max_listed == 0);

	/* empty priority array: nothing listed */
	channels_ok(JOBJ({"priority", JARR0()}, {"filterIn", JARR(jstr("SMS"))}), &req);
	assert_int_equal(req.listed_mask, 0);
	assert_true(req.max_listed == -1);
	assert_true(req.has_filter);
	assert_int_equal(req.filter_mask, 1u << CR_SCH_SMS);
}

#define PE(ch, pr) JOBJ({"channel", (ch)}, {"priority", (pr)})

static void
test_channels_errors(void **state)
{
	cr_request	req;
	cr_error	err;
	const cr_jv *five = JARR(jstr("SMS"), jstr("RCS"), jstr("EMAIL"), jstr("PUSH"), jstr("WHATSAPP"));
	const cr_jv *pri = JARR(JPRIO("SMS", "1"));

	(void) state;
	cr_request_init(&req);
#define CH_FAILS(v, ctx) assert_fails(cr_parse_channels((v), CH, &req, &err), err, CR_ERR_INVALID, ctx)
	/* the object */
	CH_FAILS(jstr("SMS"), CH);
	CH_FAILS(JARR0(), CH);
	CH_FAILS(jnum("1"), CH);
	CH_FAILS(jbool(true), CH);
	CH_FAILS(JOBJ({"filter", JARR0()}), CH);	/* unknown key */
	CH_FAILS(JOBJ({"filterIn", JARR0()}, {"extra", jnull()}), CH);
	CH_FAILS(JOBJ({"FilterIn", JARR0()}), CH);
	CH_FAILS(jtruncated(JOBJ({"filterIn", JARR0()}), 3), CH);

	/* filterIn */
	CH_FAILS(JOBJ({"filterIn", jstr("SMS")}), CH ".filterIn");
	CH_FAILS(JOBJ({"filterIn", jnull()}), CH ".filterIn");
	CH_FAILS(JOBJ({"filterIn", JOBJ0()}), CH ".filterIn");
	CH_FAILS(JOBJ({"filterIn", JARR(jstr("SMS"), jnum("1"))}), CH ".filterIn[1]");
	CH_FAILS(JOBJ({"filterIn", JARR(jstr("SMS"), jnull())}), CH ".filterIn[1]");
	CH_FAILS(JOBJ({"filterIn", JARR(JARR(jstr("SMS")))}), CH ".filterIn[0]");
	CH_FAILS(JOBJ({"filterIn", JARR(jstr("PHONE"))}), CH ".filterIn[0]");	/* recipient channel */
	CH_FAILS(JOBJ({"filterIn", JARR(jstr("RCS"), jstr("sms"))}), CH ".filterIn[1]");
	CH_FAILS(JOBJ({"filterIn", JARR(jstr(""))}), CH ".filterIn[0]");
	CH_FAILS(JOBJ({"filterIn", JARR(jstr("SMS"), jstr("RCS"), jstr("SMS"))}), CH ".filterIn[2]");
	CH_FAILS(JOBJ({"filterIn", jtruncated(five, 6)}), CH ".filterIn");
	CH_FAILS(JOBJ({"filterIn", jtruncated(JARR(jstr("SMS")), 2)}), CH ".filterIn");

	/* priority */
	CH_FAILS(JOBJ({"priority", JOBJ0()}), CH ".priority");
	CH_FAILS(JOBJ({"priority", jnull()}), CH ".priority");
	CH_FAILS(JOBJ({"priority", jstr("SMS")}), CH ".priority");
	CH_FAILS(JOBJ({"priority", jtruncated(pri, 7)}), CH ".priority");
	CH_FAILS(JOBJ({"priority", JARR(JPRIO("SMS", "1"), jstr("RCS"))}), CH ".priority[1]");
	CH_FAILS(JOBJ({"priority", JARR(jnull())}), CH ".priority[0]");
	CH_FAILS(JOBJ({"priority", JARR(JARR0())}), CH ".priority[0]");
	CH_FAILS(JOBJ({"priority", JARR(JOBJ({"channel", jstr("SMS")}, {"priority", jnum("1")},
										 {"weight", jnum("1")}))}), CH ".priority[0]");
	CH_FAILS(JOBJ({"priority", JARR(jtruncated(JPRIO("SMS", "1"), 3))}), CH ".priority[0]");
	CH_FAILS(JOBJ({"priority", JARR(JOBJ({"priority", jnum("1")}))}), CH ".priority[0].channel");
	CH_FAILS(JOBJ({"priority", JARR(JOBJ0())}), CH ".priority[0].channel");
	CH_FAILS(JOBJ({"priority", JARR(PE(jnum("1"), jnum("1")))}), CH ".priority[0].channel");
	CH_FAILS(JOBJ({"priority", JARR(PE(jnull(), jnum("1")))}), CH ".priority[0].channel");
	CH_FAILS(JOBJ({"priority", JARR(JPRIO("PHONE", "1"))}), CH ".priority[0].channel");
	CH_FAILS(JOBJ({"priority", JARR(JPRIO("Sms", "1"))}), CH ".priority[0].channel");
	CH_FAILS(JOBJ({"priority", JARR(JPRIO("SMS", "1"), JPRIO("SMS", "2"))}), CH ".priority[1].channel");
	CH_FAILS(JOBJ({"priority", JARR(JPRIO("RCS", "1"), JPRIO("SMS", "1"), JPRIO("RCS", "3"))}),
			 CH ".priority[2].channel");
	CH_FAILS(JOBJ({"priority", JARR(JOBJ({"channel", jstr("SMS")}))}), CH ".priority[0].priority");
	CH_FAILS(JOBJ({"priority", JARR(PE(jstr("SMS"), jstr("1")))}), CH ".priority[0].priority");
	CH_FAILS(JOBJ({"priority", JARR(PE(jstr("SMS"), jnull()))}), CH ".priority[0].priority");
	CH_FAILS(JOBJ({"priority", JARR(PE(jstr("SMS"), jbool(true)))}), CH ".priority[0].priority");
	CH_FAILS(JOBJ({"priority", JARR(PE(jstr("SMS"), JARR0()))}), CH ".priority[0].priority");
	CH_FAILS(JOBJ({"priority", JARR(JPRIO("RCS", "0"), JPRIO("SMS", "-1"))}), CH ".priority[1].priority");
	assert_non_null(strstr(err.message, "out of range"));
	CH_FAILS(JOBJ({"priority", JARR(JPRIO("SMS", "2147483648"))}), CH ".priority[0].priority");
	assert_non_null(strstr(err.message, "out of range"));
	CH_FAILS(JOBJ({"priority", JARR(JPRIO("SMS", "1e100"))}), CH ".priority[0].priority");
	assert_non_null(strstr(err.message, "out of range"));
	CH_FAILS(JOBJ({"priority", JARR(JPRIO("SMS", "-9223372036854775809"))}), CH ".priority[0].priority");
	CH_FAILS(JOBJ({"priority", JARR(JPRIO("SMS", "1.5"))}), CH ".priority[0].priority");
	assert_non_null(strstr(err.message, "not an integer"));
	CH_FAILS(JOBJ({"priority", JARR(JPRIO("SMS", "-0.5"))}), CH ".priority[0].priority");
	assert_non_null(strstr(err.message, "not an integer"));
	CH_FAILS(JOBJ({"priority", JARR(JPRIO("SMS", "1e-1"))}), CH ".priority[0].priority");
	/* the first problem in input order: filterIn is reported with both bad */
	CH_FAILS(JOBJ({"filterIn", JARR(jstr("X"))}, {"priority", JARR(jnull())}), CH ".filterIn[0]");
	/* the path prefix is the caller's */
	assert_fails(cr_parse_channels(JOBJ({"filterIn", JARR(jstr("X"))}), "ch", &req, &err),
				 err, CR_ERR_INVALID, "ch.filterIn[0]");
#undef CH_FAILS
}

/* ---------------------------------------------------------------------
 * Pool ids
 * ---------------------------------------------------------------------
 */
static void
test_pool_id(void **state)
{
	cr_error	err;

	(void) state;
	assert_ok(cr_check_pool_id(POOL_ID, strlen(POOL_ID), "$.senderPoolId", &err), err);
	assert_ok(cr_check_pool_id("comms_senderpool_7zzzzzzzzzzzzzzzzzzzzzzzzz", 43, "x", &err), err);
#define POOL_FAILS(s) \
	assert_fails(cr_check_pool_id((s), strlen(s), "$.senderPoolId", &err), err, CR_ERR_INVALID, "$.senderPoolId")
	POOL_FAILS("");
	POOL_FAILS("comms_sender_01h455vb4pex5vsknk084sn02q");
	POOL_FAILS("comms_senderpool_01H455VB4PEX5VSKNK084SN02Q");
	POOL_FAILS("comms_senderpool_01h455vb4pex5vsknk084sn02");
	POOL_FAILS("comms_senderpool_81h455vb4pex5vsknk084sn02q");
	POOL_FAILS("comms_senderpool01h455vb4pex5vsknk084sn02q");
	POOL_FAILS("pool-1");
#undef POOL_FAILS
	assert_fails(cr_check_pool_id("x", 1, "sender_pool_id", &err), err, CR_ERR_INVALID, "sender_pool_id");
}

/* ---------------------------------------------------------------------
 * Sender addresses (form B)
 * ---------------------------------------------------------------------
 */
static void
test_sender_address_forms(void **state)
{
	cr_sender_address sa;
	cr_error	err;
	const cr_jv *addr = jstr("+14155550100");
	const cr_jv *v;

	(void) state;
	static const char *const chans[] = {"SMS", "RCS", "WHATSAPP"};
	static const cr_sender_channel chv[] = {CR_SCH_SMS, CR_SCH_RCS, CR_SCH_WHATSAPP};

	for (int i = 0; i < 3; i++)
	{
		v = JOBJ({"address", addr}, {"channel", jstr(chans[i])});
		memset(&sa, 0x55, sizeof(sa));
		assert_ok(cr_parse_sender_address(v, SA, &sa, &err), err);
		assert_int_equal(sa.channel, chv[i]);
		assert_ptr_equal(sa.address, addr->s);
		assert_int_equal(sa.address_len, 12);
		assert_null(sa.name);
		assert_false(sa.is_push);
	}
	/* key order does not matter; the address is not checked as E.164 here */
	v = JOBJ({"channel", jstr("SMS")}, {"address", jstr("MyBrand")});
	assert_ok(cr_parse_sender_address(v, SA, &sa, &err), err);
	assert_int_equal(sa.channel, CR_SCH_SMS);
	assert_int_equal(sa.address_len, 7);

	v = JOBJ({"address", jstr("noreply@example.com")}, {"name", jstr("Example Inc.")});
	memset(&sa, 0x55, sizeof(sa));
	assert_ok(cr_parse_sender_address(v, SA, &sa, &err), err);
	assert_int_equal(sa.channel, CR_SCH_EMAIL);
	assert_int_equal(sa.address_len, strlen("noreply@example.com"));
	assert_memory_equal(sa.address, "noreply@example.com", sa.address_len);
	assert_int_equal(sa.name_len, strlen("Example Inc."));
	assert_memory_equal(sa.name, "Example Inc.", sa.name_len);
	assert_false(sa.is_push);

	v = JOBJ({"fcm", jstr(CRED_ID)});
	memset(&sa, 0x55, sizeof(sa));
	assert_ok(cr_parse_sender_address(v, SA, &sa, &err), err);
	assert_true(sa.is_push);
	assert_int_equal(sa.channel, CR_SCH_PUSH);
	assert_null(sa.address);
	assert_int_equal(sa.address_len, 0);
	v = JOBJ({"apn", jstr(CRED_ID)});
	assert_ok(cr_parse_sender_address(v, SA, &sa, &err), err);
	assert_true(sa.is_push);
	v = JOBJ({"apn", jstr(CRED_ID)}, {"fcm", jstr(CRED_ID)});
	assert_ok(cr_parse_sender_address(v, SA, &sa, &err), err);
	assert_true(sa.is_push);
}

static void
test_sender_address_errors(void **state)
{
	cr_sender_address sa;
	cr_error	err;
	const cr_jv *ok = JOBJ({"address", jstr("+14155550100")}, {"channel", jstr("SMS")});

	(void) state;
#define SA_FAILS(v, ctx) assert_fails(cr_parse_sender_address((v), SA, &sa, &err), err, CR_ERR_INVALID, ctx)
	SA_FAILS(NULL, SA);
	SA_FAILS(jnull(), SA);
	SA_FAILS(jstr("+14155550100"), SA);
	SA_FAILS(JARR0(), SA);
	SA_FAILS(JOBJ0(), SA);		/* empty push form */
	SA_FAILS(jtruncated(ok, 3), SA);
	/* push form */
	SA_FAILS(JOBJ({"fcm", jnum("1")}), SA ".fcm");
	SA_FAILS(JOBJ({"fcm", jnull()}), SA ".fcm");
	SA_FAILS(JOBJ({"fcm", jstr("")}), SA ".fcm");
	SA_FAILS(JOBJ({"fcm", jstr("cred-1")}), SA ".fcm");
	SA_FAILS(JOBJ({"fcm", jstr(CRED_ID)}, {"apn", jstr("comms_sender_01h455vb4pex5vsknk084sn02q")}), SA ".apn");
	SA_FAILS(JOBJ({"fcm", jstr(CRED_ID)}, {"gcm", jstr(CRED_ID)}), SA);
	SA_FAILS(JOBJ({"channel", jstr("SMS")}), SA);	/* no address: not the push form either */
	SA_FAILS(JOBJ({"name", jstr("Example")}), SA);
	SA_FAILS(jtruncated(JOBJ({"fcm", jstr(CRED_ID)}), 2), SA);
	/* message form */
	SA_FAILS(JOBJ({"address", jstr("+14155550100")}), SA ".channel");
	SA_FAILS(JOBJ({"address", jstr("+14155550100")}, {"channel", jstr("EMAIL")}), SA ".channel");
	SA_FAILS(JOBJ({"address", jstr("+14155550100")}, {"channel", jstr("PUSH")}), SA ".channel");
	SA_FAILS(JOBJ({"address", jstr("+14155550100")}, {"channel", jstr("PHONE")}), SA ".channel");
	SA_FAILS(JOBJ({"address", jstr("+14155550100")}, {"channel", jstr("sms")}), SA ".channel");
	SA_FAILS(JOBJ({"address", jstr("+14155550100")}, {"channel", jnum("2")}), SA ".channel");
	SA_FAILS(JOBJ({"address", jstr("+14155550100")}, {"channel", jnull()}), SA ".channel");
	SA_FAILS(JOBJ({"address", jnum("14155550100")}, {"channel", jstr("SMS")}), SA ".address");
	SA_FAILS(JOBJ({"address", jnull()}, {"channel", jstr("SMS")}), SA ".address");
	SA_FAILS(JOBJ({"address", jstr("")}, {"channel", jstr("SMS")}), SA ".address");
	SA_FAILS(JOBJ({"address", jstr("+14155550100")}, {"channel", jstr("SMS")}, {"fcm", jstr(CRED_ID)}), SA);
	/* email form */
	SA_FAILS(JOBJ({"address", jstr("a@example.com")}, {"name", jstr("A")}, {"channel", jstr("EMAIL")}), SA);
	SA_FAILS(JOBJ({"address", jstr("a@example")}, {"name", jstr("A")}), SA ".address");
	SA_FAILS(JOBJ({"address", jstr("a b@example.com")}, {"name", jstr("A")}), SA ".address");
	SA_FAILS(JOBJ({"address", jstr("")}, {"name", jstr("A")}), SA ".address");
	SA_FAILS(JOBJ({"address", jnum("1")}, {"name", jstr("A")}), SA ".address");
	SA_FAILS(JOBJ({"address", jstr("a@example.com")}, {"name", jstr("")}), SA ".name");
	SA_FAILS(JOBJ({"address", jstr("a@example.com")}, {"name", jnull()}), SA ".name");
	SA_FAILS(JOBJ({"address", jstr("a@example.com")}, {"name", jnum("1")}), SA ".name");
#undef SA_FAILS
	/* the path prefix is the caller's */
	assert_fails(cr_parse_sender_address(JOBJ({"address", jstr("+1")}), "sender", &sa, &err),
				 err, CR_ERR_INVALID, "sender.channel");
}

/* ---------------------------------------------------------------------
 * Whole requests
 * ---------------------------------------------------------------------
 */
static void
test_full_request_valid(void **state)
{
	cr_full_request fr;
	cr_error	err;
	const cr_jv *pool = jstr(POOL_ID);
	const cr_jv *v;

	(void) state;
	/* form A with everything */
	v = JOBJ({"senderPoolId", pool},
			 {"recipientAddresses", JARR(jstr("+14155552671"), jstr("a@example.com"), jstr("+14155552671"))},
			 {"channels", JOBJ({"filterIn", JARR(jstr("SMS"), jstr("EMAIL"))},
							   {"priority", JARR(JPRIO("EMAIL", "3"))})});
	memset(&fr, 0x55, sizeof(fr));
	assert_ok(cr_parse_full_request(v, &fr, &err), err);
	assert_true(fr.has_pool);
	assert_ptr_equal(fr.pool_id, pool->s);
	assert_int_equal(fr.pool_id_len, strlen(POOL_ID));
	assert_false(fr.has_sender);
	assert_int_equal(fr.req.n_recipients, 2);
	check_recipient(&fr.req.recipients[1], CR_RCH_EMAIL, "a@example.com", 1, 0, -1);
	assert_true(fr.req.has_filter);
	assert_int_equal(fr.req.filter_mask, (1u << CR_SCH_SMS) | (1u << CR_SCH_EMAIL));
	assert_int_equal(fr.req.listed_mask, 1u << CR_SCH_EMAIL);
	assert_true(fr.req.max_listed == 3);

	/* recipients only */
	v = JOBJ({"recipientAddresses", JARR(jstr("+14155552671"))});
	memset(&fr, 0x55, sizeof(fr));
	assert_ok(cr_parse_full_request(v, &fr, &err), err);
	assert_false(fr.has_pool);
	assert_false(fr.has_sender);
	assert_int_equal(fr.req.n_recipients, 1);
	assert_false(fr.req.has_filter);
	assert_int_equal(fr.req.listed_mask, 0);
	assert_true(fr.req.max_listed == -1);

	/* null senderPoolId and channels mean absent */
	v = JOBJ({"senderPoolId", jnull()}, {"channels", jnull()},
			 {"recipientAddresses", JARR(jstr("+14155552671"))});
	assert_ok(cr_parse_full_request(v, &fr, &err), err);
	assert_false(fr.has_pool);
	assert_false(fr.req.has_filter);

	/* so does a null senderAddresses, even beside a pool id */
	v = JOBJ({"senderPoolId", jstr(POOL_ID)}, {"senderAddresses", jnull()},
			 {"recipientAddresses", JARR(jstr("+14155552671"))});
	assert_ok(cr_parse_full_request(v, &fr, &err), err);
	assert_true(fr.has_pool);
	assert_false(fr.has_sender);

	/* form B */
	v = JOBJ({"senderAddresses", JOBJ({"address", jstr("+14155550100")}, {"channel", jstr("SMS")})},
			 {"recipientAddresses", JARR(jstr("+14155552671"))});
	memset(&fr, 0x55, sizeof(fr));
	assert_ok(cr_parse_full_request(v, &fr, &err), err);
	assert_false(fr.has_pool);
	assert_true(fr.has_sender);
	assert_int_equal(fr.sender.channel, CR_SCH_SMS);
	assert_memory_equal(fr.sender.address, "+14155550100", 12);
	/* form B, push, with a null pool id */
	v = JOBJ({"senderAddresses", JOBJ({"fcm", jstr(CRED_ID)})}, {"senderPoolId", jnull()},
			 {"recipientAddresses", JARR(JREC("tok", "PUSH"))});
	assert_ok(cr_parse_full_request(v, &fr, &err), err);
	assert_true(fr.has_sender);
	assert_true(fr.sender.is_push);
}

static void
test_full_request_errors(void **state)
{
	cr_full_request fr;
	cr_error	err;
	const cr_jv *recips = JARR(jstr("+14155552671"));
	const cr_jv *sender = JOBJ({"address", jstr("+14155550100")}, {"channel", jstr("SMS")});

	(void) state;
#define FR_FAILS(v, ctx) assert_fails(cr_parse_full_request((v), &fr, &err), err, CR_ERR_INVALID, ctx)
	FR_FAILS(NULL, "$");
	FR_FAILS(jnull(), "$");
	FR_FAILS(recips, "$");
	FR_FAILS(jstr("{}"), "$");
	FR_FAILS(JOBJ({"recipientAddresses", recips}, {"senderPoolID", jstr(POOL_ID)}), "$");
	FR_FAILS(JOBJ({"recipientAddresses", recips}, {"maxResults", jnum("5")}), "$");
	FR_FAILS(jtruncated(JOBJ({"recipientAddresses", recips}), 5), "$");
	FR_FAILS(JOBJ({"senderPoolId", jstr(POOL_ID)}, {"senderAddresses", sender},
				  {"recipientAddresses", recips}), SA);
	FR_FAILS(JOBJ({"senderPoolId", jnum("1")}, {"recipientAddresses", recips}), "$.senderPoolId");
	FR_FAILS(JOBJ({"senderPoolId", JARR0()}, {"recipientAddresses", recips}), "$.senderPoolId");
	FR_FAILS(JOBJ({"senderPoolId", jstr("")}, {"recipientAddresses", recips}), "$.senderPoolId");
	FR_FAILS(JOBJ({"senderPoolId", jstr("comms_sender_01h455vb4pex5vsknk084sn02q")},
				  {"recipientAddresses", recips}), "$.senderPoolId");
	FR_FAILS(JOBJ0(), RA);
	FR_FAILS(JOBJ({"senderPoolId", jstr(POOL_ID)}), RA);
	FR_FAILS(JOBJ({"recipientAddresses", jnull()}), RA);
	FR_FAILS(JOBJ({"recipientAddresses", JARR0()}), RA);
	FR_FAILS(JOBJ({"recipientAddresses", JARR(jstr("+14155552671"), jstr("a@example.com"),
											  JREC("123", "PHONE"))}), RA "[2].address");
	FR_FAILS(JOBJ({"recipientAddresses", recips}, {"channels", jstr("SMS")}), CH);
	FR_FAILS(JOBJ({"recipientAddresses", recips},
				  {"channels", JOBJ({"priority", JARR(JPRIO("SMS", "1.5"))})}), CH ".priority[0].priority");
	FR_FAILS(JOBJ({"recipientAddresses", recips}, {"senderAddresses", JOBJ({"address", jstr("x")})}),
			 SA ".channel");
	FR_FAILS(JOBJ({"recipientAddresses", recips},
				  {"senderAddresses", JOBJ({"address", jstr("x")}, {"channel", jstr("EMAIL")})}),
			 SA ".channel");
#undef FR_FAILS
}

const struct CMUnitTest request_tests[] = {
	cmocka_unit_test_setup(test_request_init, setup),
	cmocka_unit_test_setup(test_recipients_forms, setup),
	cmocka_unit_test_setup(test_recipients_bare_patterns, setup),
	cmocka_unit_test_setup(test_recipients_dedup, setup),
	cmocka_unit_test_setup(test_recipients_limits, setup),
	cmocka_unit_test_setup(test_recipients_array_errors, setup),
	cmocka_unit_test_setup(test_recipients_element_errors, setup),
	cmocka_unit_test_setup(test_recipients_messages, setup),
	cmocka_unit_test_setup(test_messages_utf8_safe, setup),
	cmocka_unit_test_setup(test_channels_absent, setup),
	cmocka_unit_test_setup(test_channels_filter_in, setup),
	cmocka_unit_test_setup(test_channels_priority, setup),
	cmocka_unit_test_setup(test_channels_errors, setup),
	cmocka_unit_test_setup(test_pool_id, setup),
	cmocka_unit_test_setup(test_sender_address_forms, setup),
	cmocka_unit_test_setup(test_sender_address_errors, setup),
	cmocka_unit_test_setup(test_full_request_valid, setup),
	cmocka_unit_test_setup(test_full_request_errors, setup),
};
const size_t request_tests_count = sizeof(request_tests) / sizeof(request_tests[0]);
