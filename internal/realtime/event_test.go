package realtime

import (
	"errors"
	"slices"
	"testing"
)

func TestCompareIDs(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		a, b string
		want int
		err  bool
	}{
		{"same", "1700000000000-3", "1700000000000-3", 0, false},
		{"sequence compares as a number", "1700000000000-10", "1700000000000-9", 1, false},
		{"milliseconds first", "1700000000001-0", "1700000000000-99", 1, false},
		{"milliseconds compare as numbers", "999-0", "1000-0", -1, false},
		{"zero is first", "0-0", "1-0", -1, false},
		{"leading zeros are the same id", "0017-01", "17-1", 0, false},
		{"no sequence", "1700000000000", "1-0", 0, true},
		{"empty", "", "1-0", 0, true},
		{"letters", "abc-1", "1-0", 0, true},
		{"negative", "-1-0", "1-0", 0, true},
		{"plus sign", "+1-0", "1-0", 0, true},
		{"overflow", "18446744073709551616-0", "1-0", 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CompareIDs(tc.a, tc.b)
			if tc.err {
				if !errors.Is(err, ErrInvalidID) {
					t.Fatalf("CompareIDs(%q, %q) error %v; want ErrInvalidID", tc.a, tc.b, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("CompareIDs(%q, %q) = %d, %v; want %d", tc.a, tc.b, got, err, tc.want)
			}
			if back, _ := CompareIDs(tc.b, tc.a); back != -tc.want {
				t.Fatalf("not antisymmetric: %d and %d", got, back)
			}
		})
	}
}

func TestParseCursor(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		in   string
		n    int
		want []string
	}{
		{"one channel", "17-1", 1, []string{"17-1"}},
		{"normalised", "017-01", 1, []string{"17-1"}},
		{"two channels", "17-1,0-0", 2, []string{"17-1", "0-0"}},
		{"new client", "", 1, nil},
		{"too few positions", "17-1", 2, nil},
		{"too many positions", "17-1,18-0", 1, nil},
		{"empty position", "17-1,", 2, nil},
		{"garbage", "hello", 1, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseCursor(tc.in, tc.n)
			if ok != (tc.want != nil) || !slices.Equal(got, tc.want) {
				t.Fatalf("parseCursor(%q, %d) = %q, %v; want %q", tc.in, tc.n, got, ok, tc.want)
			}
			if ok && formatCursor(got) != formatCursor(tc.want) {
				t.Fatal("format does not round trip")
			}
		})
	}
}

func TestPayload(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		payload string
		ok      bool
		want    Event
	}{
		{"replayable", "17-1\nstatus\n{\"a\":1}", true, Event{Channel: "c", ID: "17-1", Type: "status", Data: []byte(`{"a":1}`)}},
		{"ephemeral", "\npos\n[1,2]", true, Event{Channel: "c", Type: "pos", Data: []byte(`[1,2]`)}},
		{"data keeps its newlines", "1-0\nx\na\nb", true, Event{Channel: "c", ID: "1-0", Type: "x", Data: []byte("a\nb")}},
		{"someone else's JSON", `{"orderId":"x"}`, false, Event{}},
		{"no type", "1-0\n\n{}", false, Event{}},
		{"bad id", "x\nt\n{}", false, Event{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := decodePayload("c", tc.payload)
			if ok != tc.ok || got.ID != tc.want.ID || got.Type != tc.want.Type || string(got.Data) != string(tc.want.Data) || (ok && got.Channel != "c") {
				t.Fatalf("decodePayload(%q) = %+v, %v; want %+v, %v", tc.payload, got, ok, tc.want, tc.ok)
			}
			if ok {
				if again, _ := decodePayload("c", encodePayload(got.ID, got.Type, got.Data)); string(again.Data) != string(got.Data) {
					t.Fatal("encode does not round trip")
				}
			}
		})
	}
}

func TestValidType(t *testing.T) {
	t.Parallel()
	for typ, want := range map[string]bool{
		"status": true, "order.status": true, "courier_offer": true, "A-1": true,
		"": false, "ready": false, "reset": false, "message": false, "a b": false, "a\nb": false,
		"a:b": false, "状态": false, string(make([]byte, 65)): false,
	} {
		if got := validType(typ); got != want {
			t.Errorf("validType(%q) = %v; want %v", typ, got, want)
		}
	}
}

func TestCutLine(t *testing.T) {
	t.Parallel()
	var lines []string
	data := []byte("a\r\nb\rc\nd")
	for {
		line, rest, more := cutLine(data)
		lines = append(lines, string(line))
		if !more {
			break
		}
		data = rest
	}
	if want := []string{"a", "b", "c", "d"}; !slices.Equal(lines, want) {
		t.Fatalf("lines %q; want %q", lines, want)
	}
}
