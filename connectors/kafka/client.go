package kafka

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strings"
	"time"

	"github.com/IBM/sarama"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/pgerror"
)

// dialTimeout bounds connecting to one broker; sarama's 30 s default makes
// an unreachable broker look like a hang.
const dialTimeout = 10 * time.Second

// connection is how to reach the cluster: the options every Kafka client
// of a source or sink shares, checked once.
type connection struct {
	brokers  []string
	clientID string
	tls      *tls.Config // nil: plaintext
	sasl     bool
	mech     string
	user     string
	password string
}

// parseConnection reads and checks the connection options. TLS files are
// read here, so that a missing file is an error of CREATE SOURCE/SINK.
func parseConnection(o connectors.Options) (*connection, error) {
	c := &connection{clientID: o.String(optClientID)}
	for _, b := range strings.Split(o.String(optBootstrap), ",") {
		if b = strings.TrimSpace(b); b != "" {
			c.brokers = append(c.brokers, b)
		}
	}
	if len(c.brokers) == 0 {
		return nil, pgerror.New(pgerror.InvalidParameterValue, "option %q names no broker", optBootstrap)
	}
	if o.String(optTopic) == "" {
		return nil, pgerror.New(pgerror.InvalidParameterValue, "option %q must not be empty", optTopic)
	}
	if c.clientID == "" {
		c.clientID = "sluice"
	}

	protocol := o.String(optSecurityProtocol)
	useTLS := protocol == protoSSL || protocol == protoSASLSSL
	c.sasl = protocol == protoSASLPlaintext || protocol == protoSASLSSL

	ca, cert, key := o.String(optSSLCA), o.String(optSSLCert), o.String(optSSLKey)
	if !useTLS && (ca != "" || cert != "" || key != "") {
		return nil, pgerror.New(pgerror.InvalidParameterValue,
			"the properties.ssl.* options need %s = 'SSL' or 'SASL_SSL' (it is %s)", optSecurityProtocol, protocol)
	}
	if useTLS {
		t, err := tlsConfig(ca, cert, key, o.String(optSSLEndpointAlgo) != "none")
		if err != nil {
			return nil, err
		}
		c.tls = t
	}

	c.mech, c.user, c.password = o.String(optSASLMechanism), o.String(optSASLUser), o.String(optSASLPassword)
	if c.mech == "" {
		c.mech = mechPlain
	}
	switch {
	case c.sasl && c.user == "":
		return nil, pgerror.New(pgerror.InvalidParameterValue,
			"%s = '%s' needs %s and %s", optSecurityProtocol, protocol, optSASLUser, optSASLPassword)
	case !c.sasl && (c.user != "" || c.password != ""):
		return nil, pgerror.New(pgerror.InvalidParameterValue,
			"the properties.sasl.* options need %s = 'SASL_PLAINTEXT' or 'SASL_SSL' (it is %s)", optSecurityProtocol, protocol)
	}
	return c, nil
}

// tlsConfig builds the client's TLS settings from PEM files.
func tlsConfig(caFile, certFile, keyFile string, verifyHost bool) (*tls.Config, error) {
	t := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fileErr(optSSLCA, caFile, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, pgerror.New(pgerror.InvalidParameterValue,
				"option %q: %s holds no PEM certificate", optSSLCA, caFile)
		}
		t.RootCAs = pool
	}
	switch {
	case certFile != "" && keyFile != "":
		for _, f := range [][2]string{{optSSLCert, certFile}, {optSSLKey, keyFile}} {
			if _, err := os.Stat(f[1]); err != nil {
				return nil, fileErr(f[0], f[1], err)
			}
		}
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, pgerror.New(pgerror.InvalidParameterValue,
				"options %q and %q: %v", optSSLCert, optSSLKey, err)
		}
		t.Certificates = []tls.Certificate{pair}
	case certFile != "" || keyFile != "":
		return nil, pgerror.New(pgerror.InvalidParameterValue,
			"options %q and %q go together", optSSLCert, optSSLKey)
	}
	if !verifyHost {
		// Check the chain but not the name: brokers reached by IP address
		// or by a name their certificate does not carry.
		roots := t.RootCAs
		t.InsecureSkipVerify = true
		t.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("the broker sent no certificate")
			}
			opts := x509.VerifyOptions{Roots: roots, Intermediates: x509.NewCertPool()}
			for _, c := range cs.PeerCertificates[1:] {
				opts.Intermediates.AddCert(c)
			}
			_, err := cs.PeerCertificates[0].Verify(opts)
			return err
		}
	}
	return t, nil
}

func fileErr(opt, path string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return pgerror.New(pgerror.UndefinedFile, "option %q: could not open file %q: no such file or directory", opt, path)
	}
	return pgerror.New(pgerror.UndefinedFile, "option %q: could not read file %q: %v", opt, path, err)
}

// config returns a new sarama configuration for one client. Each client gets
// its own, since sarama keeps per-client state (metrics) in it.
func (c *connection) config() *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.ClientID = c.clientID
	cfg.Net.DialTimeout = dialTimeout
	// Only the topics asked for: a cluster may have thousands.
	cfg.Metadata.Full = false
	if c.tls != nil {
		cfg.Net.TLS.Enable = true
		cfg.Net.TLS.Config = c.tls.Clone()
	}
	if c.sasl {
		cfg.Net.SASL.Enable = true
		cfg.Net.SASL.Mechanism = sarama.SASLMechanism(c.mech)
		cfg.Net.SASL.User = c.user
		cfg.Net.SASL.Password = c.password
		switch c.mech {
		case mechSHA256:
			cfg.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return newSCRAMClient(sha256Hash) }
		case mechSHA512:
			cfg.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return newSCRAMClient(sha512Hash) }
		}
	}
	return cfg
}

// connect opens a client. sarama's constructor cannot be cancelled, so it
// runs aside and is abandoned (then closed when it returns) if ctx ends.
func (c *connection) connect(ctx context.Context, cfg *sarama.Config) (sarama.Client, error) {
	type result struct {
		client sarama.Client
		err    error
	}
	done := make(chan result, 1)
	go func() {
		cl, err := sarama.NewClient(c.brokers, cfg)
		done <- result{cl, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return nil, fmt.Errorf("connect to Kafka at %s: %w", strings.Join(c.brokers, ","), r.err)
		}
		return r.client, nil
	case <-ctx.Done():
		go func() {
			if r := <-done; r.err == nil {
				r.client.Close()
			}
		}()
		return nil, ctx.Err()
	}
}

// userError turns a client error met while checking a CREATE statement
// into the error its user sees.
func (c *connection) userError(topic string, err error) error {
	var pe *pgerror.Error
	switch {
	case errors.As(err, &pe):
		return err
	case errors.Is(err, sarama.ErrUnknownTopicOrPartition):
		return pgerror.New(pgerror.UndefinedObject, "Kafka topic %q does not exist", topic)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, sarama.ErrOutOfBrokers), errors.As(err, new(*net.OpError)):
		return pgerror.New(pgerror.ConnectionException, "could not connect to Kafka at %s: %v",
			strings.Join(c.brokers, ","), err)
	}
	return pgerror.New(pgerror.ConnectionException, "Kafka at %s: %v", strings.Join(c.brokers, ","), err)
}
