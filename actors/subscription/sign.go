package subscription

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	_ "crypto/sha1" // hashes named by uWSGI's sign options
	_ "crypto/sha256"
	_ "crypto/sha512"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// maxKeyFile bounds a PEM key file read for signing or checking.
const maxKeyFile = 64 << 10

// ParseDigest reads the ALGO part of "ALGO:PATH" (SHA1, SHA256, ...; any case),
// as uWSGI hands it to OpenSSL's digest lookup.
func ParseDigest(name string) (crypto.Hash, error) {
	switch strings.ToUpper(strings.ReplaceAll(name, "-", "")) {
	case "SHA1":
		return crypto.SHA1, nil
	case "SHA224":
		return crypto.SHA224, nil
	case "SHA256":
		return crypto.SHA256, nil
	case "SHA384":
		return crypto.SHA384, nil
	case "SHA512":
		return crypto.SHA512, nil
	}
	return 0, fmt.Errorf("%w: unknown digest %q", ErrSignKey, name)
}

// splitSign splits "ALGO:PATH".
func splitSign(s string) (crypto.Hash, string, error) {
	algo, path, ok := strings.Cut(s, ":")
	if !ok || path == "" {
		return 0, "", fmt.Errorf("%w: %q is not ALGO:PATH", ErrSignKey, s)
	}
	h, err := ParseDigest(algo)
	return h, path, err
}

func readPEM(path string) (*pem.Block, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSignKey, err)
	}
	defer f.Close()
	buf := make([]byte, maxKeyFile+1)
	n, _ := f.Read(buf)
	if n > maxKeyFile {
		return nil, fmt.Errorf("%w: %s: more than %d bytes", ErrSignKey, path, maxKeyFile)
	}
	b, _ := pem.Decode(buf[:n])
	if b == nil {
		return nil, fmt.Errorf("%w: %s: no PEM block", ErrSignKey, path)
	}
	return b, nil
}

// Signer signs subscription packets with an RSA private key (PKCS #1 v1.5,
// as uWSGI's EVP_Sign does).
type Signer struct {
	hash crypto.Hash
	key  *rsa.PrivateKey
}

// NewSigner loads "ALGO:PRIVATE_KEY.pem" (PKCS #1 or PKCS #8).
func NewSigner(spec string) (*Signer, error) {
	h, path, err := splitSign(spec)
	if err != nil {
		return nil, err
	}
	b, err := readPEM(path)
	if err != nil {
		return nil, err
	}
	var key *rsa.PrivateKey
	if k, err := x509.ParsePKCS1PrivateKey(b.Bytes); err == nil {
		key = k
	} else if k8, err := x509.ParsePKCS8PrivateKey(b.Bytes); err == nil {
		rk, ok := k8.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("%w: %s: not an RSA key", ErrSignKey, path)
		}
		key = rk
	} else {
		return nil, fmt.Errorf("%w: %s: %w", ErrSignKey, path, err)
	}
	return &Signer{hash: h, key: key}, nil
}

// Sign signs data.
func (s *Signer) Sign(data []byte) ([]byte, error) {
	d := s.hash.New()
	d.Write(data)
	return rsa.SignPKCS1v15(rand.Reader, s.key, s.hash, d.Sum(nil))
}

// Checker verifies signed packets with public keys DIR/<key>.pem
// (--subscriptions-sign-check ALGO:DIR).
type Checker struct {
	hash crypto.Hash
	dir  string
}

// NewChecker parses "ALGO:DIR".
func NewChecker(spec string) (*Checker, error) {
	h, dir, err := splitSign(spec)
	if err != nil {
		return nil, err
	}
	return &Checker{hash: h, dir: dir}, nil
}

// KeyFile is the public key file for a subscription key: uWSGI keeps letters,
// digits, '.' and '-' and turns every other byte into '_'.
func KeyFile(key string) string {
	b := []byte(key)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			b[i] = '_'
		}
	}
	return string(b) + ".pem"
}

// Verify checks sig over data for key.
func (c *Checker) Verify(key string, data, sig []byte) error {
	b, err := readPEM(filepath.Join(c.dir, KeyFile(key)))
	if err != nil {
		return err
	}
	var pub *rsa.PublicKey
	if k, err := x509.ParsePKIXPublicKey(b.Bytes); err == nil {
		rk, ok := k.(*rsa.PublicKey)
		if !ok {
			return fmt.Errorf("%w: %s: not an RSA key", ErrSignKey, KeyFile(key))
		}
		pub = rk
	} else if k1, err := x509.ParsePKCS1PublicKey(b.Bytes); err == nil {
		pub = k1
	} else {
		return fmt.Errorf("%w: %s: %w", ErrSignKey, KeyFile(key), err)
	}
	d := c.hash.New()
	d.Write(data)
	if err := rsa.VerifyPKCS1v15(pub, c.hash, d.Sum(nil), sig); err != nil {
		return fmt.Errorf("%w: %w", ErrSignature, err)
	}
	return nil
}
