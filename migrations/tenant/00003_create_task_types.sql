-- +goose Up
-- The errand types students can post (代取快递, 代买餐食, ...), each with the form it asks for
-- (fields: an array of field declarations), its pricing rule (pricing: amounts in 分), an
-- optional override of the weekly service hours and of the courier's share. Keys are
-- referenced by orders, so they never change; admins disable a type instead of deleting it.
-- version is bumped by every change so two admins editing at once cannot overwrite each other.
CREATE TABLE task_types (
    key              text        PRIMARY KEY CHECK (key ~ '^[a-z][a-z0-9_]{1,39}$'),
    name_zh          text        NOT NULL CHECK (name_zh <> ''),
    name_en          text        NOT NULL CHECK (name_en <> ''),
    enabled          boolean     NOT NULL DEFAULT true,
    sort             integer     NOT NULL CHECK (sort >= 0),
    fields           jsonb       NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(fields) = 'array'),
    pricing          jsonb       NOT NULL CHECK (jsonb_typeof(pricing) = 'object'),
    -- NULL: the tenant's service hours apply.
    service_hours    jsonb       CHECK (jsonb_typeof(service_hours) = 'object'),
    -- NULL: the tenant's commission split applies.
    courier_share_bp integer     CHECK (courier_share_bp BETWEEN 0 AND 10000),
    version          integer     NOT NULL DEFAULT 1 CHECK (version > 0),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
-- The student's type picker and the admin list read the types in display order.
CREATE INDEX task_types_sort_idx ON task_types (sort, key);

-- Tenants provisioned before this table kept their blueprint's task types as one settings
-- document (a JSON array of the blueprint's TaskType); copy them over in blueprint order. The
-- settings row is left in place (expand/contract) for code that still reads it. A tenant
-- provisioned after this migration has no such row yet and is seeded by the provisioning code.
INSERT INTO task_types (key, name_zh, name_en, enabled, sort, fields, pricing)
SELECT e.value ->> 'key',
       e.value -> 'name' ->> 'zh',
       e.value -> 'name' ->> 'en',
       coalesce((e.value ->> 'enabled')::boolean, true),
       (e.ordinality - 1)::integer,
       coalesce(nullif(e.value -> 'fields', 'null'::jsonb), '[]'::jsonb),
       e.value -> 'pricing'
FROM settings s
-- The CASE keeps a malformed document from failing the migration however the plan is ordered.
CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(s.value) = 'array' THEN s.value ELSE '[]' END)
     WITH ORDINALITY AS e (value, ordinality)
WHERE s.key = 'task_types'
ON CONFLICT (key) DO NOTHING;

-- +goose Down
DROP TABLE task_types;
