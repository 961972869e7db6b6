-- 007_items_job_stage.sql: the status page's stage line without reading a
-- job's items one by one.
--
-- The page says "Stage 2 of 3: merging": how many distinct stages come
-- before the open one (a loose index scan, one probe per stage) and whether
-- the open stage has a single item (two entries read). Without this index
-- both read every item of the job on each view of a page that refreshes
-- itself every few seconds. Entries are (job_id, stage, id): a job's items
-- are inserted in id order, so adding them only appends.
CREATE INDEX ix_items_job_stage ON items (job_id, stage);
