package realtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Event is one live event.
type Event struct {
	// Channel is the channel the event came from.
	Channel string
	// ID is the event's Redis stream id ("<ms>-<seq>") for replayable events and "" for
	// ephemeral ones and hub markers. Events read from a Feed carry the feed's resume cursor
	// instead, which equals the stream id when the feed follows one channel.
	ID string
	// Type is the SSE event name, e.g. "status".
	Type string
	// Data is the event's JSON document.
	Data json.RawMessage
	// Kind tells messages from the hub's markers.
	Kind Kind
}

// Kind distinguishes messages from markers the hub adds to a subscription.
type Kind uint8

const (
	// KindMessage is a published event.
	KindMessage Kind = iota
	// KindResync says the hub lost its Redis connection and has subscribed again: events
	// published meanwhile were not delivered, so replay from the last id seen. Feeds do this
	// themselves and never pass the marker on.
	KindResync
)

// Event types every feed may send; Publish refuses them.
const (
	// TypeReady starts a stream once the client is caught up; its id is the position to
	// resume from.
	TypeReady = "ready"
	// TypeReset replaces "ready" when the replay log no longer covers what the client missed:
	// the client must load the state again.
	TypeReset = "reset"
)

var (
	// ErrLagged ends a subscription whose reader fell behind by more than its buffer.
	ErrLagged = errors.New("realtime: subscriber fell behind and was dropped")
	// ErrClosed ends subscriptions when the hub shuts down, and refuses new ones after.
	ErrClosed = errors.New("realtime: hub closed")
	// ErrGap is returned by Since when the replay log no longer holds the events right after
	// the given id (trimmed or expired), so replaying would silently skip some.
	ErrGap = errors.New("realtime: events after this id are no longer in the replay log")
	// ErrInvalidID is returned for an id that is not a Redis stream id.
	ErrInvalidID = errors.New("realtime: malformed event id")
	// ErrInvalidType is returned by Publish for an empty, reserved or malformed event type.
	ErrInvalidType = errors.New("realtime: event type must be 1-64 letters, digits, '.', '_' or '-' and not reserved")
	// ErrInvalidChannel is returned for an empty channel name or one with spaces or newlines.
	ErrInvalidChannel = errors.New("realtime: malformed channel name")
	// ErrUnavailable is returned when Redis did not confirm a subscription in time. It carries
	// a retry hint (httpx answers 503 with Retry-After).
	ErrUnavailable error = unavailableError{}
)

type unavailableError struct{}

func (unavailableError) Error() string { return "realtime: live updates are unavailable (Redis)" }

// RetryAfter lets httpx.ProblemTable add a Retry-After header.
func (unavailableError) RetryAfter() time.Duration { return 2 * time.Second }

// streamID is a parsed Redis stream id.
type streamID struct{ ms, seq uint64 }

// parseID reads "<ms>-<seq>" as Redis writes it.
func parseID(s string) (streamID, bool) {
	ms, seq, ok := strings.Cut(s, "-")
	if !ok || ms == "" || seq == "" || len(s) > 41 {
		return streamID{}, false
	}
	a, err1 := strconv.ParseUint(ms, 10, 64)
	b, err2 := strconv.ParseUint(seq, 10, 64)
	if err1 != nil || err2 != nil || ms[0] == '+' || seq[0] == '+' {
		return streamID{}, false
	}
	return streamID{a, b}, true
}

func (id streamID) String() string {
	return strconv.FormatUint(id.ms, 10) + "-" + strconv.FormatUint(id.seq, 10)
}

func (id streamID) compare(o streamID) int {
	switch {
	case id.ms < o.ms:
		return -1
	case id.ms > o.ms:
		return 1
	case id.seq < o.seq:
		return -1
	case id.seq > o.seq:
		return 1
	}
	return 0
}

// CompareIDs orders two stream ids as Redis does (milliseconds, then sequence), so
// "1700000000000-10" comes after "1700000000000-9". It reports ErrInvalidID for a malformed id.
func CompareIDs(a, b string) (int, error) {
	x, ok1 := parseID(a)
	y, ok2 := parseID(b)
	if !ok1 || !ok2 {
		return 0, ErrInvalidID
	}
	return x.compare(y), nil
}

// zeroID is the position before every event of a stream.
const zeroID = "0-0"

// A cursor is where a client stands in each channel a feed follows: one stream id per channel,
// joined by commas in the channels' order (a single id for one channel).
func formatCursor(pos []string) string { return strings.Join(pos, ",") }

// parseCursor reads a client's Last-Event-ID for a feed of n channels, normalising each id.
func parseCursor(s string, n int) ([]string, bool) {
	parts := strings.Split(s, ",")
	if len(parts) != n {
		return nil, false
	}
	for i, p := range parts {
		id, ok := parseID(p)
		if !ok {
			return nil, false
		}
		parts[i] = id.String()
	}
	return parts, true
}

// validType accepts 1-64 of [A-Za-z0-9._-], not a reserved type: the type becomes an SSE
// "event:" line, which must not break the framing.
func validType(t string) bool {
	if t == "" || len(t) > 64 || t == TypeReady || t == TypeReset || t == "message" {
		return false
	}
	for _, r := range t {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
		default:
			return false
		}
	}
	return true
}

func validChannel(c string) bool {
	return c != "" && len(c) <= 512 && !strings.ContainsAny(c, " \t\r\n\x00")
}

// EphemeralMessage encodes an ephemeral event as the pub/sub payload hubs read, for code that
// publishes from its own Lua script (tracking publishes positions in the script that records
// them): PUBLISH the result on the channel as it is. Anything else published on a channel is
// ignored by hubs.
func EphemeralMessage(typ string, data any) (string, error) {
	if !validType(typ) {
		return "", fmt.Errorf("%w: %q", ErrInvalidType, typ)
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return "", fmt.Errorf("encode %s event: %w", typ, err)
	}
	return encodePayload("", typ, raw), nil
}

// Pub/sub payloads are "<id>\n<type>\n<data>" (id empty for ephemeral events): the Lua
// script builds them by concatenation, without a JSON encoder.
func encodePayload(id, typ string, data []byte) string {
	return id + "\n" + typ + "\n" + string(data)
}

func decodePayload(channel, payload string) (Event, bool) {
	id, rest, ok := strings.Cut(payload, "\n")
	if !ok {
		return Event{}, false
	}
	typ, data, ok := strings.Cut(rest, "\n")
	if !ok || typ == "" {
		return Event{}, false
	}
	if id != "" {
		if _, ok := parseID(id); !ok {
			return Event{}, false
		}
	}
	return Event{Channel: channel, ID: id, Type: typ, Data: json.RawMessage(data)}, true
}
