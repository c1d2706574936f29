/*
 * test_rank.c
 *	  Unit tests of ranking (sql.md 4.2-4.4): candidates, default and
 *	  explicit priorities, filterIn, the cut, geographic and sticky order,
 *	  the priority overflow, and a brute-force cross-check of cr_rank
 *	  against a naive "all pairs, qsort, cut" ranking.
 */
#include "test_common.h"

#include <stdlib.h>

#define MAX_SENDERS 128
#define MAX_OUT 1000

/* A pool under test: senders with their own string storage. */
typedef struct tpool
{
	int			n;
	cr_sender	s[MAX_SENDERS];
	char		ids[MAX_SENDERS][64];
	char		addrs[MAX_SENDERS][64];
	int			index[MAX_SENDERS];
	cr_pool		pool;
} tpool;

static void
tp_init(tpool *p)
{
	memset(p, 0, sizeof(*p));
}

static void
tp_add(tpool *p, const char *id, cr_sender_channel ch, const char *addr)
{
	cr_sender  *s;

	assert_true(p->n < MAX_SENDERS);
	assert_true(strlen(id) < 64 && strlen(addr) < 64);
	s = &p->s[p->n];
	strcpy(p->ids[p->n], id);
	strcpy(p->addrs[p->n], addr);
	s->id = p->ids[p->n];
	s->id_len = strlen(id);
	s->address = p->addrs[p->n];
	s->address_len = strlen(addr);
	s->channel = ch;
	memset(&s->geo, 0x55, sizeof(s->geo));	/* cr_sender_prepare must set it */
	cr_sender_prepare(s);
	p->n++;
}

static void
tp_build(tpool *p)
{
	cr_pool_build(&p->pool, p->s, p->n, p->index);
}

static void
make_request(cr_request *req, const cr_jv *recipients, const cr_jv *channels)
{
	cr_error	err;

	cr_request_init(req);
	assert_ok(cr_parse_recipients(recipients, "$.recipientAddresses", req, &err), err);
	assert_ok(cr_parse_channels(channels, "$.channels", req, &err), err);
}

static int
rank(const cr_request *req, tpool *p, int max_results, cr_pair *out)
{
	cr_error	err;
	int			n;

	tp_build(p);
	memset(&err, 0, sizeof(err));
	n = cr_rank(req, &p->pool, max_results, out, &err);
	if (n < 0)
		fail_msg("cr_rank failed: %s (%s)", err.message, err.context);
	return n;
}

/* Expected row: sender id, recipient index, priority. */
typedef struct erow
{
	const char *sender;
	int			recipient;
	int32_t		priority;
} erow;

static void
expect_rows(const tpool *p, const cr_request *req, const cr_pair *out, int n,
			const erow *rows, int nrows)
{
	if (n != nrows)
	{
		for (int i = 0; i < n; i++)
			print_message("  got [%d] %s -> %d prio %d geo %d\n", i, p->s[out[i].sender].id,
						  out[i].recipient, out[i].priority, out[i].geo);
		fail_msg("cr_rank returned %d rows, expected %d", n, nrows);
	}
	for (int i = 0; i < n; i++)
	{
		const cr_sender *s = &p->s[out[i].sender];
		const cr_recipient *r = &req->recipients[out[i].recipient];

		if (strcmp(s->id, rows[i].sender) != 0 || out[i].recipient != rows[i].recipient ||
			out[i].priority != rows[i].priority)
			fail_msg("row %d: %s -> recipient %d priority %d; expected %s -> %d priority %d",
					 i, s->id, out[i].recipient, out[i].priority,
					 rows[i].sender, rows[i].recipient, rows[i].priority);
		/* every row carries its ordering keys */
		assert_true(out[i].sticky == cr_sticky_score(r->address, r->len, s->id, s->id_len));
		assert_int_equal(out[i].geo, cr_geo_match(s->geo, r->geo));
	}
}

#define EXPECT(...) \
	expect_rows(&p, &req, out, n, (const erow[]){__VA_ARGS__}, \
				(int) (sizeof((const erow[]){__VA_ARGS__}) / sizeof(erow)))

static int
setup(void **state)
{
	(void) state;
	jv_reset();
	return 0;
}

/* ---------------------------------------------------------------------
 * Preparation and pool building
 * ---------------------------------------------------------------------
 */
static void
test_sender_prepare(void **state)
{
	cr_sender	s;

	(void) state;
	memset(&s, 0, sizeof(s));
	s.address = "+14155550100";
	s.address_len = 12;
	s.channel = CR_SCH_SMS;
	cr_sender_prepare(&s);
	assert_int_equal(s.geo.code, 1);
	assert_int_equal(s.geo.area, 415);
	s.channel = CR_SCH_WHATSAPP;
	cr_sender_prepare(&s);
	assert_int_equal(s.geo.code, 1);
	assert_int_equal(s.geo.area, 415);
	/* geography applies to SMS and WHATSAPP senders only */
	s.channel = CR_SCH_RCS;
	cr_sender_prepare(&s);
	assert_int_equal(s.geo.code, 0);
	assert_int_equal(s.geo.area, -1);
	s.channel = CR_SCH_EMAIL;
	cr_sender_prepare(&s);
	assert_int_equal(s.geo.code, 0);
	s.channel = CR_SCH_PUSH;
	cr_sender_prepare(&s);
	assert_int_equal(s.geo.code, 0);
	s.channel = CR_SCH_SMS;
	s.address = "MyBrand";
	s.address_len = 7;
	cr_sender_prepare(&s);
	assert_int_equal(s.geo.code, 0);
	assert_int_equal(s.geo.area, -1);
}

static void
test_pool_build(void **state)
{
	tpool		p;

	(void) state;
	tp_init(&p);
	tp_add(&p, "a", CR_SCH_SMS, "+14155550100");
	tp_add(&p, "b", CR_SCH_PUSH, "app");
	tp_add(&p, "c", CR_SCH_RCS, "+14155550101");
	tp_add(&p, "d", CR_SCH_SMS, "+14155550102");
	tp_add(&p, "e", CR_SCH_EMAIL, "a@example.com");
	tp_build(&p);
	assert_ptr_equal(p.pool.senders, p.s);
	assert_int_equal(p.pool.n_senders, 5);
	assert_int_equal(p.pool.start[CR_SCH_RCS], 0);
	assert_int_equal(p.pool.start[CR_SCH_WHATSAPP], 1);
	assert_int_equal(p.pool.start[CR_SCH_SMS], 1);
	assert_int_equal(p.pool.start[CR_SCH_EMAIL], 3);
	assert_int_equal(p.pool.start[CR_SCH_PUSH], 4);
	assert_int_equal(p.pool.start[CR_SCH_COUNT], 5);
	assert_int_equal(p.index[0], 2);
	assert_int_equal(p.index[1], 0);	/* input order within a channel */
	assert_int_equal(p.index[2], 3);
	assert_int_equal(p.index[3], 4);
	assert_int_equal(p.index[4], 1);

	tp_init(&p);
	tp_build(&p);
	for (int c = 0; c <= CR_SCH_COUNT; c++)
		assert_int_equal(p.pool.start[c], 0);
}

/* ---------------------------------------------------------------------
 * Default priorities (the API's examples) and explicit ones
 * ---------------------------------------------------------------------
 */
static void
test_rank_default_phone(void **state)
{
	tpool		p;
	cr_request	req;
	cr_pair		out[MAX_OUT];
	int			n;

	(void) state;
	tp_init(&p);
	tp_add(&p, "sms1", CR_SCH_SMS, "+14155550100");
	tp_add(&p, "rcs1", CR_SCH_RCS, "+14155550101");
	make_request(&req, JARR(jstr("+14155552671")), NULL);
	n = rank(&req, &p, 10, out);
	EXPECT({"rcs1", 0, 0}, {"sms1", 0, 1});
}

static void
test_rank_default_phone_whatsapp(void **state)
{
	tpool		p;
	cr_request	req;
	cr_pair		out[MAX_OUT];
	int			n;

	(void) state;
	tp_init(&p);
	tp_add(&p, "sms1", CR_SCH_SMS, "+14155550100");
	tp_add(&p, "wa1", CR_SCH_WHATSAPP, "+14155550102");
	tp_add(&p, "rcs1", CR_SCH_RCS, "+14155550101");
	make_request(&req, JARR(jstr("+14155552671"), jstr("whatsapp:+14155552671")), NULL);
	n = rank(&req, &p, 10, out);
	EXPECT({"rcs1", 0, 0}, {"wa1", 1, 1}, {"sms1", 0, 2});

	/* the same with object recipients, WhatsApp first: priority still rules */
	make_request(&req, JARR(JREC("+14155552671", "WHATSAPP"), JREC("+14155552671", "PHONE")), NULL);
	n = rank(&req, &p, 10, out);
	EXPECT({"rcs1", 1, 0}, {"wa1", 0, 1}, {"sms1", 1, 2});
}

/* Default numbers count only channels that occur among the candidates. */
static void
test_rank_default_dense(void **state)
{
	tpool		p;
	cr_request	req;
	cr_pair		out[MAX_OUT];
	int			n;

	(void) state;
	tp_init(&p);
	tp_add(&p, "email1", CR_SCH_EMAIL, "noreply@example.com");
	tp_add(&p, "sms1", CR_SCH_SMS, "+14155550100");
	tp_add(&p, "wa1", CR_SCH_WHATSAPP, "+14155550102");
	tp_add(&p, "push1", CR_SCH_PUSH, "app");

	/* PHONE only: EMAIL, WHATSAPP and PUSH senders reach nobody */
	make_request(&req, JARR(jstr("+14155552671")), NULL);
	n = rank(&req, &p, 10, out);
	EXPECT({"sms1", 0, 0});

	/* EMAIL and PUSH recipients: SMS 0, EMAIL 1, PUSH 2 */
	make_request(&req, JARR(JREC("tok", "PUSH"), jstr("a@example.com"), jstr("+14155552671")), NULL);
	n = rank(&req, &p, 10, out);
	EXPECT({"sms1", 2, 0}, {"email1", 1, 1}, {"push1", 0, 2});

	/* a filtered-out channel does not occur either */
	make_request(&req, JARR(JREC("tok", "PUSH"), jstr("a@example.com"), jstr("+14155552671")),
				 JOBJ({"filterIn", JARR(jstr("PUSH"), jstr("EMAIL"))}));
	n = rank(&req, &p, 10, out);
	EXPECT({"email1", 1, 0}, {"push1", 0, 1});

	/* no sender of a channel in the pool: it does not occur */
	tp_init(&p);
	tp_add(&p, "sms1", CR_SCH_SMS, "+14155550100");
	make_request(&req, JARR(jstr("+14155552671"), jstr("whatsapp:+14155552671")), NULL);
	n = rank(&req, &p, 10, out);
	EXPECT({"sms1", 0, 0});
}

static void
test_rank_explicit_priority(void **state)
{
	tpool		p;
	cr_request	req;
	cr_pair		out[MAX_OUT];
	int			n;
	const cr_jv *rec;

	(void) state;
	tp_init(&p);
	tp_add(&p, "sms1", CR_SCH_SMS, "+14155550100");
	tp_add(&p, "wa1", CR_SCH_WHATSAPP, "+14155550102");
	tp_add(&p, "rcs1", CR_SCH_RCS, "+14155550101");
	rec = JARR(jstr("+14155552671"), jstr("whatsapp:+14155552671"));

	/* every occurring channel listed: numbers echoed */
	make_request(&req, rec, JOBJ({"priority", JARR(JPRIO("SMS", "7"), JPRIO("RCS", "30"), JPRIO("WHATSAPP", "1"))}));
	n = rank(&req, &p, 10, out);
	EXPECT({"wa1", 1, 1}, {"sms1", 0, 7}, {"rcs1", 0, 30});

	/* partly listed: the others densely after the largest listed, in default order */
	make_request(&req, rec, JOBJ({"priority", JARR(JPRIO("SMS", "5"))}));
	n = rank(&req, &p, 10, out);
	EXPECT({"sms1", 0, 5}, {"rcs1", 0, 6}, {"wa1", 1, 7});

	/* a listed channel counts for the largest even when it does not occur */
	make_request(&req, rec, JOBJ({"priority", JARR(JPRIO("EMAIL", "10"), JPRIO("RCS", "2"))}));
	n = rank(&req, &p, 10, out);
	EXPECT({"rcs1", 0, 2}, {"wa1", 1, 11}, {"sms1", 0, 12});

	/* 1.0 is 1 */
	make_request(&req, rec, JOBJ({"priority", JARR(JPRIO("WHATSAPP", "1.0"), JPRIO("SMS", "0"), JPRIO("RCS", "2e0"))}));
	n = rank(&req, &p, 10, out);
	EXPECT({"sms1", 0, 0}, {"wa1", 1, 1}, {"rcs1", 0, 2});

	/* equal numbers: then recipient position, geography, sticky, id */
	make_request(&req, rec, JOBJ({"priority", JARR(JPRIO("WHATSAPP", "0"), JPRIO("SMS", "0"), JPRIO("RCS", "0"))}));
	n = rank(&req, &p, 10, out);
	assert_int_equal(n, 3);
	assert_int_equal(out[0].recipient, 0);
	assert_int_equal(out[1].recipient, 0);
	assert_int_equal(out[2].recipient, 1);
	/* sms1 shares area 415 with the recipient (geo 2), rcs1 has no geography */
	assert_string_equal(p.s[out[0].sender].id, "sms1");
	assert_int_equal(out[0].geo, 2);
	assert_string_equal(p.s[out[1].sender].id, "rcs1");
	assert_int_equal(out[1].geo, 0);
	assert_int_equal(out[2].geo, 2);

	/* an empty priority array is like none */
	make_request(&req, rec, JOBJ({"priority", JARR0()}));
	n = rank(&req, &p, 10, out);
	EXPECT({"rcs1", 0, 0}, {"wa1", 1, 1}, {"sms1", 0, 2});
}

static void
test_rank_filter_in(void **state)
{
	tpool		p;
	cr_request	req;
	cr_pair		out[MAX_OUT];
	int			n;
	const cr_jv *rec;

	(void) state;
	tp_init(&p);
	tp_add(&p, "sms1", CR_SCH_SMS, "+14155550100");
	tp_add(&p, "wa1", CR_SCH_WHATSAPP, "+14155550102");
	tp_add(&p, "rcs1", CR_SCH_RCS, "+14155550101");
	tp_add(&p, "email1", CR_SCH_EMAIL, "noreply@example.com");
	rec = JARR(jstr("+14155552671"), jstr("whatsapp:+14155552671"), jstr("a@example.com"));

	make_request(&req, rec, JOBJ({"filterIn", JARR(jstr("SMS"))}));
	n = rank(&req, &p, 10, out);
	EXPECT({"sms1", 0, 0});

	make_request(&req, rec, JOBJ({"filterIn", JARR(jstr("EMAIL"), jstr("SMS"))}));
	n = rank(&req, &p, 10, out);
	EXPECT({"sms1", 0, 0}, {"email1", 2, 1});

	/* a listed priority for a filtered-out channel still sets the base */
	make_request(&req, rec, JOBJ({"filterIn", JARR(jstr("SMS"))},
								 {"priority", JARR(JPRIO("RCS", "4"))}));
	n = rank(&req, &p, 10, out);
	EXPECT({"sms1", 0, 5});

	/* filterIn with a channel absent from the pool */
	make_request(&req, rec, JOBJ({"filterIn", JARR(jstr("PUSH"))}));
	n = rank(&req, &p, 10, out);
	assert_int_equal(n, 0);
}

static void
test_rank_empty_filter_in(void **state)
{
	tpool		p;
	cr_request	req;
	cr_pair		out[MAX_OUT];
	int			n;

	(void) state;
	tp_init(&p);
	tp_add(&p, "sms1", CR_SCH_SMS, "+14155550100");
	tp_add(&p, "rcs1", CR_SCH_RCS, "+14155550101");
	make_request(&req, JARR(jstr("+14155552671")), JOBJ({"filterIn", JARR0()}));
	n = rank(&req, &p, 10, out);
	assert_int_equal(n, 0);
	/* nothing occurs, so a full priority range is no error */
	make_request(&req, JARR(jstr("+14155552671")),
				 JOBJ({"filterIn", JARR0()}, {"priority", JARR(JPRIO("EMAIL", "2147483647"))}));
	n = rank(&req, &p, 10, out);
	assert_int_equal(n, 0);
}

static void
test_rank_empty_pool(void **state)
{
	tpool		p;
	cr_request	req;
	cr_pair		out[MAX_OUT];
	int			n;

	(void) state;
	tp_init(&p);
	make_request(&req, JARR(jstr("+14155552671"), jstr("a@example.com")), NULL);
	n = rank(&req, &p, 10, out);
	assert_int_equal(n, 0);
}

/* ---------------------------------------------------------------------
 * The cut
 * ---------------------------------------------------------------------
 */
static void
test_rank_max_results(void **state)
{
	tpool		p;
	cr_request	req;
	cr_pair		all[MAX_OUT],
				out[MAX_OUT];
	int			nall;

	(void) state;
	tp_init(&p);
	for (int i = 0; i < 8; i++)
	{
		char		id[64],
					addr[32];

		snprintf(id, sizeof(id), "comms_sender_%026d", i);
		snprintf(addr, sizeof(addr), "+1%03d5550100", 200 + 100 * (i % 3));
		tp_add(&p, id, i % 4 == 0 ? CR_SCH_RCS : CR_SCH_SMS, addr);
	}
	make_request(&req, JARR(jstr("+13005552671"), jstr("+14005552671")), NULL);
	nall = rank(&req, &p, MAX_OUT, all);
	assert_int_equal(nall, 16);
	for (int k = 0; k <= 17; k++)
	{
		int			n = rank(&req, &p, k, out);

		assert_int_equal(n, k < nall ? k : nall);
		for (int i = 0; i < n; i++)
		{
			assert_int_equal(out[i].sender, all[i].sender);
			assert_int_equal(out[i].recipient, all[i].recipient);
			assert_int_equal(out[i].priority, all[i].priority);
			assert_int_equal(out[i].geo, all[i].geo);
			assert_true(out[i].sticky == all[i].sticky);
		}
	}
	/* no room: nothing, whatever the rest */
	assert_int_equal(rank(&req, &p, 0, out), 0);
	assert_int_equal(rank(&req, &p, -1, out), 0);
}

/* ---------------------------------------------------------------------
 * Geographic and sticky order
 * ---------------------------------------------------------------------
 */
static void
test_rank_geo(void **state)
{
	tpool		p;
	cr_request	req;
	cr_pair		out[MAX_OUT];
	int			n;

	(void) state;
	/*
	 * Ids chosen so that id order and (by luck) sticky order do not decide:
	 * the geography must.
	 */
	tp_init(&p);
	tp_add(&p, "a_uk", CR_SCH_SMS, "+447700900100");	/* other code: 0 */
	tp_add(&p, "b_ny", CR_SCH_SMS, "+12125550100");	/* same code 1: 1 */
	tp_add(&p, "c_sf", CR_SCH_SMS, "+14155550100");	/* same code and area: 2 */
	tp_add(&p, "d_xx", CR_SCH_SMS, "+99912345");	/* unassigned: 0 */
	tp_add(&p, "e_jm", CR_SCH_SMS, "+18765550100");	/* code 1, other area: 1 */
	tp_add(&p, "f_rcs", CR_SCH_RCS, "+14155550101");	/* RCS: no geography */
	tp_add(&p, "g_alpha", CR_SCH_SMS, "MyBrand");	/* not E.164: 0 */
	make_request(&req, JARR(jstr("+14155552671")), JOBJ({"priority", JARR(JPRIO("RCS", "0"), JPRIO("SMS", "0"))}));
	n = rank(&req, &p, 10, out);
	assert_int_equal(n, 7);
	assert_string_equal(p.s[out[0].sender].id, "c_sf");
	assert_int_equal(out[0].geo, 2);
	assert_int_equal(out[1].geo, 1);
	assert_int_equal(out[2].geo, 1);
	assert_true((!strcmp(p.s[out[1].sender].id, "b_ny") && !strcmp(p.s[out[2].sender].id, "e_jm")) ||
				(!strcmp(p.s[out[1].sender].id, "e_jm") && !strcmp(p.s[out[2].sender].id, "b_ny")));
	for (int i = 3; i < 7; i++)
		assert_int_equal(out[i].geo, 0);
	/* within a geo class, sticky descending */
	assert_true(out[1].sticky > out[2].sticky);
	for (int i = 3; i < 6; i++)
		assert_true(out[i].sticky > out[i + 1].sticky);

	/* a UK recipient: the UK sender first */
	make_request(&req, JARR(jstr("+447911123456")), JOBJ({"filterIn", JARR(jstr("SMS"))}));
	n = rank(&req, &p, 10, out);
	assert_int_equal(n, 6);
	assert_string_equal(p.s[out[0].sender].id, "a_uk");
	assert_int_equal(out[0].geo, 1);

	/* a recipient without geography: no sender matches */
	make_request(&req, JARR(jstr("+99912345")), JOBJ({"filterIn", JARR(jstr("SMS"))}));
	n = rank(&req, &p, 10, out);
	assert_int_equal(n, 6);
	for (int i = 0; i < n; i++)
		assert_int_equal(out[i].geo, 0);

	/* WhatsApp senders and recipients too */
	tp_init(&p);
	tp_add(&p, "w1", CR_SCH_WHATSAPP, "+33612345678");
	tp_add(&p, "w2", CR_SCH_WHATSAPP, "+12125550100");
	tp_add(&p, "w3", CR_SCH_WHATSAPP, "+14155550100");
	make_request(&req, JARR(jstr("whatsapp:+14155552671")), NULL);
	n = rank(&req, &p, 10, out);
	EXPECT({"w3", 0, 0}, {"w2", 0, 0}, {"w1", 0, 0});

	/* geography is below recipient position */
	make_request(&req, JARR(jstr("whatsapp:+33712345678"), jstr("whatsapp:+14155552671")), NULL);
	n = rank(&req, &p, 10, out);
	assert_int_equal(n, 6);
	assert_string_equal(p.s[out[0].sender].id, "w1");
	assert_int_equal(out[0].recipient, 0);
	assert_int_equal(out[2].recipient, 0);
	assert_int_equal(out[3].recipient, 1);
	assert_string_equal(p.s[out[3].sender].id, "w3");
}

static void
test_rank_sticky(void **state)
{
	tpool		p;
	cr_request	req;
	cr_pair		out[MAX_OUT];
	int			n;

	(void) state;
	/*
	 * Order of ids comms_sender_0000000000000000000000000{1..6} by sticky score
	 * descending, computed with the Python function in test_validate.c:
	 *   "+447911123456":     2 1 4 6 5 3
	 *   "alice@example.com": 3 4 6 1 5 2
	 */
	tp_init(&p);
	for (int i = 1; i <= 6; i++)
	{
		char		id[64];

		snprintf(id, sizeof(id), "comms_sender_0000000000000000000000000%d", i);
		tp_add(&p, id, CR_SCH_SMS, "+447700900100");	/* all equally near */
	}
	make_request(&req, JARR(jstr("+447911123456")), NULL);
	n = rank(&req, &p, 10, out);
	EXPECT({"comms_sender_00000000000000000000000002", 0, 0},
		   {"comms_sender_00000000000000000000000001", 0, 0},
		   {"comms_sender_00000000000000000000000004", 0, 0},
		   {"comms_sender_00000000000000000000000006", 0, 0},
		   {"comms_sender_00000000000000000000000005", 0, 0},
		   {"comms_sender_00000000000000000000000003", 0, 0});
	assert_true(out[0].sticky == UINT64_C(0xd7eeff8a59f85ba6));

	tp_init(&p);
	for (int i = 1; i <= 6; i++)
	{
		char		id[64];

		snprintf(id, sizeof(id), "comms_sender_0000000000000000000000000%d", i);
		tp_add(&p, id, CR_SCH_EMAIL, "noreply@example.com");
	}
	make_request(&req, JARR(jstr("alice@example.com")), NULL);
	n = rank(&req, &p, 3, out);
	EXPECT({"comms_sender_00000000000000000000000003", 0, 0},
		   {"comms_sender_00000000000000000000000004", 0, 0},
		   {"comms_sender_00000000000000000000000006", 0, 0});
}

/* Rendezvous hashing: removing a sender other than the winner keeps it. */
static void
test_rank_sticky_stable(void **state)
{
	static const char *const recips[] = {
		"+14155552671", "+14155552672", "+447911123456", "a@example.com", "b@example.com"
	};

	(void) state;
	for (size_t r = 0; r < sizeof(recips) / sizeof(recips[0]); r++)
	{
		tpool		p;
		cr_request	req;
		cr_pair		out[MAX_OUT];
		char		winner[64];
		bool		is_email = strchr(recips[r], '@') != NULL;

		jv_reset();
		tp_init(&p);
		for (int i = 0; i < 20; i++)
		{
			char		id[64];

			snprintf(id, sizeof(id), "comms_sender_%026d", i * 7919);
			tp_add(&p, id, is_email ? CR_SCH_EMAIL : CR_SCH_RCS, is_email ? "x@example.com" : "+1");
		}
		make_request(&req, JARR(jstr(recips[r])), NULL);
		assert_int_equal(rank(&req, &p, 1, out), 1);
		strcpy(winner, p.s[out[0].sender].id);
		/* drop the last sender that is not the winner, repeatedly */
		while (p.n > 1)
		{
			int			drop = strcmp(p.s[p.n - 1].id, winner) == 0 ? p.n - 2 : p.n - 1;

			p.s[drop] = p.s[p.n - 1];
			memcpy(p.ids[drop], p.ids[p.n - 1], 64);
			memcpy(p.addrs[drop], p.addrs[p.n - 1], 64);
			p.s[drop].id = p.ids[drop];
			p.s[drop].address = p.addrs[drop];
			p.n--;
			assert_int_equal(rank(&req, &p, 1, out), 1);
			assert_string_equal(p.s[out[0].sender].id, winner);
		}
	}
}

/* cr_pair_cmp, key by key. */
static void
test_pair_cmp(void **state)
{
	tpool		p;
	cr_pair		a,
				b;

	(void) state;
	tp_init(&p);
	tp_add(&p, "a", CR_SCH_SMS, "+1");
	tp_add(&p, "b", CR_SCH_SMS, "+1");
	tp_add(&p, "ab", CR_SCH_SMS, "+1");
	tp_add(&p, "\xc3\xa9", CR_SCH_SMS, "+1");	/* bytes above ASCII sort last */
	tp_add(&p, "z", CR_SCH_SMS, "+1");
	tp_add(&p, "a", CR_SCH_SMS, "+1");	/* same id as sender 0 */
	tp_build(&p);

#define CMP_LT(x, y) do { assert_true(cr_pair_cmp(&p.pool, &(x), &(y)) < 0); \
		assert_true(cr_pair_cmp(&p.pool, &(y), &(x)) > 0); } while (0)
	memset(&a, 0, sizeof(a));
	a.sender = 0;
	a.recipient = 1;
	a.priority = 5;
	a.geo = 1;
	a.sticky = 100;
	assert_int_equal(cr_pair_cmp(&p.pool, &a, &a), 0);

	b = a;
	b.priority = 6;
	b.recipient = 0;
	b.geo = 2;
	b.sticky = UINT64_MAX;
	CMP_LT(a, b);				/* priority ascending first */
	b = a;
	b.priority = INT32_MAX;
	a.priority = 0;
	CMP_LT(a, b);
	a.priority = 5;

	b = a;
	b.recipient = 2;
	b.geo = 2;
	b.sticky = UINT64_MAX;
	CMP_LT(a, b);				/* then recipient ascending */

	b = a;
	b.geo = 0;
	b.sticky = UINT64_MAX;
	CMP_LT(a, b);				/* then geography descending */

	b = a;
	b.sticky = 99;
	b.sender = 1;
	CMP_LT(a, b);				/* then sticky descending */
	b.sticky = UINT64_C(0x8000000000000000);	/* unsigned comparison */
	CMP_LT(b, a);

	/* then sender id, bytewise */
	b = a;
	b.sender = 1;
	CMP_LT(a, b);				/* "a" < "b" */
	b.sender = 2;
	CMP_LT(a, b);				/* "a" < "ab": a prefix first */
	a.sender = 5;
	CMP_LT(a, b);				/* ... whatever the sender indexes */
	a.sender = 4;
	b.sender = 3;
	CMP_LT(a, b);				/* "z" < "\xc3\xa9" */
	a.sender = 0;
	b.sender = 5;
	assert_true(cr_pair_cmp(&p.pool, &a, &b) == -cr_pair_cmp(&p.pool, &b, &a));
#undef CMP_LT
}

/* ---------------------------------------------------------------------
 * No priority left for an unlisted channel
 * ---------------------------------------------------------------------
 */
static void
test_rank_priority_overflow(void **state)
{
	tpool		p;
	cr_request	req;
	cr_pair		out[MAX_OUT];
	cr_error	err;
	int			n;
	const cr_jv *rec;

	(void) state;
	tp_init(&p);
	tp_add(&p, "sms1", CR_SCH_SMS, "+14155550100");
	tp_add(&p, "rcs1", CR_SCH_RCS, "+14155550101");
	tp_add(&p, "wa1", CR_SCH_WHATSAPP, "+14155550102");
	tp_build(&p);
	rec = JARR(jstr("+14155552671"));

	/* SMS at the top: no number is left for RCS */
	make_request(&req, rec, JOBJ({"priority", JARR(JPRIO("SMS", "2147483647"))}));
	memset(&err, 0, sizeof(err));
	n = cr_rank(&req, &p.pool, 10, out, &err);
	assert_int_equal(n, -1);
	assert_int_equal(err.kind, CR_ERR_INVALID);
	assert_string_equal(err.context, "$.channels.priority");
	check_error_text(&err);

	/* one number left: fine for one unlisted channel */
	make_request(&req, rec, JOBJ({"priority", JARR(JPRIO("SMS", "2147483646"))}));
	n = rank(&req, &p, 10, out);
	EXPECT({"sms1", 0, 2147483646}, {"rcs1", 0, 2147483647});

	/* ... but not for two */
	make_request(&req, rec, JOBJ({"priority", JARR(JPRIO("EMAIL", "2147483646"))}));
	memset(&err, 0, sizeof(err));
	assert_int_equal(cr_rank(&req, &p.pool, 10, out, &err), -1);
	assert_int_equal(err.kind, CR_ERR_INVALID);
	assert_string_equal(err.context, "$.channels.priority");

	/* every occurring channel listed: the top number is fine */
	make_request(&req, rec, JOBJ({"priority", JARR(JPRIO("SMS", "2147483647"), JPRIO("RCS", "2147483647"))}));
	n = rank(&req, &p, 10, out);
	assert_int_equal(n, 2);
	assert_int_equal(out[0].priority, INT32_MAX);
	assert_int_equal(out[1].priority, INT32_MAX);

	/* an unlisted channel that does not occur needs no number (WHATSAPP here) */
	make_request(&req, rec, JOBJ({"priority", JARR(JPRIO("SMS", "2147483647"))},
								 {"filterIn", JARR(jstr("SMS"), jstr("WHATSAPP"))}));
	n = rank(&req, &p, 10, out);
	EXPECT({"sms1", 0, 2147483647});
}

/* ---------------------------------------------------------------------
 * Many recipients, large pools
 * ---------------------------------------------------------------------
 */
static void
test_rank_recipient_order(void **state)
{
	tpool		p;
	cr_request	req;
	cr_pair		out[MAX_OUT];
	int			n;
	const cr_jv *items[100];

	(void) state;
	tp_init(&p);
	tp_add(&p, "sms1", CR_SCH_SMS, "+14155550100");
	tp_add(&p, "sms2", CR_SCH_SMS, "+12125550100");
	for (int i = 0; i < 100; i++)
	{
		char		a[32];

		snprintf(a, sizeof(a), "+1%03d5550%03d", 200 + i, i);
		items[i] = jstr(a);
	}
	make_request(&req, jarr_v(items, 100), NULL);
	n = rank(&req, &p, MAX_OUT, out);
	assert_int_equal(n, 200);
	for (int i = 0; i < n; i++)
	{
		assert_int_equal(out[i].recipient, i / 2);
		assert_int_equal(out[i].priority, 0);
	}
	/* recipient 12 is +1212...: sms2 shares its area */
	assert_string_equal(p.s[out[24].sender].id, "sms2");
	assert_int_equal(out[24].geo, 2);
	n = rank(&req, &p, 10, out);
	assert_int_equal(n, 10);
	assert_int_equal(out[9].recipient, 4);
}

/* ---------------------------------------------------------------------
 * Brute force: cr_rank against all pairs, qsort with cr_pair_cmp, cut
 * ---------------------------------------------------------------------
 */
static uint64_t rng_state;

static uint64_t
rng(void)
{
	/* splitmix64 */
	uint64_t	z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static int
rnd(int n)
{
	return (int) (rng() % (uint64_t) n);
}

static const cr_pool *qsort_pool;

static int
qsort_cmp(const void *a, const void *b)
{
	return cr_pair_cmp(qsort_pool, a, b);
}

/* sql.md 4.2, written out here rather than taken from cr_channel_reaches */
static bool
naive_reaches(cr_sender_channel s, cr_recipient_channel r)
{
	switch (r)
	{
		case CR_RCH_PHONE:
			return s == CR_SCH_SMS || s == CR_SCH_RCS;
		case CR_RCH_WHATSAPP:
			return s == CR_SCH_WHATSAPP;
		case CR_RCH_EMAIL:
			return s == CR_SCH_EMAIL;
		case CR_RCH_PUSH:
			return s == CR_SCH_PUSH;
		default:
			return false;
	}
}

/*
 * The naive ranking: every candidate pair, priorities per 4.3, qsort, cut.
 * Returns the row count, or -1 when an unlisted channel has no number left.
 */
static int
naive_rank(const cr_request *req, const tpool *p, int max_results, cr_pair *out, int cap)
{
	static cr_pair all[100 * MAX_SENDERS];
	int			n = 0;
	bool		occurs[CR_SCH_COUNT] = {false};
	int64_t		prio[CR_SCH_COUNT];
	int64_t		max_listed = -1,
				next;

	for (int r = 0; r < req->n_recipients; r++)
	{
		const cr_recipient *rec = &req->recipients[r];
		cr_geo		rgeo = {0, -1};

		if (rec->channel == CR_RCH_PHONE || rec->channel == CR_RCH_WHATSAPP)
			rgeo = cr_geo_of(rec->address, rec->len);
		for (int i = 0; i < p->n; i++)
		{
			const cr_sender *s = &p->s[i];
			cr_geo		sgeo = {0, -1};

			if (!naive_reaches(s->channel, rec->channel))
				continue;
			if (req->has_filter && !(req->filter_mask & (1u << s->channel)))
				continue;
			if (s->channel == CR_SCH_SMS || s->channel == CR_SCH_WHATSAPP)
				sgeo = cr_geo_of(s->address, s->address_len);
			occurs[s->channel] = true;
			all[n].sender = i;
			all[n].recipient = r;
			all[n].priority = 0;
			all[n].geo = cr_geo_match(sgeo, rgeo);
			all[n].sticky = cr_sticky_score(rec->address, rec->len, s->id, s->id_len);
			n++;
		}
	}
	for (int c = 0; c < CR_SCH_COUNT; c++)
		if ((req->listed_mask & (1u << c)) && req->listed_priority[c] > max_listed)
			max_listed = req->listed_priority[c];
	next = max_listed + 1;
	/* enum order is the default order RCS, WHATSAPP, SMS, EMAIL, PUSH */
	for (int c = 0; c < CR_SCH_COUNT; c++)
	{
		if (req->listed_mask & (1u << c))
			prio[c] = req->listed_priority[c];
		else if (occurs[c])
		{
			if (next > INT32_MAX)
				return -1;
			prio[c] = next++;
		}
		else
			prio[c] = -1;
	}
	for (int i = 0; i < n; i++)
		all[i].priority = (int32_t) prio[p->s[all[i].sender].channel];
	qsort_pool = &p->pool;
	qsort(all, (size_t) n, sizeof(cr_pair), qsort_cmp);
	if (n > max_results)
		n = max_results < 0 ? 0 : max_results;
	assert_true(n <= cap);
	memcpy(out, all, (size_t) n * sizeof(cr_pair));
	return n;
}

static const char *const phones[] = {
	"+14155550100", "+14155550101", "+14155552671", "+12125550100", "+12125550199",
	"+18765550100", "+1415", "+12", "+447700900100", "+447911123456", "+33612345678",
	"+79161234567", "+35312345678", "+99912345", "+2812345678",
};
#define N_PHONES ((int) (sizeof(phones) / sizeof(phones[0])))

static void
random_id(char *buf, size_t size)
{
	static const char alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";

	switch (rnd(3))
	{
		case 0:
			{
				char		suffix[27];

				suffix[0] = alphabet[rnd(8)];
				for (int i = 1; i < 26; i++)
					suffix[i] = alphabet[rnd(32)];
				suffix[26] = '\0';
				snprintf(buf, size, "comms_sender_%s", suffix);
				break;
			}
		case 1:
			snprintf(buf, size, "s%d", rnd(30));	/* "s1" is a prefix of "s10" */
			break;
		default:
			snprintf(buf, size, "comms_sender_0000000000000000000000000%c", alphabet[rnd(32)]);
			break;
	}
}

static void
random_pool(tpool *p, int max_senders)
{
	int			n = rnd(max_senders + 1);

	tp_init(p);
	while (p->n < n)
	{
		char		id[64];
		const char *addr;
		cr_sender_channel ch = (cr_sender_channel) rnd(CR_SCH_COUNT);
		bool		dup = false;

		random_id(id, sizeof(id));
		for (int i = 0; i < p->n; i++)
			dup |= strcmp(p->ids[i], id) == 0;
		if (dup)
			continue;			/* sender ids are unique */
		switch (ch)
		{
			case CR_SCH_EMAIL:
				addr = rnd(2) ? "noreply@example.com" : "info@example.org";
				break;
			case CR_SCH_PUSH:
				addr = "app";
				break;
			default:
				addr = rnd(8) ? phones[rnd(N_PHONES)] : "MyBrand";
				break;
		}
		tp_add(p, id, ch, addr);
	}
}

static const cr_jv *
random_recipients(int max_recipients)
{
	const cr_jv *items[CR_MAX_RECIPIENTS];
	int			n = 1 + rnd(max_recipients);

	for (int i = 0; i < n; i++)
	{
		const char *ph = phones[rnd(N_PHONES)];
		char		buf[64];

		switch (rnd(7))
		{
			case 0:
			case 1:
				items[i] = jstr(ph);
				break;
			case 2:
				snprintf(buf, sizeof(buf), "whatsapp:%s", ph);
				items[i] = jstr(buf);
				break;
			case 3:
				items[i] = JREC(ph, rnd(2) ? "PHONE" : "WHATSAPP");
				break;
			case 4:
				items[i] = jstr(rnd(2) ? "alice@example.com" : "bob@example.org");
				break;
			case 5:
				items[i] = JREC(rnd(2) ? "alice@example.com" : "carol@example.net", "EMAIL");
				break;
			default:
				items[i] = JREC(rnd(2) ? "token-1" : "token-2", "PUSH");
				break;
		}
	}
	return jarr_v(items, (size_t) n);
}

static const cr_jv *
random_channels(void)
{
	static const char *const names[] = {"RCS", "WHATSAPP", "SMS", "EMAIL", "PUSH"};
	static const char *const prios[] = {
		"0", "1", "2", "3", "5", "10", "1.0", "2147483645", "2147483646", "2147483647"
	};
	jkv			kv[2];
	int			nkv = 0;
	int			order[CR_SCH_COUNT];

	if (rnd(3) == 0)
		return rnd(2) ? NULL : jnull();
	for (int i = 0; i < CR_SCH_COUNT; i++)
		order[i] = i;
	for (int i = CR_SCH_COUNT - 1; i > 0; i--)
	{
		int			j = rnd(i + 1),
					t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	if (rnd(2))
	{
		const cr_jv *items[CR_SCH_COUNT];
		int			n = rnd(6) == 0 ? 0 : 1 + rnd(CR_SCH_COUNT);

		for (int i = 0; i < n; i++)
			items[i] = jstr(names[order[i]]);
		kv[nkv].key = "filterIn";
		kv[nkv++].value = jarr_v(items, (size_t) n);
	}
	if (rnd(2))
	{
		const cr_jv *items[CR_SCH_COUNT];
		int			n = rnd(CR_SCH_COUNT + 1);

		for (int i = 0; i < n; i++)
		{
			/* mostly small numbers, sometimes near the top */
			const char *pr = prios[rnd(4) == 0 ? 7 + rnd(3) : rnd(7)];

			items[i] = JOBJ({"channel", jstr(names[order[(i + 2) % CR_SCH_COUNT]])},
							{"priority", jnum(pr)});
		}
		kv[nkv].key = "priority";
		kv[nkv++].value = jarr_v(items, (size_t) n);
	}
	return jobj_v(kv, (size_t) nkv);
}

static void
compare_with_naive(const cr_request *req, tpool *p, int max_results, int iter)
{
	static cr_pair got[MAX_OUT],
				want[MAX_OUT];
	cr_error	err;
	int			n,
				nn;

	tp_build(p);
	memset(&err, 0, sizeof(err));
	n = cr_rank(req, &p->pool, max_results, got, &err);
	nn = naive_rank(req, p, max_results, want, MAX_OUT);
	if (max_results <= 0)
		nn = 0;					/* nothing asked for: no rows, no error */
	if (n != nn)
		fail_msg("iteration %d: cr_rank gave %d rows (%s), naive %d (max_results %d)",
				 iter, n, n < 0 ? err.message : "", nn, max_results);
	if (n < 0)
	{
		assert_int_equal(err.kind, CR_ERR_INVALID);
		assert_string_equal(err.context, "$.channels.priority");
		return;
	}
	for (int i = 0; i < n; i++)
		if (got[i].sender != want[i].sender || got[i].recipient != want[i].recipient ||
			got[i].priority != want[i].priority || got[i].geo != want[i].geo ||
			got[i].sticky != want[i].sticky)
			fail_msg("iteration %d row %d: got {s %d r %d p %d g %d}, naive {s %d r %d p %d g %d}",
					 iter, i, got[i].sender, got[i].recipient, got[i].priority, got[i].geo,
					 want[i].sender, want[i].recipient, want[i].priority, want[i].geo);
}

static void
brute_force(uint64_t seed, int iterations, int max_senders, int max_recipients)
{
	static tpool p;

	rng_state = seed;
	for (int it = 0; it < iterations; it++)
	{
		cr_request	req;
		cr_error	err;
		const cr_jv *recips,
				   *chans;
		int			max_results;

		jv_reset();
		random_pool(&p, max_senders);
		recips = random_recipients(max_recipients);
		chans = random_channels();
		cr_request_init(&req);
		assert_ok(cr_parse_recipients(recips, "$.recipientAddresses", &req, &err), err);
		assert_ok(cr_parse_channels(chans, "$.channels", &req, &err), err);
		switch (rnd(4))
		{
			case 0:
				max_results = rnd(4);
				break;
			case 1:
				max_results = 10;
				break;
			case 2:
				max_results = MAX_OUT;
				break;
			default:
				max_results = 1 + rnd(max_senders * max_recipients + 2);
				if (max_results > MAX_OUT)
					max_results = MAX_OUT;
				break;
		}
		compare_with_naive(&req, &p, max_results, it);
	}
}

static void
test_rank_brute_force_small(void **state)
{
	(void) state;
	brute_force(UINT64_C(0x5eed0001), 600, 8, 5);
}

static void
test_rank_brute_force_large(void **state)
{
	(void) state;
	brute_force(UINT64_C(0x5eed0002), 60, MAX_SENDERS, CR_MAX_RECIPIENTS);
}

const struct CMUnitTest rank_tests[] = {
	cmocka_unit_test_setup(test_sender_prepare, setup),
	cmocka_unit_test_setup(test_pool_build, setup),
	cmocka_unit_test_setup(test_rank_default_phone, setup),
	cmocka_unit_test_setup(test_rank_default_phone_whatsapp, setup),
	cmocka_unit_test_setup(test_rank_default_dense, setup),
	cmocka_unit_test_setup(test_rank_explicit_priority, setup),
	cmocka_unit_test_setup(test_rank_filter_in, setup),
	cmocka_unit_test_setup(test_rank_empty_filter_in, setup),
	cmocka_unit_test_setup(test_rank_empty_pool, setup),
	cmocka_unit_test_setup(test_rank_max_results, setup),
	cmocka_unit_test_setup(test_rank_geo, setup),
	cmocka_unit_test_setup(test_rank_sticky, setup),
	cmocka_unit_test_setup(test_rank_sticky_stable, setup),
	cmocka_unit_test_setup(test_pair_cmp, setup),
	cmocka_unit_test_setup(test_rank_priority_overflow, setup),
	cmocka_unit_test_setup(test_rank_recipient_order, setup),
	cmocka_unit_test_setup(test_rank_brute_force_small, setup),
	cmocka_unit_test_setup(test_rank_brute_force_large, setup),
};
const size_t rank_tests_count = sizeof(rank_tests) / sizeof(rank_tests[0]);
