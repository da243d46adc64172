ALTER TABLE outbox DROP COLUMN claim_token;
