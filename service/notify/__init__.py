"""The notification pipeline's domain: what happens to a change once it is committed, until
it has reached every channel of its group.

    outbox.py    rows written in the transaction of the change (emit), announced after commit
    topics.py    the outbox's topics, one builder each, and nothing else writes a topic
    planning.py  outbox rows → deliveries owed to channels, by topic
    leasing.py   a push's claim on a channel and its deliveries: claim, renew, next_due
    schedule.py  when a channel may push: backoff, coalescing, rate limit, quiet hours
    sending.py   one push over HTTP, no transaction open
    formats/     what each chat tool is sent and what its answers mean (a module per tool)
    settling.py  the outcome recorded: delivered, retried, paused, disabled
    sweeping.py  what lost jobs left behind, found again

None of it commits or opens a session: the jobs do, at their edges (claim → commit → HTTP →
record → commit), so that no transaction is open while a receiver is waited for.

Why nothing is lost and nothing is pushed twice:
- an outbox row exists exactly when the change that caused it does (same transaction);
- planning marks the outbox row done in the same transaction that writes the deliveries, and
  the deliveries are unique per (channel, message): a planning job run twice owes once;
- a push first takes the channel's lease and marks its deliveries `sending`, each under a
  lease of its own with the push's token (committed), then sends, then records the outcome
  (committed): it settles only the deliveries still claimed under its token, and releases the
  channel's lease if it still holds it. Only the lease holder pushes to a channel, so two
  live workers never send the same delivery;
- the leases run one request timeout and a margin past their last renewal, and are renewed
  while the push waits for a thread, is sent and is recorded: a killed worker's leases lapse
  within that, however many channels its batch held;
- a `sending` delivery whose own lease has lapsed is owed again, whatever became of its
  channel's lease: the next push to hold the channel takes it with the pending ones (in
  message order), and the sweeper puts it back to `pending` on any channel. Whether the
  receiver got the interrupted request cannot be known, so it is sent again with the same
  idempotency key (`webhook-id`), which the Standard Webhooks receivers deduplicate on;
- a record that cannot reach the database is tried again, with backoff, for a while (by the
  job): an outcome is lost (and the push sent again) only past that;
- the sweeper also re-enqueues outbox rows and due deliveries whose jobs were lost.

Order within a channel: a push takes a channel's owed deliveries oldest message first, and
stops at the first that must wait (backoff, rate limit, …); while the oldest waits, so does
everything after it.
"""
