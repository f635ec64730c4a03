-- +goose Up
-- Named campus places students pick as pickup or drop-off (dorms, canteens, parcel stations,
-- gates...). Orders copy the coordinates they use, so a place is disabled rather than deleted
-- and editing it never rewrites an order. Coordinates are WGS 84 degrees, GeoJSON order.
CREATE TABLE places (
    id         uuid             PRIMARY KEY DEFAULT gen_random_uuid(),
    name       text             NOT NULL CHECK (char_length(name) BETWEEN 1 AND 60 AND name = btrim(name)),
    kind       text             NOT NULL CHECK (kind IN ('dorm', 'canteen', 'parcel_station', 'library',
                                    'teaching', 'clinic', 'shop', 'gate', 'gym', 'office', 'other')),
    lng        double precision NOT NULL CHECK (lng BETWEEN -180 AND 180),
    lat        double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    enabled    boolean          NOT NULL DEFAULT true,
    sort       integer          NOT NULL DEFAULT 0,
    created_at timestamptz      NOT NULL DEFAULT now(),
    updated_at timestamptz      NOT NULL DEFAULT now(),
    CONSTRAINT places_name_key UNIQUE (name)
);
-- The student's picker and the admin list read places by kind in display order. The name search
-- is a scan on purpose: a campus has a few hundred places at most.
CREATE INDEX places_kind_sort_idx ON places (kind, sort, name);

-- Delivery zones: an order's pickup and drop-off must both lie in an enabled zone. geometry is
-- a GeoJSON Polygon or MultiPolygon, validated by the application (closed rings, no
-- self-intersection); the CHECK only guards the shape of the document.
CREATE TABLE zones (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    name       text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 60 AND name = btrim(name)),
    -- coalesce: a missing member makes the test NULL, which a CHECK would let through.
    geometry   jsonb       NOT NULL CHECK (coalesce(jsonb_typeof(geometry) = 'object'
                               AND geometry ->> 'type' IN ('Polygon', 'MultiPolygon')
                               AND jsonb_typeof(geometry -> 'coordinates') = 'array', false)),
    enabled    boolean     NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT zones_name_key UNIQUE (name)
);

-- Weekly service hours in the tenant's local time (settings key timezone). weekday follows Go's
-- time.Weekday and PostgreSQL's extract(dow): 0 = Sunday .. 6 = Saturday. A window is
-- [opens, closes); closes may be 24:00 for "until midnight". A window never crosses midnight:
-- 22:00-02:00 is 22:00-24:00 on one day and 00:00-02:00 on the next.
CREATE TABLE service_hours (
    weekday smallint NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    opens   time     NOT NULL CHECK (extract(second FROM opens) = 0),
    closes  time     NOT NULL CHECK (extract(second FROM closes) = 0),
    PRIMARY KEY (weekday, opens),
    CHECK (opens < closes)
);

-- Whole local days without service (holidays, exams, campus closures), whatever the weekly hours.
CREATE TABLE closed_dates (
    date       date        PRIMARY KEY,
    reason     text        NOT NULL DEFAULT '' CHECK (char_length(reason) <= 200),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Tenants provisioned before these tables kept their blueprint's places, zones and hours as
-- settings documents (keys places, zones, service_hours); copy them over. The settings rows stay
-- (expand/contract) for code that still reads them. Entries a table would refuse are skipped
-- rather than failing the migration of a whole tenant, and every CASE guards a cast so a
-- malformed document cannot raise an error however the plan is ordered. Tenants without these
-- rows get empty tables; a tenant provisioned after this migration is seeded by provisioning.
INSERT INTO places (name, kind, lng, lat, sort)
SELECT p.name, p.kind, p.lng, p.lat, p.sort
FROM (
    SELECT btrim(left(btrim(e.value ->> 'name'), 60)) AS name,
           CASE WHEN e.value ->> 'kind' IN ('dorm', 'canteen', 'parcel_station', 'library', 'teaching',
                    'clinic', 'shop', 'gate', 'gym', 'office', 'other')
                THEN e.value ->> 'kind' ELSE 'other' END AS kind,
           CASE WHEN jsonb_typeof(e.value -> 'at' -> 0) = 'number' THEN
               CASE WHEN (e.value -> 'at' ->> 0)::numeric BETWEEN -180 AND 180
                    THEN (e.value -> 'at' ->> 0)::double precision END END AS lng,
           CASE WHEN jsonb_typeof(e.value -> 'at' -> 1) = 'number' THEN
               CASE WHEN (e.value -> 'at' ->> 1)::numeric BETWEEN -90 AND 90
                    THEN (e.value -> 'at' ->> 1)::double precision END END AS lat,
           (e.ordinality * 10)::integer AS sort
    FROM settings s
    CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(s.value) = 'array' THEN s.value ELSE '[]' END)
         WITH ORDINALITY AS e (value, ordinality)
    WHERE s.key = 'places'
) p
WHERE p.name <> '' AND p.lng IS NOT NULL AND p.lat IS NOT NULL
ORDER BY p.sort
ON CONFLICT (name) DO NOTHING;

INSERT INTO zones (name, geometry)
SELECT z.name, z.geometry
FROM (
    SELECT btrim(left(coalesce(nullif(btrim(e.value ->> 'name'), ''), 'zone ' || e.ordinality), 60)) AS name,
           e.value -> 'geometry' AS geometry,
           e.ordinality
    FROM settings s
    CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(s.value) = 'array' THEN s.value ELSE '[]' END)
         WITH ORDINALITY AS e (value, ordinality)
    WHERE s.key = 'zones'
) z
WHERE jsonb_typeof(z.geometry) = 'object'
  AND z.geometry ->> 'type' IN ('Polygon', 'MultiPolygon')
  AND jsonb_typeof(z.geometry -> 'coordinates') = 'array'
ORDER BY z.ordinality
ON CONFLICT (name) DO NOTHING;

-- service_hours is {"mon": ["07:30-23:00"], ...}, the blueprint's format.
INSERT INTO service_hours (weekday, opens, closes)
SELECT h.weekday, h.opens, h.closes
FROM (
    SELECT CASE d.key WHEN 'sun' THEN 0 WHEN 'mon' THEN 1 WHEN 'tue' THEN 2 WHEN 'wed' THEN 3
                      WHEN 'thu' THEN 4 WHEN 'fri' THEN 5 WHEN 'sat' THEN 6 END AS weekday,
           CASE WHEN w.spec ~ '^([01][0-9]|2[0-3]):[0-5][0-9]-(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$'
                THEN split_part(w.spec, '-', 1)::time END AS opens,
           CASE WHEN w.spec ~ '^([01][0-9]|2[0-3]):[0-5][0-9]-(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$'
                THEN split_part(w.spec, '-', 2)::time END AS closes
    FROM settings s
    CROSS JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(s.value) = 'object' THEN s.value ELSE '{}' END)
         AS d (key, value)
    CROSS JOIN LATERAL jsonb_array_elements_text(CASE WHEN jsonb_typeof(d.value) = 'array' THEN d.value ELSE '[]' END)
         AS w (spec)
    WHERE s.key = 'service_hours'
) h
WHERE h.weekday IS NOT NULL AND h.opens < h.closes
ON CONFLICT DO NOTHING;

-- +goose Down
DROP TABLE closed_dates;
DROP TABLE service_hours;
DROP TABLE zones;
DROP TABLE places;
