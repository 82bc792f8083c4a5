package sqllogictest

import (
	"net"
	"strings"
	"testing"
)

func TestRequireService(t *testing.T) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = listener.Close() }()
	reachable := listener.Addr().String()
	// A listener closed at once leaves a port that nothing listens on.
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	unreachable := closed.Addr().String()
	_ = closed.Close()

	tests := []struct {
		name, env, addr string
		wantSkip        bool
		wantFatal       bool
	}{
		{name: "reachable", addr: reachable},
		{name: "reachable and required", env: "required", addr: reachable},
		{name: "unreachable skips", addr: unreachable, wantSkip: true},
		{name: "unreachable with another value skips", env: "optional", addr: unreachable, wantSkip: true},
		{name: "unreachable and required fails", env: "required", addr: unreachable, wantFatal: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(servicesEnv, tt.env)
			got := recordRun(t, func(tb testing.TB) { RequireService(tb, "Widget", tt.addr) })
			if (got.skipped != "") != tt.wantSkip || got.fatal != tt.wantFatal {
				t.Fatalf("skipped=%q fatal=%v failures=%q; want skip=%v fatal=%v", got.skipped, got.fatal, got.failures, tt.wantSkip, tt.wantFatal)
			}
			if msg := got.skipped + got.report(); (tt.wantSkip || tt.wantFatal) &&
				!(strings.Contains(msg, "Widget") && strings.Contains(msg, tt.addr) && strings.Contains(msg, servicesEnv)) {
				t.Errorf("message should name the service, the address and %s: %q", servicesEnv, msg)
			}
		})
	}
}
