-- One durable queue for all background work (it replaces the WhatsApp-only
-- outbox). A job is written in the transaction of the change that causes it
-- and runs after that commits; workers in any number of processes share it.
CREATE TABLE jobs (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    shop_id TEXT REFERENCES shops(id),
    payload TEXT NOT NULL,
    -- queued: waits for run_at; running: held by a worker until locked_until;
    -- held: parked until its ordering key is released (a closed WhatsApp window);
    -- done; dead: gave up, with last_error, until someone retries it.
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'held', 'done', 'dead')),
    -- NULL: as soon as possible.
    run_at TIMESTAMP,
    -- At most one job per key, ever: a replayed cause enqueues nothing new.
    dedupe_key TEXT,
    -- Jobs sharing a key run one at a time, oldest first (one customer's replies).
    ordering_key TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    claim_token TEXT,
    locked_until TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX jobs_due ON jobs(status, run_at);
-- Serves both "the older unfinished jobs of this key" (claims) and "the
-- held jobs of this key" (releases) without reading a key's finished ones.
CREATE INDEX jobs_ordering ON jobs(ordering_key, status, id);
-- Most jobs have no dedupe key: they take no room in its index.
CREATE UNIQUE INDEX jobs_dedupe_key ON jobs(dedupe_key) WHERE dedupe_key IS NOT NULL;

-- What the outbox still had to deliver moves over; what it delivered is in chat_messages.
INSERT INTO jobs (id, kind, shop_id, payload, status, run_at, ordering_key, attempts, last_error, created_at, updated_at)
SELECT id,
       CASE channel WHEN 'email' THEN 'email.send' ELSE 'whatsapp.send' END,
       shop_id,
       CASE channel
           WHEN 'email' THEN payload
           ELSE '{"shop_id":"' || shop_id || '","chat_message_id":' ||
                CASE WHEN chat_message_id IS NULL THEN 'null' ELSE '"' || chat_message_id || '"' END ||
                ',"to":"' || recipient || '","reply":true,"message":' || payload || '}'
       END,
       CASE status WHEN 'waiting' THEN 'held' WHEN 'failed' THEN 'dead' ELSE 'queued' END,
       NULL,
       CASE channel WHEN 'email' THEN NULL ELSE 'whatsapp:' || shop_id || ':' || recipient END,
       attempts, last_error, created_at, updated_at
FROM outbox WHERE status IN ('pending', 'waiting', 'failed');
DROP TABLE outbox;

-- Inbound webhook events that failed to be handled: counted, so that one
-- poison event stops failing its whole batch after a bound, and kept to look at.
CREATE TABLE webhook_failures (
    event_key TEXT PRIMARY KEY NOT NULL,
    source TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    last_error TEXT NOT NULL,
    body TEXT NOT NULL,
    first_seen_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL
);
