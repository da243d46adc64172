-- Tokens carry the version they were issued under; removing a user, changing
-- their role or password, or logging out moves it on, so older tokens stop
-- working at once.
ALTER TABLE users ADD COLUMN token_version INTEGER NOT NULL DEFAULT 0;
