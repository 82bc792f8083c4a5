package kafka

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"

	"github.com/sluicedb/sluice/pgerror"
)

func TestSASL(t *testing.T) {
	for _, mech := range []string{mechPlain, mechSHA256, mechSHA512} {
		t.Run(mech, func(t *testing.T) {
			// A PLAIN superuser for the test's own producer, and the user
			// under test.
			_, addr := startCluster(t, 1, []string{"events"}, kfake.EnableSASL(),
				kfake.Superuser(mechPlain, "admin", "admin"), kfake.Superuser(mech, "sluice", "s3cret"))
			cl := kclient(t, addr, kgo.SASL(plain.Auth{User: "admin", Pass: "admin"}.AsMechanism()))
			values, rows := events(0, 3)
			produce(t, cl, "events", 0, values...)

			opts := map[string]string{optSecurityProtocol: "SASL_PLAINTEXT", optSASLMechanism: mech,
				optSASLUser: "sluice", optSASLPassword: "s3cret"}
			got := read(t, open(t, newSource(t, sourceConfig(t, addr, "events", opts)), 0, ""), 3)
			if !slices.Equal(got.rows, rows) {
				t.Errorf("got %v, want %v", got.rows, rows)
			}

			opts[optSASLPassword] = "wrong"
			_, err := NewSource(testContext(t), sourceConfig(t, addr, "events", opts))
			if pgerror.Code(err) != pgerror.ConnectionException {
				t.Errorf("a wrong password: %v (%s), want 08000", err, pgerror.Code(err))
			}
		})
	}
}

func TestSCRAMClientChecksTheServer(t *testing.T) {
	c := newSCRAMClient(sha256Hash)
	if err := c.Begin("user", "pencil", ""); err != nil {
		t.Fatal(err)
	}
	first, _ := c.Step("")
	if !strings.HasPrefix(first, "n,,n=user,r=") {
		t.Fatalf("client-first %q", first)
	}
	nonce := strings.TrimPrefix(first, "n,,n=user,r=")
	if _, err := c.Step("r=" + nonce + "srv,s=QSXCR+Q6sek8bf92,i=4096"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Step("v=bm90IHRoZSBzaWduYXR1cmU="); err == nil || c.Done() {
		t.Fatal("a wrong server signature was accepted")
	}

	c2 := newSCRAMClient(sha256Hash)
	c2.Begin("user", "pencil", "")
	c2.Step("")
	if _, err := c2.Step("r=someone-elses-nonce,s=QSXCR+Q6sek8bf92,i=4096"); err == nil {
		t.Fatal("a nonce that does not extend the client's was accepted")
	}
	if got := scramName("a=b,c"); got != "a=3Db=2Cc" {
		t.Errorf("scramName: %q", got)
	}
}

// testPKI is a CA and certificates it signed, written as PEM files.
type testPKI struct {
	dir        string
	ca         string // the CA's certificate file
	caPool     *x509.CertPool
	server     tls.Certificate // for 127.0.0.1
	serverNoIP tls.Certificate // for a name that is not the address
	clientCert string
	clientKey  string
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	p := &testPKI{dir: t.TempDir(), caPool: x509.NewCertPool()}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sluice test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	p.caPool.AddCert(caCert)
	p.ca = p.write(t, "ca.pem", "CERTIFICATE", caDER)

	issue := func(serial int64, name string, ips []net.IP, usage x509.ExtKeyUsage) ([]byte, *ecdsa.PrivateKey) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			DNSNames: []string{name}, IPAddresses: ips,
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, key
	}
	pair := func(der []byte, key *ecdsa.PrivateKey) tls.Certificate {
		return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	}
	p.server = pair(issue(2, "localhost", []net.IP{net.ParseIP("127.0.0.1")}, x509.ExtKeyUsageServerAuth))
	p.serverNoIP = pair(issue(3, "broker.example", nil, x509.ExtKeyUsageServerAuth))
	der, key := issue(4, "sluice", nil, x509.ExtKeyUsageClientAuth)
	p.clientCert = p.write(t, "client.pem", "CERTIFICATE", der)
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	p.clientKey = p.write(t, "client.key", "EC PRIVATE KEY", keyDER)
	return p
}

func (p *testPKI) write(t *testing.T, name, typ string, der []byte) string {
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestTLS(t *testing.T) {
	pki := newTestPKI(t)
	tests := []struct {
		name   string
		server *tls.Config
		opts   map[string]string
		ok     bool
	}{
		{"SSL with the CA", &tls.Config{Certificates: []tls.Certificate{pki.server}},
			map[string]string{optSecurityProtocol: "SSL", optSSLCA: pki.ca}, true},
		{"SSL without the CA fails", &tls.Config{Certificates: []tls.Certificate{pki.server}},
			map[string]string{optSecurityProtocol: "SSL"}, false},
		{"a certificate for another name fails", &tls.Config{Certificates: []tls.Certificate{pki.serverNoIP}},
			map[string]string{optSecurityProtocol: "SSL", optSSLCA: pki.ca}, false},
		{"unless endpoint identification is off", &tls.Config{Certificates: []tls.Certificate{pki.serverNoIP}},
			map[string]string{optSecurityProtocol: "SSL", optSSLCA: pki.ca, optSSLEndpointAlgo: "none"}, true},
		{"a client certificate", &tls.Config{Certificates: []tls.Certificate{pki.server},
			ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pki.caPool},
			map[string]string{optSecurityProtocol: "SSL", optSSLCA: pki.ca, optSSLCert: pki.clientCert, optSSLKey: pki.clientKey}, true},
		{"a client certificate is required", &tls.Config{Certificates: []tls.Certificate{pki.server},
			ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pki.caPool},
			map[string]string{optSecurityProtocol: "SSL", optSSLCA: pki.ca}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, addr := startCluster(t, 1, []string{"events"}, kfake.TLS(tt.server))
			s, err := NewSource(testContext(t), sourceConfig(t, addr, "events", tt.opts))
			switch {
			case tt.ok && err != nil:
				t.Fatal(err)
			case !tt.ok && err == nil:
				t.Fatal("NewSource succeeded")
			case !tt.ok:
				t.Logf("NewSource: %v", err)
				return
			}
			// Both ways through TLS: the sink writes, the source reads.
			sink := newSink(t, sinkConfig(t, addr, "events", typeAppendOnly, nil, "JSON", tt.opts))
			if err := sink.Commit(testContext(t), 1); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Splits(testContext(t)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestSASLOverTLS(t *testing.T) {
	pki := newTestPKI(t)
	_, addr := startCluster(t, 1, []string{"events"}, kfake.TLS(&tls.Config{Certificates: []tls.Certificate{pki.server}}),
		kfake.EnableSASL(), kfake.Superuser(mechSHA512, "sluice", "s3cret"))
	opts := map[string]string{optSecurityProtocol: "SASL_SSL", optSSLCA: pki.ca,
		optSASLMechanism: "scram-sha-512", optSASLUser: "sluice", optSASLPassword: "s3cret"}
	newSource(t, sourceConfig(t, addr, "events", opts))
}
