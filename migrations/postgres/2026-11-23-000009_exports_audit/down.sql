DROP TABLE export_audit;
