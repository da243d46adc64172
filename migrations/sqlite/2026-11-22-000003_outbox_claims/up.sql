-- Who holds an entry now: a worker settles only what it still holds, so a
-- worker whose lease ran out cannot overwrite another's outcome.
ALTER TABLE outbox ADD COLUMN claim_token TEXT;
