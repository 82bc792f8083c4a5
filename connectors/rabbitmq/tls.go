package rabbitmq

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io/fs"
	"os"

	"github.com/sluicedb/sluice/pgerror"
)

// tlsConfig builds the client's TLS settings from PEM files, read now so
// that a missing file is an error of CREATE SOURCE.
func tlsConfig(caFile, certFile, keyFile string, insecure bool) (*tls.Config, error) {
	t := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: insecure}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fileErr(optTLSCA, caFile, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, pgerror.New(pgerror.InvalidParameterValue, "option %q: %s holds no PEM certificate", optTLSCA, caFile)
		}
		t.RootCAs = pool
	}
	switch {
	case certFile != "" && keyFile != "":
		for _, f := range [][2]string{{optTLSCert, certFile}, {optTLSKey, keyFile}} {
			if _, err := os.Stat(f[1]); err != nil {
				return nil, fileErr(f[0], f[1], err)
			}
		}
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, pgerror.New(pgerror.InvalidParameterValue, "options %q and %q: %v", optTLSCert, optTLSKey, err)
		}
		t.Certificates = []tls.Certificate{pair}
	case certFile != "" || keyFile != "":
		return nil, pgerror.New(pgerror.InvalidParameterValue, "options %q and %q go together", optTLSCert, optTLSKey)
	}
	return t, nil
}

func fileErr(opt, path string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return pgerror.New(pgerror.UndefinedFile, "option %q: could not open file %q: no such file or directory", opt, path)
	}
	return pgerror.New(pgerror.UndefinedFile, "option %q: could not read file %q: %v", opt, path, err)
}
