package realtime

import (
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Namespace is the prefix of every pub/sub channel on the wire. Redis keys (the replay logs)
// live in the client's logical database, but pub/sub channels are server-wide: without a
// prefix, two deployments (or two test packages) sharing one Redis server on different
// databases would hear each other's events. The prefix is the database number, so pub/sub
// is scoped exactly like the keys.
type Namespace string

// NamespaceOf is the namespace of a client: "db<N>:" for a client on database N.
func NamespaceOf(rdb redis.UniversalClient) Namespace {
	if c, ok := rdb.(*redis.Client); ok {
		return Namespace(fmt.Sprintf("db%d:", c.Options().DB))
	}
	return "db0:" // cluster and ring clients have only database 0
}

// Wire is channel as published on the server. Code that publishes with its own Lua script
// (tracking) must publish to Wire(channel) for hubs to hear it.
func (n Namespace) Wire(channel string) string { return string(n) + channel }

func (n Namespace) wire(chans []string) []string {
	out := make([]string, len(chans))
	for i, c := range chans {
		out[i] = n.Wire(c)
	}
	return out
}

// local is the channel a wire name carries, and whether it belongs to this namespace.
func (n Namespace) local(wire string) (string, bool) {
	return strings.CutPrefix(wire, string(n))
}
