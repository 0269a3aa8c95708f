package main

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
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jacksmood/dispatch/campaigns/postgres/pgtest"
)

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns their files.
func selfSigned(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pgtest.Must(t, "key", err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "dispatch test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	pgtest.Must(t, "certificate", err)
	kb, err := x509.MarshalECPrivateKey(key)
	pgtest.Must(t, "key", err)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	pgtest.Must(t, "write", os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	pgtest.Must(t, "write", os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600))
	return certFile, keyFile
}

// With a certificate, the staff listener (tokens, sessions) serves HTTPS only, its pages send
// Strict-Transport-Security and a session cookie is Secure; plain HTTP gets no answer there.
func TestStaffListenerServesTLS(t *testing.T) {
	t.Parallel()
	s := newSystem(t)
	s.env["DISPATCH_TLS_CERT"], s.env["DISPATCH_TLS_KEY"] = selfSigned(t)
	staff := strings.Replace(s.staff, "http://", "https://", 1)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	s.start("serve")
	waitFor(t, 10*time.Second, "the TLS server", func() bool {
		resp, err := client.Get(staff + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	})
	resp, err := client.Get(staff + "/login")
	pgtest.Must(t, "login page", err)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Strict-Transport-Security"), "max-age=") || resp.TLS == nil {
		t.Fatalf("login page over TLS: %d, HSTS %q", resp.StatusCode, resp.Header.Get("Strict-Transport-Security"))
	}
	if resp, err := (&http.Client{Timeout: 2 * time.Second}).Get(s.staff + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Fatal("the staff listener answered plain HTTP")
		}
	}
	// A certificate without its key, or a key that does not load, stops the program at start.
	c := &cli{t: t, env: map[string]string{"DISPATCH_TLS_CERT": s.env["DISPATCH_TLS_CERT"]}}
	if _, errOut, code := c.run("migrate"); code != 2 || !strings.HasPrefix(errOut, "dispatch: DISPATCH_TLS_KEY: give both") {
		t.Fatalf("certificate without key: exit %d %q", code, errOut)
	}
}
