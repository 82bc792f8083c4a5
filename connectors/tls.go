package connectors

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io/fs"
	"os"

	"github.com/sluicedb/sluice/pgerror"
)

// The options a connector that speaks TLS to its system takes for it
// (mqtt, rabbitmq), with ClientTLS reading them.
const (
	OptTLSCA                 = "tls.ca"
	OptTLSClientCert         = "tls.client_cert"
	OptTLSClientKey          = "tls.client_key"
	OptTLSInsecureSkipVerify = "tls.insecure_skip_verify"
)

// ClientTLS builds a client's TLS settings from the PEM files named by the
// tls.* options, read now so that a missing or bad file is an error of the
// CREATE statement (58P01, 22023), not of the first connection.
func ClientTLS(caFile, certFile, keyFile string, insecure bool) (*tls.Config, error) {
	t := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: insecure}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fileErr(OptTLSCA, caFile, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, pgerror.New(pgerror.InvalidParameterValue, "option %q: %s holds no PEM certificate", OptTLSCA, caFile)
		}
		t.RootCAs = pool
	}
	switch {
	case certFile != "" && keyFile != "":
		for _, f := range [][2]string{{OptTLSClientCert, certFile}, {OptTLSClientKey, keyFile}} {
			if _, err := os.Stat(f[1]); err != nil {
				return nil, fileErr(f[0], f[1], err)
			}
		}
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, pgerror.New(pgerror.InvalidParameterValue, "options %q and %q: %v", OptTLSClientCert, OptTLSClientKey, err)
		}
		t.Certificates = []tls.Certificate{pair}
	case certFile != "" || keyFile != "":
		return nil, pgerror.New(pgerror.InvalidParameterValue, "options %q and %q go together", OptTLSClientCert, OptTLSClientKey)
	}
	return t, nil
}

func fileErr(opt, path string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return pgerror.New(pgerror.UndefinedFile, "option %q: could not open file %q: no such file or directory", opt, path)
	}
	return pgerror.New(pgerror.UndefinedFile, "option %q: could not read file %q: %v", opt, path, err)
}
