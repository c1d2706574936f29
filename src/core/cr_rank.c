/*-------------------------------------------------------------------------
 *
 * cr_rank.c
 *	  Candidates, priorities, ordering and the cut (sql.md 4.2-4.4), and
 *	  the sticky score.
 *
 * cr_rank keeps only the best max_results pairs in a bounded max-heap (the
 * worst kept pair on top), so its memory is O(max_results) whatever the
 * pool size, and it skips the sticky hash of any pair that already loses
 * to the worst kept pair on priority, recipient position and geography.
 *
 *-------------------------------------------------------------------------
 */
#include "cr_core.h"

#include <stdlib.h>
#include <string.h>

uint64_t
cr_sticky_score(const char *address, size_t address_len,
				const char *sender_id, size_t sender_id_len)
{
	uint64_t	h = cr_fnv1a_update(CR_FNV_OFFSET, address, address_len);

	h = cr_fnv1a_update(h, "|", 1);
	return cr_fmix64(cr_fnv1a_update(h, sender_id, sender_id_len));
}

void
cr_sender_prepare(cr_sender *s)
{
	s->geo.code = 0;
	s->geo.area = -1;
	if (s->channel == CR_SCH_SMS || s->channel == CR_SCH_WHATSAPP)
		s->geo = cr_geo_of(s->address, s->address_len);
}

void
cr_pool_build(cr_pool *pool, const cr_sender *senders, int n, int *index)
{
	int			fill[CR_SCH_COUNT];

	pool->senders = senders;
	pool->n_senders = n;
	pool->index = index;
	memset(pool->start, 0, sizeof(pool->start));
	for (int i = 0; i < n; i++)
		pool->start[senders[i].channel + 1]++;
	for (int c = 0; c < CR_SCH_COUNT; c++)
	{
		pool->start[c + 1] += pool->start[c];
		fill[c] = pool->start[c];
	}
	for (int i = 0; i < n; i++)
		index[fill[senders[i].channel]++] = i;
}

/* Compare on priority, recipient position and geography only. */
static inline int
cmp_head(const cr_pair *a, const cr_pair *b)
{
	if (a->priority != b->priority)
		return a->priority < b->priority ? -1 : 1;
	if (a->recipient != b->recipient)
		return a->recipient < b->recipient ? -1 : 1;
	if (a->geo != b->geo)
		return a->geo > b->geo ? -1 : 1;
	return 0;
}

int
cr_pair_cmp(const cr_pool *pool, const cr_pair *a, const cr_pair *b)
{
	int			c = cmp_head(a, b);
	const cr_sender *sa,
			   *sb;
	size_t		n;

	if (c != 0)
		return c;
	if (a->sticky != b->sticky)
		return a->sticky > b->sticky ? -1 : 1;
	sa = &pool->senders[a->sender];
	sb = &pool->senders[b->sender];
	n = sa->id_len < sb->id_len ? sa->id_len : sb->id_len;
	c = memcmp(sa->id, sb->id, n);
	if (c != 0)
		return c < 0 ? -1 : 1;
	if (sa->id_len != sb->id_len)
		return sa->id_len < sb->id_len ? -1 : 1;
	return (a->sender > b->sender) - (a->sender < b->sender);
}

/* Max-heap on rank: heap[0] is the worst kept pair. */
static void
heap_sift_down(const cr_pool *pool, cr_pair *heap, int n, int i)
{
	for (;;)
	{
		int			l = 2 * i + 1,
					r = l + 1,
					w = i;
		cr_pair		t;

		if (l < n && cr_pair_cmp(pool, &heap[l], &heap[w]) > 0)
			w = l;
		if (r < n && cr_pair_cmp(pool, &heap[r], &heap[w]) > 0)
			w = r;
		if (w == i)
			return;
		t = heap[i];
		heap[i] = heap[w];
		heap[w] = t;
		i = w;
	}
}

static void
heap_sift_up(const cr_pool *pool, cr_pair *heap, int i)
{
	while (i > 0)
	{
		int			p = (i - 1) / 2;
		cr_pair		t;

		if (cr_pair_cmp(pool, &heap[i], &heap[p]) <= 0)
			return;
		t = heap[i];
		heap[i] = heap[p];
		heap[p] = t;
		i = p;
	}
}

/* Heapsort the kept pairs in place: the max-heap yields ascending rank. */
static void
sort_heap(const cr_pool *pool, cr_pair *heap, int n)
{
	for (int end = n - 1; end > 0; end--)
	{
		cr_pair		t = heap[0];

		heap[0] = heap[end];
		heap[end] = t;
		heap_sift_down(pool, heap, end, 0);
	}
}

int
cr_rank(const cr_request *req, const cr_pool *pool, int max_results,
		cr_pair *out, cr_error *err)
{
	unsigned	rmask = 0;		/* recipient channels present */
	bool		occurs[CR_SCH_COUNT];
	int64_t		prio[CR_SCH_COUNT];
	int64_t		next;
	int			order[CR_SCH_COUNT];	/* occurring channels by priority */
	int			nch;
	int			n = 0;

	if (max_results <= 0)
		return 0;
	for (int r = 0; r < req->n_recipients; r++)
		rmask |= 1u << req->recipients[r].channel;

	/* 4.2: the sender channels that occur among the candidates */
	for (int c = 0; c < CR_SCH_COUNT; c++)
	{
		bool		reaches = false;

		for (int rc = 0; rc < CR_RCH_COUNT; rc++)
			if ((rmask & (1u << rc)) && cr_channel_reaches((cr_sender_channel) c, (cr_recipient_channel) rc))
				reaches = true;
		occurs[c] = reaches && pool->start[c + 1] > pool->start[c] &&
			(!req->has_filter || (req->filter_mask & (1u << c)));
	}

	/* 4.3: listed numbers, then unlisted channels densely after the largest */
	next = req->max_listed + 1;
	for (int c = 0; c < CR_SCH_COUNT; c++)
	{
		if (req->listed_mask & (1u << c))
			prio[c] = req->listed_priority[c];
		else if (occurs[c])
		{
			if (next > INT32_MAX)
			{
				cr_fail(err, CR_ERR_INVALID, "$.channels.priority",
						"Leave room after the largest listed priority, or list every channel that occurs.",
						"no priority is left for unlisted channel %s after priority %lld",
						cr_sender_channel_name((cr_sender_channel) c), (long long) req->max_listed);
				return -1;
			}
			prio[c] = next++;
		}
		else
			prio[c] = -1;
	}

	/*
	 * 4.4: candidates into the bounded heap.  Channels are visited in
	 * priority order, so the heap fills with the best pairs first and the
	 * pruning test skips the hash of most of the rest; the result does not
	 * depend on the visiting order.
	 */
	nch = 0;
	for (int c = 0; c < CR_SCH_COUNT; c++)
		if (occurs[c])
		{
			int			k = nch++;

			while (k > 0 && prio[order[k - 1]] > prio[c])
			{
				order[k] = order[k - 1];
				k--;
			}
			order[k] = c;
		}
	for (int oc = 0; oc < nch; oc++)
	{
		int			c = order[oc];

		for (int r = 0; r < req->n_recipients; r++)
		{
			const cr_recipient *rec = &req->recipients[r];

			if (!cr_channel_reaches((cr_sender_channel) c, rec->channel))
				continue;
			for (int k = pool->start[c]; k < pool->start[c + 1]; k++)
			{
				int			si = pool->index[k];
				const cr_sender *s = &pool->senders[si];
				cr_pair		p;

				p.sender = si;
				p.recipient = r;
				p.priority = (int32_t) prio[c];
				p.geo = cr_geo_match(s->geo, rec->geo);
				if (n == max_results && cmp_head(&p, &out[0]) > 0)
					continue;	/* loses to the worst kept pair anyway */
				p.sticky = cr_fmix64(cr_fnv1a_update(rec->hash_prefix, s->id, s->id_len));
				if (n < max_results)
				{
					out[n] = p;
					heap_sift_up(pool, out, n);
					n++;
				}
				else if (cr_pair_cmp(pool, &p, &out[0]) < 0)
				{
					out[0] = p;
					heap_sift_down(pool, out, n, 0);
				}
			}
		}
	}
	sort_heap(pool, out, n);
	return n;
}
