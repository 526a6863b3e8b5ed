-- The work queue of batch encoding (vs-queue): one row per video that needs
-- the pipeline run, claimed by one worker at a time under a lease. A worker
-- that dies lets its lease expire, and another takes the video again; the
-- steps already finished are reused (vs-encode keeps a finished encode,
-- vs-package a finished package, vs-publish skips what is uploaded).
CREATE TABLE video_jobs (
    video_id            uuid PRIMARY KEY REFERENCES videos (id) ON DELETE CASCADE,
    state               text NOT NULL DEFAULT 'pending'
                        CHECK (state IN ('pending', 'done', 'failed')),
    attempts            integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),  -- claims so far
    last_error          text,
    lease_owner         text,                -- the worker holding it, while it runs
    lease_expires_at    timestamptz,
    next_attempt_at     timestamptz NOT NULL DEFAULT now(),  -- not before (retries back off)
    claimed_at          timestamptz,
    finished_at         timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);

-- what claim looks for: pending work that is due
CREATE INDEX video_jobs_due_idx ON video_jobs (next_attempt_at) WHERE state = 'pending';
CREATE INDEX video_jobs_owner_idx ON video_jobs (lease_owner) WHERE lease_owner IS NOT NULL;
