// Package stripemock finds or starts stripe-mock, the Stripe API peer of the tests: CI starts it
// and exports STRIPE_MOCK_URL; otherwise one listening on 127.0.0.1:12111 is used, or the
// installed binary (go install github.com/stripe/stripe-mock@v0.203.0) is started on a free port
// for the test process. Stop it from TestMain.
package stripemock

import (
	"go/build"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var mock struct {
	once sync.Once
	url  string
	cmd  *exec.Cmd
	why  string
}

// URL returns stripe-mock's base URL. Without one the test is skipped, except on CI (CI=true),
// where a missing stripe-mock is a failure: CI must run the Stripe tests.
func URL(t testing.TB) string {
	t.Helper()
	mock.once.Do(start)
	if mock.url == "" {
		msg := "stripe-mock is not available (" + mock.why + "): set STRIPE_MOCK_URL, run it on 127.0.0.1:12111, " +
			"or go install github.com/stripe/stripe-mock@v0.203.0"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return mock.url
}

// Stop ends a stripe-mock this process started.
func Stop() {
	if mock.cmd != nil && mock.cmd.Process != nil {
		_ = mock.cmd.Process.Kill()
		_ = mock.cmd.Wait()
	}
}

func listening(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

func start() {
	if u := os.Getenv("STRIPE_MOCK_URL"); u != "" {
		mock.url = u
		return
	}
	if listening("127.0.0.1:12111") {
		mock.url = "http://127.0.0.1:12111"
		return
	}
	bin, err := exec.LookPath("stripe-mock")
	if err != nil {
		dir := os.Getenv("GOBIN")
		if dir == "" {
			dir = filepath.Join(strings.Split(build.Default.GOPATH, string(os.PathListSeparator))[0], "bin")
		}
		bin = filepath.Join(dir, "stripe-mock")
		if _, err := os.Stat(bin); err != nil {
			mock.why = "no stripe-mock binary on PATH or in " + dir
			return
		}
	}
	// Both ports are chosen here: left alone, stripe-mock also takes the fixed HTTPS port 12112,
	// and a second test process starting its own would die on it.
	addr, err := freeAddr()
	if err != nil {
		mock.why = err.Error()
		return
	}
	tlsAddr, err := freeAddr()
	if err != nil {
		mock.why = err.Error()
		return
	}
	cmd := exec.Command(bin, "-http-addr", addr, "-https-addr", tlsAddr)
	if err := cmd.Start(); err != nil {
		mock.why = "start " + bin + ": " + err.Error()
		return
	}
	mock.cmd = cmd
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if listening(addr) {
			mock.url = "http://" + addr
			return
		}
	}
	mock.why = bin + " did not listen on " + addr
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	return addr, l.Close()
}
