-- +goose Up
-- Courier vetting and availability. A user becomes a courier by applying; staff approve
-- (which grants the courier role) or reject. Suspension keeps the profile and its history
-- but closes the gate: no hall, no grabs, no dispatch. The real name and student number are
-- personal data, sealed like the rest (pii.Cipher, fields courier.real_name, courier.student_no).
CREATE TABLE courier_profiles (
    user_id          uuid PRIMARY KEY REFERENCES users (id),
    status           text        NOT NULL DEFAULT 'pending'
                                 CHECK (status IN ('pending', 'approved', 'rejected', 'suspended')),
    real_name_enc    bytea       NOT NULL,
    student_no_enc   bytea       NOT NULL,
    -- Blind index of the student number: one profile per student card in a tenant.
    student_no_bidx  bytea       NOT NULL UNIQUE,
    vehicle          text        NOT NULL DEFAULT 'walk' CHECK (vehicle IN ('walk', 'bike', 'ebike')),
    note             text        NOT NULL DEFAULT '' CHECK (length(note) <= 500),
    decision_reason  text        NOT NULL DEFAULT '',
    decided_by       uuid,
    decided_at       timestamptz,
    applied_at       timestamptz NOT NULL DEFAULT now(),
    online           boolean     NOT NULL DEFAULT false,
    online_since     timestamptz,
    -- When the courier last took or finished an order: dispatch's idle time counts from here.
    last_active_at   timestamptz,
    credit_score     int         NOT NULL DEFAULT 100 CHECK (credit_score BETWEEN 0 AND 100),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (NOT online OR status = 'approved')
);
CREATE INDEX courier_profiles_status_idx ON courier_profiles (status, applied_at);
CREATE INDEX courier_profiles_online_idx ON courier_profiles (user_id) WHERE online;

-- +goose Down
DROP TABLE courier_profiles;
