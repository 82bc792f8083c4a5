package kafka

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
)

// scramClient is the client side of SCRAM (RFC 5802), as sarama drives it
// for SASL/SCRAM-SHA-256 and -512: Step("") gives the client-first message,
// Step(server-first) the client-final one, and Step(server-final) checks the
// server's signature, which proves the server knows the password too.
// Channel binding is not used (gs2 header "n,,"), as Kafka does not offer
// it. The password is used as given, without SASLprep normalisation, which
// only matters for passwords outside ASCII.
type scramClient struct {
	newHash func() hash.Hash

	user, password, authzID string

	step        int
	clientNonce string
	clientFirst string // client-first-message-bare
	serverSig   []byte
	done        bool
}

func sha256Hash() hash.Hash { return sha256.New() }
func sha512Hash() hash.Hash { return sha512.New() }

func newSCRAMClient(h func() hash.Hash) *scramClient { return &scramClient{newHash: h} }

// Begin starts a conversation.
func (c *scramClient) Begin(user, password, authzID string) error {
	nonce := make([]byte, 24)
	if _, err := rand.Read(nonce); err != nil {
		return err
	}
	*c = scramClient{
		newHash: c.newHash, user: user, password: password, authzID: authzID,
		clientNonce: base64.RawStdEncoding.EncodeToString(nonce),
	}
	return nil
}

// Done reports whether the server's final message has been verified.
func (c *scramClient) Done() bool { return c.done }

// Step answers the server's last message.
func (c *scramClient) Step(challenge string) (string, error) {
	c.step++
	switch c.step {
	case 1:
		c.clientFirst = "n=" + scramName(c.user) + ",r=" + c.clientNonce
		return c.gs2Header() + c.clientFirst, nil
	case 2:
		return c.final(challenge)
	case 3:
		attrs := scramAttrs(challenge)
		if e, ok := attrs['e']; ok {
			return "", fmt.Errorf("SCRAM: the server refused: %s", e)
		}
		sig, err := base64.StdEncoding.DecodeString(attrs['v'])
		if err != nil || subtle.ConstantTimeCompare(sig, c.serverSig) != 1 {
			return "", errors.New("SCRAM: the server's signature does not match: it does not know the password")
		}
		c.done = true
		return "", nil
	}
	return "", errors.New("SCRAM: the conversation is over")
}

func (c *scramClient) gs2Header() string {
	if c.authzID == "" {
		return "n,,"
	}
	return "n,a=" + scramName(c.authzID) + ","
}

// final answers the server-first message with the client's proof.
func (c *scramClient) final(serverFirst string) (string, error) {
	attrs := scramAttrs(serverFirst)
	if e, ok := attrs['e']; ok {
		return "", fmt.Errorf("SCRAM: the server refused: %s", e)
	}
	nonce := attrs['r']
	if !strings.HasPrefix(nonce, c.clientNonce) || len(nonce) == len(c.clientNonce) {
		return "", errors.New("SCRAM: the server's nonce does not extend the client's")
	}
	salt, err := base64.StdEncoding.DecodeString(attrs['s'])
	if err != nil || len(salt) == 0 {
		return "", errors.New("SCRAM: the server sent no valid salt")
	}
	iter, err := strconv.Atoi(attrs['i'])
	if err != nil || iter < 1 {
		return "", errors.New("SCRAM: the server sent no valid iteration count")
	}
	size := c.newHash().Size()
	salted, err := pbkdf2.Key(c.newHash, c.password, salt, iter, size)
	if err != nil {
		return "", fmt.Errorf("SCRAM: %w", err)
	}
	clientKey := c.hmac(salted, "Client Key")
	h := c.newHash()
	h.Write(clientKey)
	storedKey := h.Sum(nil)

	withoutProof := "c=" + base64.StdEncoding.EncodeToString([]byte(c.gs2Header())) + ",r=" + nonce
	authMessage := c.clientFirst + "," + serverFirst + "," + withoutProof
	proof := c.hmac(storedKey, authMessage)
	for i := range proof {
		proof[i] ^= clientKey[i]
	}
	c.serverSig = c.hmac(c.hmac(salted, "Server Key"), authMessage)
	return withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof), nil
}

func (c *scramClient) hmac(key []byte, msg string) []byte {
	m := hmac.New(c.newHash, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// scramName escapes a user name for a SCRAM message.
func scramName(s string) string {
	return strings.NewReplacer("=", "=3D", ",", "=2C").Replace(s)
}

// scramAttrs splits a SCRAM message into its a=value attributes.
func scramAttrs(msg string) map[byte]string {
	attrs := make(map[byte]string)
	for _, kv := range strings.Split(msg, ",") {
		if len(kv) >= 2 && kv[1] == '=' {
			attrs[kv[0]] = kv[2:]
		}
	}
	return attrs
}
