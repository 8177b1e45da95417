package subscription

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	wire "imperial/actors/wire/subscription"
)

func writeKeys(t *testing.T, key string) (priv string, dir string) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	priv = filepath.Join(dir, "private.pem")
	os.WriteFile(priv, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}), 0o600)
	pub, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	os.WriteFile(filepath.Join(dir, KeyFile(key)), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o644)
	return priv, dir
}

func TestSignedSubscription(t *testing.T) {
	priv, dir := writeKeys(t, "test.uwsgi.it:8000")
	signer, err := NewSigner("SHA1:" + priv)
	if err != nil {
		t.Fatal(err)
	}
	checker, err := NewChecker("sha1:" + dir)
	if err != nil {
		t.Fatal(err)
	}
	s := wire.Subscription{Key: "test.uwsgi.it:8000", Address: "127.0.0.1:3031", Unix: time.Now().Unix()}
	pkt, err := wire.AppendSigned(nil, s, signer.Sign)
	if err != nil {
		t.Fatal(err)
	}
	got, err := wire.Parse(pkt)
	if err != nil {
		t.Fatal(err)
	}
	data, err := wire.SignedData(pkt)
	if err != nil {
		t.Fatal(err)
	}
	if err := checker.Verify(got.Key, data, got.Sign); err != nil {
		t.Fatalf("verify: %v", err)
	}
	tampered := append([]byte{}, data...)
	tampered[len(tampered)-1] ^= 1
	if err := checker.Verify(got.Key, tampered, got.Sign); !errors.Is(err, ErrSignature) {
		t.Fatalf("tampered: %v", err)
	}
	if err := checker.Verify("other.key", data, got.Sign); !errors.Is(err, ErrSignKey) {
		t.Fatalf("no key file: %v", err)
	}
	for _, bad := range []string{"SHA1", "MD4:/x", "SHA1:/nonexistent.pem"} {
		if _, err := NewSigner(bad); !errors.Is(err, ErrSignKey) {
			t.Errorf("NewSigner(%q): %v", bad, err)
		}
	}
}
