-- Every export made: who, when, which export, which format and period.
-- user_id keeps no foreign key: the record outlives a removed user.
CREATE TABLE export_audit (
    id TEXT PRIMARY KEY NOT NULL,
    shop_id TEXT NOT NULL REFERENCES shops(id),
    user_id TEXT NOT NULL,
    export TEXT NOT NULL,
    format TEXT NOT NULL,
    period_from TEXT NOT NULL,
    period_to TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX export_audit_by_shop ON export_audit(shop_id, id);
