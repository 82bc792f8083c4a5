package sqllogictest

import (
	"net"
	"os"
	"testing"
	"time"
)

// servicesEnv names the environment variable that turns an unreachable
// service from a skip into a failure. CI sets it to "required" so that a
// broken service cannot pass silently as skipped tests.
const servicesEnv = "SLUICE_TEST_SERVICES"

// RequireService skips the test when the TCP service name (such as
// "PostgreSQL") does not answer at addr (host:port) within two seconds, or
// fails it when SLUICE_TEST_SERVICES=required.
func RequireService(t testing.TB, name, addr string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err == nil {
		_ = conn.Close() // only reachability was in question
		return
	}
	if os.Getenv(servicesEnv) == "required" {
		t.Fatalf("%s is required (%s=required) but unreachable at %s: %v", name, servicesEnv, addr, err)
	}
	t.Skipf("skipping: %s is unreachable at %s (%v); set %s=required to make this a failure", name, addr, err, servicesEnv)
}
