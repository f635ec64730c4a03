package realtime

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	// DefaultMaxLen is about how many events a channel's replay log keeps (XADD MAXLEN ~, so
	// Redis may keep a little more). The log covers reconnects, not history: the timeline in
	// PostgreSQL is the record, and a client that missed more gets "reset" and reloads.
	DefaultMaxLen = 500
	// DefaultTTL is how long a replay log outlives its last event, so logs of finished orders
	// and idle channels vanish. A client away longer reloads state anyway (gap → "reset").
	DefaultTTL = time.Hour
	// maxReplay caps one Since call.
	maxReplay = 1000
)

// streamKey is the Redis key of a channel's replay log.
func streamKey(channel string) string { return "rt:" + channel }

// publishScript appends to the replay log and publishes in one step, so an event is either in
// both or in neither and stream ids grow in publish order (what the feeds' dedupe relies on).
var publishScript = redis.NewScript(`
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[4], '*', 't', ARGV[2], 'd', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('PUBLISH', ARGV[1], id .. '\n' .. ARGV[2] .. '\n' .. ARGV[3])
return id
`)

// sinceScript reads the events after ARGV[1] (exclusive) and reports whether the log still
// holds all of them: {1, entries} or {0} for a gap. Trimming (MAXLEN) removes the oldest
// entries, so while the client's last id is still in the log nothing after it is missing; once
// it is not, something may be. "0-0" (a client that connected before the log existed) has a
// gap only if the log has been trimmed since; "" means no position, no gap check.
var sinceScript = redis.NewScript(`
local key, last, n = KEYS[1], ARGV[1], tonumber(ARGV[2])
if redis.call('EXISTS', key) == 0 then
  if last == '' or last == '0-0' then return {1, {}} end
  return {0}
end
if last == '' then return {1, redis.call('XRANGE', key, '-', '+', 'COUNT', n)} end
if last == '0-0' then
  local info = redis.call('XINFO', 'STREAM', key)
  local added, len = 0, 0
  for i = 1, #info, 2 do
    if info[i] == 'entries-added' then added = info[i + 1] elseif info[i] == 'length' then len = info[i + 1] end
  end
  if added > len then return {0} end
  return {1, redis.call('XRANGE', key, '-', '+', 'COUNT', n)}
end
local r = redis.call('XRANGE', key, last, '+', 'COUNT', n + 1)
if #r == 0 or r[1][1] ~= last then return {0} end
table.remove(r, 1)
return {1, r}
`)

// Publisher sends events to channels. It is safe for concurrent use.
type Publisher struct {
	rdb    redis.UniversalClient
	ns     Namespace
	maxLen int64
	ttl    time.Duration
}

// PublisherOption tunes a Publisher.
type PublisherOption func(*Publisher)

// WithMaxLen sets about how many events each channel's replay log keeps.
func WithMaxLen(n int64) PublisherOption { return func(p *Publisher) { p.maxLen = n } }

// WithTTL sets how long a replay log outlives its last event.
func WithTTL(d time.Duration) PublisherOption { return func(p *Publisher) { p.ttl = d } }

// NewPublisher publishes through rdb.
func NewPublisher(rdb redis.UniversalClient, opts ...PublisherOption) *Publisher {
	p := &Publisher{rdb: rdb, ns: NamespaceOf(rdb), maxLen: DefaultMaxLen, ttl: DefaultTTL}
	for _, o := range opts {
		o(p)
	}
	if p.maxLen < 1 {
		p.maxLen = DefaultMaxLen
	}
	if p.ttl < time.Millisecond {
		p.ttl = DefaultTTL
	}
	return p
}

// Publish appends an event to the channel's replay log and publishes it, in one round trip,
// and returns its id. data is encoded as JSON (pass json.RawMessage for a document already
// encoded). typ is the SSE event name: 1-64 of [A-Za-z0-9._-], not "ready", "reset" or
// "message". Events may carry ids only, never personal data: they sit in Redis for DefaultTTL.
func (p *Publisher) Publish(ctx context.Context, channel, typ string, data any) (string, error) {
	raw, err := p.check(channel, typ, data)
	if err != nil {
		return "", err
	}
	id, err := publishScript.Run(ctx, p.rdb, []string{streamKey(channel)},
		p.ns.Wire(channel), typ, raw, p.maxLen, p.ttl.Milliseconds()).Text()
	if err != nil {
		return "", fmt.Errorf("publish %s to %s: %w", typ, channel, err)
	}
	return id, nil
}

// PublishEphemeral publishes an event on the channel only: no id, no replay. It is for
// high-volume events where only the latest matters (courier positions); a subscriber that
// misses one simply waits for the next.
func (p *Publisher) PublishEphemeral(ctx context.Context, channel, typ string, data any) error {
	raw, err := p.check(channel, typ, data)
	if err != nil {
		return err
	}
	if err := p.rdb.Publish(ctx, p.ns.Wire(channel), encodePayload("", typ, raw)).Err(); err != nil {
		return fmt.Errorf("publish %s to %s: %w", typ, channel, err)
	}
	return nil
}

func (p *Publisher) check(channel, typ string, data any) ([]byte, error) {
	if !validChannel(channel) {
		return nil, ErrInvalidChannel
	}
	if !validType(typ) {
		return nil, fmt.Errorf("%w: %q", ErrInvalidType, typ)
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("encode %s event: %w", typ, err)
	}
	return raw, nil
}

// Since returns up to limit events (oldest first; limit ≤ 0 means 100, at most 1000) published on
// channel after lastID, which is excluded. Page on by calling again with the last id returned.
// lastID "" reads the log from its start. It returns ErrGap when the log no longer holds every
// event after lastID, and ErrInvalidID when lastID is not a stream id.
func (p *Publisher) Since(ctx context.Context, channel, lastID string, limit int) ([]Event, error) {
	if !validChannel(channel) {
		return nil, ErrInvalidChannel
	}
	if lastID != "" {
		id, ok := parseID(lastID)
		if !ok {
			return nil, ErrInvalidID
		}
		lastID = id.String() // the script compares it with Redis's spelling
	}
	switch {
	case limit <= 0:
		limit = 100
	case limit > maxReplay:
		limit = maxReplay
	}
	res, err := sinceScript.Run(ctx, p.rdb, []string{streamKey(channel)}, lastID, limit).Slice()
	if err != nil {
		return nil, fmt.Errorf("replay %s: %w", channel, err)
	}
	if len(res) == 0 {
		return nil, fmt.Errorf("replay %s: empty reply", channel)
	}
	if ok, _ := res[0].(int64); ok != 1 {
		return nil, ErrGap
	}
	if len(res) < 2 {
		return []Event{}, nil
	}
	entries, _ := res[1].([]any)
	out := make([]Event, 0, len(entries))
	for _, e := range entries {
		ev, err := entryEvent(channel, e)
		if err != nil {
			return nil, fmt.Errorf("replay %s: %w", channel, err)
		}
		out = append(out, ev)
	}
	return out, nil
}

// entryEvent reads one XRANGE entry: [id, [field, value, ...]].
func entryEvent(channel string, e any) (Event, error) {
	pair, ok := e.([]any)
	if !ok || len(pair) != 2 {
		return Event{}, fmt.Errorf("unexpected stream entry %T", e)
	}
	id, _ := pair[0].(string)
	fields, _ := pair[1].([]any)
	ev := Event{Channel: channel, ID: id}
	for i := 0; i+1 < len(fields); i += 2 {
		k, _ := fields[i].(string)
		v, _ := fields[i+1].(string)
		switch k {
		case "t":
			ev.Type = v
		case "d":
			ev.Data = json.RawMessage(v)
		}
	}
	if id == "" || ev.Type == "" {
		return Event{}, fmt.Errorf("stream entry without id or type")
	}
	return ev, nil
}

// heads returns the id of the newest event in each channel's log, or "0-0" for a channel
// with no log: the position of a client that has seen everything so far.
func (p *Publisher) heads(ctx context.Context, channels []string) ([]string, error) {
	cmds := make([]*redis.XMessageSliceCmd, len(channels))
	_, err := p.rdb.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		for i, c := range channels {
			cmds[i] = pipe.XRevRangeN(ctx, streamKey(c), "+", "-", 1)
		}
		return nil
	})
	if err != nil && err != redis.Nil {
		return nil, fmt.Errorf("read heads: %w", err)
	}
	out := make([]string, len(channels))
	for i, cmd := range cmds {
		out[i] = zeroID
		if msgs, _ := cmd.Result(); len(msgs) > 0 {
			out[i] = msgs[0].ID
		}
	}
	return out, nil
}
