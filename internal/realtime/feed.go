package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
)

// replayBatch is how many events one replay read fetches.
const replayBatch = 200

// Feed is a resumable stream of a client's channels: what it missed since its cursor, then
// live events, each exactly once and in publish order per channel. Read Events until it is
// closed, then Err; Close it when the client leaves.
type Feed struct {
	hub      *Hub
	sub      *Subscription
	channels []string
	index    map[string]int
	pos      []string // last id sent per channel
	out      chan Event
	ctx      context.Context
	cancel   context.CancelFunc
	done     chan struct{}
	mu       sync.Mutex
	err      error
}

// Follow starts a feed of channels (distinct, in a fixed order: the cursor lists one position
// per channel in this order) for a client whose Last-Event-ID is lastEventID ("" for a new
// client). It subscribes before reading the replay log, so no event falls between the two,
// and drops live events the replay already sent. A resuming client first gets the events it
// missed, then a "ready" event (or "reset" when the log no longer covers what it missed and it
// must reload state) whose id is its position; a new client gets "ready" at once. Events carry
// the cursor in ID. It fails like Subscribe; the feed ends with ctx.
func (h *Hub) Follow(ctx context.Context, lastEventID string, channels ...string) (*Feed, error) {
	if len(channels) == 0 {
		return nil, ErrInvalidChannel
	}
	index := make(map[string]int, len(channels))
	for i, c := range channels {
		if _, dup := index[c]; dup {
			return nil, fmt.Errorf("%w: %q twice", ErrInvalidChannel, c)
		}
		index[c] = i
	}
	sub, err := h.Subscribe(ctx, channels...)
	if err != nil {
		return nil, err
	}
	fctx, cancel := context.WithCancel(ctx)
	f := &Feed{
		hub: h, sub: sub, channels: append([]string(nil), channels...), index: index,
		out: make(chan Event), ctx: fctx, cancel: cancel, done: make(chan struct{}),
	}
	go f.run(lastEventID)
	return f, nil
}

// Events delivers the feed's events (never KindResync markers); it is closed when the feed
// ends.
func (f *Feed) Events() <-chan Event { return f.out }

// Err says why the feed ended once Events is closed: nil after Close or the end of its ctx,
// ErrLagged, ErrClosed, or a Redis error while replaying.
func (f *Feed) Err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// Close ends the feed and waits for it to let go of its subscription.
func (f *Feed) Close() {
	f.cancel()
	<-f.done
}

var emptyData = json.RawMessage("{}")

func (f *Feed) run(lastEventID string) {
	defer close(f.done)
	defer f.sub.Close()
	defer close(f.out)
	err := f.loop(lastEventID)
	if f.ctx.Err() != nil {
		err = nil
	}
	f.mu.Lock()
	f.err = err
	f.mu.Unlock()
}

func (f *Feed) loop(lastEventID string) error {
	gap := false
	if pos, ok := parseCursor(lastEventID, len(f.channels)); ok {
		f.pos = pos
		g, err := f.catchUp()
		if err != nil {
			return err
		}
		gap = g
	} else {
		// A new client starts at the present; an id we cannot read (another stream's, an older
		// format) gets the same position plus "reset".
		heads, err := f.hub.replay.heads(f.ctx, f.channels)
		if err != nil {
			return err
		}
		f.pos = heads
		gap = lastEventID != ""
	}
	if !f.emitMarker(gap) {
		return nil
	}
	for {
		select {
		case <-f.ctx.Done():
			return nil
		case ev, ok := <-f.sub.Events():
			if !ok {
				return f.sub.Err()
			}
			if ev.Kind == KindResync {
				gap, err := f.catchUp()
				if err != nil {
					return err
				}
				if gap && !f.emitMarker(true) {
					return nil
				}
				continue
			}
			i, ok := f.index[ev.Channel]
			if !ok {
				continue
			}
			if ev.ID != "" {
				id, _ := parseID(ev.ID)
				seen, _ := parseID(f.pos[i])
				if id.compare(seen) <= 0 {
					continue // the replay sent it already
				}
				f.pos[i] = ev.ID
				ev.ID = formatCursor(f.pos)
			}
			if !f.emit(ev) {
				return nil
			}
		}
	}
}

// catchUp sends what each channel's log holds after the feed's position. For a channel whose
// log no longer covers that, it moves the position to the log's head and reports a gap.
func (f *Feed) catchUp() (gap bool, err error) {
	for i, c := range f.channels {
		for {
			evs, err := f.hub.replay.Since(f.ctx, c, f.pos[i], replayBatch)
			if errors.Is(err, ErrGap) {
				heads, err := f.hub.replay.heads(f.ctx, []string{c})
				if err != nil {
					return false, err
				}
				f.pos[i], gap = heads[0], true
				break
			}
			if err != nil {
				return false, err
			}
			for _, ev := range evs {
				f.pos[i] = ev.ID
				ev.ID = formatCursor(f.pos)
				if !f.emit(ev) {
					return false, f.ctx.Err()
				}
			}
			if len(evs) < replayBatch {
				break
			}
		}
	}
	return gap, nil
}

func (f *Feed) emitMarker(reset bool) bool {
	typ := TypeReady
	if reset {
		typ = TypeReset
	}
	return f.emit(Event{ID: formatCursor(f.pos), Type: typ, Data: emptyData})
}

func (f *Feed) emit(ev Event) bool {
	select {
	case f.out <- ev:
		return true
	case <-f.ctx.Done():
		return false
	}
}
