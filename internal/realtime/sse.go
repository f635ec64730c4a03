package realtime

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/paotui/paotui/internal/httpx"
)

const (
	// DefaultPing is how often a stream sends a ": ping" comment, so proxies that close idle
	// connections (often after 30-60 s) leave it open and a dead client is noticed.
	DefaultPing = 15 * time.Second
	// DefaultRetry is the reconnect delay the stream suggests to EventSource.
	DefaultRetry = 3 * time.Second
	// DefaultWriteTimeout bounds each write, so a client that stopped reading cannot hold the
	// handler forever (the server has no write timeout because of streams like this).
	DefaultWriteTimeout = 10 * time.Second
)

// ErrNoFlush is returned by NewWriter when the response cannot be flushed: events would sit
// in a buffer instead of reaching the client.
var ErrNoFlush = errors.New("realtime: response writer cannot flush")

// Problems maps this package's errors for handlers: return realtime.Problems.Map(err) when
// Follow or Subscribe fails.
var Problems = httpx.ProblemTable{
	httpx.Rule(ErrUnavailable, http.StatusServiceUnavailable, "live_updates_unavailable",
		"live updates are briefly unavailable; reconnect in a moment"),
	httpx.Rule(ErrClosed, http.StatusServiceUnavailable, "live_updates_unavailable",
		"this server is restarting; reconnect in a moment"),
}

// Resume is embedded in the input struct of an SSE operation:
//
//	type orderEventsInput struct {
//		OrderID string `path:"orderId" format:"uuid"`
//		realtime.Resume
//	}
//
// huma fills it from the Last-Event-ID header (tag `header:"Last-Event-ID"`), which
// EventSource sends when it reconnects, or from the lastEventId query parameter (tag
// `query:"lastEventId"`) for the first connection of a page that kept the id (EventSource
// cannot set headers). Pass Cursor() to Hub.Follow.
type Resume struct {
	LastEventID string `header:"Last-Event-ID" maxLength:"400" doc:"The id of the last event received; the stream resumes after it."`
	// LastEventIDParam is the same as a query parameter; the header wins when both are sent.
	LastEventIDParam string `query:"lastEventId" maxLength:"400" doc:"Same as the Last-Event-ID header, for clients that cannot set headers."`
}

// Cursor is the position the client resumes from ("" for a new client).
func (r Resume) Cursor() string {
	if r.LastEventID != "" {
		return r.LastEventID
	}
	return r.LastEventIDParam
}

// StreamResponses documents an SSE operation's 200 response for huma.Operation.Responses;
// description says which event types the stream carries.
func StreamResponses(description string) map[string]*huma.Response {
	return map[string]*huma.Response{"200": {
		Description: description + "\n\nA server-sent event stream (text/event-stream). It starts with a `ready` " +
			"event, or `reset` when state must be loaded again; every event has an `id` to resume from with the " +
			"Last-Event-ID header. Comments (`: ping`) keep it open.",
		Content: map[string]*huma.MediaType{"text/event-stream": {Schema: &huma.Schema{Type: "string"}}},
	}}
}

// Source is what Stream sends: a *Feed (resumable; what handlers should use) or a
// *Subscription (live only).
type Source interface {
	Events() <-chan Event
	Err() error
	Close()
}

// StreamOptions tune Stream; zero values take the defaults.
type StreamOptions struct {
	Ping         time.Duration
	Retry        time.Duration
	WriteTimeout time.Duration
	// Log receives write failures other than a client leaving; nil is slog.Default.
	Log *slog.Logger
}

func (o StreamOptions) withDefaults() StreamOptions {
	if o.Ping <= 0 {
		o.Ping = DefaultPing
	}
	if o.Retry <= 0 {
		o.Retry = DefaultRetry
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return o
}

// Stream returns the response of an SSE operation: it sends src's events until the client
// goes away (the request context ends), src ends (lagged, or the hub closing as the server
// shuts down: the client then reconnects elsewhere with Last-Event-ID), or a write fails. It
// closes src when done. KindResync markers are not sent.
//
//	feed, err := h.hub.Follow(ctx, in.Cursor(), realtime.OrderChannel(t.ID, in.OrderID))
//	if err != nil {
//		return nil, realtime.Problems.Map(err)
//	}
//	return realtime.Stream(feed, realtime.StreamOptions{}), nil
func Stream(src Source, opts StreamOptions) *huma.StreamResponse {
	opts = opts.withDefaults()
	return &huma.StreamResponse{Body: func(hc huma.Context) {
		defer src.Close()
		w, err := NewWriter(hc, opts)
		if err != nil {
			opts.Log.Error("realtime: cannot stream", "err", err.Error())
			hc.SetStatus(http.StatusInternalServerError)
			return
		}
		defer w.Finish()
		ctx := hc.Context()
		ping := time.NewTicker(opts.Ping)
		defer ping.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-ping.C:
				err = w.Comment("ping")
			case ev, ok := <-src.Events():
				if !ok {
					return
				}
				if ev.Kind != KindMessage {
					continue
				}
				err = w.Send(ev)
			}
			if err != nil {
				if ctx.Err() == nil {
					opts.Log.Debug("realtime: stream write failed", "err", err.Error())
				}
				return
			}
		}
	}}
}

// Writer writes server-sent events to a huma response and flushes each one.
type Writer struct {
	w            io.Writer
	rc           *http.ResponseController
	writeTimeout time.Duration
	buf          bytes.Buffer
}

// NewWriter starts an event stream: it sets Content-Type: text/event-stream, Cache-Control:
// no-cache and X-Accel-Buffering: no (nginx would otherwise buffer the stream), answers 200,
// sends the retry hint and flushes. It fails with ErrNoFlush, before writing anything, when
// the response cannot be flushed.
func NewWriter(hc huma.Context, opts StreamOptions) (*Writer, error) {
	opts = opts.withDefaults()
	w := hc.BodyWriter()
	rw, ok := w.(http.ResponseWriter)
	if !ok || !canFlush(rw) {
		return nil, ErrNoFlush
	}
	sw := &Writer{w: w, rc: http.NewResponseController(rw), writeTimeout: opts.WriteTimeout}
	hc.SetHeader("Content-Type", "text/event-stream")
	hc.SetHeader("Cache-Control", "no-cache")
	hc.SetHeader("X-Accel-Buffering", "no")
	hc.SetStatus(http.StatusOK)
	sw.buf.WriteString("retry: ")
	sw.buf.WriteString(strconv.FormatInt(opts.Retry.Milliseconds(), 10))
	sw.buf.WriteString("\n\n")
	return sw, sw.flush()
}

// canFlush looks through wrappers (echo's Response unwraps to net/http's writer) for one that
// flushes. echo's Flush panics when the writer it wraps cannot flush, so this is checked
// before relying on it.
func canFlush(rw http.ResponseWriter) bool {
	for {
		switch t := rw.(type) {
		case interface{ FlushError() error }:
			return true
		case interface{ Unwrap() http.ResponseWriter }:
			rw = t.Unwrap()
		case http.Flusher:
			return true
		default:
			return false
		}
	}
}

// Send writes one event: its id (if any), its type (if not "message") and its data, one
// "data:" line per line of data.
func (w *Writer) Send(ev Event) error {
	if ev.ID != "" {
		w.buf.WriteString("id: ")
		w.buf.WriteString(oneLine(ev.ID))
		w.buf.WriteByte('\n')
	}
	if ev.Type != "" && ev.Type != "message" {
		w.buf.WriteString("event: ")
		w.buf.WriteString(oneLine(ev.Type))
		w.buf.WriteByte('\n')
	}
	data := []byte(ev.Data)
	if len(data) == 0 {
		data = []byte("null") // an event with empty data is never dispatched by browsers
	}
	for {
		line, rest, more := cutLine(data)
		w.buf.WriteString("data: ")
		w.buf.Write(line)
		w.buf.WriteByte('\n')
		if !more {
			break
		}
		data = rest
	}
	w.buf.WriteByte('\n')
	return w.flush()
}

// Comment writes a comment line, which clients ignore; it keeps the connection alive.
func (w *Writer) Comment(text string) error {
	w.buf.WriteString(": ")
	w.buf.WriteString(oneLine(text))
	w.buf.WriteString("\n\n")
	return w.flush()
}

// Finish lifts the write deadline Send and Comment set: net/http does not reset it before the
// next request on a kept-alive connection when the server has no write timeout.
func (w *Writer) Finish() { _ = w.rc.SetWriteDeadline(time.Time{}) }

func (w *Writer) flush() error {
	defer w.buf.Reset()
	if err := w.rc.SetWriteDeadline(time.Now().Add(w.writeTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	if _, err := w.w.Write(w.buf.Bytes()); err != nil {
		return err
	}
	return w.rc.Flush()
}

// cutLine splits at the first CR, LF or CRLF, the line ends SSE recognises.
func cutLine(b []byte) (line, rest []byte, found bool) {
	i := bytes.IndexAny(b, "\r\n")
	if i < 0 {
		return b, nil, false
	}
	if b[i] == '\r' && i+1 < len(b) && b[i+1] == '\n' {
		return b[:i], b[i+2:], true
	}
	return b[:i], b[i+1:], true
}

func oneLine(s string) string {
	if i := bytes.IndexAny([]byte(s), "\r\n\x00"); i >= 0 {
		return s[:i]
	}
	return s
}
