// Package realtime owns live events: the names of the Redis pub/sub channels every replica
// shares, publishing events to them with a short replay log, the per-process hub that fans one
// Redis subscription out to many local subscribers, and serving those events to browsers as
// server-sent events (SSE) that resume where they left off.
//
// # Channels
//
// Channel names live here and nowhere else ([OrderChannel], [HallChannel], [AdminChannel],
// [MapChannel], [CourierChannel], [PositionChannel]); all start with "t:<tenant id>:", so a
// channel can never carry another tenant's events.
//
// # Publishing
//
// [Publisher.Publish] appends the event to a capped Redis stream named after the channel (the
// replay log: about [DefaultMaxLen] events, expiring [DefaultTTL] after the last publish) and
// publishes it on the pub/sub channel, in one Lua script: an event is either in both or in
// neither, and stream ids grow in publish order. The stream id ("<ms>-<seq>") is the event's
// SSE id. [Publisher.PublishEphemeral] is pub/sub only (courier positions: many, and only the
// latest matters); such events have no id and are never replayed; code that publishes from its
// own Lua script encodes them with [EphemeralMessage]. Hubs ignore messages in any other
// format. Publish after the business transaction commits (from an outbox job), so that a
// client that refetches state after an event sees the change the event announces; delivery
// may repeat an event (jobs retry), so clients apply events idempotently.
//
// # Hub and feeds
//
// A [Hub] holds one Redis pub/sub connection per process and fans messages out to local
// [Subscription]s, subscribing a channel in Redis when its first local subscriber arrives and
// unsubscribing after the last leaves. Each subscription has a bounded buffer: a subscriber
// that falls behind is dropped (its events channel closes and Err reports [ErrLagged]) instead
// of slowing the others; its client reconnects with Last-Event-ID and loses nothing. After a
// Redis outage the hub reconnects, resubscribes and hands every subscription a [KindResync]
// marker, since pub/sub messages sent during the outage are gone.
//
// [Hub.Follow] is what SSE handlers use: it subscribes first, then replays from the client's
// Last-Event-ID, then forwards live events, dropping those it already sent (ids compare as
// ms-seq pairs), and replays again on resync. It starts every stream with a "ready" event, or
// with "reset" when the replay log no longer holds everything the client missed (it was
// trimmed or expired, or the id is not one of ours).
//
// # What clients do
//
// Open the stream, then load the state it describes through the JSON API, then apply events
// (idempotently: an event may describe a change the loaded state already has). On "reset",
// load the state again. Reconnect with the last event id (EventSource does so by itself); a
// stream following several channels has a composite id, which clients treat as opaque. The
// reserved event types are "ready" and "reset".
//
// # SSE over huma
//
// [Stream] turns a [Feed] (or a [Subscription]) into a huma.StreamResponse; [StreamResponses]
// documents it in OpenAPI, and embedding [Resume] in an operation's input receives the
// Last-Event-ID header. See [Stream] for the headers, pings and deadlines.
package realtime
